//! `plugin_bindings`: a plugin switched on or off for one campaign, with its
//! per-campaign configuration and its place in the order of calls.

use sea_orm::entity::prelude::*;

/// A binding row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plugin_bindings")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The campaign.
    pub campaign_id: i64,
    /// The plugin.
    pub plugin_id: String,
    /// Called for the campaign's conversions.
    pub enabled: bool,
    /// Configuration, valid against the plugin's schema.
    pub config: Json,
    /// Order among the campaign's plugins of the same hook (lower first).
    pub position: i32,
    /// Capabilities the operator grants (a JSON list of names); null for none.
    pub grants: Option<Json>,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
