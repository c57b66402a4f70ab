//! Step 1: a conversion checked against its campaign, and everything its plan reads,
//! read before any plugin runs and with no transaction open.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use upline_types as sdk;

use crate::db::entity::{affiliate, campaign, conversion, subscription};
use crate::db::{from_minor, to_minor};
use crate::domain::campaign::{commission_type_key, parse_commission_type};
use crate::domain::conversion::{NewConversion, Source, SubscriptionTerms};
use crate::domain::schedule::Recurrence;
use crate::error::{Error, Result};
use crate::plugin::Hook;
use crate::service::audit::json;
use crate::service::campaigns;
use crate::service::config::{Config, Plugins};
use crate::service::subscriptions::status as subscription_status;

/// What a conversion is computed with.
#[derive(Clone)]
pub(super) struct Context {
    pub(super) campaign: Arc<campaign::Model>,
    /// The referring affiliate first, then its parents, with their groups.
    pub(super) upline: Arc<Vec<sdk::UplineMember>>,
    pub(super) groups: Arc<Vec<sdk::CommissionGroup>>,
    pub(super) plugins: Arc<Result<Plugins, String>>,
    /// What an approval plugin decides on, per earner (read only when one is enabled).
    pub(super) facts: HashMap<i64, EarnerFacts>,
    /// How many processed conversions of the conversion's customer reference the
    /// campaign stored before it (counted only when a screen plugin is enabled).
    pub(super) customer_conversions: u32,
}

/// What an approval plugin knows of an affiliate that earns a commission.
#[derive(Debug, Clone, Copy)]
pub(super) struct EarnerFacts {
    pub(super) first_login: Option<DateTime<Utc>>,
    pub(super) since: DateTime<Utc>,
    /// When its sub-affiliates first converted: any conversion, a sale, an action.
    pub(super) sub_affiliate_firsts: [Option<DateTime<Utc>>; 3],
}

/// A checked conversion with everything its plan is computed with.
#[derive(Clone)]
pub struct Prepared {
    pub(super) context: Context,
    pub(super) new: NewConversion,
    pub(super) commissionable: sdk::Money,
    /// The row to store; its id is the host's, given when it is planned.
    pub(super) row: conversion::Model,
    /// When it is planned: the plugins' `now`, and where a hold starts.
    pub(super) now: DateTime<Utc>,
    /// The subscription it starts, stored with it (its id given when planned).
    pub(super) subscription: Option<subscription::Model>,
}

/// Checks a conversion against its campaign, finds who referred it, and reads what
/// its plan needs; it happened at `now`.
pub async fn prepare(
    db: &DatabaseConnection,
    config: &Config<'_>,
    new: NewConversion,
    now: DateTime<Utc>,
) -> Result<Prepared> {
    let campaign = config.campaign(new.campaign).await?;
    if new.total.currency().code() != campaign.currency {
        return Err(Error::InvalidInput {
            field: "currency".into(),
            message: format!("campaign {} is in {}", campaign.id, campaign.currency),
        });
    }
    let affiliate = referred_by(db, &campaign, &new, now).await?;
    let commissionable = commissionable(&campaign, &new);
    let row = conversion::Model {
        id: 0,
        campaign_id: campaign.id,
        affiliate_id: Some(affiliate),
        click_id: None,
        kind: match new.commission_type {
            sdk::CommissionType::Action(_) => "action".into(),
            sdk::CommissionType::Recurring => "recurring".into(),
            sdk::CommissionType::Sale => "sale".into(),
        },
        action_code: match &new.commission_type {
            sdk::CommissionType::Action(code) => Some(code.clone()),
            _ => None,
        },
        order_id: new.order_id.clone(),
        product_id: new.product_id.clone(),
        coupon: new.coupon.clone(),
        customer: new.customer.clone(),
        currency: campaign.currency.clone(),
        total_minor: to_minor(new.total, "total")?,
        shipping_minor: to_minor(new.shipping, "shipping")?,
        tax_minor: to_minor(new.tax, "tax")?,
        discount_minor: to_minor(new.discount, "discount")?,
        commissionable_minor: to_minor(commissionable, "total")?,
        refunded_minor: 0,
        custom_fields: json(&new.custom_fields),
        status: String::new(),
        error: None,
        failed_plugin: None,
        failed_version: None,
        plugin_calls: None,
        source: new.source.as_str().into(),
        superseded_by: None,
        subscription_id: None,
        payment_number: None,
        created_at: now,
    };
    let subscription = match &new.subscription {
        Some(terms) => Some(subscription_of(&campaign, &new, terms, affiliate, &row, now)?),
        None => None,
    };
    let context = context(db, config, &campaign, (affiliate, &new.commission_type), &row, now).await?;
    Ok(Prepared { context, new, commissionable, row, now, subscription })
}

