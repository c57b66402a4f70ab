//! The commission engine: conversions in, their commissions out, in one transaction.
//!
//! 1. [`prepare`]: check the conversion against its campaign, find who referred it,
//!    compute its commissionable total, and read the configuration it needs (from
//!    the cache of `service::config`), all before any transaction.
//! 2. Store the conversion (one order id per campaign: the unique index refuses a
//!    duplicate, also a concurrent one).
//! 3. `plan`: call the campaign's distribution plugin, then its bonus-rule
//!    plugins; the host validates every result. Nothing is written yet.
//! 4. Store the commissions with their trail (plugin, version, explanation); then
//!    the approval plugin on each distribution commission and the other bonus
//!    actions, in a savepoint when there are any.
//!
//! If a plugin fails, the conversion is kept with status `failed` and the error, for
//! retry or review: nothing is lost, nothing is silently paid as zero. The server
//! stores conversions in batches ([`ConversionWriter`], in `writer.rs`); [`record`]
//! stores one alone.

use std::sync::Arc;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait, TryInsertResult,
};
use serde::Serialize;
use upline_plugin_sdk as sdk;

mod writer;

pub use writer::ConversionWriter;

use super::audit::{self, json};
use super::config::{Config, Plugins};
use super::{affiliates, lifecycle};
use crate::db::entity::{affiliate, campaign, commission, conversion};
use crate::db::{from_minor, to_minor};
use crate::domain::CommissionStatus;
use crate::domain::campaign::commission_type_key;
use crate::domain::conversion::{MERCHANT_CONFIRMATION, NewConversion, Source};
use crate::error::{CallError, Error, Failure, Result};
use crate::plugin::{Hook, Invocation, LoadedPlugin, OVER_TOTAL, Registry};

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
    /// `processed`, `failed` or `superseded`.
    pub status: String,
    /// Why processing failed.
    pub error: Option<String>,
    /// `server` or `browser` (whose commissions wait for the merchant's confirmation).
    pub source: String,
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

/// What a conversion is computed with, read (mostly from the cache) before its
/// transaction begins.
struct Context {
    campaign: Arc<campaign::Model>,
    /// The referring affiliate first, then its parents, with their groups.
    upline: Arc<Vec<sdk::UplineMember>>,
    groups: Arc<Vec<sdk::CommissionGroup>>,
    plugins: Arc<Result<Plugins, String>>,
}

/// A checked conversion with everything it is computed with, ready to store.
pub struct Prepared {
    context: Context,
    new: NewConversion,
    commissionable: sdk::Money,
    row: conversion::ActiveModel,
}

/// Checks a conversion against its campaign and reads what computing it takes:
/// everything before its transaction.
pub async fn prepare(db: &DatabaseConnection, config: &Config<'_>, new: NewConversion) -> Result<Prepared> {
    let campaign = config.campaign(new.campaign).await?;
    if new.total.currency().code() != campaign.currency {
        return Err(Error::InvalidInput {
            field: "currency".into(),
            message: format!("campaign {} is in {}", campaign.id, campaign.currency),
        });
    }
    let affiliate_id = referred_by(db, &campaign, &new).await?;
    let commissionable = commissionable(&campaign, &new);
    let row = conversion::ActiveModel {
        campaign_id: Set(campaign.id),
        affiliate_id: Set(Some(affiliate_id)),
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
        source: Set(new.source.as_str().into()),
        superseded_by: Set(None),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    };
    let context = Context {
        upline: config.upline(campaign.id, affiliate_id).await?,
        groups: config.groups(campaign.id, &new.commission_type).await?,
        plugins: config.plugins(campaign.id).await?,
        campaign,
    };
    Ok(Prepared { context, new, commissionable, row })
}

impl Prepared {
    /// The 409 for a conversion whose order id is already recorded.
    fn duplicate(&self) -> Error {
        Error::Conflict {
            field: "order-id".into(),
            message: format!(
                "order {} is already recorded in campaign {}",
                self.new.order_id.clone().unwrap_or_default(),
                self.context.campaign.id
            ),
        }
    }

