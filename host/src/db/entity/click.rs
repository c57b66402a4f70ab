//! `clicks`: referral clicks. `visitor` is the click token's random half.

use sea_orm::entity::prelude::*;

/// A click row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "clicks")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The campaign.
    pub campaign_id: i64,
    /// The affiliate whose link it was.
    pub affiliate_id: i64,
    /// Random secret; the click token is `<id>.<visitor>`.
    pub visitor: String,
    /// Where the visitor landed.
    pub landing_url: Option<String>,
    /// Where the visitor came from.
    pub referrer: Option<String>,
    /// When.
    pub created_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