/// The subscription `terms` start, credited to `affiliate`, each payment worth the
/// conversion's commissionable total. Refused unless the merchant's server reports
/// it and the campaign has a recurrence for the conversion's commission type.
fn subscription_of(
    campaign: &campaign::Model,
    new: &NewConversion,
    terms: &SubscriptionTerms,
    affiliate: i64,
    row: &conversion::Model,
    now: DateTime<Utc>,
) -> Result<subscription::Model> {
    let refused = |message: String| Error::InvalidInput { field: "subscription".into(), message };
    if new.source != Source::Server {
        return Err(refused("subscriptions are reported by the merchant's server".into()));
    }
    let kind = commission_type_key(&new.commission_type);
    if new.commission_type == sdk::CommissionType::Recurring {
        return Err(refused("a recurring payment starts no subscription: report it as `sale` or an action".into()));
    }
    let recurrence = campaigns::recurrence(campaign, &kind)?;
    if recurrence == Recurrence::None {
        return Err(refused(format!(
            "campaign {} starts no subscriptions from `{kind}` conversions: give it a `recurrences` entry for `{kind}`",
            campaign.id
        )));
    }
    let started_at = terms.started_at.unwrap_or(now);
    if started_at > now {
        return Err(Error::InvalidInput {
            field: "subscription.started-at".into(),
            message: "must not be in the future".into(),
        });
    }
    Ok(subscription::Model {
        id: 0,
        campaign_id: campaign.id,
        affiliate_id: affiliate,
        conversion_id: 0,
        external_id: terms.id.clone(),
        recurrence: recurrence.to_string(),
        currency: campaign.currency.clone(),
        amount_minor: row.commissionable_minor,
        started_at,
        ends_at: terms.ends_at,
        max_payments: terms.max_payments.map(|n| n as i32),
        payments: 0,
        status: subscription_status::ACTIVE.into(),
        created_at: now,
        updated_at: now,
    })
}

/// Payment `number` of a subscription (none for a payment the merchant reported of
/// a `varied` one), made at `at`: a `recurring` conversion credited to the
/// subscription's affiliate, worth `total`, under `order_id`.
pub async fn prepare_payment(
    db: &DatabaseConnection,
    config: &Config<'_>,
    subscription: &subscription::Model,
    (order_id, number): (String, Option<i32>),
    total: sdk::Money,
    at: DateTime<Utc>,
) -> Result<Prepared> {
    let zero = sdk::Money::zero(total.currency());
    let new = NewConversion {
        source: Source::Server,
        campaign: subscription.campaign_id,
        affiliate: Some(subscription.affiliate_id),
        click: None,
        commission_type: sdk::CommissionType::Recurring,
        order_id: Some(order_id),
        product_id: None,
        coupon: None,
        // A payment is not screened per customer: the subscription was, when it started.
        customer: None,
        total,
        shipping: zero,
        tax: zero,
        discount: zero,
        custom_fields: BTreeMap::new(),
        subscription: None,
    };
    let mut prepared = prepare(db, config, new, at).await?;
    prepared.row.subscription_id = Some(subscription.id);
    prepared.row.payment_number = number;
    Ok(prepared)
}