    /// Calls its plugins for the stored conversion (nothing written yet).
    fn plan(&self, registry: &Registry, stored: &conversion::Model) -> Result<Plan<'_>, Flagged> {
        plan(registry, &self.context, stored, &self.new, self.commissionable)
    }

    /// The result for the stored conversion: its commissions, or it flagged with
    /// the plugin's error.
    async fn finish(
        &self,
        txn: &DatabaseTransaction,
        stored: conversion::Model,
        outcome: Result<Vec<commission::Model>, Flagged>,
    ) -> Result<Recorded> {
        let (stored, commissions) = match outcome {
            Ok(commissions) => (stored, commissions),
            Err(Flagged(error)) => {
                tracing::warn!(conversion = stored.id, %error, "conversion kept and flagged");
                let mut flagged: conversion::ActiveModel = stored.into();
                flagged.status = Set("failed".into());
                flagged.error = Set(Some(error));
                (flagged.update(txn).await?, vec![])
            }
        };
        Ok(Recorded {
            conversion: ConversionView {
                id: stored.id,
                campaign: stored.campaign_id,
                affiliate: stored.affiliate_id,
                order_id: stored.order_id,
                commissionable: self.commissionable,
                status: stored.status,
                error: stored.error,
                source: stored.source,
            },
            commissions: commissions.into_iter().map(CommissionView::of).collect::<Result<_>>()?,
        })
    }
}

/// Records (or simulates) one conversion in a transaction of its own. The server
/// records through [`ConversionWriter`], which stores conversions in batches.
pub async fn record(db: &DatabaseConnection, registry: &Registry, prepared: Prepared, mode: Mode) -> Result<Recorded> {
    let mut prepared = prepared;
    if mode == Mode::Simulate {
        prepared.new.order_id = None;
        prepared.row.order_id = Set(None);
    }
    let txn = db.begin().await?;
    let stored = insert_or_supersede(&txn, &prepared).await?;
    let outcome = match prepared.plan(registry, &stored) {
        Ok(plan) => plan.store_alone(&txn, registry, &prepared.context.campaign).await,
        Err(flagged) => Err(flagged),
    };
    let recorded = prepared.finish(&txn, stored, outcome).await?;
    match mode {
        Mode::Record => {
            counted(&recorded);
            txn.commit().await?
        }
        Mode::Simulate => txn.rollback().await?,
    }
    Ok(recorded)
}

/// Inserts conversions, skipping any whose order id the campaign already has; returns
/// those inserted, in insert order.
async fn insert_new(
    txn: &DatabaseTransaction,
    rows: impl IntoIterator<Item = conversion::ActiveModel>,
) -> Result<Vec<conversion::Model>> {
    let inserted = conversion::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([conversion::Column::CampaignId, conversion::Column::OrderId])
        .exec_with_returning_many(txn)
        .await?;
    let mut rows = match inserted {
        TryInsertResult::Inserted(rows) => rows,
        TryInsertResult::Conflicted | TryInsertResult::Empty => vec![],
    };
    rows.sort_by_key(|row| row.id);
    Ok(rows)
}

