//! Step 2: what a conversion's plugins decide, made with no transaction open. The
//! plugin calls run in the engine's [`BlockingPool`] (one per core at a time, so a
//! slow plugin holds a core, not a write, and no more instances run than the engine
//! has slots). The result is the rows to write, every id already the host's.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use upline_types as sdk;

use super::prepare::Prepared;
use super::{CommissionView, ConversionView, Recorded};
use crate::db::entity::{campaign, commission, conversion, job, subscription};
use crate::db::to_minor;
use crate::domain::CommissionStatus;
use crate::domain::campaign::{Approval, commission_type_key};
use crate::domain::conversion::{MERCHANT_CONFIRMATION, Source};
use crate::domain::schedule::Zone;
use crate::error::{CallError, Error, Failure, Result};
use crate::plugin::{
    Approve, BonusRules, CallReport, Distribute, Hook, Invocation, LoadedPlugin, OVER_TOTAL, Outcome, Registry, Screen,
    StatsSource,
};
use crate::service::audit::json;
use crate::service::blocking::BlockingPool;
use crate::service::ids::{Ids, Table};
use crate::service::rerate::GroupMove;
use crate::service::rewards::{Granted, Origin};
use crate::service::stats::{CAMPAIGN, InFlight, Snapshot, contribution};

/// The status of a conversion whose plan succeeded.
pub(super) const PROCESSED: &str = "processed";
/// The status of a conversion a screen plugin rejected: stored, no commissions.
const REJECTED: &str = "rejected";
/// The status of a conversion whose plan failed: stored, flagged, no commissions.
pub(super) const FAILED: &str = "failed";
/// What a commission waits for when an operator must decide it.
const MANUAL: &str = "manual";

/// Why a conversion has no commissions: the plugin that failed (id and version), if
/// one did, or the screen plugin that rejected it, and the reason.
#[derive(Debug, Clone)]
pub struct Flagged {
    /// The plugin and its version.
    pub plugin: Option<(String, String)>,
    /// Why, in words.
    pub reason: String,
}

impl From<Error> for Flagged {
    fn from(err: Error) -> Self {
        let plugin = match &err {
            Error::PluginCall(call) => Some((call.plugin.to_string(), call.version.to_string())),
            _ => None,
        };
        Flagged { plugin, reason: err.to_string() }
    }
}

/// The plugin calls of one plan, in order, with what each logged and cost: the
/// answer of `/simulate` shows them, and a conversion without commissions keeps them.
#[derive(Debug, Clone, Default)]
pub(super) struct Calls(pub(super) Vec<CallReport>);

impl Calls {
    /// Records `plugin`'s call of `hook`, which ended with `result`, and returns its value.
    fn value<T>(&mut self, plugin: &LoadedPlugin, hook: Hook, result: Result<Outcome<T>>) -> Result<T> {
        let (report, value) = CallReport::of(plugin, hook, result);
        self.0.push(report);
        value
    }
}

/// The rows a conversion's plan writes.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub(super) conversion: conversion::Model,
    pub(super) commissions: Vec<commission::Model>,
    pub(super) moves: Vec<GroupMove>,
    /// Awards and notifications.
    pub(super) granted: Vec<Granted>,
    /// The subscription the conversion starts, and the job that pays it (none for a
    /// `varied` one, whose payments the merchant reports).
    pub(super) subscription: Option<(subscription::Model, Option<job::Model>)>,
    /// The referring affiliate's parent: its commissions waiting for a sub-affiliate's
    /// conversion are approved when this one is stored.
    pub(super) parent: Option<i64>,
    /// The affiliates whose statistics its plugins asked about, with the version of
    /// those statistics they saw: stored only if it is still current.
    pub(super) reads: Vec<(i64, i64)>,
    /// Its campaign's plugins read statistics: storing it moves on the statistics
    /// version of each affiliate it pays.
    pub(super) versioned: bool,
    /// The plugin calls that made it.
    pub(super) calls: Calls,
}

impl Plan {
    /// The conversion flagged: stored with the failure, no commissions.
    fn flagged(mut conversion: conversion::Model, flagged: Flagged, prepared: &Prepared, calls: Calls) -> Self {
        tracing::warn!(conversion = conversion.id, reason = %flagged.reason, "conversion flagged");
        conversion.status = FAILED.into();
        conversion.error = Some(flagged.reason);
        (conversion.failed_plugin, conversion.failed_version) = flagged.plugin.unzip();
        let subscription = prepared.subscription.clone().map(|row| (row, None));
        Self::without_commissions(conversion, subscription, parent_of(prepared), calls)
    }