/// A stored conversion prepared again, as it was recorded (its affiliate, amounts and
/// commissionable total), with the campaign's current configuration, planned at `now`.
pub(super) async fn prepare_stored(
    db: &DatabaseConnection,
    config: &Config<'_>,
    row: conversion::Model,
    now: DateTime<Utc>,
) -> Result<Prepared> {
    let stored = |what: &str| Error::Database(format!("conversion {}: bad {what}", row.id));
    let campaign = config.campaign(row.campaign_id).await?;
    let affiliate = row.affiliate_id.ok_or_else(|| stored("affiliate"))?;
    let commission_type = match (&row.action_code, row.kind.as_str()) {
        (Some(code), _) => parse_commission_type("commission-type", &format!("action:{code}"))?,
        (None, "recurring") => sdk::CommissionType::Recurring,
        (None, _) => sdk::CommissionType::Sale,
    };
    let custom_fields: BTreeMap<String, String> =
        serde_json::from_value(row.custom_fields.clone()).map_err(|_| stored("custom fields"))?;
    let new = NewConversion {
        source: if row.source == Source::Browser.as_str() { Source::Browser } else { Source::Server },
        campaign: row.campaign_id,
        affiliate: Some(affiliate),
        click: None,
        commission_type: commission_type.clone(),
        order_id: row.order_id.clone(),
        product_id: row.product_id.clone(),
        coupon: row.coupon.clone(),
        customer: row.customer.clone(),
        total: from_minor(row.total_minor, &row.currency)?,
        shipping: from_minor(row.shipping_minor, &row.currency)?,
        tax: from_minor(row.tax_minor, &row.currency)?,
        discount: from_minor(row.discount_minor, &row.currency)?,
        custom_fields,
        // A subscription it started was stored with it, flagged or not.
        subscription: None,
    };
    let commissionable = from_minor(row.commissionable_minor, &row.currency)?;
    let context = context(db, config, &campaign, (affiliate, &commission_type), &row, now).await?;
    Ok(Prepared { context, new, commissionable, row, now, subscription: None })
}

/// The upline, groups, plugins, (for an approval plugin) the earners' facts and (for
/// a screen plugin) the customer's earlier conversions, for the conversion `row` of
/// `affiliate` at `now`.
async fn context(
    db: &DatabaseConnection,
    config: &Config<'_>,
    campaign: &Arc<campaign::Model>,
    (affiliate, commission_type): (i64, &sdk::CommissionType),
    row: &conversion::Model,
    now: DateTime<Utc>,
) -> Result<Context> {
    let upline = config.upline(campaign.id, affiliate).await?;
    let plugins = config.plugins(campaign.id).await?;
    let enabled = |hook| plugins.as_ref().as_ref().is_ok_and(|bound| bound.with(hook).next().is_some());
    let (approves, screens) = (enabled(Hook::Approve), enabled(Hook::Screen));
    let customer_conversions = match &row.customer {
        Some(customer) if screens => customer_conversions(db, row, customer).await?,
        _ => 0,
    };
    let mut facts = if approves { earner_facts(db, &upline).await? } else { HashMap::new() };
    // This conversion is a conversion of the parent's sub-affiliate: the parent's
    // commissions from it see it (earlier ones are released when it is stored).
    if let Some(parent) = upline.get(1).and_then(|member| facts.get_mut(&(member.affiliate.get() as i64))) {
        let [any, sale, action] = &mut parent.sub_affiliate_firsts;
        let kind = match commission_type {
            sdk::CommissionType::Sale => Some(sale),
            sdk::CommissionType::Action(_) => Some(action),
            sdk::CommissionType::Recurring => None,
        };
        for first in std::iter::once(any).chain(kind) {
            first.get_or_insert(now);
        }
    }
    Ok(Context {
        campaign: campaign.clone(),
        groups: config.groups(campaign.id, commission_type).await?,
        upline,
        plugins,
        facts,
        customer_conversions,
    })
}

/// How many processed conversions of `customer` the campaign of `row` stored, `row`
/// itself excluded (it is stored already when reprocessed).
async fn customer_conversions(db: &DatabaseConnection, row: &conversion::Model, customer: &str) -> Result<u32> {
    let count = conversion::Entity::find()
        .filter(conversion::Column::CampaignId.eq(row.campaign_id))
        .filter(conversion::Column::Customer.eq(customer))
        .filter(conversion::Column::Status.eq(super::plan::PROCESSED))
        .filter(conversion::Column::Id.ne(row.id))
        .count(db)
        .await?;
    Ok(u32::try_from(count).unwrap_or(u32::MAX))
}

