//! Period close and period end, the two jobs every campaign has.
//!
//! - **Period close** (`carryover`), monthly at midnight on the campaign's
//!   `period-close-day` in its time zone: the previous calendar month's approved,
//!   unpaid commissions are summed per affiliate (one grouped query), and every
//!   `carryover` plugin enabled for the campaign is called with those balances, at
//!   most [`BALANCES_PER_CALL`] per call. The adjustments it
//!   returns are booked as approved `adjustment` commissions (dated in the closed
//!   month, or at the start of the next one, as the plugin says), with the plugin's
//!   trail, in the job's completing transaction.
//! - **Period end** (`bonus-rules`), at the end of each of the campaign's reward
//!   periods: every `bonus-rules` plugin enabled for the campaign is called with the
//!   `period-end` trigger for every active affiliate, those without sales in the
//!   period included (a rule may demote them). The affiliates and their groups are
//!   read in two queries, the calls run on a blocking thread, and the bonuses, group
//!   moves, awards and notifications are written in the job's completing transaction.
//!
//! - **Signup** (`bonus-rules`), once for each new affiliate (a job of its own): every
//!   campaign's `bonus-rules` plugins are called with the `signup` trigger for it,
//!   and what they decide is written like a period end's.
//!
//! A run covers the period before its due time, so runs missed while every host was
//! down close each missed period in turn.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, NotSet, QueryFilter, QuerySelect, Set, TransactionTrait};
use upline_types as sdk;

use super::audit::entry;
use super::engine::millis;
use super::jobs::{Lease, Scheduler, next_close, next_period_end};
use super::rerate::GroupMove;
use super::rewards::{Granted, Origin};
use crate::db::entity::{affiliate, campaign, commission, membership};
use crate::db::{from_minor, to_minor};
use crate::domain::CommissionStatus;
use crate::domain::affiliate::AffiliateStatus;
use crate::domain::schedule::{Period, PeriodKind};
use crate::error::{Error, Result};
use crate::plugin::{BonusRules, Carryover, Hook, Invocation, LoadedPlugin, StatsSource};
use crate::service::stats::Snapshot;

/// Balances per `carryover` call: a close over 100,000 affiliates is 100 calls, each
/// well inside a plugin's memory and fuel limits.
const BALANCES_PER_CALL: usize = 1000;

/// A commission a period job books, before it has a status.
struct Booked {
    affiliate: i64,
    commission_type: &'static str,
    amount: sdk::Money,
    product_id: Option<String>,
    explanation: String,
    plugin: Arc<LoadedPlugin>,
    at: DateTime<Utc>,
}

/// Closes the month before the job's due time: calls the campaign's `carryover`
/// plugins with the month's approved, unpaid balances and books their adjustments.
pub async fn close(scheduler: &Scheduler, lease: &Lease, now: DateTime<Utc>) -> Result<()> {
    let (campaign, carryovers) = campaign_of(scheduler, lease, Hook::Carryover).await?;
    let due = lease.job().due_at;
    let zone = super::campaigns::zone(&campaign)?;
    let this_month = PeriodKind::Month.containing(&zone, due)?;
    let closed = PeriodKind::Month.containing(&zone, this_month.start - TimeDelta::milliseconds(1))?;
    let mut booked = Vec::new();
    if !carryovers.is_empty() {
        let balances = balances(scheduler, &campaign, closed).await?;
        let registry = scheduler.registry.clone();
        booked = tokio::task::spawn_blocking(move || -> Result<Vec<Booked>> {
            let mut booked = Vec::new();
            for ((plugin, invocation), balances) in
                carryovers.iter().flat_map(|bound| balances.chunks(BALANCES_PER_CALL).map(move |chunk| (bound, chunk)))
            {
                let input =
                    sdk::CarryoverInput { now: millis(now), period: period(closed), balances: balances.to_vec() };
                for adjustment in registry.engine().call::<Carryover>(plugin, invocation, &input, &())?.value {
                    booked.push(Booked {
                        affiliate: adjustment.affiliate.get() as i64,
                        commission_type: "adjustment",
                        amount: adjustment.amount,
                        product_id: Some(adjustment.product_id),
                        explanation: adjustment.explanation,
                        plugin: plugin.clone(),
                        at: match adjustment.booking {
                            sdk::Booking::ClosingPeriod => closed.end - TimeDelta::milliseconds(1),
                            sdk::Booking::NextPeriod => closed.end,
                        },
                    });
                }
            }
            Ok(booked)
        })
        .await
        .map_err(|err| Error::Internal(err.to_string()))??;
    }
    let txn = scheduler.db.begin().await?;
    lease.fence(&txn, now).await?;
    // Adjustments are approved: they correct an approved balance.
    let approved = CommissionStatus::Pending.approve()?;
    book(&txn, &campaign, booked, |_| Ok((approved, None, None)), now).await?;
    lease.complete(&txn, now, Some(next_close(&campaign, due)?)).await?;
    Ok(txn.commit().await?)
}

