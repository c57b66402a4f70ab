//! `affiliates`: partners, with their parent forming the upline tree.

use sea_orm::entity::prelude::*;

/// An affiliate row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "affiliates")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The affiliate that recruited this one (tier 2 of its sales).
    pub parent_id: Option<i64>,
    /// Display name.
    pub name: String,
    /// Login, unique.
    pub email: String,
    /// Argon2 hash of the password.
    pub password_hash: String,
    /// `active` or `suspended`.
    pub status: String,
    /// First login to the affiliate panel.
    pub first_login_at: Option<DateTimeUtc>,
    /// When it joined.
    pub created_at: DateTimeUtc,
    /// Its own customer reference in the merchant's shop, for self-purchase checks.
    pub customer: Option<String>,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