    /// The conversion rejected by a screen plugin: stored with the plugin and its
    /// reason, no commissions, no subscription, and no event for anyone's approval.
    fn rejected(mut conversion: conversion::Model, rejected: Flagged, calls: Calls) -> Self {
        conversion.status = REJECTED.into();
        conversion.error = Some(rejected.reason);
        (conversion.failed_plugin, conversion.failed_version) = rejected.plugin.unzip();
        Self::without_commissions(conversion, None, None, calls)
    }

    /// A conversion without commissions, keeping its plugin calls to show why.
    fn without_commissions(
        mut conversion: conversion::Model,
        subscription: Option<(subscription::Model, Option<job::Model>)>,
        parent: Option<i64>,
        calls: Calls,
    ) -> Self {
        conversion.plugin_calls = Some(json(&calls.0));
        let (commissions, moves, granted, reads) = (vec![], vec![], vec![], vec![]);
        Self { conversion, commissions, moves, granted, subscription, parent, reads, versioned: false, calls }
    }

    /// With `job` paying its subscription.
    fn with_job(mut self, job: Option<job::Model>) -> Self {
        if let Some((_, paying)) = self.subscription.as_mut() {
            *paying = job;
        }
        self
    }

    /// What the API answers for it.
    pub(super) fn recorded(&self) -> Result<Recorded> {
        Ok(Recorded {
            conversion: ConversionView::of(&self.conversion)?,
            commissions: self.commissions.iter().cloned().map(CommissionView::of).collect::<Result<_>>()?,
            plugin_calls: None,
        })
    }
}

/// Plans `prepared` as conversion `conversion_id` (0 when simulated: every id 0).
pub(super) async fn plan(
    pool: &BlockingPool,
    ids: &Ids,
    (db, reader): (&DatabaseConnection, &DatabaseConnection),
    in_flight: &InFlight,
    registry: Arc<Registry>,
    prepared: Prepared,
    conversion_id: i64,
) -> Result<Plan> {
    let mut prepared = prepared;
    // Processed unless the plan fails (a stored, flagged row is planned afresh).
    let mut row = conversion::Model {
        id: conversion_id,
        status: PROCESSED.into(),
        error: None,
        failed_plugin: None,
        failed_version: None,
        plugin_calls: None,
        ..prepared.row.clone()
    };
    let mut subscription_job = None;
    if let Some(subscription) = prepared.subscription.as_mut() {
        subscription.id = match conversion_id {
            0 => 0,
            _ => ids.one(db, Table::Subscriptions).await?,
        };
        subscription.conversion_id = conversion_id;
        (row.subscription_id, row.payment_number) = (Some(subscription.id), Some(0));
        subscription_job = crate::service::jobs::paying(&prepared.context.campaign, subscription)?;
    }
    let prepared = Arc::new(prepared);
    let versioned = reads_stats(&prepared);
    let campaign = prepared.context.campaign.id;
    let mut campaign_wide = in_flight.wants_campaign(campaign);
    // Drafted again, once, when a plugin asks about the whole campaign for the first
    // time on this host (its sums are read only for campaigns that do).
    let (stats, drafted, mut calls) = loop {
        let stats = match versioned {
            true => {
                let mut keys: Vec<i64> = prepared.context.upline.iter().map(|m| m.affiliate.get() as i64).collect();
                keys.extend(campaign_wide.then_some(CAMPAIGN));
                let campaign = &prepared.context.campaign;
                Some(Arc::new(Snapshot::load_known(reader, campaign, &keys, prepared.now, in_flight).await?))
            }
            false => None,
        };
        let (drafted, calls) = {
            let (registry, prepared, row, stats) = (registry.clone(), prepared.clone(), row.clone(), stats.clone());
            pool.run(move || {
                let mut calls = Calls::default();
                (draft(&registry, &prepared, &row, stats, &mut calls), calls)
            })
            .await?
        };
        if !campaign_wide && stats.as_ref().is_some_and(|stats| stats.missed_campaign()) {
            in_flight.want_campaign(campaign);
            campaign_wide = true;
            continue;
        }
        break (stats, drafted, calls);
    };
    let reads = stats.map(|stats| stats.asked()).unwrap_or_default();
    let draft = match drafted {
        Ok(Draft { rejected: Some(rejected), .. }) => return Ok(Plan::rejected(row, rejected, calls)),
        Ok(draft) => draft,
        Err(flagged) => return Ok(Plan::flagged(row, flagged, &prepared, calls).with_job(subscription_job)),
    };
    let commission_ids = match conversion_id {
        0 => vec![0; draft.lines.len()],
        _ => ids.take(db, Table::Commissions, draft.lines.len()).await?,
    };
    let held = draft.held.is_some();
    let mut commissions = commissions(&prepared, &row, draft.lines, draft.held, commission_ids)?;
    if approval_plugin(&prepared).is_some() && !held && !commissions.is_empty() {
        let (decided, approvals) = {
            let (registry, prepared) = (registry, prepared.clone());
            pool.run(move || {
                let mut calls = Calls::default();
                (approve_all(&registry, &prepared, commissions, &mut calls), calls)
            })
            .await?
        };
        calls.0.extend(approvals.0);
        commissions = match decided {
            Ok(decided) => decided,
            Err(flagged) => return Ok(Plan::flagged(row, flagged, &prepared, calls).with_job(subscription_job)),
        };
    }
    let subscription = prepared.subscription.clone().map(|row| (row, subscription_job));
    let parent = parent_of(&prepared);
    let (moves, granted) = (draft.moves, draft.granted);
    Ok(Plan { conversion: row, commissions, moves, granted, subscription, parent, reads, versioned, calls })
}

