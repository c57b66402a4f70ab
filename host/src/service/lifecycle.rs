//! Moving commissions through their lifecycle: approve, decline, release held ones,
//! pay in payouts, and reverse on refunds. Every change is a conditional update on
//! the status it was read with, so concurrent changes cannot both win, and every
//! change is audited.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{BinOper, Expr, ExprTrait, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, NotSet,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::Serialize;
use upline_types::{ApprovalEvent, Money, round_running};

use super::audit::{self, json};
use super::engine::CommissionView;
use super::webhooks;
use crate::db::entity::{campaign, commission, conversion, payout};
use crate::db::{from_minor, to_minor};
use crate::domain::{CommissionStatus, IllegalTransition};
use crate::error::{Error, Result};

/// A manual decision on pending commissions.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Approve (also releases a held commission early).
    Approve,
    /// Decline, with the reason.
    Decline(String),
}

impl Decision {
    /// A decline with `reason`, which must be 1 to 1000 characters.
    pub fn decline(reason: Option<String>) -> Result<Self> {
        match reason.map(|r| r.trim().to_owned()) {
            Some(r) if !r.is_empty() && r.len() <= 1000 => Ok(Decision::Decline(r)),
            _ => Err(Error::InvalidInput {
                field: "reason".into(),
                message: "a decline needs a reason of 1 to 1000 characters".into(),
            }),
        }
    }
}

/// Most rows one statement touches, and one transaction of a long change.
const CHUNK: usize = 500;

