//! The commission engine: one conversion in, its commissions out, in one transaction.
//!
//! 1. Store the conversion (one order id per campaign: the unique index refuses a
//!    duplicate, also a concurrent one) and compute its commissionable total.
//! 2. Call the campaign's distribution plugin, then its approval plugin on each new
//!    commission, then its bonus-rule plugins; the host validates every result.
//! 3. Store the commissions with their trail (plugin, version, explanation).
//!
//! If a plugin fails, step 2-3 is rolled back to a savepoint and the conversion is
//! kept with status `failed` and the error, for retry or review: nothing is lost,
//! nothing is silently paid as zero.

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, Set, SqlErr, TransactionTrait,
};
use serde::Serialize;
use upline_plugin_sdk as sdk;

use super::affiliates;
use super::audit::{self, json};
use crate::db::entity::{affiliate, campaign, commission, commission_group, conversion, plugin_binding, tier_rate};
use crate::db::{from_minor, to_minor};
use crate::domain::CommissionStatus;
use crate::domain::campaign::commission_type_key;
use crate::domain::conversion::NewConversion;
use crate::error::{Error, Result};
use crate::plugin::{Grants, Hook, Invocation, LoadedPlugin, Registry};

/// A conversion and the commissions it produced.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Recorded {
    /// The stored conversion.
    pub conversion: ConversionView,
    /// Its commissions.
    pub commissions: Vec<CommissionView>,
}

/// A conversion as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct ConversionView {
    /// Id.
    pub id: i64,
    /// Campaign.
    pub campaign: i64,
    /// Referring affiliate.
    pub affiliate: Option<i64>,
    /// Order id.
    pub order_id: Option<String>,
    /// What commissions were computed on.
    #[schema(value_type = crate::http::openapi::sdk::Money)]
    pub commissionable: sdk::Money,
    /// `processed` or `failed`.
    pub status: String,
    /// Why processing failed.
    pub error: Option<String>,
}

/// A commission as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct CommissionView {
    /// Id.
    pub id: i64,
    /// The conversion it pays for.
    pub conversion: Option<i64>,
    /// Campaign.
    pub campaign: i64,
    /// Who earns it.
    pub affiliate: i64,
    /// Tier.
    pub tier: i32,
    /// `sale`, `action:<code>`, `recurring` or `bonus`.
    pub commission_type: String,
    /// Amount (negative for reversals).
    #[schema(value_type = crate::http::openapi::sdk::Money)]
    pub amount: sdk::Money,
    /// Lifecycle status.
    pub status: String,
    /// Approved automatically at this time.
    pub hold_until: Option<chrono::DateTime<chrono::Utc>>,
    /// The event it waits for.
    pub waiting_for: Option<String>,
    /// Product id.
    pub product_id: Option<String>,
    /// The plugin that produced it, `id@version`.
    pub plugin: Option<String>,
    /// Why.
    pub explanation: String,
}

impl CommissionView {
    /// The API view of a stored commission.
    pub fn of(row: commission::Model) -> Result<Self> {
        Ok(Self {
            amount: from_minor(row.amount_minor, &row.currency)?,
            plugin: row.plugin_id.map(|id| format!("{id}@{}", row.plugin_version.unwrap_or_default())),
            id: row.id,
            conversion: row.conversion_id,
            campaign: row.campaign_id,
            affiliate: row.affiliate_id,
            tier: row.tier,
            commission_type: row.commission_type,
            status: row.status,
            hold_until: row.hold_until,
            waiting_for: row.waiting_for,
            product_id: row.product_id,
            explanation: row.explanation,
        })
    }
}

/// Why processing a stored conversion stopped (a plugin failed, or none is enabled).
struct Flagged(String);

impl From<Error> for Flagged {
    fn from(err: Error) -> Self {
        Flagged(err.to_string())
    }
}

/// Whether a conversion is kept or only tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Store the conversion and its commissions.
    Record,
    /// Run everything, return what would be stored, and roll it all back. The ids
    /// in the result are provisional; the order id is not checked for duplicates.
    Simulate,
}