/// Ends the reward period before the job's due time: calls the campaign's
/// `bonus-rules` plugins with `period-end` for every active affiliate and carries out
/// what they decide.
pub async fn end(scheduler: &Scheduler, lease: &Lease, now: DateTime<Utc>) -> Result<()> {
    let (campaign, rules) = campaign_of(scheduler, lease, Hook::BonusRules).await?;
    let due = lease.job().due_at;
    let kind = PeriodKind::stored(&campaign.reward_period)?;
    let ended = kind.containing(&super::campaigns::zone(&campaign)?, due - TimeDelta::milliseconds(1))?;
    let decided = match rules.is_empty() {
        true => Decided::default(),
        false => {
            let members = members(scheduler, &campaign, None).await?;
            let trigger = sdk::Trigger::PeriodEnd(period(ended));
            run_rules(scheduler, &campaign, rules, members, trigger, ended.end, now).await?
        }
    };
    let txn = scheduler.db.begin().await?;
    lease.fence(&txn, now).await?;
    carry_out(&txn, &campaign, decided, now).await?;
    lease.complete(&txn, now, Some(next_period_end(&campaign, due)?)).await?;
    Ok(txn.commit().await?)
}

/// Welcomes a new affiliate: calls the `bonus-rules` plugins of every campaign with
/// `signup` for it, and carries out what they decide, in one transaction.
pub async fn signup(scheduler: &Scheduler, lease: &Lease, affiliate: i64, now: DateTime<Utc>) -> Result<()> {
    let config = scheduler.cache.current(&scheduler.db, &scheduler.registry).await?;
    let mut decisions = Vec::new();
    for id in campaign::Entity::find()
        .select_only()
        .column(campaign::Column::Id)
        .into_tuple::<i64>()
        .all(&scheduler.db)
        .await?
    {
        let rules = bound(&config, id, Hook::BonusRules).await?;
        if rules.is_empty() {
            continue;
        }
        let campaign = config.campaign(id).await?;
        let members = members(scheduler, &campaign, Some(affiliate)).await?;
        let decided = run_rules(scheduler, &campaign, rules, members, sdk::Trigger::Signup, now, now).await?;
        decisions.push((campaign, decided));
    }
    let txn = scheduler.db.begin().await?;
    lease.fence(&txn, now).await?;
    for (campaign, decided) in decisions {
        carry_out(&txn, &campaign, decided, now).await?;
    }
    lease.complete(&txn, now, None).await?;
    Ok(txn.commit().await?)
}

