//! Step 3: planned conversions written, and nothing else done in the transaction.
//! One task takes every plan waiting (up to [`BATCH`]) and stores them in one
//! transaction:
//!
//! 0. the statistics check: a plan whose plugins read an affiliate's statistics is
//!    written only if they are still the ones read ([`stale`]); else its request
//!    computes it again;
//! 1. `INSERT ... ON CONFLICT (campaign_id, order_id) DO NOTHING RETURNING` for the
//!    conversions ([`CONVERSIONS`], up to 64 rows per statement): one not returned had
//!    its order id taken (also by one repeated within the batch). Its plan is
//!    discarded: a duplicate (409), or, from the merchant's server, perhaps a browser
//!    report it supersedes (stored alone after the batch, [`store_alone`]);
//! 2. the commissions of the stored ones ([`COMMISSIONS`], up to 64 rows per
//!    statement; their ids are the host's: nothing is read back);
//! 3. the rules' group moves and audit rows;
//! 4. one commit, so one sync for the whole batch.
//!
//! Each batch is counted on `/metrics`: `upline_writer_batch_conversions` (its size)
//! and `upline_writer_batch_seconds` (from its first statement to the last answer).
//! With one writer per host, the second's `_sum` growing at nearly one second per
//! second says the writer is the bottleneck.
//!
//! Every request waits until its conversion is committed. If the batch fails as a
//! whole (a database error), each of its conversions is stored again on its own, so
//! one bad row cannot fail the others; a conversion that fails alone fails its
//! request with a 5xx and leaves nothing behind.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect, Set, SqlErr, TransactionTrait,
};
use tokio::sync::{mpsc, oneshot};
use upline_types::ApprovalEvent;

use super::Recorded;
use super::plan::{FAILED, Plan};
use crate::db::entity::{affiliate, commission, conversion, job, stats_version, subscription};
use crate::db::{COMMISSIONS, CONVERSIONS};
use crate::domain::conversion::Source;
use crate::error::{Error, Result};
use crate::service::lifecycle;
use crate::service::stats::CAMPAIGN;
use crate::service::webhooks::Event;

/// At most this many conversions per transaction.
const BATCH: usize = 128;

/// Plans waiting for the writer, at most; past it a conversion is refused at once.
const QUEUE: usize = 8 * BATCH;

/// A plan and who waits for it to be stored (false: its statistics changed, compute
/// it again).
struct Job {
    plan: Plan,
    done: oneshot::Sender<Result<bool>>,
}

/// The handle of the task that writes plans in batches.
#[derive(Clone)]
pub(super) struct ConversionWriter(mpsc::Sender<Job>);

impl ConversionWriter {
    /// Starts the writer task on `db`.
    pub(super) fn start(db: DatabaseConnection) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(db, receiver));
        Self(sender)
    }

    /// Hands a plan to the writer, behind the plans handed before it; the returned
    /// future resolves once it is committed, or to `None`, storing nothing, when the
    /// statistics its plugins read changed meanwhile. When the queue is full it is
    /// refused at once (503 with `Retry-After`), nothing stored. The answer is built
    /// here, in the request's task, so the one writer only writes.
    pub(super) fn enqueue(&self, plan: Plan) -> Result<impl Future<Output = Result<Option<Recorded>>> + use<>> {
        let stopped = || Error::Internal("the conversion writer has stopped".into());
        let recorded = plan.recorded()?;
        let (done, wait) = oneshot::channel();
        self.0.try_send(Job { plan, done }).map_err(|err| match err {
            mpsc::error::TrySendError::Full(_) => Error::Unavailable {
                message: "too many conversions are waiting to be stored".into(),
                retry_after: Duration::from_secs(1),
            },
            mpsc::error::TrySendError::Closed(_) => stopped(),
        })?;
        Ok(async move { Ok(wait.await.map_err(|_| stopped())??.then_some(recorded)) })
    }
}

async fn write_batches(db: DatabaseConnection, mut receiver: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(BATCH);
    while receiver.recv_many(&mut jobs, BATCH).await > 0 {
        let batch = std::mem::take(&mut jobs);
        metrics::histogram!("upline_writer_batch_conversions").record(batch.len() as f64);
        let started = std::time::Instant::now();
        // In a task of its own: a panic fails this batch's requests, not the writer.
        if let Err(err) = tokio::spawn(write_and_reply(db.clone(), batch)).await {
            tracing::error!(error = %err, "the conversion writer's batch panicked");
        }
        metrics::histogram!("upline_writer_batch_seconds").record(started.elapsed().as_secs_f64());
    }
}

