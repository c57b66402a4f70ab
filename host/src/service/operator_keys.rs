//! Operator API keys: random, shown once, stored as their SHA-256.

use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, Set};

use crate::db::entity::operator_key;
use crate::domain::campaign::name;
use crate::error::Result;

/// SHA-256 of a key, hex.
pub fn hash(key: &str) -> String {
    hex::encode(crate::http::hash_key(key))
}

/// Creates a key named `label` and returns it; only its hash is kept.
pub async fn create(db: &DatabaseConnection, label: &str) -> Result<String> {
    let key = format!("upk_{}", hex::encode(rand::random::<[u8; 24]>()));
    operator_key::ActiveModel {
        name: Set(name("name", label)?),
        key_hash: Set(hash(&key)),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(key)
}

/// True when `key` is a stored operator key.
pub async fn is_valid(db: &DatabaseConnection, key: &str) -> Result<bool> {
    Ok(operator_key::Entity::find().filter(operator_key::Column::KeyHash.eq(hash(key))).count(db).await? > 0)
}
