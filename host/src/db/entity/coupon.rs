//! `coupons`: codes assigned to affiliates; a sale with the code is credited to
//! the affiliate without a cookie.

use sea_orm::entity::prelude::*;

/// A coupon row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "coupons")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The campaign the code belongs to (unique per campaign).
    pub campaign_id: i64,
    /// The affiliate credited with sales using the code.
    pub affiliate_id: i64,
    /// The code, upper-cased.
    pub code: String,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