async fn write_and_reply(db: DatabaseConnection, batch: Vec<Job>) {
    let plans: Vec<&Plan> = batch.iter().map(|job| &job.plan).collect();
    let alone = |plan: &Plan| {
        let db = db.clone();
        let plan = plan.clone();
        async move { store_alone(&db, &plan).await }
    };
    match write_batch(&db, &plans).await {
        Ok((stored, stale)) => {
            for job in batch {
                let id = job.plan.conversion.id;
                let result = if stale.contains(&id) {
                    Ok(false)
                } else if stored.contains(&id) {
                    Ok(true)
                } else {
                    // Its order id was taken: perhaps by a browser report it supersedes.
                    alone(&job.plan).await
                };
                let _ = job.done.send(result);
            }
        }
        Err(err) => {
            tracing::warn!(error = %err, conversions = batch.len(), "a batch failed; storing its conversions one by one");
            for job in batch {
                let _ = job.done.send(alone(&job.plan).await);
            }
        }
    }
}

/// Stores a batch in one transaction; returns the ids of the conversions stored (the
/// others had their order id taken) and of those not stored because their
/// statistics changed.
async fn write_batch(db: &DatabaseConnection, plans: &[&Plan]) -> Result<(HashSet<i64>, HashSet<i64>)> {
    let txn = db.begin().await?;
    let stale = stale(&txn, plans).await?;
    let fresh: Vec<&Plan> = plans.iter().copied().filter(|plan| !stale.contains(&plan.conversion.id)).collect();
    let rows: Vec<&conversion::Model> = fresh.iter().map(|plan| &plan.conversion).collect();
    let stored = insert_new(&txn, &rows).await?;
    // The versions counted every fresh plan as stored: one whose order id was taken
    // fails the batch, and each of its plans is stored alone, with versions of its own.
    if fresh.iter().any(|plan| plan.versioned && !stored.contains(&plan.conversion.id)) {
        return Err(Error::Conflict { field: "order-id".into(), message: "an order id in the batch is taken".into() });
    }
    let written: Vec<&Plan> = plans.iter().copied().filter(|plan| stored.contains(&plan.conversion.id)).collect();
    write_rows(&txn, &written).await?;
    txn.commit().await?;
    Ok((stored, stale))
}

/// The plans (by conversion id) whose plugins read statistics that changed since:
/// at its turn in `plans`, an affiliate they asked about has another version than
/// the one they expect. In campaigns whose plugins read statistics, each plan that
/// is stored moves on the version of every affiliate it pays (and the campaign's,
/// [`CAMPAIGN`], when its plugins asked about the campaign); the versions are read
/// `FOR UPDATE` on PostgreSQL, so a concurrent transaction waits for these and then
/// finds them moved on.
async fn stale(txn: &DatabaseTransaction, plans: &[&Plan]) -> Result<HashSet<i64>> {
    let versioned: Vec<&Plan> = plans.iter().copied().filter(|plan| plan.versioned).collect();
    let mut stale = HashSet::new();
    if versioned.is_empty() {
        return Ok(stale);
    }
    // The affiliates it pays, and the whole campaign when its plugins asked about it.
    let paid = |plan: &Plan| -> HashSet<i64> {
        let campaign_wide = !plan.commissions.is_empty() && plan.reads.iter().any(|(key, _)| *key == CAMPAIGN);
        plan.commissions.iter().map(|row| row.affiliate_id).chain(campaign_wide.then_some(CAMPAIGN)).collect()
    };
    let mut keys: HashSet<(i64, i64)> = HashSet::new();
    for plan in &versioned {
        let campaign = plan.conversion.campaign_id;
        keys.extend(plan.reads.iter().map(|(affiliate, _)| (campaign, *affiliate)));
        keys.extend(paid(plan).into_iter().map(|affiliate| (campaign, affiliate)));
    }
    let mut versions = lock_versions(txn, &keys).await?;
    let before = versions.clone();
    for plan in versioned {
        let campaign = plan.conversion.campaign_id;
        let fresh =
            plan.reads.iter().all(|(affiliate, expected)| versions.get(&(campaign, *affiliate)) == Some(expected));
        if !fresh {
            stale.insert(plan.conversion.id);
            continue;
        }
        for affiliate in paid(plan) {
            *versions.entry((campaign, affiliate)).or_default() += 1;
        }
    }
    let moved: Vec<stats_version::ActiveModel> = versions
        .into_iter()
        .filter(|(key, version)| before.get(key) != Some(version))
        .map(|((campaign, affiliate), version)| stats_version::ActiveModel {
            campaign_id: Set(campaign),
            affiliate_id: Set(affiliate),
            version: Set(version),
        })
        .collect();
    // One statement for the batch: every row exists (`lock_versions` made them).
    let upsert = OnConflict::columns([stats_version::Column::CampaignId, stats_version::Column::AffiliateId])
        .update_column(stats_version::Column::Version)
        .to_owned();
    if !moved.is_empty() {
        stats_version::Entity::insert_many(moved).on_conflict(upsert).exec_without_returning(txn).await?;
    }
    Ok(stale)
}

