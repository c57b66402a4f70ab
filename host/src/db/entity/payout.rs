//! `payouts`: a batch paying an affiliate's approved, unpaid commissions.

use sea_orm::entity::prelude::*;

/// A payout row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payouts")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Who is paid.
    pub affiliate_id: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// Amount in minor units.
    pub amount_minor: i64,
    /// How many commissions it pays.
    pub commission_count: i32,
    /// When.
    pub created_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