/// Applies `decision` to every commission in `ids`, all or none. A reversal follows
/// its original: deciding on the original decides its pending reversals too, and a
/// reversal cannot be decided on alone (so a refunded sale can never pay in full).
pub async fn decide(
    db: &DatabaseConnection,
    ids: &[i64],
    decision: &Decision,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<CommissionView>> {
    if ids.is_empty() || ids.len() > 10_000 {
        return Err(Error::InvalidInput { field: "ids".into(), message: "give 1 to 10000 commission ids".into() });
    }
    let mut seen = HashSet::with_capacity(ids.len());
    if let Some(twice) = ids.iter().find(|id| !seen.insert(**id)) {
        return Err(Error::InvalidInput { field: "ids".into(), message: format!("commission {twice} is given twice") });
    }
    // Decisions leave only `pending` (see `CommissionStatus::approve` and `decline`).
    let from = CommissionStatus::Pending;
    let (to, action) = match decision {
        Decision::Approve => (from.approve()?, "commission.approve"),
        Decision::Decline(_) => (from.decline()?, "commission.decline"),
    };
    let txn = db.begin().await?;
    let before = find_all(&txn, ids).await?;
    for row in &before {
        if let Some(original) = row.reverses_id {
            return Err(Error::Conflict {
                field: "ids".into(),
                message: format!(
                    "commission {} reverses commission {original} and follows it: decide on {original}",
                    row.id
                ),
            });
        }
        let status: CommissionStatus = row.status.parse().map_err(Error::Database)?;
        if status != from {
            let err = IllegalTransition { from: status, action: to.as_str() };
            return Err(Error::Conflict { field: "status".into(), message: format!("commission {}: {err}", row.id) });
        }
    }
    for chunk in ids.chunks(CHUNK) {
        let update = match decision {
            Decision::Approve => commission::Entity::update_many()
                .col_expr(commission::Column::Status, Expr::value(to.as_str()))
                .col_expr(commission::Column::UpdatedAt, Expr::value(now)),
            Decision::Decline(reason) => declining(reason, now),
        };
        let changed = update
            .filter(commission::Column::Id.is_in(chunk.iter().copied()))
            .filter(commission::Column::Status.eq(from.as_str()))
            .exec(&txn)
            .await?;
        if changed.rows_affected != chunk.len() as u64 {
            return Err(Error::Conflict {
                field: "status".into(),
                message: "a commission changed meanwhile; reload them".into(),
            });
        }
        carry_reversals(&txn, chunk, to, now).await?;
    }
    let entries = before
        .iter()
        .map(|row| {
            audit::entry(now, actor, action, ("commission", row.id), Some(json(&row.status)), Some(json(&to.as_str())))
        })
        .collect();
    audit::record_all(&txn, entries).await?;
    let after = find_all(&txn, ids).await?;
    let kind = if to == CommissionStatus::Approved { "commission.approved" } else { "commission.declined" };
    announce(&txn, kind, &after, now).await?;
    let views = after.into_iter().map(CommissionView::of).collect::<Result<_>>()?;
    txn.commit().await?;
    Ok(views)
}

/// Queues the `kind` webhook event of each of `rows`, if an endpoint is registered.
async fn announce(
    db: &impl ConnectionTrait,
    kind: &'static str,
    rows: &[commission::Model],
    now: DateTime<Utc>,
) -> Result<()> {
    if rows.is_empty() || !webhooks::listening(db).await? {
        return Ok(());
    }
    let events = rows.iter().map(|row| webhooks::Event::commission(kind, row, now)).collect::<Result<_>>()?;
    webhooks::emit(db, events).await
}

/// Moves the pending reversals of `originals` to `to` with them.
async fn carry_reversals(
    db: &impl ConnectionTrait,
    originals: &[i64],
    to: CommissionStatus,
    now: DateTime<Utc>,
) -> Result<()> {
    commission::Entity::update_many()
        .col_expr(commission::Column::Status, Expr::value(to.as_str()))
        .col_expr(commission::Column::UpdatedAt, Expr::value(now))
        .filter(commission::Column::ReversesId.is_in(originals.iter().copied()))
        .filter(commission::Column::Status.eq(CommissionStatus::Pending.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

/// Approves pending commissions whose hold period is over and that wait for no
/// event, with their pending reversals, [`CHUNK`] per transaction so that other
/// writes go on between them. Returns how many were approved (reversals not counted).
pub async fn release_due(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64> {
    let mut released = 0;
    loop {
        let txn = db.begin().await?;
        let (approved, more) = release_chunk(&txn, now).await?;
        txn.commit().await?;
        released += approved;
        if !more {
            return Ok(released);
        }
    }
}

/// What a commission waiting for `event` stores in its `waiting_for`.
pub fn waiting_for(event: ApprovalEvent) -> &'static str {
    match event {
        ApprovalEvent::AffiliateFirstLogin => "affiliate-first-login",
        ApprovalEvent::SubAffiliateFirstConversion => "sub-affiliate-first-conversion",
        ApprovalEvent::SubAffiliateFirstSale => "sub-affiliate-first-sale",
        ApprovalEvent::SubAffiliateFirstAction => "sub-affiliate-first-action",
    }
}

/// Approves the pending commissions of `affiliates` that wait for `event` (an
/// approval plugin's `pending-until` event, e.g. `affiliate-first-login`), with their
/// pending reversals (which wait with them), in the caller's transaction: the one
/// that records the event. Audited; returns how many were approved.
pub async fn release_waiting(
    db: &impl ConnectionTrait,
    affiliates: &[i64],
    event: ApprovalEvent,
    now: DateTime<Utc>,
) -> Result<u64> {
    let event = waiting_for(event);
    if affiliates.is_empty() {
        return Ok(0);
    }
    let rows = commission::Entity::update_many()
        .col_expr(commission::Column::Status, Expr::value(CommissionStatus::Approved.as_str()))
        .col_expr(commission::Column::WaitingFor, Expr::value(Option::<String>::None))
        .col_expr(commission::Column::HoldUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(commission::Column::UpdatedAt, Expr::value(now))
        .filter(commission::Column::AffiliateId.is_in(affiliates.iter().copied()))
        .filter(waiting(Some(event)))
        .exec_with_returning(db)
        .await?;
    announce(db, "commission.approved", &rows, now).await?;
    let released: Vec<i64> = rows.into_iter().map(|row| row.id).collect();
    let entries = released
        .iter()
        .map(|id| {
            let after = serde_json::json!({"status": "approved", "event": event});
            audit::entry(now, "system", "commission.release", ("commission", *id), Some(json(&"pending")), Some(after))
        })
        .collect();
    audit::record_all(db, entries).await?;
    Ok(released.len() as u64)
}

/// Whether any of `affiliates` has a pending commission waiting for an event: one
/// read of the partial index on waiting commissions, where releasing them is an
/// update per event (each compiling the commissions' triggers on SQLite).
pub async fn any_waiting(db: &impl ConnectionTrait, affiliates: &[i64]) -> Result<bool> {
    if affiliates.is_empty() {
        return Ok(false);
    }
    let found = commission::Entity::find()
        .select_only()
        .column(commission::Column::Id)
        .filter(commission::Column::AffiliateId.is_in(affiliates.iter().copied()))
        .filter(waiting(None))
        .limit(1)
        .into_tuple::<i64>()
        .one(db)
        .await?;
    Ok(found.is_some())
}

/// The condition "pending and waiting for `event`" (for any event when `None`), as
/// SQL literals: SQLite prepares a statement again at every execution when it
/// compares a bound parameter with a literal of a partial index's condition (here
/// `status = 'pending'` of `ix_commissions_waiting`). The values are the host's own
/// constants.
fn waiting(event: Option<&'static str>) -> SimpleExpr {
    let pending = CommissionStatus::Pending.as_str();
    Expr::cust(match event {
        Some(event) => format!("status = '{pending}' AND waiting_for = '{event}'"),
        None => format!("status = '{pending}' AND waiting_for IS NOT NULL"),
    })
}

/// Approves up to [`CHUNK`] held commissions whose hold is over at `now`, with their
/// pending reversals, in the caller's transaction. Returns how many were approved,
/// and whether more may be due.
pub async fn release_chunk(txn: &DatabaseTransaction, now: DateTime<Utc>) -> Result<(u64, bool)> {
    let due: Vec<i64> = commission::Entity::find()
        .select_only()
        .column(commission::Column::Id)
        .filter(commission::Column::Status.eq(CommissionStatus::Pending.as_str()))
        .filter(commission::Column::HoldUntil.lte(now))
        .filter(commission::Column::WaitingFor.is_null())
        .filter(commission::Column::ReversesId.is_null())
        // The order of the (status, hold_until) index: by id, SQLite would walk the
        // ledger from its start past every commission released before.
        .order_by_asc(commission::Column::HoldUntil)
        .order_by_asc(commission::Column::Id)
        .limit(CHUNK as u64)
        .into_tuple()
        .all(txn)
        .await?;
    let rows = commission::Entity::update_many()
        .col_expr(commission::Column::Status, Expr::value(CommissionStatus::Approved.as_str()))
        .col_expr(commission::Column::UpdatedAt, Expr::value(now))
        .filter(commission::Column::Id.is_in(due.iter().copied()))
        .filter(commission::Column::Status.eq(CommissionStatus::Pending.as_str()))
        .exec_with_returning(txn)
        .await?;
    announce(txn, "commission.approved", &rows, now).await?;
    let approved: Vec<i64> = rows.into_iter().map(|row| row.id).collect();
    carry_reversals(txn, &approved, CommissionStatus::Approved, now).await?;
    let entries = approved
        .iter()
        .map(|id| {
            let change = (Some(json(&"pending")), Some(json(&"approved")));
            audit::entry(now, "system", "commission.release", ("commission", *id), change.0, change.1)
        })
        .collect();
    audit::record_all(txn, entries).await?;
    Ok((approved.len() as u64, due.len() == CHUNK))
}

/// The commissions with `ids`, in that order; a missing one is a 404.
async fn find_all(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<commission::Model>> {
    let mut found = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let rows =
            commission::Entity::find().filter(commission::Column::Id.is_in(chunk.iter().copied())).all(db).await?;
        found.extend(rows.into_iter().map(|row| (row.id, row)));
    }
    ids.iter().map(|id| found.remove(id).ok_or(Error::NotFound { entity: "commission", id: id.to_string() })).collect()
}

/// A payout as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct PayoutView {
    /// Id.
    pub id: i64,
    /// Who is paid.
    pub affiliate: i64,
    /// How much.
    #[schema(value_type = crate::http::openapi::sdk::Money)]
    pub amount: Money,
    /// How many commissions it pays.
    pub commissions: i32,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl PayoutView {
    fn of(row: &payout::Model) -> Result<Self> {
        Ok(Self {
            id: row.id,
            affiliate: row.affiliate_id,
            amount: from_minor(row.amount_minor, &row.currency)?,
            commissions: row.commission_count,
            created_at: row.created_at,
        })
    }
}

/// Which payouts to list, newest first, a page at a time.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PayoutFilter {
    /// Only this affiliate's.
    pub affiliate: Option<i64>,
    /// Only those with a smaller id: the last id of the previous page.
    pub before: Option<i64>,
    /// At most this many (1 to 1000; default 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
}

/// The payouts `filter` selects, newest first.
pub async fn payouts(db: &impl ConnectionTrait, filter: &PayoutFilter) -> Result<Vec<PayoutView>> {
    let mut query = payout::Entity::find().order_by_desc(payout::Column::Id);
    if let Some(affiliate) = filter.affiliate {
        query = query.filter(payout::Column::AffiliateId.eq(affiliate));
    }
    if let Some(before) = filter.before {
        query = query.filter(payout::Column::Id.lt(before));
    }
    let rows = query.limit(crate::domain::page_limit(filter.limit)?).all(db).await?;
    rows.iter().map(PayoutView::of).collect()
}

/// Pays every affiliate whose approved, unpaid commissions in `minimum`'s currency add
/// up to at least `minimum`; the commissions become `paid` and locked. Each
/// affiliate's payout is a transaction of its own, so other writes go on between
/// them; an affiliate whose commissions changed meanwhile (another payout run took
/// them), or whose balance does not fit one payout (audited as `payout.skip`), is
/// left out of this run.
pub async fn pay_out(
    db: &DatabaseConnection,
    minimum: Money,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<PayoutView>> {
    let currency = minimum.currency().code().to_owned();
    let minimum_minor = to_minor(minimum, "minimum")?;
    let unpaid = || {
        commission::Entity::find()
            .filter(commission::Column::Status.eq(CommissionStatus::Approved.as_str()))
            .filter(commission::Column::PayoutId.is_null())
            .filter(commission::Column::Currency.eq(currency.as_str()))
    };
    let affiliates: Vec<i64> = unpaid()
        .select_only()
        .column(commission::Column::AffiliateId)
        .distinct()
        .order_by_asc(commission::Column::AffiliateId)
        .into_tuple()
        .all(db)
        .await?;
    let mut payouts = Vec::new();
    for affiliate in affiliates {
        let txn = db.begin().await?;
        let owed: Vec<(i64, i64)> = unpaid()
            .filter(commission::Column::AffiliateId.eq(affiliate))
            .select_only()
            .column(commission::Column::Id)
            .column(commission::Column::AmountMinor)
            .order_by_asc(commission::Column::Id)
            .into_tuple()
            .all(&txn)
            .await?;
        let Some(total) = owed.iter().try_fold(0i64, |sum, (_, amount)| sum.checked_add(*amount)) else {
            // Left out, audited; the others are paid.
            let why = serde_json::json!({"skipped": "the approved balance is too large for one payout"});
            audit::record(&txn, now, actor, "payout.skip", ("affiliate", affiliate), None, Some(why)).await?;
            txn.commit().await?;
            tracing::warn!(affiliate, "approved balance too large for one payout: skipped");
            continue;
        };
        if total < minimum_minor || total <= 0 {
            txn.rollback().await?;
            continue;
        }
        let batch = payout::ActiveModel {
            affiliate_id: Set(affiliate),
            currency: Set(currency.clone()),
            amount_minor: Set(total),
            commission_count: Set(i32::try_from(owed.len()).unwrap_or(i32::MAX)),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let paid = CommissionStatus::Approved.pay()?;
        let mut claimed = 0;
        for chunk in owed.chunks(CHUNK) {
            let changed = commission::Entity::update_many()
                .col_expr(commission::Column::Status, Expr::value(paid.as_str()))
                .col_expr(commission::Column::PayoutId, Expr::value(batch.id))
                .col_expr(commission::Column::UpdatedAt, Expr::value(now))
                .filter(commission::Column::Id.is_in(chunk.iter().map(|(id, _)| *id)))
                .filter(commission::Column::Status.eq(CommissionStatus::Approved.as_str()))
                .filter(commission::Column::PayoutId.is_null())
                .exec(&txn)
                .await?;
            claimed += changed.rows_affected;
        }
        if claimed != owed.len() as u64 {
            tracing::warn!(affiliate, "commissions changed during the payout: left for the next run");
            txn.rollback().await?;
            continue;
        }
        if webhooks::listening(&txn).await? {
            let ids: Vec<i64> = owed.iter().map(|(id, _)| *id).collect();
            for chunk in ids.chunks(CHUNK) {
                announce(&txn, "commission.paid", &find_all(&txn, chunk).await?, now).await?;
            }
        }
        let view = PayoutView::of(&batch)?;
        audit::record(&txn, now, actor, "payout.create", ("payout", batch.id), None, Some(json(&view))).await?;
        txn.commit().await?;
        payouts.push(view);
    }
    Ok(payouts)
}

/// Refunds (or charges back) `amount` of a conversion: every commission of it that
/// was not declined gets a reversing, negative commission proportional to the
/// refunded share, rounded so the reversals add up exactly. A reversal of a paid or
/// approved commission is approved (it is netted in the next payout); of a pending
/// one, pending with the original's hold, and it follows the original's decision.
pub async fn refund(
    db: &DatabaseConnection,
    conversion_id: i64,
    amount: Money,
    kind: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<CommissionView>> {
    let txn = db.begin().await?;
    let conversion = conversion::Entity::find_by_id(conversion_id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound { entity: "conversion", id: conversion_id.to_string() })?;
    if let Some(by) = conversion.superseded_by {
        return Err(superseded(conversion_id, by));
    }
    if amount.currency().code() != conversion.currency {
        return Err(Error::InvalidInput {
            field: "currency".into(),
            message: format!("the conversion is in {}", conversion.currency),
        });
    }
    let refund_minor = to_minor(amount, "amount")?;
    if refund_minor <= 0 || !claim_refund(&txn, &conversion, refund_minor).await? {
        // Reread: a concurrent refund, or a supersede, came first.
        let current = conversion::Entity::find_by_id(conversion_id).one(&txn).await?.unwrap_or(conversion.clone());
        if let Some(by) = current.superseded_by {
            return Err(superseded(conversion_id, by));
        }
        let refundable = current.commissionable_minor - current.refunded_minor;
        return Err(Error::InvalidInput {
            field: "amount".into(),
            message: format!(
                "must be above 0 and at most the {} not yet refunded",
                from_minor(refundable, &conversion.currency)?
            ),
        });
    }
    let why = format!("{kind} of {amount}");
    let reversals = reverse(&txn, &conversion, refund_minor, &why, now).await?;
    let action = format!("conversion.{kind}");
    audit::record(&txn, now, actor, &action, ("conversion", conversion_id), None, Some(json(&reversals))).await?;
    txn.commit().await?;
    Ok(reversals)
}

/// The refusal to refund a browser report the merchant's report superseded.
fn superseded(conversion: i64, by: i64) -> Error {
    Error::Conflict {
        field: "id".into(),
        message: format!("conversion {conversion} was superseded by conversion {by}: refund that one"),
    }
}

/// Takes `refund_minor` of what is left to refund of the conversion; false when less
/// is left. A conditional increment: of two concurrent refunds the second waits for
/// the first's row lock (PostgreSQL) or its commit (SQLite's one writer), then finds
/// too little left.
async fn claim_refund(db: &impl ConnectionTrait, conversion: &conversion::Model, refund_minor: i64) -> Result<bool> {
    let refunded = Expr::col(conversion::Column::RefundedMinor).add(refund_minor);
    let claimed = conversion::Entity::update_many()
        .col_expr(conversion::Column::RefundedMinor, refunded.clone())
        .filter(conversion::Column::Id.eq(conversion.id))
        .filter(refunded.lte(Expr::col(conversion::Column::CommissionableMinor)))
        .exec(db)
        .await?;
    Ok(claimed.rows_affected == 1)
}

/// Adds the reversals of `refund_minor` of the conversion's commissionable total: for
/// each of its commissions that was not declined, a negative commission of the same
/// share, `why` in its explanation.
async fn reverse(
    db: &impl ConnectionTrait,
    conversion: &conversion::Model,
    refund_minor: i64,
    why: &str,
    now: DateTime<Utc>,
) -> Result<Vec<CommissionView>> {
    // Locked: a decision on an original waits for its reversal to be written (and
    // then carries it), or this waits for the decision and sees its outcome.
    let originals: Vec<commission::Model> = commission::Entity::find()
        .filter(commission::Column::ConversionId.eq(conversion.id))
        .filter(commission::Column::ReversesId.is_null())
        .filter(commission::Column::Status.ne(CommissionStatus::Declined.as_str()))
        .order_by_asc(commission::Column::Id)
        .lock_exclusive()
        .all(db)
        .await?;
    let share =
        rust_decimal::Decimal::from(refund_minor) / rust_decimal::Decimal::from(conversion.commissionable_minor);
    let exact: Vec<Money> = originals
        .iter()
        .map(|row| from_minor(row.amount_minor, &row.currency).map(|m| m.with_amount(-m.amount() * share)))
        .collect::<Result<_>>()?;
    // A reversal counts in the statistics on the day it is made, in the campaign's calendar.
    let campaign = campaign::Entity::find_by_id(conversion.campaign_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::Database(format!("conversion {}: no campaign", conversion.id)))?;
    let zone = super::campaigns::zone(&campaign)?;
    let mut reversals = Vec::new();
    for (original, amount) in originals.iter().zip(round_running(&exact)) {
        // A reversal of a pending commission waits with it (same hold, same event) and
        // follows its decision; of an approved or paid one, it is approved and netted
        // in the next payout.
        let pending =
            original.status.parse::<CommissionStatus>().map_err(Error::Database)? == CommissionStatus::Pending;
        let status = if pending { CommissionStatus::Pending } else { CommissionStatus::Approved };
        let row = commission::ActiveModel {
            conversion_id: Set(Some(conversion.id)),
            campaign_id: Set(original.campaign_id),
            affiliate_id: Set(original.affiliate_id),
            tier: Set(original.tier),
            commission_type: Set(original.commission_type.clone()),
            amount_minor: Set(to_minor(amount, "amount")?),
            currency: Set(original.currency.clone()),
            status: Set(status.as_str().into()),
            hold_until: Set(original.hold_until.filter(|_| pending)),
            waiting_for: Set(original.waiting_for.clone().filter(|_| pending)),
            product_id: Set(original.product_id.clone()),
            plugin_id: Set(original.plugin_id.clone()),
            plugin_version: Set(original.plugin_version.clone()),
            explanation: Set(format!("{why} on commission {}", original.id)),
            reverses_id: Set(Some(original.id)),
            payout_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            stats_day: Set(zone.day(now)),
            id: NotSet,
        }
        .insert(db)
        .await?;
        reversals.push(CommissionView::of(row)?);
    }
    Ok(reversals)
}

/// Retires the commissions of a conversion that stops counting (a browser report the
/// merchant's server superseded), inside the caller's transaction: pending ones are
/// declined with `reason`, with their pending reversals; approved and paid ones are
/// reversed for what is left of them (a refund of the rest), so nothing pays twice.
pub async fn retire(
    db: &impl ConnectionTrait,
    conversion: &conversion::Model,
    reason: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let pending: Vec<i64> = commission::Entity::find()
        .select_only()
        .column(commission::Column::Id)
        .filter(commission::Column::ConversionId.eq(conversion.id))
        .filter(commission::Column::ReversesId.is_null())
        .filter(commission::Column::Status.eq(CommissionStatus::Pending.as_str()))
        .lock_exclusive()
        .into_tuple()
        .all(db)
        .await?;
    let declined = CommissionStatus::Pending.decline()?;
    for chunk in pending.chunks(CHUNK) {
        declining(reason, now)
            .filter(commission::Column::Id.is_in(chunk.iter().copied()))
            .filter(commission::Column::Status.eq(CommissionStatus::Pending.as_str()))
            .exec(db)
            .await?;
        carry_reversals(db, chunk, declined, now).await?;
    }
    let rest = conversion.commissionable_minor - conversion.refunded_minor;
    let reversals = if rest > 0 && claim_refund(db, conversion, rest).await? {
        reverse(db, conversion, rest, reason, now).await?
    } else {
        vec![]
    };
    let after = serde_json::json!({"declined": pending, "reversals": reversals});
    audit::record(db, now, actor, "conversion.retire", ("conversion", conversion.id), None, Some(after)).await
}

/// The update that declines commissions with `reason` (the filter is the caller's).
fn declining(reason: &str, now: DateTime<Utc>) -> sea_orm::UpdateMany<commission::Entity> {
    let explained = Expr::col(commission::Column::Explanation)
        .binary(BinOper::Custom("||"), Expr::value(format!(" (declined: {reason})")));
    commission::Entity::update_many()
        .col_expr(commission::Column::Status, Expr::value(CommissionStatus::Declined.as_str()))
        .col_expr(commission::Column::Explanation, explained)
        .col_expr(commission::Column::UpdatedAt, Expr::value(now))
}

/// Which commissions to list, a page at a time: all (up to `limit`) when empty.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CommissionFilter {
    /// Only this campaign's.
    pub campaign: Option<i64>,
    /// Only this affiliate's.
    pub affiliate: Option<i64>,
    /// Only this conversion's.
    pub conversion: Option<i64>,
    /// Only those in this status.
    #[param(inline)]
    pub status: Option<CommissionStatus>,
    /// Only those with a larger id: the last id of the previous page.
    pub after: Option<i64>,
    /// At most this many (1 to 1000; default 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
}

/// The commissions `filter` selects, oldest first.
pub async fn list(db: &DatabaseConnection, filter: &CommissionFilter) -> Result<Vec<CommissionView>> {
    let mut query = commission::Entity::find().order_by_asc(commission::Column::Id);
    if let Some(campaign) = filter.campaign {
        query = query.filter(commission::Column::CampaignId.eq(campaign));
    }
    if let Some(affiliate) = filter.affiliate {
        query = query.filter(commission::Column::AffiliateId.eq(affiliate));
    }
    if let Some(conversion) = filter.conversion {
        query = query.filter(commission::Column::ConversionId.eq(conversion));
    }
    if let Some(status) = filter.status {
        query = query.filter(commission::Column::Status.eq(status.as_str()));
    }
    if let Some(after) = filter.after {
        query = query.filter(commission::Column::Id.gt(after));
    }
    let rows = query.limit(crate::domain::page_limit(filter.limit)?).all(db).await?;
    rows.into_iter().map(CommissionView::of).collect()
}

/// An affiliate's latest `count` commissions, newest first.
pub async fn latest(db: &DatabaseConnection, affiliate: i64, count: u64) -> Result<Vec<CommissionView>> {
    let rows = commission::Entity::find()
        .filter(commission::Column::AffiliateId.eq(affiliate))
        .order_by_desc(commission::Column::Id)
        .limit(count)
        .all(db)
        .await?;
    rows.into_iter().map(CommissionView::of).collect()
}
