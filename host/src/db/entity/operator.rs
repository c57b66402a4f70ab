//! `operators`: operator accounts for the merchant console.

use sea_orm::entity::prelude::*;

/// An operator row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "operators")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Login e-mail, trimmed and lower-cased; unique.
    pub email: String,
    /// Argon2id hash of the password.
    pub password_hash: String,
    /// When it was created.
    pub created_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
