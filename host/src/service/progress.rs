//! Where an affiliate stands on the levels of each campaign's rule plugins: the
//! `progress` of every enabled `bonus-rules` plugin (contract 0.2; a 0.1 plugin has
//! none), for the affiliate panel.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};
use serde::Serialize;
use upline_types as sdk;

use super::blocking::BlockingPool;
use super::config::Config;
use super::engine::millis;
use crate::db::entity::campaign;
use crate::error::Result;
use crate::plugin::{Hook, Progress, Registry, StatsSource};
use crate::service::stats::Snapshot;

/// One rule plugin's view of the affiliate in one campaign.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct CampaignProgress {
    /// The campaign.
    pub campaign: i64,
    /// The rule plugin, `id@version`.
    pub plugin: String,
    /// The level reached, if any.
    pub level: Option<String>,
    /// The next level, if there is one above.
    pub next_level: Option<String>,
    /// What is missing to reach it: each `{"metric": "sales-total", "amount": "200.00"}`
    /// (an amount for totals, a number for counts).
    #[schema(value_type = Vec<Object>)]
    pub missing: Vec<sdk::Shortfall>,
    /// In words, e.g. `200.00 EUR of sales to Gold`.
    pub summary: String,
    /// Why the plugin could not say (its other fields are then empty).
    pub error: Option<String>,
}

/// The progress of `affiliate` in every campaign with an enabled rule plugin that
/// reports levels, at `now`. A plugin that fails is reported with its error.
pub async fn of(
    reader: &DatabaseConnection,
    config: &Config<'_>,
    registry: &Arc<Registry>,
    pool: &BlockingPool,
    affiliate: i64,
    now: DateTime<Utc>,
) -> Result<Vec<CampaignProgress>> {
    let campaigns = campaign::Entity::find().order_by_asc(campaign::Column::Id).all(reader).await?;
    let mut progress = Vec::new();
    for campaign in campaigns {
        let plugins = config.plugins(campaign.id).await?;
        let Ok(bound) = plugins.as_ref() else { continue };
        if bound.with(Hook::BonusRules).next().is_none() {
            continue;
        }
        let group = config.upline(campaign.id, affiliate).await?[0].group;
        let input = sdk::ProgressInput {
            now: millis(now),
            campaign: (campaign.id as u64).into(),
            affiliate: (affiliate as u64).into(),
            group,
            groups: config.groups(campaign.id, &sdk::CommissionType::Sale).await?.to_vec(),
        };
        let stats = match bound.with(Hook::BonusRules).any(|(plugin, invocation)| invocation.reads_stats(plugin)) {
            true => Some(Arc::new(Snapshot::load(reader, &campaign, &[affiliate], now).await?) as Arc<dyn StatsSource>),
            false => None,
        };
        let (registry, plugins) = (registry.clone(), plugins.clone());
        let answers = pool
            .run(move || {
                let Ok(bound) = plugins.as_ref() else { return vec![] };
                bound
                    .with(Hook::BonusRules)
                    .map(|(plugin, invocation)| {
                        let invocation = invocation.with_stats(stats.as_ref());
                        let answer = registry.engine().call::<Progress>(plugin, &invocation, &input, &());
                        (format!("{}@{}", plugin.manifest.id, plugin.manifest.version), answer)
                    })
                    .collect::<Vec<_>>()
            })
            .await?;
        for (plugin, answer) in answers {
            let entry = |level, next_level, missing, summary, error| CampaignProgress {
                campaign: campaign.id,
                plugin: plugin.clone(),
                level,
                next_level,
                missing,
                summary,
                error,
            };
            progress.push(match answer.map(|outcome| outcome.value) {
                Ok(None) => continue,
                Ok(Some(p)) => entry(p.level, p.next_level, p.missing, p.summary, None),
                Err(err) => entry(None, None, vec![], String::new(), Some(err.to_string())),
            });
        }
    }
    Ok(progress)
}