/// Records (or simulates) a conversion and computes its commissions.
pub async fn record(
    db: &DatabaseConnection,
    registry: &Registry,
    mut new: NewConversion,
    mode: Mode,
) -> Result<Recorded> {
    if mode == Mode::Simulate {
        new.order_id = None;
    }
    let invalid = |field: &str, message: String| Error::InvalidInput { field: field.into(), message };
    let campaign = campaign::Entity::find_by_id(new.campaign)
        .one(db)
        .await?
        .ok_or_else(|| invalid("campaign", format!("campaign {} does not exist", new.campaign)))?;
    if new.total.currency().code() != campaign.currency {
        return Err(invalid("currency", format!("campaign {} is in {}", campaign.id, campaign.currency)));
    }
    let affiliate_id = match (&new.click, new.affiliate) {
        (Some(token), _) => super::tracking::attribute(db, &campaign, token).await?,
        (None, Some(affiliate)) => affiliate,
        (None, None) => {
            return Err(invalid("affiliate", "name the referring affiliate or send the click token".into()));
        }
    };
    let referrer = affiliate::Entity::find_by_id(affiliate_id)
        .one(db)
        .await?
        .ok_or_else(|| invalid("affiliate", format!("affiliate {affiliate_id} does not exist")))?;
    let commissionable = commissionable(&campaign, &new);

    let txn = db.begin().await?;
    let stored = conversion::ActiveModel {
        campaign_id: Set(campaign.id),
        affiliate_id: Set(Some(referrer.id)),
        kind: Set(match new.commission_type {
            sdk::CommissionType::Action(_) => "action".into(),
            _ => "sale".into(),
        }),
        action_code: Set(match &new.commission_type {
            sdk::CommissionType::Action(code) => Some(code.clone()),
            _ => None,
        }),
        order_id: Set(new.order_id.clone()),
        product_id: Set(new.product_id.clone()),
        coupon: Set(new.coupon.clone()),
        currency: Set(campaign.currency.clone()),
        total_minor: Set(to_minor(new.total, "total")?),
        shipping_minor: Set(to_minor(new.shipping, "shipping")?),
        tax_minor: Set(to_minor(new.tax, "tax")?),
        discount_minor: Set(to_minor(new.discount, "discount")?),
        commissionable_minor: Set(to_minor(commissionable, "total")?),
        refunded_minor: Set(0),
        custom_fields: Set(json(&new.custom_fields)),
        status: Set("processed".into()),
        error: Set(None),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|err| match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => Error::Conflict {
            field: "order-id".into(),
            message: format!(
                "order {} is already recorded in campaign {}",
                new.order_id.clone().unwrap_or_default(),
                campaign.id
            ),
        },
        _ => err.into(),
    })?;

    let savepoint = txn.begin().await?;
    let outcome = distribute(&savepoint, registry, &campaign, &stored, &new, &referrer, commissionable).await;
    let (stored, commissions) = match outcome {
        Ok(commissions) => {
            savepoint.commit().await?;
            (stored, commissions)
        }
        Err(Flagged(error)) => {
            savepoint.rollback().await?;
            tracing::warn!(conversion = stored.id, %error, "conversion kept and flagged");
            let mut flagged: conversion::ActiveModel = stored.into();
            flagged.status = Set("failed".into());
            flagged.error = Set(Some(error));
            (flagged.update(&txn).await?, vec![])
        }
    };
    let recorded = Recorded {
        conversion: ConversionView {
            id: stored.id,
            campaign: stored.campaign_id,
            affiliate: stored.affiliate_id,
            order_id: stored.order_id,
            commissionable,
            status: stored.status,
            error: stored.error,
        },
        commissions: commissions.into_iter().map(CommissionView::of).collect::<Result<_>>()?,
    };
    match mode {
        Mode::Record => {
            metrics::counter!("upline_conversions_total", "status" => recorded.conversion.status.clone()).increment(1);
            let id = ("conversion", recorded.conversion.id);
            audit::record(&txn, "api", "conversion.record", id, None, Some(json(&recorded))).await?;
            txn.commit().await?;
        }
        Mode::Simulate => txn.rollback().await?,
    }
    Ok(recorded)
}

/// Product value, plus shipping and tax when the campaign counts them, less the
/// discount when it subtracts it; never below zero.
fn commissionable(campaign: &campaign::Model, new: &NewConversion) -> sdk::Money {
    let mut total = new.total;
    if campaign.include_shipping {
        total = total + new.shipping;
    }
    if campaign.include_tax {
        total = total + new.tax;
    }
    if campaign.subtract_discount {
        total = total - new.discount;
    }
    if total.is_negative() { sdk::Money::zero(total.currency()) } else { total }
}

/// The campaign's enabled plugins with a conversion hook (distribute, approve,
/// bonus-rules), in call order, each with its checked configuration.
struct Bound(Vec<(std::sync::Arc<LoadedPlugin>, Invocation)>);