/// Inserts the prepared conversion. When its order id is taken by a browser report
/// and the merchant's server reports it, the server wins: the browser's conversion is
/// marked superseded and gives up the order id, its commissions are declined (or
/// reversed, where an operator already approved them), and the server's is stored,
/// credited as the server says. Any other taken order id is a duplicate (409).
async fn insert_or_supersede(txn: &DatabaseTransaction, prepared: &Prepared) -> Result<conversion::Model> {
    if let Some(stored) = insert_new(txn, [prepared.row.clone()]).await?.pop() {
        return Ok(stored);
    }
    let order = prepared.new.order_id.clone().ok_or_else(|| prepared.duplicate())?;
    if prepared.new.source != Source::Server {
        return Err(prepared.duplicate());
    }
    let browser = conversion::Entity::find()
        .filter(conversion::Column::CampaignId.eq(prepared.context.campaign.id))
        .filter(conversion::Column::OrderId.eq(order.as_str()))
        .lock_exclusive()
        .one(txn)
        .await?
        .filter(|found| found.source == Source::Browser.as_str())
        .ok_or_else(|| prepared.duplicate())?;
    let freed = conversion::Entity::update_many()
        .col_expr(conversion::Column::OrderId, Expr::value(Option::<String>::None))
        .col_expr(conversion::Column::Status, Expr::value("superseded"))
        .filter(conversion::Column::Id.eq(browser.id))
        .filter(conversion::Column::OrderId.eq(order.as_str()))
        .exec(txn)
        .await?;
    if freed.rows_affected != 1 {
        return Err(prepared.duplicate());
    }
    lifecycle::retire(txn, &browser, "superseded by the merchant's report of the order", "system").await?;
    let stored = insert_new(txn, [prepared.row.clone()]).await?.pop().ok_or_else(|| prepared.duplicate())?;
    conversion::Entity::update_many()
        .col_expr(conversion::Column::SupersededBy, Expr::value(stored.id))
        .filter(conversion::Column::Id.eq(browser.id))
        .exec(txn)
        .await?;
    let after = serde_json::json!({"status": "superseded", "superseded-by": stored.id});
    audit::record(txn, "system", "conversion.supersede", ("conversion", browser.id), Some(json(&order)), Some(after))
        .await?;
    Ok(stored)
}

/// Counts a recorded conversion in the metrics, by status.
fn counted(recorded: &Recorded) {
    metrics::counter!("upline_conversions_total", "status" => recorded.conversion.status.clone()).increment(1);
}