/// Calls `rules` with `trigger` for each of `members` on a blocking thread, with
/// their statistics when a rule may query them; bonuses are dated `at`.
async fn run_rules(
    scheduler: &Scheduler,
    campaign: &Arc<campaign::Model>,
    rules: Bound,
    members: Vec<sdk::UplineMember>,
    trigger: sdk::Trigger,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Decided> {
    let config = scheduler.cache.current(&scheduler.db, &scheduler.registry).await?;
    let groups = config.groups(campaign.id, &sdk::CommissionType::Sale).await?;
    let stats = match rules.iter().any(|(plugin, invocation)| invocation.reads_stats(plugin)) {
        true => {
            let ids: Vec<i64> = members.iter().map(|member| member.affiliate.get() as i64).collect();
            Some(Arc::new(Snapshot::load(&scheduler.db, campaign, &ids, now).await?) as Arc<dyn StatsSource>)
        }
        false => None,
    };
    let (registry, campaign) = (scheduler.registry.clone(), campaign.clone());
    let affiliates = Affiliates { groups, members, stats };
    tokio::task::spawn_blocking(move || evaluate(&registry, &campaign, &rules, &affiliates, &trigger, at, now))
        .await
        .map_err(|err| Error::Internal(err.to_string()))?
}

/// Writes what rules decided without a conversion: bonuses (with the status the
/// campaign's approval setting gives), group moves, awards and notifications.
async fn carry_out(
    txn: &DatabaseTransaction,
    campaign: &campaign::Model,
    decided: Decided,
    now: DateTime<Utc>,
) -> Result<()> {
    book(txn, campaign, decided.bonuses, |at| crate::service::engine::by_approval_setting(campaign, at), now).await?;
    for change in decided.moves {
        change.apply(txn, now).await?;
    }
    super::rewards::store_all(txn, decided.granted).await
}

/// The affiliates rules evaluate without a conversion: the campaign's groups, each
/// affiliate with its group (as the upline of one), and their statistics when a rule
/// may query them.
struct Affiliates {
    groups: Arc<Vec<sdk::CommissionGroup>>,
    members: Vec<sdk::UplineMember>,
    stats: Option<Arc<dyn StatsSource>>,
}

/// What the rules decided at a period's end or a signup.
#[derive(Default)]
struct Decided {
    bonuses: Vec<Booked>,
    moves: Vec<GroupMove>,
    granted: Vec<Granted>,
}

/// Calls every rule for every affiliate (with its group); the host checks each result.
fn evaluate(
    registry: &crate::plugin::Registry,
    campaign: &campaign::Model,
    rules: &Bound,
    affiliates: &Affiliates,
    trigger: &sdk::Trigger,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Decided> {
    let currency = sdk::Currency::from_code(&campaign.currency).map_err(|err| Error::Database(err.to_string()))?;
    let mut decided = Decided::default();
    let Affiliates { groups, members, stats } = affiliates;
    for member in members {
        let affiliate = member.affiliate.get() as i64;
        let input = sdk::BonusInput {
            now: millis(now),
            campaign: (campaign.id as u64).into(),
            affiliate: member.affiliate,
            group: member.group,
            groups: groups.to_vec(),
            trigger: trigger.clone(),
            upline: vec![member.clone()],
        };
        for (plugin, invocation) in rules {
            let invocation = &invocation.with_stats(stats.as_ref());
            for action in registry.engine().call::<BonusRules>(plugin, invocation, &input, &currency)?.value {
                match action {
                    sdk::Action::Bonus { amount, explanation, .. } => decided.bonuses.push(Booked {
                        affiliate,
                        commission_type: "bonus",
                        amount,
                        product_id: None,
                        explanation,
                        plugin: plugin.clone(),
                        at,
                    }),
                    ref moved @ sdk::Action::MoveToGroup { .. } => {
                        decided.moves.extend(GroupMove::of(moved, campaign.id, plugin.label()))
                    }
                    other @ (sdk::Action::Award { .. } | sdk::Action::Notify { .. }) => {
                        let origin =
                            Origin { plugin: plugin.label(), campaign: campaign.id, conversion: None, at: now };
                        decided.granted.extend(Granted::of(&other, &origin));
                    }
                }
            }
        }
    }
    Ok(decided)
}

/// Rows per insert statement.
const ROWS_PER_INSERT: usize = 64;

/// Inserts booked commissions (no conversion), each with the status `status` gives
/// for its time, [`ROWS_PER_INSERT`] per statement, and audits them.
async fn book(
    txn: &DatabaseTransaction,
    campaign: &campaign::Model,
    booked: Vec<Booked>,
    status: impl Fn(DateTime<Utc>) -> Result<(CommissionStatus, Option<DateTime<Utc>>, Option<String>)>,
    now: DateTime<Utc>,
) -> Result<()> {
    let zone = super::campaigns::zone(campaign)?;
    for chunk in booked.chunks(ROWS_PER_INSERT) {
        let rows = chunk
            .iter()
            .map(|line| {
                let (state, hold_until, waiting_for) = status(line.at)?;
                Ok(commission::ActiveModel {
                    conversion_id: Set(None),
                    campaign_id: Set(campaign.id),
                    affiliate_id: Set(line.affiliate),
                    tier: Set(1),
                    commission_type: Set(line.commission_type.into()),
                    amount_minor: Set(to_minor(line.amount, "amount")?),
                    currency: Set(line.amount.currency().code().into()),
                    status: Set(state.as_str().into()),
                    hold_until: Set(hold_until),
                    waiting_for: Set(waiting_for),
                    product_id: Set(line.product_id.clone()),
                    plugin_id: Set(Some(line.plugin.manifest.id.to_string())),
                    plugin_version: Set(Some(line.plugin.manifest.version.to_string())),
                    explanation: Set(line.explanation.clone()),
                    reverses_id: Set(None),
                    payout_id: Set(None),
                    created_at: Set(line.at),
                    updated_at: Set(now),
                    stats_day: Set(zone.day(line.at)),
                    id: NotSet,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let ids: Vec<i64> = commission::Entity::insert_many(rows).exec_with_returning_keys(txn).await?;
        let entries = chunk
            .iter()
            .zip(ids)
            .map(|(line, id)| {
                let after = serde_json::json!({"affiliate": line.affiliate, "amount": line.amount, "at": line.at});
                entry(
                    now,
                    "system",
                    &format!("commission.{}", line.commission_type),
                    ("commission", id),
                    None,
                    Some(after),
                )
            })
            .collect();
        super::audit::record_all(txn, entries).await?;
    }
    Ok(())
}

/// The plugins enabled for a campaign that implement one hook, with their configuration.
type Bound = Vec<(Arc<LoadedPlugin>, Invocation)>;

/// The job's campaign and its enabled plugins with `hook`; an error when they cannot
/// run (the job fails and is retried).
async fn campaign_of(scheduler: &Scheduler, lease: &Lease, hook: Hook) -> Result<(Arc<campaign::Model>, Bound)> {
    let id = lease.job().campaign_id.ok_or_else(|| Error::Database("a period job without a campaign".into()))?;
    let config = scheduler.cache.current(&scheduler.db, &scheduler.registry).await?;
    Ok((config.campaign(id).await?, bound(&config, id, hook).await?))
}

/// Campaign `id`'s enabled plugins with `hook`; an error when they cannot run.
async fn bound(config: &crate::service::config::Config<'_>, id: i64, hook: Hook) -> Result<Bound> {
    let plugins = config.plugins(id).await?;
    let plugins =
        plugins.as_ref().as_ref().map_err(|err| Error::Internal(format!("campaign {id}'s plugins: {err}")))?;
    Ok(plugins.with(hook).cloned().collect())
}

/// Every affiliate's balance of approved, unpaid commissions of the campaign made in
/// `period`, in one grouped query.
async fn balances(scheduler: &Scheduler, campaign: &campaign::Model, period: Period) -> Result<Vec<sdk::Balance>> {
    let sums: Vec<(i64, i64)> = commission::Entity::find()
        .select_only()
        .column(commission::Column::AffiliateId)
        .column_as(Expr::cust("CAST(SUM(amount_minor) AS BIGINT)"), "balance")
        .filter(commission::Column::CampaignId.eq(campaign.id))
        .filter(commission::Column::Status.eq(CommissionStatus::Approved.as_str()))
        .filter(commission::Column::PayoutId.is_null())
        .filter(commission::Column::CreatedAt.gte(period.start))
        .filter(commission::Column::CreatedAt.lt(period.end))
        .group_by(commission::Column::AffiliateId)
        .into_tuple()
        .all(&scheduler.db)
        .await?;
    sums.into_iter()
        .map(|(affiliate, balance)| {
            Ok(sdk::Balance {
                affiliate: (affiliate as u64).into(),
                campaign: (campaign.id as u64).into(),
                amount: from_minor(balance, &campaign.currency)?,
            })
        })
        .collect()
}

/// Every active affiliate (or only `only`) with its group in the campaign (its
/// membership, else the default group) and its customer reference, in two queries.
async fn members(
    scheduler: &Scheduler,
    campaign: &campaign::Model,
    only: Option<i64>,
) -> Result<Vec<sdk::UplineMember>> {
    let db = &scheduler.db;
    let default = super::affiliates::default_group(db, campaign.id).await?;
    let mut memberships = membership::Entity::find()
        .select_only()
        .column(membership::Column::AffiliateId)
        .column(membership::Column::GroupId)
        .filter(membership::Column::CampaignId.eq(campaign.id));
    let mut affiliates = affiliate::Entity::find()
        .select_only()
        .column(affiliate::Column::Id)
        .column(affiliate::Column::Customer)
        .filter(affiliate::Column::Status.eq(AffiliateStatus::Active.as_str()));
    if let Some(id) = only {
        memberships = memberships.filter(membership::Column::AffiliateId.eq(id));
        affiliates = affiliates.filter(affiliate::Column::Id.eq(id));
    }
    let groups: HashMap<i64, i64> = memberships.into_tuple::<(i64, i64)>().all(db).await?.into_iter().collect();
    let affiliates: Vec<(i64, Option<String>)> = affiliates.into_tuple().all(db).await?;
    Ok(affiliates
        .into_iter()
        .map(|(id, customer)| sdk::UplineMember {
            affiliate: (id as u64).into(),
            tier: 1,
            group: (groups.get(&id).copied().unwrap_or(default) as u64).into(),
            customer,
        })
        .collect())
}

fn period(period: Period) -> sdk::Period {
    sdk::Period { start: millis(period.start), end: millis(period.end) }
}