impl Bound {
    const HOOKS: [Hook; 3] = [Hook::Distribute, Hook::Approve, Hook::BonusRules];

    /// Loads the bindings once per conversion.
    async fn load(db: &impl ConnectionTrait, registry: &Registry, campaign_id: i64) -> Result<Self, Flagged> {
        let bindings = plugin_binding::Entity::find()
            .filter(plugin_binding::Column::CampaignId.eq(campaign_id))
            .filter(plugin_binding::Column::Enabled.eq(true))
            .order_by_asc(plugin_binding::Column::Position)
            .order_by_asc(plugin_binding::Column::Id)
            .all(db)
            .await
            .map_err(Error::from)?;
        let mut plugins = Vec::new();
        for binding in bindings {
            let id = binding.plugin_id.parse().map_err(Flagged)?;
            let plugin = registry.get(&id).map_err(|err| Flagged(format!("enabled plugin: {err}")))?;
            if Self::HOOKS.iter().any(|hook| plugin.manifest.hooks.contains(hook)) {
                let config = plugin.configure(&binding.config)?;
                plugins.push((plugin, Invocation { config, grants: Grants::default() }));
            }
        }
        Ok(Self(plugins))
    }

    /// The ones implementing `hook`, in call order.
    fn with(&self, hook: Hook) -> impl Iterator<Item = &(std::sync::Arc<LoadedPlugin>, Invocation)> {
        self.0.iter().filter(move |(plugin, _)| plugin.manifest.hooks.contains(&hook))
    }
}

