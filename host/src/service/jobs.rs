//! The durable scheduler: everything that must happen later is a row of `jobs`,
//! never a timer in memory, so a job that fell due while every host was down runs
//! after the next start, once per missed period, in order.
//!
//! A job is one recurring task: hold release (every minute), a campaign's period
//! close (negative carryover, monthly on its close day) and period end (its
//! `bonus-rules` plugins on every affiliate), a subscription's payments. Running it:
//!
//! 1. **Claim**: a conditional update takes a due job whose lease is free and gives
//!    it a fresh lease token (the fencing token) for [`Scheduler::lease`]. Of hosts
//!    sharing a database exactly one wins; the others move on to other jobs.
//! 2. **Work**: every transaction of the run first renews the lease on its token
//!    ([`Lease::fence`]): a host whose lease ran out (paused, partitioned) and was
//!    taken over cannot write any more. On PostgreSQL that update also locks the row
//!    until the transaction ends, so the taker waits and then sees the lease renewed.
//!    Between transactions (plugin calls) the host renews the lease on a timer, so a
//!    run longer than the lease is not taken over while its host is alive.
//! 3. **Complete**: the run's last writes and the job's completion (its next due
//!    time, or `done`) commit in one transaction ([`Lease::complete`]). A host killed
//!    mid-run leaves its writes uncommitted; another host takes the job over when the
//!    lease runs out and runs it again from the start. (Hold release works in chunks,
//!    each a fenced transaction of its own and each complete in itself.)
//!
//! A job's next due time follows from its previous one (the next period, the next
//! payment), so missed runs are caught up one at a time; hold release alone skips to
//! a minute after its run, since one run releases everything due. A failed run is
//! retried after 1, 2, 4 and 8 minutes, then waits in state `failed` for an
//! operator to re-run it (`POST /api/v1/jobs/{id}/run`); a retry is the same run
//! (its due time, which says what it covers, stays).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait, UpdateMany,
};
use serde::Serialize;

use super::config::ConfigCache;
use super::engine::Engine;
use crate::clock::Clock;
use crate::db::entity::{campaign, job, subscription};
use crate::domain::schedule::{PeriodKind, Recurrence};
use crate::error::{Error, Result};
use crate::plugin::Registry;

/// Failed attempts at a run before the job waits for an operator.
pub(crate) const MAX_ATTEMPTS: i32 = 5;

/// How often held commissions are released.
const HOLD_RELEASE_EVERY: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Approves held commissions whose hold is over.
    HoldRelease,
    /// Closes a campaign's previous month: its `carryover` plugins' adjustments.
    PeriodClose,
    /// Ends a campaign's reward period: its `bonus-rules` plugins on every affiliate.
    PeriodEnd,
    /// Makes a subscription's next payment.
    Subscription,
    /// Sends one webhook delivery.
    Webhook,
    /// Calls every campaign's `bonus-rules` plugins for a new affiliate.
    Signup,
}

impl Kind {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::HoldRelease => "hold-release",
            Kind::PeriodClose => "period-close",
            Kind::PeriodEnd => "period-end",
            Kind::Subscription => "subscription",
            Kind::Webhook => "webhook",
            Kind::Signup => "signup",
        }
    }

    fn stored(text: &str) -> Result<Self> {
        [Kind::HoldRelease, Kind::PeriodClose, Kind::PeriodEnd, Kind::Subscription, Kind::Webhook, Kind::Signup]
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| Error::Database(format!("unknown job kind `{text}`")))
    }
}

/// A job's states.
pub mod state {
    /// Runs when due.
    pub const SCHEDULED: &str = "scheduled";
    /// Gave up after its attempts; waits for an operator to re-run it.
    pub const FAILED: &str = "failed";
    /// Has nothing more to run (a subscription that ended).
    pub const DONE: &str = "done";
}