/// The statistics versions of `keys` (campaign, affiliate), created at 0 where
/// missing and locked until the commit (on SQLite the one writer is the lock).
async fn lock_versions(txn: &DatabaseTransaction, keys: &HashSet<(i64, i64)>) -> Result<HashMap<(i64, i64), i64>> {
    let rows = keys.iter().map(|&(campaign, affiliate)| stats_version::ActiveModel {
        campaign_id: Set(campaign),
        affiliate_id: Set(affiliate),
        version: Set(0),
    });
    stats_version::Entity::insert_many(rows).on_conflict_do_nothing().exec_without_returning(txn).await?;
    let campaigns: HashSet<i64> = keys.iter().map(|key| key.0).collect();
    let affiliates: HashSet<i64> = keys.iter().map(|key| key.1).collect();
    let rows = stats_version::Entity::find()
        .filter(stats_version::Column::CampaignId.is_in(campaigns))
        .filter(stats_version::Column::AffiliateId.is_in(affiliates))
        .lock_exclusive()
        .all(txn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| ((row.campaign_id, row.affiliate_id), row.version))
        .filter(|(key, _)| keys.contains(key))
        .collect())
}

/// The refusal of a plan whose statistics changed, where it cannot be computed again
/// at once (a job's payment, a reprocess).
fn changed() -> Error {
    Error::Unavailable {
        message: "the statistics the plugins read changed while the conversion was computed: try again".into(),
        retry_after: Duration::from_secs(1),
    }
}

/// Inserts conversions, skipping any whose order id the campaign already has;
/// returns the ids of those inserted.
async fn insert_new(txn: &DatabaseTransaction, rows: &[&conversion::Model]) -> Result<HashSet<i64>> {
    Ok(CONVERSIONS.insert(txn, rows).await?.into_iter().collect())
}

/// Writes the commissions, group moves and audit rows of stored conversions' plans.
async fn write_rows(txn: &DatabaseTransaction, plans: &[&Plan]) -> Result<()> {
    let rows: Vec<&commission::Model> = plans.iter().flat_map(|plan| &plan.commissions).collect();
    COMMISSIONS.insert(txn, &rows).await?;
    if crate::service::webhooks::listening(txn).await? {
        let created = plans
            .iter()
            .flat_map(|plan| plan.commissions.iter().map(|row| (row, plan.conversion.created_at)))
            .map(|(row, at)| Event::commission("commission.created", row, at))
            .collect::<Result<_>>()?;
        crate::service::webhooks::emit(txn, created).await?;
    }
    for plan in plans {
        for change in &plan.moves {
            change.apply(txn, plan.conversion.created_at).await?;
        }
    }
    for plan in plans {
        if let Some((subscription, job)) = &plan.subscription {
            start_subscription(txn, subscription, job.as_ref()).await?;
        }
    }
    release_for_sub_affiliates(txn, plans).await?;
    release_logged_in(txn, plans).await?;
    let granted = plans.iter().flat_map(|plan| plan.granted.iter().cloned()).collect();
    crate::service::rewards::store_all(txn, granted).await
}

