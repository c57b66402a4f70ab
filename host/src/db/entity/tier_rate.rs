//! `tier_rates`: a group's setting for one commission type and tier.

use sea_orm::entity::prelude::*;

/// A tier rate row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tier_rates")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Its group.
    pub group_id: i64,
    /// `sale`, `recurring` or `action:<code>`.
    pub commission_type: String,
    /// 1 for the referring affiliate.
    pub tier: i32,
    /// `percent`, `fixed` or `percent-of-previous`.
    pub kind: String,
    /// The rate (percent) or fixed amount, as exact decimal text.
    pub value: String,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