/// Who referred the conversion: the affiliate the merchant names, else the owner of
/// an assigned coupon code, else the affiliate of the visitor's click token (a
/// merchant's server reads it from the `upline_<campaign>` cookie). Never the
/// affiliate of a browser's report of the order: anyone can send one of those.
async fn referred_by(db: &DatabaseConnection, campaign: &campaign::Model, new: &NewConversion) -> Result<i64> {
    if let Some(affiliate) = new.affiliate {
        return Ok(affiliate);
    }
    if let Some(code) = &new.coupon
        && let Some(affiliate) = super::coupons::affiliate_of(db, campaign.id, code).await?
    {
        return Ok(affiliate);
    }
    if let Some(token) = &new.click {
        return super::tracking::attribute(db, campaign, token).await;
    }
    Err(Error::InvalidInput {
        field: "affiliate".into(),
        message: "name the referring affiliate, or send the click token or a coupon assigned to an affiliate".into(),
    })
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

/// What a conversion's plugins decided, before anything is written: the
/// distribution's commissions, then the bonuses, and the other bonus-rule actions.
struct Plan<'a> {
    rows: Vec<commission::ActiveModel>,
    /// How many of `rows` (the first) came from the distribution plugin.
    distributed: usize,
    approval: Option<&'a (Arc<LoadedPlugin>, Invocation)>,
    actions: Vec<(&'a LoadedPlugin, sdk::Action)>,
}

/// Calls the distribution plugin, then the bonus-rule plugins; the host validated
/// each result. Nothing is written yet.
fn plan<'a>(
    registry: &Registry,
    context: &'a Context,
    stored: &conversion::Model,
    new: &NewConversion,
    commissionable: sdk::Money,
) -> Result<Plan<'a>, Flagged> {
    let campaign = &context.campaign;
    let mut plan = Plan { rows: vec![], distributed: 0, approval: None, actions: vec![] };
    if commissionable.is_zero() && !campaign.store_zero_orders {
        return Ok(plan);
    }
    let bound = context.plugins.as_ref().as_ref().map_err(|err| Flagged(err.clone()))?;
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
        upline: context.upline.to_vec(),
        groups: context.groups.to_vec(),
    };
    let lines = registry.engine().distribute(plugin, invocation, &input)?.value;
    // A browser's report waits for the merchant's (or an operator): no hold ends it,
    // no approval plugin approves it, and rules act on it only through bonuses.
    let browser = new.source == Source::Browser;
    let hold_until =
        (campaign.hold_days > 0 && !browser).then(|| now + chrono::Duration::days(campaign.hold_days.into()));
    let waiting_for = browser.then(|| MERCHANT_CONFIRMATION.to_owned());
    let row = |affiliate: sdk::AffiliateId, tier: u32, kind: String, amount: sdk::Money, explanation: String| {
        Ok::<_, Error>(commission::ActiveModel {
            conversion_id: Set(Some(stored.id)),
            campaign_id: Set(campaign.id),
            affiliate_id: Set(affiliate.get() as i64),
            tier: Set(tier as i32),
            commission_type: Set(kind),
            amount_minor: Set(to_minor(amount, "amount")?),
            currency: Set(amount.currency().code().into()),
            status: Set("pending".into()),
            hold_until: Set(hold_until),
            waiting_for: Set(waiting_for.clone()),
            product_id: Set(new.product_id.clone()),
            plugin_id: Set(Some(plugin.manifest.id.to_string())),
            plugin_version: Set(Some(plugin.manifest.version.to_string())),
            explanation: Set(explanation),
            reverses_id: Set(None),
            payout_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
    };
    // What the conversion's commissions add up to: a bonus counts toward the
    // commissionable total like a distribution line.
    let mut paid = sdk::Money::zero(commissionable.currency());
    for line in lines {
        paid = paid + line.amount;
        if line.amount.is_zero() && !campaign.store_zero_commissions {
            continue;
        }
        let kind = commission_type_key(&new.commission_type);
        plan.rows.push(row(line.affiliate, line.tier, kind, line.amount, line.explanation)?);
    }
    plan.distributed = plan.rows.len();
    plan.approval = bound.with(Hook::Approve).next().filter(|_| !browser);
    let referrer = &context.upline[0];
    for (bonus_plugin, invocation) in bound.with(Hook::BonusRules) {
        let bonus = sdk::BonusInput {
            now: input.now,
            campaign: input.conversion.campaign,
            affiliate: referrer.affiliate,
            group: referrer.group,
            groups: input.groups.clone(),
            trigger: sdk::Trigger::Conversion(input.conversion.clone()),
        };
        let actions = registry.engine().evaluate(bonus_plugin, invocation, &bonus, commissionable.currency())?.value;
        for action in actions {
            match action {
                sdk::Action::Bonus { affiliate, amount, explanation } => {
                    paid = paid + amount;
                    if paid.amount() > commissionable.amount() && !invocation.may_exceed_total(bonus_plugin) {
                        return Err(over_total(bonus_plugin, amount, paid, commissionable));
                    }
                    let mut bonus = row(affiliate, 1, "bonus".into(), amount, explanation)?;
                    bonus.product_id = Set(None);
                    bonus.plugin_id = Set(Some(bonus_plugin.manifest.id.to_string()));
                    bonus.plugin_version = Set(Some(bonus_plugin.manifest.version.to_string()));
                    plan.rows.push(bonus);
                }
                _ if browser => {}
                other => plan.actions.push((bonus_plugin, other)),
            }
        }
    }
    Ok(plan)
}

/// The refusal of a bonus that takes a conversion's commissions past its total.
fn over_total(plugin: &LoadedPlugin, bonus: sdk::Money, paid: sdk::Money, total: sdk::Money) -> Flagged {
    let failure = Failure::InvalidOutput(format!(
        "a bonus of {bonus} brings the conversion's commissions to {paid}, more than its commissionable total \
         {total} {OVER_TOTAL}"
    ));
    let error = CallError {
        plugin: plugin.manifest.id.clone(),
        version: plugin.manifest.version.clone(),
        hook: Hook::BonusRules,
        failure,
    };
    Flagged::from(Error::PluginCall(error))
}

/// Rows returned by a multi-row insert, in the insert's order: ids are assigned in
/// it, RETURNING promises no order.
fn in_insert_order(mut rows: Vec<commission::Model>) -> Vec<commission::Model> {
    rows.sort_by_key(|row| row.id);
    rows
}

impl Plan<'_> {
    /// True when storing it is a single insert (no approval, no other actions).
    fn only_inserts(&self) -> bool {
        self.approval.is_none() && self.actions.is_empty()
    }

    /// Stores it on its own: one insert, in a savepoint when more follows it.
    async fn store_alone(
        self,
        txn: &DatabaseTransaction,
        registry: &Registry,
        campaign: &campaign::Model,
    ) -> Result<Vec<commission::Model>, Flagged> {
        if self.only_inserts() {
            // One multi-row insert is atomic: no savepoint needed.
            let rows = commission::Entity::insert_many(self.rows).exec_with_returning(txn).await;
            return Ok(in_insert_order(rows.map_err(Error::from)?));
        }
        let savepoint = txn.begin().await.map_err(Error::from)?;
        let rows = commission::Entity::insert_many(self.rows.clone()).exec_with_returning(&savepoint).await;
        let stored = match rows {
            Ok(rows) => self.after_insert(&savepoint, registry, campaign, in_insert_order(rows)).await,
            Err(err) => Err(Error::from(err).into()),
        };
        match stored {
            Ok(_) => savepoint.commit().await.map_err(Error::from)?,
            Err(_) => savepoint.rollback().await.map_err(Error::from)?,
        }
        stored
    }

    /// Asks the approval plugin about the distribution's stored commissions and
    /// carries out the other actions.
    async fn after_insert(
        self,
        txn: &DatabaseTransaction,
        registry: &Registry,
        campaign: &campaign::Model,
        mut rows: Vec<commission::Model>,
    ) -> Result<Vec<commission::Model>, Flagged> {
        if let Some((plugin, invocation)) = self.approval {
            for row in rows.iter_mut().take(self.distributed) {
                *row = approve(txn, registry, campaign, plugin, invocation, row.clone()).await?;
            }
        }
        for (plugin, action) in self.actions {
            apply_action(txn, campaign, plugin, action).await?;
        }
        Ok(rows)
    }
}

