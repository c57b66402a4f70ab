//! Per-campaign plugin bindings: which plugins run for a campaign, configured how,
//! in which order.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};
use serde::Serialize;

use super::audit::json;
use crate::db::entity::{campaign, plugin_binding};
use crate::error::{Error, Result};
use crate::plugin::{Capability, PluginId, Registry};

/// A binding as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Binding {
    /// The plugin.
    pub plugin: String,
    /// Switched on.
    pub enabled: bool,
    /// Its configuration for the campaign.
    pub config: serde_json::Value,
    /// Order of calls (lower first).
    pub position: i32,
    /// What the operator grants the plugin for this campaign.
    pub grants: Vec<Capability>,
}

impl From<plugin_binding::Model> for Binding {
    fn from(row: plugin_binding::Model) -> Self {
        Self {
            grants: grants_of(&row),
            plugin: row.plugin_id,
            enabled: row.enabled,
            config: row.config,
            position: row.position,
        }
    }
}

/// The capabilities a stored binding grants (none when the column is empty or unreadable).
pub fn grants_of(row: &plugin_binding::Model) -> Vec<Capability> {
    row.grants.clone().and_then(|grants| serde_json::from_value(grants).ok()).unwrap_or_default()
}

/// What a campaign's operator sets for one plugin; what is left out keeps its stored
/// value (or its default for a new binding: `{}`, position 0, no grants).
#[derive(Debug, Clone)]
pub struct Setting {
    /// Switched on.
    pub enabled: bool,
    /// Its configuration, checked against the plugin's JSON Schema when it is on.
    pub config: Option<serde_json::Value>,
    /// Order of calls (lower first).
    pub position: Option<i32>,
    /// Capabilities granted; each must be one the plugin's manifest requests.
    pub grants: Option<Vec<Capability>>,
}

/// Enables or disables `plugin` for the campaign. Switched on, its configuration
/// must fit the plugin's JSON Schema and its grants be ones its manifest requests;
/// switched off, both are kept as they are for when it is on again.
pub async fn set(
    db: &DatabaseConnection,
    registry: &Registry,
    campaign_id: i64,
    plugin: &PluginId,
    setting: Setting,
    now: DateTime<Utc>,
) -> Result<Binding> {
    let loaded = registry.get(plugin)?;
    let txn = db.begin().await?;
    campaign::Entity::find_by_id(campaign_id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound { entity: "campaign", id: campaign_id.to_string() })?;
    let existing = find(&txn, campaign_id, plugin).await?;
    let before = existing.clone().map(Binding::from);
    let config = setting.config.or_else(|| existing.as_ref().map(|row| row.config.clone()));
    let config = config.unwrap_or_else(|| serde_json::json!({}));
    let grants = setting.grants.or_else(|| existing.as_ref().map(grants_of)).unwrap_or_default();
    let position = setting.position.or_else(|| existing.as_ref().map(|row| row.position)).unwrap_or(0);
    if setting.enabled {
        registry.engine().configure(&loaded, &config)?;
        for grant in &grants {
            let refused = |message: String| Error::InvalidInput { field: "grants".into(), message };
            if !loaded.manifest.requests(*grant) {
                return Err(refused(format!(
                    "plugin `{plugin}` does not request `{}`",
                    json(grant).as_str().unwrap_or("")
                )));
            }
        }
    }
    let enabled = setting.enabled;
    let grants = Some(json(&grants));
    let row = match existing {
        Some(row) => {
            let mut row: plugin_binding::ActiveModel = row.into();
            row.enabled = Set(enabled);
            row.config = Set(config);
            row.position = Set(position);
            row.grants = Set(grants);
            row.updated_at = Set(now);
            row.update(&txn).await?
        }
        None => {
            plugin_binding::ActiveModel {
                campaign_id: Set(campaign_id),
                plugin_id: Set(plugin.to_string()),
                enabled: Set(enabled),
                config: Set(config),
                position: Set(position),
                grants: Set(grants),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?
        }
    };
    let after = Binding::from(row.clone());
    let action = if enabled { "plugin.enable" } else { "plugin.disable" };
    super::audit::record(
        &txn,
        now,
        "operator",
        action,
        ("campaign", campaign_id),
        before.map(|b| json(&b)),
        Some(json(&after)),
    )
    .await?;
    super::config::changed(&txn).await?;
    txn.commit().await?;
    Ok(after)
}

/// The campaign's bindings, in call order.
pub async fn list(db: &impl ConnectionTrait, campaign_id: i64) -> Result<Vec<Binding>> {
    Ok(plugin_binding::Entity::find()
        .filter(plugin_binding::Column::CampaignId.eq(campaign_id))
        .order_by_asc(plugin_binding::Column::Position)
        .order_by_asc(plugin_binding::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Binding::from)
        .collect())
}

async fn find(db: &impl ConnectionTrait, campaign_id: i64, plugin: &PluginId) -> Result<Option<plugin_binding::Model>> {
    Ok(plugin_binding::Entity::find()
        .filter(plugin_binding::Column::CampaignId.eq(campaign_id))
        .filter(plugin_binding::Column::PluginId.eq(plugin.as_str()))
        .one(db)
        .await?)
}
