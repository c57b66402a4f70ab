//! Operator API keys: random, shown once, stored as their SHA-256; listed and
//! revoked by id. (The bootstrap key of the server's settings is not stored here.)

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};
use serde::Serialize;

use super::audit::json;
use crate::db::entity::operator_key;
use crate::domain::campaign::name;
use crate::error::{Error, Result};

/// A stored key as the API shows it (never the key).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct OperatorKey {
    /// Id, to revoke it.
    pub id: i64,
    /// What it is for.
    pub name: String,
    /// When it was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A new key: shown this once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct NewKey {
    /// The stored key.
    #[serde(flatten)]
    pub stored: OperatorKey,
    /// Send as `Authorization: Bearer <key>`.
    pub key: String,
}

/// SHA-256 of a key, hex.
pub fn hash(key: &str) -> String {
    hex::encode(crate::http::hash_key(key))
}

/// Creates a key named `label`; only its hash is kept.
pub async fn create(db: &DatabaseConnection, label: &str, actor: &str, now: DateTime<Utc>) -> Result<NewKey> {
    let key = format!("upk_{}", hex::encode(rand::random::<[u8; 24]>()));
    let txn = db.begin().await?;
    let row = operator_key::ActiveModel {
        name: Set(name("name", label)?),
        key_hash: Set(hash(&key)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let stored = OperatorKey { id: row.id, name: row.name, created_at: row.created_at };
    super::audit::record(
        &txn,
        now,
        actor,
        "operator-key.create",
        ("operator-key", stored.id),
        None,
        Some(json(&stored)),
    )
    .await?;
    txn.commit().await?;
    Ok(NewKey { stored, key })
}

/// Every stored key, oldest first.
pub async fn list(db: &DatabaseConnection) -> Result<Vec<OperatorKey>> {
    let rows = operator_key::Entity::find().order_by_asc(operator_key::Column::Id).all(db).await?;
    Ok(rows.into_iter().map(|row| OperatorKey { id: row.id, name: row.name, created_at: row.created_at }).collect())
}

/// Revokes a key: it stops opening the API at once, on every host.
pub async fn revoke(db: &DatabaseConnection, id: i64, actor: &str, now: DateTime<Utc>) -> Result<()> {
    let txn = db.begin().await?;
    let deleted = operator_key::Entity::delete_by_id(id).exec(&txn).await?;
    if deleted.rows_affected == 0 {
        return Err(Error::NotFound { entity: "operator key", id: id.to_string() });
    }
    super::audit::record(&txn, now, actor, "operator-key.revoke", ("operator-key", id), None, None).await?;
    Ok(txn.commit().await?)
}

/// True when `key` is a stored operator key.
pub async fn is_valid(db: &DatabaseConnection, key: &str) -> Result<bool> {
    Ok(operator_key::Entity::find().filter(operator_key::Column::KeyHash.eq(hash(key))).count(db).await? > 0)
}