fn new_job(
    kind: Kind,
    key: String,
    (campaign, subscription): (Option<i64>, Option<i64>),
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> job::Model {
    job::Model {
        id: 0,
        key,
        kind: kind.as_str().into(),
        campaign_id: campaign,
        subscription_id: subscription,
        due_at: due,
        retry_at: None,
        state: state::SCHEDULED.into(),
        lease_owner: None,
        lease_until: None,
        attempts: 0,
        runs: 0,
        last_run_at: None,
        last_outcome: None,
        last_error: None,
        created_at: now,
    }
}

/// The job that pays a new subscription: due at its first payment; none for a
/// `varied` one (the merchant reports its payments).
pub fn paying(campaign: &campaign::Model, row: &subscription::Model) -> Result<Option<job::Model>> {
    let recurrence: Recurrence = row.recurrence.parse().map_err(Error::Database)?;
    let zone = super::campaigns::zone(campaign)?;
    Ok(recurrence.due(&zone, row.started_at, 1)?.map(|due| {
        let key = format!("subscription:{}", row.id);
        new_job(Kind::Subscription, key, (Some(row.campaign_id), Some(row.id)), due, row.created_at)
    }))
}

/// When a campaign's period close next runs after `at`: midnight on its close day
/// of a month, in its time zone.
pub fn next_close(campaign: &campaign::Model, at: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let zone = super::campaigns::zone(campaign)?;
    let day = i8::try_from(campaign.period_close_day).map_err(|err| Error::Database(err.to_string()))?;
    let mut month = PeriodKind::Month.containing(&zone, at)?;
    loop {
        let close = zone.day_of_month(month.start, day)?;
        if close > at {
            return Ok(close);
        }
        month = PeriodKind::Month.after(&zone, month.start)?;
    }
}

/// When a campaign's reward period after the one containing `at` starts: when its
/// `period-end` job runs.
pub fn next_period_end(campaign: &campaign::Model, at: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let kind = PeriodKind::stored(&campaign.reward_period)?;
    Ok(kind.containing(&super::campaigns::zone(campaign)?, at)?.end)
}

/// A campaign's period-close and period-end jobs, first due after `now`.
fn period_jobs(campaign: &campaign::Model, now: DateTime<Utc>) -> Result<[job::Model; 2]> {
    let owner = (Some(campaign.id), None);
    let close = format!("period-close:{}", campaign.id);
    let end = format!("period-end:{}", campaign.id);
    Ok([
        new_job(Kind::PeriodClose, close, owner, next_close(campaign, now)?, now),
        new_job(Kind::PeriodEnd, end, owner, next_period_end(campaign, now)?, now),
    ])
}

/// Inserts jobs whose key is not scheduled yet (by this host or another).
async fn insert_missing(db: &impl sea_orm::ConnectionTrait, jobs: Vec<job::Model>) -> Result<()> {
    let rows = jobs.into_iter().map(|job| job.into_active_model().reset_all()).map(|mut row| {
        row.id = sea_orm::ActiveValue::NotSet;
        row
    });
    job::Entity::insert_many(rows)
        .on_conflict(OnConflict::column(job::Column::Key).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The prefix of a webhook delivery job's key, before the delivery's id.
const WEBHOOK_KEY: &str = "webhook:";

/// Schedules the job that sends webhook delivery `delivery`, due at once, in the
/// caller's transaction.
pub(crate) async fn schedule_delivery(
    db: &impl sea_orm::ConnectionTrait,
    delivery: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    insert_missing(db, vec![new_job(Kind::Webhook, format!("{WEBHOOK_KEY}{delivery}"), (None, None), now, now)]).await
}

/// The prefix of a signup job's key, before the affiliate's id.
const SIGNUP_KEY: &str = "signup:";

/// Schedules the job that calls the rules for new affiliate `affiliate`, due at once,
/// in the caller's transaction.
pub(crate) async fn schedule_signup(
    db: &impl sea_orm::ConnectionTrait,
    affiliate: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    insert_missing(db, vec![new_job(Kind::Signup, format!("{SIGNUP_KEY}{affiliate}"), (None, None), now, now)]).await
}

/// Schedules a new campaign's jobs, in the caller's transaction.
pub async fn schedule_campaign(db: &impl sea_orm::ConnectionTrait, campaign: &campaign::Model) -> Result<()> {
    insert_missing(db, period_jobs(campaign, campaign.created_at)?.into()).await
}

/// Moves a campaign's period jobs to the times its changed settings give (time
/// zone, close day, reward period), from `now` on; in the caller's transaction.
pub async fn reschedule_campaign(
    db: &impl sea_orm::ConnectionTrait,
    campaign: &campaign::Model,
    now: DateTime<Utc>,
) -> Result<()> {
    for job in period_jobs(campaign, now)? {
        job::Entity::update_many()
            .col_expr(job::Column::DueAt, Expr::value(job.due_at))
            .filter(job::Column::Key.eq(job.key))
            .filter(job::Column::State.eq(state::SCHEDULED))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// A host's claim on a job: the fencing token every write of the run checks.
#[derive(Debug, Clone)]
pub struct Lease {
    job: job::Model,
    token: String,
    length: chrono::TimeDelta,
}

impl Lease {
    /// The job claimed.
    pub fn job(&self) -> &job::Model {
        &self.job
    }

    /// An update of the job for as long as this lease holds it (the caller says what
    /// it sets): on another host's lease it changes nothing.
    fn held(&self) -> UpdateMany<job::Entity> {
        job::Entity::update_many()
            .filter(job::Column::Id.eq(self.job.id))
            .filter(job::Column::LeaseOwner.eq(self.token.as_str()))
    }

    /// An update that frees the job from this lease, and sets what the caller says.
    fn freeing(&self) -> UpdateMany<job::Entity> {
        self.held()
            .col_expr(job::Column::LeaseOwner, Expr::value(Option::<String>::None))
            .col_expr(job::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
    }

    /// Renews the lease inside `txn`, first thing in every transaction of a run: an
    /// error when another host took the job over, so nothing of this run commits.
    pub async fn fence(&self, txn: &DatabaseTransaction, now: DateTime<Utc>) -> Result<()> {
        let renewed = self.held().col_expr(job::Column::LeaseUntil, Expr::value(now + self.length)).exec(txn).await?;
        if renewed.rows_affected != 1 {
            return Err(Error::Conflict {
                field: "job".into(),
                message: format!("job {} was taken over by another host: its lease ran out", self.job.id),
            });
        }
        Ok(())
    }

    /// Completes the run inside `txn` (fenced first): due again at `next`, or `done`
    /// without one.
    pub async fn complete(
        &self,
        txn: &DatabaseTransaction,
        now: DateTime<Utc>,
        next: Option<DateTime<Utc>>,
    ) -> Result<()> {
        self.fence(txn, now).await?;
        let state = if next.is_some() { state::SCHEDULED } else { state::DONE };
        self.freeing()
            .col_expr(job::Column::DueAt, Expr::value(next.unwrap_or(self.job.due_at)))
            .col_expr(job::Column::RetryAt, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(job::Column::State, Expr::value(state))
            .col_expr(job::Column::Attempts, Expr::value(0))
            .col_expr(job::Column::Runs, Expr::col(job::Column::Runs).add(1))
            .col_expr(job::Column::LastRunAt, Expr::value(now))
            .col_expr(job::Column::LastOutcome, Expr::value("ok"))
            .col_expr(job::Column::LastError, Expr::value(Option::<String>::None))
            .exec(txn)
            .await?;
        Ok(())
    }

    /// Renews the lease every third of its length until the returned guard is dropped,
    /// so a run longer than the lease (plugin calls over 100,000 affiliates) is not
    /// taken over while it is still working. A renewal that finds the lease lost
    /// changes nothing: the run's next fence refuses its writes.
    fn keep_alive(&self, db: DatabaseConnection, clock: Clock) -> KeepAlive {
        let lease = self.clone();
        let every = (lease.length / 3).to_std().unwrap_or(Duration::from_secs(1));
        KeepAlive(tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let until = clock.now() + lease.length;
                let renewed = lease.held().col_expr(job::Column::LeaseUntil, Expr::value(until)).exec(&db).await;
                if let Err(err) = renewed {
                    tracing::warn!(job = lease.job.id, error = %err, "renewing a job's lease");
                }
            }
        }))
    }

    /// Frees the job without a run, due at `due` (inside `txn`, fenced first).
    pub async fn postpone(&self, txn: &DatabaseTransaction, now: DateTime<Utc>, due: DateTime<Utc>) -> Result<()> {
        self.fence(txn, now).await?;
        self.freeing().col_expr(job::Column::DueAt, Expr::value(due)).exec(txn).await?;
        Ok(())
    }

    /// Records a failed attempt and frees the job: retried after a back-off (the same
    /// run: its due time stays), or, after [`MAX_ATTEMPTS`], left `failed` for an
    /// operator.
    async fn fail(&self, db: &DatabaseConnection, now: DateTime<Utc>, error: &str) -> Result<()> {
        let attempts = self.job.attempts + 1;
        let state = if attempts >= MAX_ATTEMPTS { state::FAILED } else { state::SCHEDULED };
        let retry = now + chrono::TimeDelta::minutes(1 << std::cmp::min(attempts - 1, 10));
        self.freeing()
            .col_expr(job::Column::RetryAt, Expr::value(retry))
            .col_expr(job::Column::State, Expr::value(state))
            .col_expr(job::Column::Attempts, Expr::value(attempts))
            .col_expr(job::Column::LastRunAt, Expr::value(now))
            .col_expr(job::Column::LastOutcome, Expr::value("failed"))
            .col_expr(job::Column::LastError, Expr::value(error))
            .exec(db)
            .await?;
        Ok(())
    }
}

/// Stops renewing a lease when dropped.
struct KeepAlive(tokio::task::JoinHandle<()>);

impl Drop for KeepAlive {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs the jobs that are due, on this host, beside every other host of the database.
pub struct Scheduler {
    pub(crate) db: DatabaseConnection,
    pub(crate) registry: Arc<Registry>,
    pub(crate) cache: Arc<ConfigCache>,
    pub(crate) engine: Arc<Engine>,
    pub(crate) clock: Clock,
    /// How long a claim lasts without renewal.
    lease: chrono::TimeDelta,
    /// This host, in lease tokens.
    host: String,
}

impl Scheduler {
    /// A scheduler on the server's database, plugins, engine and clock, whose claims
    /// last `lease`.
    pub fn new(
        db: DatabaseConnection,
        registry: Arc<Registry>,
        cache: Arc<ConfigCache>,
        engine: Arc<Engine>,
        clock: Clock,
        lease: Duration,
    ) -> Self {
        let host = format!("{}-{}", std::process::id(), hex::encode(rand::random::<[u8; 4]>()));
        let lease = chrono::TimeDelta::from_std(lease).unwrap_or(chrono::TimeDelta::minutes(1));
        Self { db, registry, cache, engine, clock, lease, host }
    }

    /// Schedules what is missing: the hold release, and the period jobs of campaigns
    /// created before this version of the host.
    pub async fn ensure(&self) -> Result<()> {
        let now = self.clock.now();
        let mut jobs = vec![new_job(Kind::HoldRelease, Kind::HoldRelease.as_str().into(), (None, None), now, now)];
        for campaign in campaign::Entity::find().all(&self.db).await? {
            jobs.extend(period_jobs(&campaign, now)?);
        }
        for chunk in jobs.chunks(200) {
            insert_missing(&self.db, chunk.to_vec()).await?;
        }
        Ok(())
    }

    /// Runs every job that is due now, one at a time, until none is; returns how
    /// many runs were made (failed ones included).
    pub async fn run_due(&self) -> Result<u64> {
        let mut runs = 0;
        while let Some(lease) = self.claim().await? {
            runs += 1;
            let kind = lease.job.kind.clone();
            let lag = (self.clock.now() - lease.job.due_at).as_seconds_f64().max(0.0);
            metrics::histogram!("upline_job_lag_seconds", "kind" => kind.clone()).record(lag);
            let outcome = match self.run(&lease).await {
                Ok(()) => "ok",
                Err(err) => {
                    tracing::warn!(job = lease.job.id, key = %lease.job.key, error = %err, "job failed");
                    lease.fail(&self.db, self.clock.now(), &err.to_string()).await?;
                    "failed"
                }
            };
            metrics::counter!("upline_job_runs_total", "kind" => kind, "outcome" => outcome).increment(1);
        }
        Ok(runs)
    }

    /// Runs due jobs every `every`, for as long as the server runs.
    pub fn spawn(self: Arc<Self>, every: Duration) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(err) = self.run_due().await {
                    tracing::error!(error = %err, "running due jobs");
                }
            }
        });
    }

    /// Takes a due job whose lease is free, if there is one.
    async fn claim(&self) -> Result<Option<Lease>> {
        let now = self.clock.now();
        let free = || {
            Condition::all()
                .add(Condition::any().add(job::Column::LeaseUntil.is_null()).add(job::Column::LeaseUntil.lt(now)))
                .add(Condition::any().add(job::Column::RetryAt.is_null()).add(job::Column::RetryAt.lte(now)))
        };
        let candidates = job::Entity::find()
            .filter(job::Column::State.eq(state::SCHEDULED))
            .filter(job::Column::DueAt.lte(now))
            .filter(free())
            .order_by_asc(job::Column::DueAt)
            .order_by_asc(job::Column::Id)
            .limit(16)
            .all(&self.db)
            .await?;
        for job in candidates {
            let token = format!("{}-{}", self.host, hex::encode(rand::random::<[u8; 8]>()));
            let claimed = job::Entity::update_many()
                .col_expr(job::Column::LeaseOwner, Expr::value(token.as_str()))
                .col_expr(job::Column::LeaseUntil, Expr::value(now + self.lease))
                .filter(job::Column::Id.eq(job.id))
                .filter(job::Column::State.eq(state::SCHEDULED))
                .filter(job::Column::DueAt.lte(now))
                .filter(free())
                .exec(&self.db)
                .await?;
            if claimed.rows_affected == 1 {
                return Ok(Some(Lease { job, token, length: self.lease }));
            }
        }
        Ok(None)
    }

    async fn run(&self, lease: &Lease) -> Result<()> {
        let _renewing = lease.keep_alive(self.db.clone(), self.clock.clone());
        let job = &lease.job;
        let now = self.clock.now();
        match Kind::stored(&job.kind)? {
            Kind::HoldRelease => loop {
                let txn = self.db.begin().await?;
                lease.fence(&txn, now).await?;
                let (released, more) = super::lifecycle::release_chunk(&txn, now).await?;
                if !more {
                    lease.complete(&txn, now, Some(now + HOLD_RELEASE_EVERY)).await?;
                }
                txn.commit().await?;
                if released > 0 {
                    tracing::info!(released, "held commissions approved");
                }
                if !more {
                    return Ok(());
                }
            },
            Kind::Subscription => super::subscriptions::pay_next(self, lease, now).await,
            Kind::PeriodClose => super::periods::close(self, lease, now).await,
            Kind::PeriodEnd => super::periods::end(self, lease, now).await,
            Kind::Webhook => super::webhooks::deliver(self, lease, key_id(job, WEBHOOK_KEY)?, now).await,
            Kind::Signup => super::periods::signup(self, lease, key_id(job, SIGNUP_KEY)?, now).await,
        }
    }
}

/// The id after `prefix` in a job's key.
fn key_id(job: &job::Model, prefix: &str) -> Result<i64> {
    let id = job.key.strip_prefix(prefix).and_then(|id| id.parse().ok());
    id.ok_or_else(|| Error::Database(format!("job {}: bad key {}", job.id, job.key)))
}

/// A job as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct JobView {
    /// Id.
    pub id: i64,
    /// What it does.
    pub kind: Kind,
    /// The campaign it works for.
    pub campaign: Option<i64>,
    /// The subscription it pays.
    pub subscription: Option<i64>,
    /// `scheduled`, `failed` (an operator may re-run it) or `done`.
    pub state: String,
    /// When its next run falls due (what the run covers: a period before it, a
    /// payment at it).
    pub due: DateTime<Utc>,
    /// When it runs next: its due time, or after a failed attempt its retry (for a
    /// failed job, the time its last attempt would have been retried).
    pub next_run: DateTime<Utc>,
    /// When it last ran.
    pub last_run: Option<DateTime<Utc>>,
    /// `ok` or `failed`.
    pub outcome: Option<String>,
    /// Why its last run failed.
    pub error: Option<String>,
    /// Failed attempts at the current run.
    pub attempts: i32,
    /// Runs completed.
    pub runs: i64,
    /// Whether a host holds it now.
    pub running: bool,
}

