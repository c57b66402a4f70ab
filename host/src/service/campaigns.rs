//! Campaigns, their commission groups and the groups' tier rates.

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, SqlErr, TransactionTrait,
};
use serde::Serialize;
use upline_types::{Currency, TierRule, TierSetting};

use super::audit::json;
use crate::db::entity::{campaign, commission_group, tier_rate};
use crate::domain::campaign::{CampaignSettings, Destinations, Rates, commission_type_key, parse_commission_type};
use crate::domain::schedule::{Recurrence, Zone};
use crate::error::{Error, Result};

/// A campaign as the API shows it: its settings and its groups.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Campaign {
    /// The stored settings.
    #[serde(flatten)]
    pub settings: campaign::Model,
    /// Its commission groups.
    pub groups: Vec<Group>,
}

/// A commission group as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Group {
    /// Id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// New affiliates join it.
    pub is_default: bool,
    /// Tier settings by commission type (`sale`, `recurring`, `action:<code>`).
    pub rates: Vec<GroupRates>,
}

/// A group's tiers for one commission type.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct GroupRates {
    /// `sale`, `recurring` or `action:<code>`.
    pub commission_type: String,
    /// The tiers, sorted.
    #[schema(value_type = Vec<crate::http::openapi::sdk::TierSetting>)]
    pub tiers: Vec<TierSetting>,
}

const ACTOR: &str = "operator";

/// Writes `settings` into a campaign row.
fn apply(row: &mut campaign::ActiveModel, settings: CampaignSettings) {
    row.name = Set(settings.name);
    row.currency = Set(settings.currency.code().into());
    row.cookie_days = Set(settings.cookie_days as i32);
    row.attribution = Set(settings.attribution.as_str().into());
    row.include_shipping = Set(settings.include_shipping);
    row.include_tax = Set(settings.include_tax);
    row.subtract_discount = Set(settings.subtract_discount);
    row.store_zero_orders = Set(settings.store_zero_orders);
    row.store_zero_commissions = Set(settings.store_zero_commissions);
    row.hold_days = Set(settings.hold_days as i32);
    row.approval = Set(settings.approval.as_str().into());
    row.browser_conversions_per_day = Set(settings.browser_conversions_per_day as i32);
    row.landing_url = Set(settings.destinations.landing_url().map(ToString::to_string));
    row.allowed_hosts = Set(Some(json(&settings.destinations.allowed_hosts())));
    row.time_zone = Set(settings.time_zone.name().to_owned());
    row.period_close_day = Set(settings.period_close_day.into());
    row.reward_period = Set(settings.reward_period.as_str().into());
    let recurrences: BTreeMap<&String, String> =
        settings.recurrences.iter().map(|(kind, recurrence)| (kind, recurrence.to_string())).collect();
    row.recurrences = Set(Some(json(&recurrences)));
    row.lifetime_commissions = Set(settings.lifetime.is_some());
    row.lifetime_days = Set(settings.lifetime.flatten().map(|days| days as i32));
}

/// Where the stored campaign's referral links may lead.
pub fn destinations(campaign: &campaign::Model) -> Destinations {
    let hosts: Vec<String> =
        campaign.allowed_hosts.clone().and_then(|hosts| serde_json::from_value(hosts).ok()).unwrap_or_default();
    // Stored only after `Destinations::parse` accepted them.
    Destinations::parse(campaign.landing_url.as_deref(), &hosts).unwrap_or_default()
}

/// The campaign's time zone.
pub fn zone(campaign: &campaign::Model) -> Result<Zone> {
    Zone::stored(&campaign.time_zone)
}

/// How often a subscription started by a conversion of `commission_type` (`sale`,
/// `action:<code>`) pays in the campaign: `none` unless its `recurrences` say.
pub fn recurrence(campaign: &campaign::Model, commission_type: &str) -> Result<Recurrence> {
    let stored = campaign.recurrences.as_ref().and_then(|map| map.get(commission_type)).and_then(|v| v.as_str());
    stored.map_or(Ok(Recurrence::None), |text| {
        text.parse().map_err(|err: String| Error::Database(format!("campaign {}: {err}", campaign.id)))
    })
}