async fn distribute(
    txn: &DatabaseTransaction,
    registry: &Registry,
    campaign: &campaign::Model,
    stored: &conversion::Model,
    new: &NewConversion,
    referrer: &affiliate::Model,
    commissionable: sdk::Money,
) -> Result<Vec<commission::Model>, Flagged> {
    if commissionable.is_zero() && !campaign.store_zero_orders {
        return Ok(vec![]);
    }
    let bound = Bound::load(txn, registry, campaign.id).await?;
    let Some((plugin, invocation)) = bound.with(Hook::Distribute).next() else {
        return Err(Flagged(format!("no distribution plugin is enabled for campaign {}", campaign.id)));
    };
    let now = chrono::Utc::now();
    let input = sdk::DistributeInput {
        now: sdk::Timestamp::from_millis(now.timestamp_millis()),
        conversion: sdk::Conversion {
            id: (stored.id as u64).into(),
            campaign: (campaign.id as u64).into(),
            commission_type: new.commission_type.clone(),
            total: commissionable,
            order_id: new.order_id.clone(),
            product_id: new.product_id.clone(),
            coupon: new.coupon.clone(),
            custom_fields: new.custom_fields.clone().into_iter().collect(),
            occurred_at: sdk::Timestamp::from_millis(stored.created_at.timestamp_millis()),
        },
        upline: upline(txn, campaign.id, referrer.id).await?,
        groups: groups(txn, campaign.id, &new.commission_type).await?,
    };
    let lines = registry.engine().distribute(plugin, invocation, &input)?.value;
    let hold_until = (campaign.hold_days > 0).then(|| now + chrono::Duration::days(campaign.hold_days.into()));
    let mut rows = Vec::new();
    for line in lines {
        if line.amount.is_zero() && !campaign.store_zero_commissions {
            continue;
        }
        let row = commission::ActiveModel {
            conversion_id: Set(Some(stored.id)),
            campaign_id: Set(campaign.id),
            affiliate_id: Set(line.affiliate.get() as i64),
            tier: Set(line.tier as i32),
            commission_type: Set(commission_type_key(&new.commission_type)),
            amount_minor: Set(to_minor(line.amount, "amount")?),
            currency: Set(campaign.currency.clone()),
            status: Set("pending".into()),
            hold_until: Set(hold_until),
            waiting_for: Set(None),
            product_id: Set(new.product_id.clone()),
            plugin_id: Set(Some(plugin.manifest.id.to_string())),
            plugin_version: Set(Some(plugin.manifest.version.to_string())),
            explanation: Set(line.explanation),
            reverses_id: Set(None),
            payout_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        rows.push(row.insert(txn).await.map_err(Error::from)?);
    }
    if let Some((plugin, invocation)) = bound.with(Hook::Approve).next() {
        for row in &mut rows {
            *row = approve(txn, registry, campaign, referrer, plugin, invocation, row.clone()).await?;
        }
    }
    for (plugin, invocation) in bound.with(Hook::BonusRules) {
        let bonus = sdk::BonusInput {
            now: input.now,
            campaign: input.conversion.campaign,
            affiliate: (referrer.id as u64).into(),
            group: (affiliates::group_of(txn, campaign.id, referrer.id).await? as u64).into(),
            groups: input.groups.clone(),
            trigger: sdk::Trigger::Conversion(input.conversion.clone()),
        };
        let actions = registry.engine().evaluate(plugin, invocation, &bonus)?.value;
        rows.extend(apply_actions(txn, campaign, stored, plugin, actions, hold_until).await?);
    }
    Ok(rows)
}

/// Asks the approval plugin about a new commission and records its decision.
async fn approve(
    txn: &DatabaseTransaction,
    registry: &Registry,
    campaign: &campaign::Model,
    referrer: &affiliate::Model,
    plugin: &LoadedPlugin,
    invocation: &Invocation,
    row: commission::Model,
) -> Result<commission::Model, Flagged> {
    let earner = if row.affiliate_id == referrer.id {
        referrer.clone()
    } else {
        affiliate::Entity::find_by_id(row.affiliate_id)
            .one(txn)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| Flagged(format!("affiliate {} vanished", row.affiliate_id)))?
    };
    let millis = |t: chrono::DateTime<chrono::Utc>| sdk::Timestamp::from_millis(t.timestamp_millis());
    let firsts = sub_affiliate_firsts(txn, earner.id).await?;
    let input = sdk::ApprovalInput {
        now: millis(chrono::Utc::now()),
        commission: sdk::Commission {
            id: (row.id as u64).into(),
            conversion: (row.conversion_id.unwrap_or_default() as u64).into(),
            campaign: (row.campaign_id as u64).into(),
            affiliate: (row.affiliate_id as u64).into(),
            tier: row.tier as u32,
            commission_type: crate::domain::campaign::parse_commission_type("commission_type", &row.commission_type)?,
            amount: from_minor(row.amount_minor, &row.currency)?,
            created_at: millis(row.created_at),
        },
        affiliate_first_login: earner.first_login_at.map(millis),
        sub_affiliate_first_conversion: firsts.0.map(millis),
        sub_affiliate_first_sale: firsts.1.map(millis),
        sub_affiliate_first_action: firsts.2.map(millis),
        affiliate_since: millis(earner.created_at),
        hold_days: campaign.hold_days as u32,
    };
    let decision = registry.engine().approve(plugin, invocation, &input)?.value;
    let mut update: commission::ActiveModel = row.into();
    match decision {
        sdk::Decision::Approve => {
            update.status = Set(CommissionStatus::Pending.approve().map_err(Error::from)?.as_str().into())
        }
        sdk::Decision::Decline(reason) => {
            update.status = Set(CommissionStatus::Pending.decline().map_err(Error::from)?.as_str().into());
            update.explanation = Set(format!("{} (declined: {reason})", update.explanation.as_ref()));
        }
        sdk::Decision::Pending(sdk::PendingUntil::Time(at)) => {
            update.hold_until = Set(chrono::DateTime::from_timestamp_millis(at.millis()));
        }
        sdk::Decision::Pending(sdk::PendingUntil::Event(event)) => {
            update.hold_until = Set(None);
            update.waiting_for = Set(Some(json(&event).as_str().unwrap_or_default().to_owned()));
        }
        sdk::Decision::Pending(sdk::PendingUntil::Manual) => {
            update.hold_until = Set(None);
            update.waiting_for = Set(Some("manual".into()));
        }
    }
    Ok(update.update(txn).await.map_err(Error::from)?)
}

/// When the affiliate's sub-affiliates first converted: any kind, a sale, an action.
async fn sub_affiliate_firsts(
    txn: &DatabaseTransaction,
    affiliate_id: i64,
) -> Result<
    (
        Option<chrono::DateTime<chrono::Utc>>,
        Option<chrono::DateTime<chrono::Utc>>,
        Option<chrono::DateTime<chrono::Utc>>,
    ),
    Flagged,
> {
    let children: Vec<i64> = affiliate::Entity::find()
        .filter(affiliate::Column::ParentId.eq(affiliate_id))
        .all(txn)
        .await
        .map_err(Error::from)?
        .into_iter()
        .map(|child| child.id)
        .collect();
    let mut firsts = (None, None, None);
    if children.is_empty() {
        return Ok(firsts);
    }
    let conversions = conversion::Entity::find()
        .filter(conversion::Column::AffiliateId.is_in(children))
        .order_by_asc(conversion::Column::CreatedAt)
        .all(txn)
        .await
        .map_err(Error::from)?;
    firsts.0 = conversions.first().map(|c| c.created_at);
    firsts.1 = conversions.iter().find(|c| c.kind == "sale").map(|c| c.created_at);
    firsts.2 = conversions.iter().find(|c| c.kind == "action").map(|c| c.created_at);
    Ok(firsts)
}

