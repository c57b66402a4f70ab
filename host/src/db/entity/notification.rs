//! `notifications`: messages rule plugins sent affiliates (shown in the affiliate panel).

use sea_orm::entity::prelude::*;

/// A notification.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The campaign whose rule sent it.
    pub campaign_id: i64,
    /// To whom.
    pub affiliate_id: i64,
    /// What it says.
    pub message: String,
    /// The rule plugin that sent it, `id@version`.
    pub plugin: String,
    /// The conversion that set it off; none at a period end.
    pub conversion_id: Option<i64>,
    /// When.
    pub created_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