/// Asks the approval plugin about a new commission and records its decision.
async fn approve(
    txn: &DatabaseTransaction,
    registry: &Registry,
    campaign: &campaign::Model,
    plugin: &LoadedPlugin,
    invocation: &Invocation,
    row: commission::Model,
) -> Result<commission::Model, Flagged> {
    let earner = affiliate::Entity::find_by_id(row.affiliate_id)
        .one(txn)
        .await
        .map_err(Error::from)?
        .ok_or_else(|| Flagged(format!("affiliate {} vanished", row.affiliate_id)))?;
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

/// Carries out a bonus-rule plugin's action other than a bonus: a group move, or
/// an award or notification recorded in the audit log.
async fn apply_action(
    txn: &DatabaseTransaction,
    campaign: &campaign::Model,
    plugin: &LoadedPlugin,
    action: sdk::Action,
) -> Result<(), Flagged> {
    let actor = format!("plugin:{}@{}", plugin.manifest.id, plugin.manifest.version);
    match action {
        sdk::Action::Bonus { .. } => {}
        sdk::Action::MoveToGroup { affiliate, group, .. } => {
            affiliates::assign_group(txn, campaign.id, affiliate.get() as i64, group.get() as i64, &actor).await?;
        }
        other @ (sdk::Action::Award { affiliate, .. } | sdk::Action::Notify { affiliate, .. }) => {
            let kind = if matches!(other, sdk::Action::Award { .. }) { "affiliate.award" } else { "affiliate.notify" };
            audit::record(txn, &actor, kind, ("affiliate", affiliate.get() as i64), None, Some(json(&other))).await?;
        }
    }
    Ok(())
}