/// Carries out a bonus-rule plugin's actions: bonus commissions, group moves, and
/// awards and notifications recorded in the audit log.
async fn apply_actions(
    txn: &DatabaseTransaction,
    campaign: &campaign::Model,
    stored: &conversion::Model,
    plugin: &LoadedPlugin,
    actions: Vec<sdk::Action>,
    hold_until: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Vec<commission::Model>, Flagged> {
    let actor = format!("plugin:{}@{}", plugin.manifest.id, plugin.manifest.version);
    let mut bonuses = Vec::new();
    for action in actions {
        match action {
            sdk::Action::Bonus { affiliate, amount, explanation } => {
                let now = chrono::Utc::now();
                let row = commission::ActiveModel {
                    conversion_id: Set(Some(stored.id)),
                    campaign_id: Set(campaign.id),
                    affiliate_id: Set(affiliate.get() as i64),
                    tier: Set(1),
                    commission_type: Set("bonus".into()),
                    amount_minor: Set(to_minor(amount, "amount")?),
                    currency: Set(amount.currency().code().into()),
                    status: Set("pending".into()),
                    hold_until: Set(hold_until),
                    waiting_for: Set(None),
                    product_id: Set(None),
                    plugin_id: Set(Some(plugin.manifest.id.to_string())),
                    plugin_version: Set(Some(plugin.manifest.version.to_string())),
                    explanation: Set(explanation),
                    reverses_id: Set(None),
                    payout_id: Set(None),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                };
                bonuses.push(row.insert(txn).await.map_err(Error::from)?);
            }
            sdk::Action::MoveToGroup { affiliate, group, .. } => {
                affiliates::assign_group(txn, campaign.id, affiliate.get() as i64, group.get() as i64, &actor).await?;
            }
            other @ (sdk::Action::Award { affiliate, .. } | sdk::Action::Notify { affiliate, .. }) => {
                let kind =
                    if matches!(other, sdk::Action::Award { .. }) { "affiliate.award" } else { "affiliate.notify" };
                audit::record(txn, &actor, kind, ("affiliate", affiliate.get() as i64), None, Some(json(&other)))
                    .await?;
            }
        }
    }
    Ok(bonuses)
}

/// The referring affiliate and its parents with their groups in the campaign.
async fn upline(txn: &DatabaseTransaction, campaign_id: i64, referrer: i64) -> Result<Vec<sdk::UplineMember>, Flagged> {
    let mut members = Vec::new();
    for (i, affiliate) in affiliates::upline(txn, referrer).await?.into_iter().enumerate() {
        members.push(sdk::UplineMember {
            affiliate: (affiliate.id as u64).into(),
            tier: i as u32 + 1,
            group: (affiliates::group_of(txn, campaign_id, affiliate.id).await? as u64).into(),
        });
    }
    Ok(members)
}

/// Every group of the campaign with its tiers for `commission_type`.
async fn groups(
    txn: &DatabaseTransaction,
    campaign_id: i64,
    commission_type: &sdk::CommissionType,
) -> Result<Vec<sdk::CommissionGroup>, Flagged> {
    let groups = commission_group::Entity::find()
        .filter(commission_group::Column::CampaignId.eq(campaign_id))
        .order_by_asc(commission_group::Column::Id)
        .all(txn)
        .await
        .map_err(Error::from)?;
    let rates = tier_rate::Entity::find()
        .filter(tier_rate::Column::GroupId.is_in(groups.iter().map(|g| g.id)))
        .filter(tier_rate::Column::CommissionType.eq(commission_type_key(commission_type)))
        .all(txn)
        .await
        .map_err(Error::from)?;
    let mut tiers: HashMap<i64, Vec<sdk::TierSetting>> = HashMap::new();
    for rate in &rates {
        tiers.entry(rate.group_id).or_default().push(super::campaigns::tier_setting(rate)?);
    }
    Ok(groups
        .into_iter()
        .map(|g| sdk::CommissionGroup {
            id: (g.id as u64).into(),
            name: g.name,
            tiers: tiers.remove(&g.id).unwrap_or_default(),
        })
        .collect())
}