/// Approves the commissions of the converting affiliates' parents that an approval
/// plugin held until a sub-affiliate's first conversion (any, a sale, an action), in
/// the transaction that stores the conversions. A browser's report is no such event:
/// anyone can send one.
async fn release_for_sub_affiliates(txn: &DatabaseTransaction, plans: &[&Plan]) -> Result<()> {
    let (mut any, mut sales, mut actions) = (vec![], vec![], vec![]);
    let mut now = None;
    for plan in plans.iter().filter(|plan| plan.conversion.source == Source::Server.as_str()) {
        let Some(parent) = plan.parent else { continue };
        any.push(parent);
        match plan.conversion.kind.as_str() {
            "sale" => sales.push(parent),
            "action" => actions.push(parent),
            _ => {}
        }
        now = now.max(Some(plan.conversion.created_at));
    }
    let Some(now) = now else { return Ok(()) };
    if !lifecycle::any_waiting(txn, &any).await? {
        return Ok(());
    }
    for (parents, event) in [
        (any, ApprovalEvent::SubAffiliateFirstConversion),
        (sales, ApprovalEvent::SubAffiliateFirstSale),
        (actions, ApprovalEvent::SubAffiliateFirstAction),
    ] {
        lifecycle::release_waiting(txn, &parents, event, now).await?;
    }
    Ok(())
}

/// Approves new commissions waiting for their affiliate's first login when it has
/// logged in meanwhile (after the plan read it, before this transaction): the login
/// released the commissions stored before it, these came too late for it.
async fn release_logged_in(txn: &DatabaseTransaction, plans: &[&Plan]) -> Result<()> {
    let waiting = lifecycle::waiting_for(ApprovalEvent::AffiliateFirstLogin);
    let earners: Vec<i64> = plans
        .iter()
        .flat_map(|plan| &plan.commissions)
        .filter(|row| row.waiting_for.as_deref() == Some(waiting))
        .map(|row| row.affiliate_id)
        .collect();
    if earners.is_empty() {
        return Ok(());
    }
    let logged_in: Vec<i64> = affiliate::Entity::find()
        .select_only()
        .column(affiliate::Column::Id)
        .filter(affiliate::Column::Id.is_in(earners))
        .filter(affiliate::Column::FirstLoginAt.is_not_null())
        .into_tuple()
        .all(txn)
        .await?;
    let now = plans.iter().map(|plan| plan.conversion.created_at).max().unwrap_or_default();
    lifecycle::release_waiting(txn, &logged_in, ApprovalEvent::AffiliateFirstLogin, now).await?;
    Ok(())
}

/// Stores a subscription a conversion starts, and the job that pays it; a 409 when
/// the campaign has one with its id.
async fn start_subscription(
    txn: &DatabaseTransaction,
    row: &subscription::Model,
    job: Option<&job::Model>,
) -> Result<()> {
    let inserted =
        subscription::Entity::insert(row.clone().into_active_model().reset_all()).exec_without_returning(txn).await;
    if let Err(err) = inserted {
        return Err(match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Error::Conflict {
                field: "subscription.id".into(),
                message: format!("campaign {} already has subscription `{}`", row.campaign_id, row.external_id),
            },
            _ => err.into(),
        });
    }
    if let Some(job) = job {
        // The job's id is the database's.
        let row = job::ActiveModel { id: sea_orm::ActiveValue::NotSet, ..job.clone().into_active_model().reset_all() };
        job::Entity::insert(row).exec_without_returning(txn).await?;
    }
    Ok(())
}

/// Writes one plan inside the caller's transaction (a job's, whose completion
/// commits with it). Returns false, writing nothing, when its order id is taken.
pub(super) async fn write_in(txn: &DatabaseTransaction, plan: &Plan) -> Result<bool> {
    if !stale(txn, &[plan]).await?.is_empty() {
        return Err(changed());
    }
    if insert_new(txn, &[&plan.conversion]).await?.is_empty() {
        return Ok(false);
    }
    write_rows(txn, &[plan]).await?;
    Ok(true)
}