/// Creates a campaign with a default group named `Default`, and schedules its
/// period jobs.
pub async fn create(db: &DatabaseConnection, settings: CampaignSettings, now: DateTime<Utc>) -> Result<Campaign> {
    let txn = db.begin().await?;
    let mut row = campaign::ActiveModel { created_at: Set(now), ..Default::default() };
    apply(&mut row, settings);
    let row = row.insert(&txn).await?;
    super::jobs::schedule_campaign(&txn, &row).await?;
    insert_group(&txn, row.id, "Default", true, now).await?;
    let created = load(&txn, row).await?;
    super::audit::record(
        &txn,
        now,
        ACTOR,
        "campaign.create",
        ("campaign", created.settings.id),
        None,
        Some(json(&created)),
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// Changes a campaign's settings: `change` gets the stored campaign and returns its
/// new settings. The currency cannot change (its amounts are in it). Audited; every
/// host sees the change within the configuration cache's recheck.
pub async fn update(
    db: &DatabaseConnection,
    id: i64,
    now: DateTime<Utc>,
    change: impl FnOnce(&campaign::Model) -> Result<CampaignSettings>,
) -> Result<Campaign> {
    let txn = db.begin().await?;
    // Locked: of two concurrent changes, the second starts from the first's result.
    let row = campaign::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(Error::NotFound { entity: "campaign", id: id.to_string() })?;
    let settings = change(&row)?;
    if settings.currency.code() != row.currency {
        return Err(Error::InvalidInput {
            field: "currency".into(),
            message: format!("a campaign's currency cannot change (campaign {id} is in {})", row.currency),
        });
    }
    let before = load(&txn, row.clone()).await?;
    let calendar = |c: &campaign::Model| (c.time_zone.clone(), c.period_close_day, c.reward_period.clone());
    let old_calendar = calendar(&row);
    let mut changed: campaign::ActiveModel = row.into();
    apply(&mut changed, settings);
    let updated = changed.update(&txn).await?;
    // Periods computed anew only when their calendar changes: runs still to catch up stay.
    if calendar(&updated) != old_calendar {
        super::jobs::reschedule_campaign(&txn, &updated, now).await?;
    }
    let after = load(&txn, updated).await?;
    super::audit::record(
        &txn,
        now,
        ACTOR,
        "campaign.update",
        ("campaign", id),
        Some(json(&before)),
        Some(json(&after)),
    )
    .await?;
    super::config::changed(&txn).await?;
    txn.commit().await?;
    Ok(after)
}

/// Every campaign.
pub async fn list(db: &DatabaseConnection) -> Result<Vec<Campaign>> {
    let rows = campaign::Entity::find().order_by_asc(campaign::Column::Id).all(db).await?;
    let mut campaigns = Vec::with_capacity(rows.len());
    for row in rows {
        campaigns.push(load(db, row).await?);
    }
    Ok(campaigns)
}

/// One campaign.
pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Campaign> {
    let row = find(db, id).await?;
    load(db, row).await
}

/// Adds a commission group; a default group replaces the campaign's previous default.
pub async fn add_group(
    db: &DatabaseConnection,
    campaign_id: i64,
    name: String,
    is_default: bool,
    now: DateTime<Utc>,
) -> Result<Group> {
    let txn = db.begin().await?;
    find(&txn, campaign_id).await?;
    if is_default {
        commission_group::Entity::update_many()
            .col_expr(commission_group::Column::IsDefault, sea_orm::sea_query::Expr::value(false))
            .filter(commission_group::Column::CampaignId.eq(campaign_id))
            .exec(&txn)
            .await?;
    }
    let group = insert_group(&txn, campaign_id, &name, is_default, now).await?;
    let group = Group { id: group.id, name: group.name, is_default: group.is_default, rates: vec![] };
    super::audit::record(&txn, now, ACTOR, "group.create", ("group", group.id), None, Some(json(&group))).await?;
    super::config::changed(&txn).await?;
    txn.commit().await?;
    Ok(group)
}

/// Replaces a group's tiers for one commission type (none: the type has no tiers).
pub async fn set_rates(
    db: &DatabaseConnection,
    group_id: i64,
    rates: impl FnOnce(Currency) -> Result<Rates>,
    now: DateTime<Utc>,
) -> Result<Group> {
    let txn = db.begin().await?;
    let group = commission_group::Entity::find_by_id(group_id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound { entity: "group", id: group_id.to_string() })?;
    let campaign = find(&txn, group.campaign_id).await?;
    let currency = Currency::from_code(&campaign.currency).map_err(|err| Error::Database(err.to_string()))?;
    let rates = rates(currency)?;
    let key = commission_type_key(&rates.commission_type);
    let before = group_view(&txn, group.clone()).await?;
    tier_rate::Entity::delete_many()
        .filter(tier_rate::Column::GroupId.eq(group_id))
        .filter(tier_rate::Column::CommissionType.eq(key.as_str()))
        .exec(&txn)
        .await?;
    let rows = rates.tiers.iter().map(|setting| {
        let (kind, value) = match setting.rule {
            TierRule::Percent(rate) => ("percent", rate.as_percent()),
            TierRule::Fixed(amount) => ("fixed", amount),
            TierRule::PercentOfPrevious(rate) => ("percent-of-previous", rate.as_percent()),
        };
        tier_rate::ActiveModel {
            group_id: Set(group_id),
            commission_type: Set(key.clone()),
            tier: Set(setting.tier as i32),
            kind: Set(kind.into()),
            value: Set(value.normalize().to_string()),
            ..Default::default()
        }
    });
    if !rates.tiers.is_empty() {
        tier_rate::Entity::insert_many(rows).exec_without_returning(&txn).await?;
    }
    let after = group_view(&txn, group).await?;
    super::audit::record(&txn, now, ACTOR, "group.rates", ("group", group_id), Some(json(&before)), Some(json(&after)))
        .await?;
    super::config::changed(&txn).await?;
    txn.commit().await?;
    Ok(after)
}

async fn find(db: &impl ConnectionTrait, id: i64) -> Result<campaign::Model> {
    campaign::Entity::find_by_id(id).one(db).await?.ok_or(Error::NotFound { entity: "campaign", id: id.to_string() })
}

async fn insert_group(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    name: &str,
    is_default: bool,
    now: DateTime<Utc>,
) -> Result<commission_group::Model> {
    commission_group::ActiveModel {
        campaign_id: Set(campaign_id),
        name: Set(name.into()),
        is_default: Set(is_default),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|err| match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => Error::Conflict {
            field: "name".into(),
            message: format!("the campaign already has a group named `{name}`"),
        },
        _ => err.into(),
    })
}

async fn load(db: &impl ConnectionTrait, row: campaign::Model) -> Result<Campaign> {
    let groups = commission_group::Entity::find()
        .filter(commission_group::Column::CampaignId.eq(row.id))
        .order_by_asc(commission_group::Column::Id)
        .all(db)
        .await?;
    let mut views = Vec::with_capacity(groups.len());
    for group in groups {
        views.push(group_view(db, group).await?);
    }
    Ok(Campaign { settings: row, groups: views })
}

async fn group_view(db: &impl ConnectionTrait, group: commission_group::Model) -> Result<Group> {
    let rows = tier_rate::Entity::find()
        .filter(tier_rate::Column::GroupId.eq(group.id))
        .order_by_asc(tier_rate::Column::CommissionType)
        .order_by_asc(tier_rate::Column::Tier)
        .all(db)
        .await?;
    let mut rates: Vec<GroupRates> = Vec::new();
    for row in rows {
        let setting = tier_setting(&row)?;
        match rates.last_mut() {
            Some(last) if last.commission_type == row.commission_type => last.tiers.push(setting),
            _ => rates.push(GroupRates { commission_type: row.commission_type, tiers: vec![setting] }),
        }
    }
    Ok(Group { id: group.id, name: group.name, is_default: group.is_default, rates })
}

/// A stored tier rate as the SDK's type.
pub fn tier_setting(row: &tier_rate::Model) -> Result<TierSetting> {
    let stored = |what: &str| Error::Database(format!("tier rate {}: bad {what}", row.id));
    parse_commission_type("commission_type", &row.commission_type).map_err(|_| stored("commission type"))?;
    let value: rust_decimal::Decimal = row.value.parse().map_err(|_| stored("value"))?;
    let rule = match row.kind.as_str() {
        "percent" => TierRule::Percent(upline_types::Rate::percent(value)),
        "fixed" => TierRule::Fixed(value),
        "percent-of-previous" => TierRule::PercentOfPrevious(upline_types::Rate::percent(value)),
        _ => return Err(stored("kind")),
    };
    Ok(TierSetting { tier: u32::try_from(row.tier).map_err(|_| stored("tier"))?, rule })
}