impl JobView {
    fn of(row: job::Model, now: DateTime<Utc>) -> Result<Self> {
        Ok(Self {
            id: row.id,
            kind: Kind::stored(&row.kind)?,
            campaign: row.campaign_id,
            subscription: row.subscription_id,
            running: row.lease_until.is_some_and(|until| until > now),
            state: row.state,
            due: row.due_at,
            next_run: row.retry_at.map_or(row.due_at, |retry| std::cmp::max(retry, row.due_at)),
            last_run: row.last_run_at,
            outcome: row.last_outcome,
            error: row.last_error,
            attempts: row.attempts,
            runs: row.runs,
        })
    }
}

/// Which jobs to list.
#[derive(Debug, Default)]
pub struct JobFilter {
    /// Only this campaign's.
    pub campaign: Option<i64>,
    /// Only in this state.
    pub state: Option<String>,
    /// Only with a larger id.
    pub after: Option<i64>,
    /// At most this many.
    pub limit: u64,
}

/// Jobs by id, a page at a time.
pub async fn list(db: &DatabaseConnection, filter: JobFilter, now: DateTime<Utc>) -> Result<Vec<JobView>> {
    let mut query = job::Entity::find().order_by_asc(job::Column::Id).limit(filter.limit);
    if let Some(campaign) = filter.campaign {
        query = query.filter(job::Column::CampaignId.eq(campaign));
    }
    if let Some(state) = filter.state {
        query = query.filter(job::Column::State.eq(state));
    }
    if let Some(after) = filter.after {
        query = query.filter(job::Column::Id.gt(after));
    }
    query.all(db).await?.into_iter().map(|row| JobView::of(row, now)).collect()
}

/// Schedules a failed job's run again at once (the same run: what was due is what it
/// covers), its attempts reset; a 409 for a job that has not failed.
pub async fn rerun(db: &DatabaseConnection, id: i64, actor: &str, now: DateTime<Utc>) -> Result<JobView> {
    let txn = db.begin().await?;
    let changed = job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value(state::SCHEDULED))
        .col_expr(job::Column::Attempts, Expr::value(0))
        .col_expr(job::Column::RetryAt, Expr::value(now))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::State.eq(state::FAILED))
        .exec(&txn)
        .await?;
    let row =
        job::Entity::find_by_id(id).one(&txn).await?.ok_or(Error::NotFound { entity: "job", id: id.to_string() })?;
    if changed.rows_affected != 1 {
        return Err(Error::Conflict {
            field: "state".into(),
            message: format!("job {id} is {}: only a failed job is re-run", row.state),
        });
    }
    super::audit::record(&txn, now, actor, "job.rerun", ("job", id), None, None).await?;
    txn.commit().await?;
    JobView::of(row, now)
}