/// The parent of the affiliate the conversion is credited to.
fn parent_of(prepared: &Prepared) -> Option<i64> {
    prepared.context.upline.get(1).map(|member| member.affiliate.get() as i64)
}

/// One commission a plugin decided, before it has an id and a status.
struct Line {
    affiliate: sdk::AffiliateId,
    tier: u32,
    commission_type: String,
    amount: sdk::Money,
    explanation: String,
    plugin: Arc<LoadedPlugin>,
}

/// What the screen, distribution and bonus-rule plugins decided.
#[derive(Default)]
struct Draft {
    lines: Vec<Line>,
    moves: Vec<GroupMove>,
    granted: Vec<Granted>,
    /// The screen plugin that rejected the conversion, and why.
    rejected: Option<Flagged>,
    /// A screen plugin's hold on the commissions.
    held: Option<Held>,
}

/// How a screen plugin holds a conversion's commissions, and why.
#[derive(Debug, Clone)]
enum Held {
    /// Until an operator decides.
    Manual(String),
    /// Until this time, then approved.
    Until(DateTime<Utc>, String),
}

/// Calls the screen plugins, the distribution plugin, then every bonus-rule plugin;
/// the host checks each result, and the bonuses and the lines together against the
/// total.
fn draft(
    registry: &Registry,
    prepared: &Prepared,
    row: &conversion::Model,
    stats: Option<Arc<Snapshot>>,
    calls: &mut Calls,
) -> Result<Draft, Flagged> {
    let context = &prepared.context;
    let campaign = &context.campaign;
    let mut draft = Draft::default();
    // With the statistics read for this conversion, when a plugin may query them.
    let source = stats.clone().map(|stats| stats as Arc<dyn StatsSource>);
    let with_stats = |invocation: &Invocation| invocation.with_stats(source.as_ref());
    let commissionable = prepared.commissionable;
    if commissionable.is_zero() && !campaign.store_zero_orders {
        return Ok(draft);
    }
    let bound = context.plugins.as_ref().as_ref().map_err(|err| Flagged { plugin: None, reason: err.clone() })?;
    let Some((plugin, invocation)) = bound.with(Hook::Distribute).next() else {
        let reason = format!("no distribution plugin is enabled for campaign {}", campaign.id);
        return Err(Flagged { plugin: None, reason });
    };
    let conversion = sdk::Conversion {
        id: (row.id as u64).into(),
        campaign: (campaign.id as u64).into(),
        commission_type: prepared.new.commission_type.clone(),
        total: commissionable,
        order_id: prepared.new.order_id.clone(),
        product_id: prepared.new.product_id.clone(),
        coupon: prepared.new.coupon.clone(),
        customer: prepared.new.customer.clone(),
        custom_fields: prepared.new.custom_fields.clone().into_iter().collect(),
        occurred_at: millis(row.created_at),
    };
    let mut upline = context.upline.to_vec();
    for (screen, invocation) in bound.with(Hook::Screen) {
        let input = sdk::ScreenInput {
            now: millis(prepared.now),
            conversion: conversion.clone(),
            upline: upline.clone(),
            groups: context.groups.to_vec(),
            customer_conversions: context.customer_conversions,
        };
        let verdict = registry.engine().call::<Screen>(screen, &with_stats(invocation), &input, &());
        match calls.value(screen, Hook::Screen, verdict)? {
            sdk::Verdict::Accept => {}
            sdk::Verdict::Reject(reason) => {
                let plugin = Some((screen.manifest.id.to_string(), screen.manifest.version.to_string()));
                draft.rejected = Some(Flagged { plugin, reason });
                return Ok(draft);
            }
            sdk::Verdict::UseGroup(group) => upline[0].group = group,
            sdk::Verdict::Manual(reason) => draft.held = Some(Held::Manual(reason)),
            // An operator's decision is not cut short by a hold.
            sdk::Verdict::Hold { .. } if matches!(draft.held, Some(Held::Manual(_))) => {}
            sdk::Verdict::Hold { until, reason } => {
                let until = DateTime::from_timestamp_millis(until.millis()).ok_or_else(|| Flagged {
                    plugin: Some((screen.manifest.id.to_string(), screen.manifest.version.to_string())),
                    reason: format!("a hold until {}, out of range", until.millis()),
                })?;
                draft.held = Some(Held::Until(until, reason));
            }
        }
    }
    let input = sdk::DistributeInput { now: millis(prepared.now), conversion, upline, groups: context.groups.to_vec() };
    let kind = commission_type_key(&prepared.new.commission_type);
    // What the conversion's commissions add up to: a bonus counts toward the
    // commissionable total like a distribution line.
    let mut paid = sdk::Money::zero(commissionable.currency());
    let lines = registry.engine().call::<Distribute>(plugin, &with_stats(invocation), &input, &());
    for line in calls.value(plugin, Hook::Distribute, lines)? {
        paid = paid + line.amount;
        if line.amount.is_zero() && !campaign.store_zero_commissions {
            continue;
        }
        draft.lines.push(Line {
            affiliate: line.affiliate,
            tier: line.tier,
            commission_type: kind.clone(),
            amount: line.amount,
            explanation: line.explanation,
            plugin: plugin.clone(),
        });
    }
    // The bonus rules see the conversion's own commissions in the statistics.
    let status = initial_status(prepared, draft.held.as_ref())?.0;
    let conversion = Some((row.kind.as_str(), row.commissionable_minor));
    let count = |line: &Line| -> Result<(), Flagged> {
        if let Some(stats) = &stats {
            let counted = line.commission_type != "bonus";
            let sums = contribution(line.tier as i32, to_minor(line.amount, "amount")?, counted, conversion);
            stats.add(line.affiliate.get() as i64, row.created_at, status, sums);
        }
        Ok(())
    };
    for line in &draft.lines {
        count(line)?;
    }
    let browser = prepared.new.source == Source::Browser;
    let referrer = &input.upline[0];
    for (bonus_plugin, invocation) in bound.with(Hook::BonusRules) {
        let bonus = sdk::BonusInput {
            now: input.now,
            campaign: input.conversion.campaign,
            affiliate: referrer.affiliate,
            group: referrer.group,
            groups: input.groups.clone(),
            trigger: sdk::Trigger::Conversion(input.conversion.clone()),
            upline: input.upline.clone(),
        };
        let currency = commissionable.currency();
        let actions = registry.engine().call::<BonusRules>(bonus_plugin, &with_stats(invocation), &bonus, &currency);
        let actions = calls.value(bonus_plugin, Hook::BonusRules, actions)?;
        for action in actions {
            match action {
                sdk::Action::Bonus { affiliate, amount, explanation } => {
                    paid = paid + amount;
                    if paid.amount() > commissionable.amount() && !invocation.may_exceed_total(bonus_plugin) {
                        return Err(over_total(bonus_plugin, amount, paid, commissionable));
                    }
                    let plugin = bonus_plugin.clone();
                    let commission_type = "bonus".into();
                    let line = Line { affiliate, tier: 1, commission_type, amount, explanation, plugin };
                    count(&line)?;
                    draft.lines.push(line);
                }
                // A browser's report acts through bonuses only, which wait for the merchant.
                _ if browser => {}
                ref moved @ sdk::Action::MoveToGroup { .. } => {
                    draft.moves.extend(GroupMove::of(moved, campaign.id, bonus_plugin.label()));
                }
                other @ (sdk::Action::Award { .. } | sdk::Action::Notify { .. }) => {
                    let at = prepared.now;
                    let conversion = Some(row.id);
                    let origin = Origin { plugin: bonus_plugin.label(), campaign: campaign.id, conversion, at };
                    draft.granted.extend(Granted::of(&other, &origin));
                }
            }
        }
    }
    Ok(draft)
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
        trace: None,
    };
    Flagged::from(Error::PluginCall(error))
}

