//! `operator_keys`: operator API keys, stored as their SHA-256.

use sea_orm::entity::prelude::*;

/// An operator key row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "operator_keys")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// What the key is for, e.g. `shop backend`.
    pub name: String,
    /// SHA-256 of the key, hex.
    pub key_hash: String,
    /// When it was created.
    pub created_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
