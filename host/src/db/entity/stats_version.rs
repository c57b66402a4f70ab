//! `stats_versions`: per campaign and affiliate, a counter the trigger on
//! `commissions` bumps with every change to the affiliate's statistics.

use sea_orm::entity::prelude::*;

/// The version of one affiliate's statistics in one campaign.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stats_versions")]
pub struct Model {
    /// The campaign.
    #[sea_orm(primary_key, auto_increment = false)]
    pub campaign_id: i64,
    /// The affiliate.
    #[sea_orm(primary_key, auto_increment = false)]
    pub affiliate_id: i64,
    /// Bumped with every change.
    pub version: i64,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