/// The commission rows of `lines`, with `ids`, each in the status the campaign gives
/// a new commission: a browser's report waits for the merchant; one a screen plugin
/// held (`held`) waits for an operator or the hold's end; with an approval plugin,
/// pending until it decides (next); else by the campaign's approval setting,
/// approved when the hold ends (at once without one), or waiting for an operator.
fn commissions(
    prepared: &Prepared,
    conversion: &conversion::Model,
    lines: Vec<Line>,
    held: Option<Held>,
    ids: Vec<i64>,
) -> Result<Vec<commission::Model>> {
    let campaign = &prepared.context.campaign;
    let now = prepared.now;
    let (status, hold_until, waiting_for) = initial_status(prepared, held.as_ref())?;
    let zone = Zone::stored(&campaign.time_zone)?;
    lines
        .into_iter()
        .zip(ids)
        .map(|(line, id)| {
            let bonus = line.commission_type == "bonus";
            Ok(commission::Model {
                id,
                conversion_id: Some(conversion.id),
                campaign_id: campaign.id,
                affiliate_id: line.affiliate.get() as i64,
                tier: line.tier as i32,
                commission_type: line.commission_type,
                amount_minor: to_minor(line.amount, "amount")?,
                currency: line.amount.currency().code().into(),
                status: status.as_str().into(),
                hold_until,
                waiting_for: waiting_for.clone(),
                product_id: if bonus { None } else { prepared.new.product_id.clone() },
                plugin_id: Some(line.plugin.manifest.id.to_string()),
                plugin_version: Some(line.plugin.manifest.version.to_string()),
                explanation: match &held {
                    Some(Held::Manual(reason)) => format!("{} (manual approval: {reason})", line.explanation),
                    Some(Held::Until(until, reason)) => format!("{} (held until {until}: {reason})", line.explanation),
                    None => line.explanation,
                },
                reverses_id: None,
                payout_id: None,
                created_at: now,
                updated_at: now,
                stats_day: zone.day(now),
            })
        })
        .collect()
}