/// Stores one plan in a transaction of its own. When its order id is taken by a
/// browser report and the merchant's server reports it, the server wins: the
/// browser's conversion is marked superseded and gives up the order id, its
/// commissions are declined (or reversed, where an operator already approved them),
/// and the server's is stored, credited as the server says. Any other taken order id
/// is a duplicate (409). False, storing nothing, when its statistics changed.
pub(super) async fn store_alone(db: &DatabaseConnection, plan: &Plan) -> Result<bool> {
    let txn = db.begin().await?;
    if !stale(&txn, &[plan]).await?.is_empty() {
        return Ok(false);
    }
    if insert_new(&txn, &[&plan.conversion]).await?.is_empty() {
        supersede(&txn, plan).await?;
    }
    write_rows(&txn, &[plan]).await?;
    txn.commit().await?;
    Ok(true)
}

/// Frees the order id of the browser report `plan` supersedes and stores `plan`'s
/// conversion; a 409 when the order id is not a browser report's.
async fn supersede(txn: &DatabaseTransaction, plan: &Plan) -> Result<()> {
    let row = &plan.conversion;
    let now = row.created_at;
    let duplicate = || Error::Conflict {
        field: "order-id".into(),
        message: format!(
            "order {} is already recorded in campaign {}",
            row.order_id.clone().unwrap_or_default(),
            row.campaign_id
        ),
    };
    let order = row.order_id.clone().ok_or_else(duplicate)?;
    if row.source != Source::Server.as_str() {
        return Err(duplicate());
    }
    let browser = conversion::Entity::find()
        .filter(conversion::Column::CampaignId.eq(row.campaign_id))
        .filter(conversion::Column::OrderId.eq(order.as_str()))
        .lock_exclusive()
        .one(txn)
        .await?
        .filter(|found| found.source == Source::Browser.as_str())
        .ok_or_else(duplicate)?;
    let freed = conversion::Entity::update_many()
        .col_expr(conversion::Column::OrderId, Expr::value(Option::<String>::None))
        .col_expr(conversion::Column::Status, Expr::value("superseded"))
        .col_expr(conversion::Column::SupersededBy, Expr::value(row.id))
        .filter(conversion::Column::Id.eq(browser.id))
        .filter(conversion::Column::OrderId.eq(order.as_str()))
        .exec(txn)
        .await?;
    if freed.rows_affected != 1 {
        return Err(duplicate());
    }
    lifecycle::retire(txn, &browser, "superseded by the merchant's report of the order", "system", now).await?;
    if insert_new(txn, &[&plan.conversion]).await?.is_empty() {
        return Err(duplicate());
    }
    let after = serde_json::json!({"status": "superseded", "superseded-by": row.id});
    let target = ("conversion", browser.id);
    crate::service::audit::record(txn, now, "system", "conversion.supersede", target, Some(order.into()), Some(after))
        .await
}

/// Writes the new plan of a flagged conversion: its status and failure, and, when the
/// plan succeeded, its commissions. Once: the update is conditional on the conversion
/// still being flagged, so a concurrent reprocess gets a 409.
pub(super) async fn reprocess(db: &DatabaseConnection, plan: Plan, now: DateTime<Utc>) -> Result<Recorded> {
    let row = &plan.conversion;
    let txn = db.begin().await?;
    if !stale(&txn, &[&plan]).await?.is_empty() {
        return Err(changed());
    }
    let updated = conversion::Entity::update_many()
        .col_expr(conversion::Column::Status, Expr::value(row.status.as_str()))
        .col_expr(conversion::Column::Error, Expr::value(row.error.clone()))
        .col_expr(conversion::Column::FailedPlugin, Expr::value(row.failed_plugin.clone()))
        .col_expr(conversion::Column::FailedVersion, Expr::value(row.failed_version.clone()))
        .col_expr(conversion::Column::PluginCalls, Expr::value(row.plugin_calls.clone()))
        .filter(conversion::Column::Id.eq(row.id))
        .filter(conversion::Column::Status.eq(FAILED))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(Error::Conflict {
            field: "status".into(),
            message: format!("conversion {} was reprocessed meanwhile", row.id),
        });
    }
    write_rows(&txn, &[&plan]).await?;
    let after = serde_json::json!({"status": row.status, "commissions": plan.commissions.len()});
    crate::service::audit::record(
        &txn,
        now,
        "operator",
        "conversion.reprocess",
        ("conversion", row.id),
        None,
        Some(after),
    )
    .await?;
    txn.commit().await?;
    plan.recorded()
}
