//! `commission_groups`: a campaign's groups (Basic, VIP, ...), each with its rates.

use sea_orm::entity::prelude::*;

/// A commission group row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "commission_groups")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Its campaign.
    pub campaign_id: i64,
    /// Display name, unique in the campaign.
    pub name: String,
    /// New affiliates join this group.
    pub is_default: bool,
    /// When it was created.
    pub created_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