/// Who referred the conversion: the affiliate the merchant names, else the owner of
/// an assigned coupon code, else the affiliate of the visitor's click token (a
/// merchant's server reads it from the `upline_<campaign>` cookie), else, with
/// lifetime commissions, the affiliate the customer is bound to. Never the
/// affiliate of a browser's report of the order: anyone can send one of those.
async fn referred_by(
    db: &DatabaseConnection,
    campaign: &campaign::Model,
    new: &NewConversion,
    now: DateTime<Utc>,
) -> Result<i64> {
    if let Some(affiliate) = new.affiliate {
        return Ok(affiliate);
    }
    if let Some(code) = &new.coupon
        && let Some(affiliate) = crate::service::coupons::affiliate_of(db, campaign.id, code).await?
    {
        return Ok(affiliate);
    }
    if let Some(token) = &new.click {
        return crate::service::tracking::attribute(db, campaign, token, now).await;
    }
    if let Some(affiliate) = bound_affiliate(db, campaign, new, now).await? {
        return Ok(affiliate);
    }
    Err(Error::InvalidInput {
        field: "affiliate".into(),
        message: "name the referring affiliate, or send the click token or a coupon assigned to an affiliate".into(),
    })
}

/// With lifetime commissions, the affiliate of the customer's first conversion in
/// the campaign (processed, by the merchant's server), while the binding lasts.
async fn bound_affiliate(
    db: &DatabaseConnection,
    campaign: &campaign::Model,
    new: &NewConversion,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let (true, Some(customer)) = (campaign.lifetime_commissions, &new.customer) else { return Ok(None) };
    let first = conversion::Entity::find()
        .filter(conversion::Column::CampaignId.eq(campaign.id))
        .filter(conversion::Column::Customer.eq(customer.as_str()))
        .filter(conversion::Column::Status.eq(super::plan::PROCESSED))
        .filter(conversion::Column::Source.eq(Source::Server.as_str()))
        .order_by_asc(conversion::Column::Id)
        .one(db)
        .await?;
    let Some(first) = first else { return Ok(None) };
    let lasts = campaign.lifetime_days.is_none_or(|days| now < first.created_at + chrono::Duration::days(days.into()));
    Ok(first.affiliate_id.filter(|_| lasts))
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

/// The facts an approval plugin decides on, for every affiliate of the upline.
async fn earner_facts(db: &DatabaseConnection, upline: &[sdk::UplineMember]) -> Result<HashMap<i64, EarnerFacts>> {
    let ids: Vec<i64> = upline.iter().map(|member| member.affiliate.get() as i64).collect();
    let earners = affiliate::Entity::find().filter(affiliate::Column::Id.is_in(ids)).all(db).await?;
    let mut facts = HashMap::with_capacity(earners.len());
    for earner in earners {
        let sub_affiliate_firsts = sub_affiliate_firsts(db, earner.id).await?;
        facts.insert(
            earner.id,
            EarnerFacts { first_login: earner.first_login_at, since: earner.created_at, sub_affiliate_firsts },
        );
    }
    Ok(facts)
}

/// When the affiliate's sub-affiliates first converted: any kind, a sale, an action.
async fn sub_affiliate_firsts(db: &DatabaseConnection, affiliate_id: i64) -> Result<[Option<DateTime<Utc>>; 3]> {
    let children: Vec<i64> = affiliate::Entity::find()
        .filter(affiliate::Column::ParentId.eq(affiliate_id))
        .all(db)
        .await?
        .into_iter()
        .map(|child| child.id)
        .collect();
    if children.is_empty() {
        return Ok([None; 3]);
    }
    let conversions = conversion::Entity::find()
        .filter(conversion::Column::AffiliateId.is_in(children))
        .filter(conversion::Column::Status.is_not_in(["superseded", "rejected"]))
        // A browser's report is no sub-affiliate's conversion: anyone can send one.
        .filter(conversion::Column::Source.eq(Source::Server.as_str()))
        .order_by_asc(conversion::Column::CreatedAt)
        .all(db)
        .await?;
    let first =
        |kind: Option<&str>| conversions.iter().find(|c| kind.is_none_or(|kind| c.kind == kind)).map(|c| c.created_at);
    Ok([first(None), first(Some("sale")), first(Some("action"))])
}