/// The status, hold and awaited event of a new commission of the conversion (see
/// [`commissions`]); `held`: a screen plugin's hold.
fn initial_status(
    prepared: &Prepared,
    held: Option<&Held>,
) -> Result<(CommissionStatus, Option<DateTime<Utc>>, Option<String>)> {
    let (campaign, now) = (&prepared.context.campaign, prepared.now);
    Ok(if prepared.new.source == Source::Browser {
        (CommissionStatus::Pending, None, Some(MERCHANT_CONFIRMATION.to_owned()))
    } else if let Some(Held::Manual(_)) = held {
        (CommissionStatus::Pending, None, Some(MANUAL.to_owned()))
    } else if let Some(Held::Until(until, _)) = held {
        (CommissionStatus::Pending, Some(hold(campaign, now).map_or(*until, |hold| hold.max(*until))), None)
    } else if approval_plugin(prepared).is_some() {
        (CommissionStatus::Pending, hold(campaign, now), None)
    } else {
        by_approval_setting(campaign, now)?
    })
}

/// The campaign and referrer of a conversion whose plugins may query statistics.
pub(super) fn stats_key(prepared: &Prepared) -> Option<(i64, i64)> {
    let referrer = prepared.context.upline.first()?.affiliate.get() as i64;
    reads_stats(prepared).then_some((prepared.context.campaign.id, referrer))
}

/// Whether a plugin of the conversion's campaign may query statistics: it asks for
/// `stats` and the operator granted it.
fn reads_stats(prepared: &Prepared) -> bool {
    let Ok(bound) = prepared.context.plugins.as_ref() else { return false };
    [Hook::Screen, Hook::Distribute, Hook::BonusRules]
        .into_iter()
        .any(|hook| bound.with(hook).any(|(plugin, invocation)| invocation.reads_stats(plugin)))
}

/// When a commission made at `now` is released, if the campaign holds commissions.
fn hold(campaign: &campaign::Model, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (campaign.hold_days > 0).then(|| now + chrono::Duration::days(campaign.hold_days.into()))
}

