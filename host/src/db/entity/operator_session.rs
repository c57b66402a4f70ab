//! `operator_sessions`: operators' logins to the merchant console.

use sea_orm::entity::prelude::*;

/// A session row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "operator_sessions")]
pub struct Model {
    /// SHA-256 of the session token, hex.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    /// Whose session.
    pub operator_id: i64,
    /// When it stops working.
    pub expires_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