/// The status, hold and awaited event the campaign's approval setting gives a new
/// commission made at `now`: waiting for an operator (`manual`), held until the hold
/// ends, or approved at once.
pub(crate) fn by_approval_setting(
    campaign: &campaign::Model,
    now: DateTime<Utc>,
) -> Result<(CommissionStatus, Option<DateTime<Utc>>, Option<String>)> {
    Ok(if campaign.approval == Approval::Manual.as_str() {
        (CommissionStatus::Pending, None, Some(MANUAL.to_owned()))
    } else if let Some(until) = hold(campaign, now) {
        (CommissionStatus::Pending, Some(until), None)
    } else {
        (CommissionStatus::Pending.approve()?, None, None)
    })
}

/// The campaign's approval plugin, unless the conversion is a browser's report
/// (which waits for the merchant whatever a plugin would decide).
fn approval_plugin(prepared: &Prepared) -> Option<&(Arc<LoadedPlugin>, Invocation)> {
    let bound = prepared.context.plugins.as_ref().as_ref().ok()?;
    bound.with(Hook::Approve).next().filter(|_| prepared.new.source != Source::Browser)
}

/// Asks the approval plugin about every commission, bonuses included, and records
/// its decisions.
fn approve_all(
    registry: &Registry,
    prepared: &Prepared,
    commissions: Vec<commission::Model>,
    calls: &mut Calls,
) -> Result<Vec<commission::Model>, Flagged> {
    let Some((plugin, invocation)) = approval_plugin(prepared) else { return Ok(commissions) };
    let campaign = &prepared.context.campaign;
    commissions
        .into_iter()
        .map(|mut row| {
            let facts = prepared.context.facts.get(&row.affiliate_id).copied().ok_or_else(|| Flagged {
                plugin: None,
                reason: format!("affiliate {} has no record to decide on", row.affiliate_id),
            })?;
            let input = sdk::ApprovalInput {
                now: millis(prepared.now),
                commission: sdk::Commission {
                    id: (row.id as u64).into(),
                    conversion: (row.conversion_id.unwrap_or_default() as u64).into(),
                    campaign: (row.campaign_id as u64).into(),
                    affiliate: (row.affiliate_id as u64).into(),
                    tier: row.tier as u32,
                    commission_type: crate::domain::campaign::parse_commission_type(
                        "commission_type",
                        &row.commission_type,
                    )
                    .unwrap_or(sdk::CommissionType::Sale),
                    amount: crate::db::from_minor(row.amount_minor, &row.currency)?,
                    created_at: millis(row.created_at),
                },
                affiliate_first_login: facts.first_login.map(millis),
                sub_affiliate_first_conversion: facts.sub_affiliate_firsts[0].map(millis),
                sub_affiliate_first_sale: facts.sub_affiliate_firsts[1].map(millis),
                sub_affiliate_first_action: facts.sub_affiliate_firsts[2].map(millis),
                affiliate_since: millis(facts.since),
                hold_days: campaign.hold_days as u32,
            };
            let decision = registry.engine().call::<Approve>(plugin, invocation, &input, &());
            match calls.value(plugin, Hook::Approve, decision)? {
                sdk::Decision::Approve => {
                    row.status = CommissionStatus::Pending.approve().map_err(Error::from)?.as_str().into();
                    row.hold_until = None;
                }
                sdk::Decision::Decline(reason) => {
                    row.status = CommissionStatus::Pending.decline().map_err(Error::from)?.as_str().into();
                    row.hold_until = None;
                    row.explanation = format!("{} (declined: {reason})", row.explanation);
                }
                sdk::Decision::Pending(sdk::PendingUntil::Time(at)) => {
                    row.hold_until = chrono::DateTime::from_timestamp_millis(at.millis());
                }
                sdk::Decision::Pending(sdk::PendingUntil::Event(event)) => {
                    row.hold_until = None;
                    row.waiting_for = Some(crate::service::lifecycle::waiting_for(event).to_owned());
                }
                sdk::Decision::Pending(sdk::PendingUntil::Manual) => {
                    row.hold_until = None;
                    row.waiting_for = Some(MANUAL.into());
                }
            }
            Ok(row)
        })
        .collect()
}

/// A time as plugins see it.
pub(crate) fn millis(at: DateTime<Utc>) -> sdk::Timestamp {
    sdk::Timestamp::from_millis(at.timestamp_millis())
}
