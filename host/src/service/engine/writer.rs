//! Conversions stored in batches: one task takes every prepared conversion waiting
//! (up to [`BATCH`]) and stores them in one transaction:
//!
//! 1. one `INSERT ... ON CONFLICT (campaign_id, order_id) DO NOTHING RETURNING` for
//!    the conversions: one it does not return had its order id taken (also by one
//!    repeated within the batch): a duplicate (409), or, reported by the merchant's
//!    server, perhaps a browser report it supersedes (stored alone after the batch);
//! 2. each conversion's plugins, called in turn (nothing written yet);
//! 3. one `INSERT ... RETURNING` for the commissions of every conversion whose
//!    storing is just that insert; the others (an approval plugin or a non-bonus
//!    action follows) each in a savepoint of their own;
//! 4. the conversions whose plugins failed are flagged; one commit.
//!
//! Every request waits until its conversion is committed. If the batch fails as a
//! whole (a database error), each of its conversions is stored again on its own,
//! so one bad conversion cannot fail the others.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use sea_orm::{DatabaseConnection, EntityTrait, TransactionTrait};
use tokio::sync::{mpsc, oneshot};

use super::{Flagged, Mode, Plan, Prepared, Recorded, counted, in_insert_order, insert_new, record};
use crate::db::entity::{commission, conversion};
use crate::domain::conversion::Source;
use crate::error::{Error, Result};
use crate::plugin::Registry;

/// At most this many conversions per transaction.
const BATCH: usize = 128;

/// Commissions per insert statement. PostgreSQL parses one statement of hundreds
/// of rows slowly (~50 ms for 400 rows of 18 values), and a few statement shapes
/// stay in the prepared-statement cache.
const ROWS_PER_INSERT: usize = 64;

/// Batches at least this large have their plugins called on several threads.
const PARALLEL_FROM: usize = 8;

/// A prepared conversion and who waits for its result.
struct Job {
    prepared: Prepared,
    done: oneshot::Sender<Result<Recorded>>,
}

/// The handle of the task that records conversions in batches.
#[derive(Clone)]
pub struct ConversionWriter(mpsc::Sender<Job>);

impl ConversionWriter {
    /// Starts the writer task.
    pub fn start(db: DatabaseConnection, registry: Arc<Registry>) -> Self {
        let (sender, receiver) = mpsc::channel(8 * BATCH);
        tokio::spawn(write_batches(db, registry, receiver));
        Self(sender)
    }

    /// Records a conversion; returns once it is committed. When the queue is full the
    /// conversion is refused at once (503 with `Retry-After`), nothing stored.
    pub async fn record(&self, prepared: Prepared) -> Result<Recorded> {
        let stopped = || Error::Internal("the conversion writer has stopped".into());
        let (done, wait) = oneshot::channel();
        self.0.try_send(Job { prepared, done }).map_err(|err| match err {
            mpsc::error::TrySendError::Full(_) => Error::Unavailable {
                message: "too many conversions are waiting to be stored".into(),
                retry_after: std::time::Duration::from_secs(1),
            },
            mpsc::error::TrySendError::Closed(_) => stopped(),
        })?;
        wait.await.map_err(|_| stopped())?
    }
}

async fn write_batches(db: DatabaseConnection, registry: Arc<Registry>, mut receiver: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(BATCH);
    while receiver.recv_many(&mut jobs, BATCH).await > 0 {
        let batch = std::mem::take(&mut jobs);
        // In a task of its own: a panic fails this batch's requests, not the writer.
        if let Err(err) = tokio::spawn(write_and_reply(db.clone(), registry.clone(), batch)).await {
            tracing::error!(error = %err, "the conversion writer's batch panicked");
        }
    }
}

async fn write_and_reply(db: DatabaseConnection, registry: Arc<Registry>, batch: Vec<Job>) {
    let prepared: Vec<&Prepared> = batch.iter().map(|job| &job.prepared).collect();
    match write_batch(&db, &registry, &prepared).await {
        Ok(results) => {
            for (job, result) in batch.into_iter().zip(results) {
                let result = match result {
                    Some(result) => result,
                    // Its order id was taken: perhaps by a browser report it supersedes.
                    None => record(&db, &registry, job.prepared, Mode::Record).await,
                };
                let _ = job.done.send(result);
            }
        }
        Err(err) => {
            tracing::warn!(error = %err, conversions = batch.len(), "a batch failed; storing its conversions one by one");
            for job in batch {
                let _ = job.done.send(record(&db, &registry, job.prepared, Mode::Record).await);
            }
        }
    }
}

/// Stores a batch in one transaction; the outer error fails the batch as a whole.
/// `None` for a conversion reported by the merchant's server whose order id was
/// taken: the caller stores it alone, superseding a browser report of the order or
/// answering 409.
async fn write_batch(
    db: &DatabaseConnection,
    registry: &Registry,
    batch: &[&Prepared],
) -> Result<Vec<Option<Result<Recorded>>>> {
    let txn = db.begin().await?;
    let mut inserted = Inserted::new(insert_new(&txn, batch.iter().map(|prepared| prepared.row.clone())).await?);
    let stored: Vec<Option<conversion::Model>> = batch.iter().map(|prepared| inserted.take(prepared)).collect();
    let mut planned = plan_all(registry, batch, stored);

    // The commissions of every plan that is just an insert, together, in batch order.
    let rows: Vec<commission::ActiveModel> = planned
        .iter()
        .filter_map(|entry| match entry {
            Some((_, Ok(plan))) if plan.only_inserts() => Some(plan.rows.iter().cloned()),
            _ => None,
        })
        .flatten()
        .collect();
    let mut commissions = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        commissions.extend(commission::Entity::insert_many(chunk.to_vec()).exec_with_returning(&txn).await?);
    }
    let mut commissions = VecDeque::from(in_insert_order(commissions));

    let mut results = Vec::with_capacity(batch.len());
    for (i, prepared) in batch.iter().enumerate() {
        let Some((row, plan)) = planned[i].take() else {
            let server = prepared.new.source == Source::Server;
            results.push((!server).then(|| Err(prepared.duplicate())));
            continue;
        };
        let outcome = match plan {
            Ok(plan) if plan.only_inserts() => Ok(commissions.drain(..plan.rows.len()).collect()),
            Ok(plan) => plan.store_alone(&txn, registry, &prepared.context.campaign).await,
            Err(flagged) => Err(flagged),
        };
        results.push(Some(Ok(prepared.finish(&txn, row, outcome).await?)));
    }
    txn.commit().await?;
    for recorded in results.iter().flatten().flatten() {
        counted(recorded);
    }
    Ok(results)
}

/// A batch's stored conversions, each with its plugins' plan (`None` for a
/// duplicate). The plugin calls are spread over the machine's cores: the writer is
/// one task, and they are most of its work.
fn plan_all<'a>(
    registry: &Registry,
    batch: &[&'a Prepared],
    stored: Vec<Option<conversion::Model>>,
) -> Vec<Option<(conversion::Model, Result<Plan<'a>, Flagged>)>> {
    let plan_chunk = |chunk: Vec<(&'a Prepared, Option<conversion::Model>)>| {
        let planned = chunk.into_iter().map(|(prepared, row)| {
            row.map(|row| {
                let plan = prepared.plan(registry, &row);
                (row, plan)
            })
        });
        planned.collect::<Vec<_>>()
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut jobs: Vec<_> = batch.iter().copied().zip(stored).collect();
    if threads < 2 || jobs.len() < PARALLEL_FROM {
        return plan_chunk(jobs);
    }
    let size = jobs.len().div_ceil(threads);
    let mut chunks = Vec::new();
    while jobs.len() > size {
        let rest = jobs.split_off(size);
        chunks.push(std::mem::replace(&mut jobs, rest));
    }
    chunks.push(jobs);
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks.into_iter().map(|chunk| scope.spawn(move || plan_chunk(chunk))).collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}

/// The conversions an insert returned, to hand to the batch's jobs in order.
struct Inserted {
    /// Those with an order id, by campaign and order id.
    by_order: HashMap<(i64, String), conversion::Model>,
    /// Those without, in insert order (ids are assigned in it).
    without_order: VecDeque<conversion::Model>,
}

impl Inserted {
    /// Over rows in insert order.
    fn new(rows: Vec<conversion::Model>) -> Self {
        let mut inserted = Self { by_order: HashMap::new(), without_order: VecDeque::new() };
        for row in rows {
            match row.order_id.clone() {
                Some(order) => {
                    inserted.by_order.insert((row.campaign_id, order), row);
                }
                None => inserted.without_order.push_back(row),
            }
        }
        inserted
    }

    /// The stored row of `prepared`, or `None` if its order id was a duplicate (the
    /// first of several equal ones in a batch is the one stored).
    fn take(&mut self, prepared: &Prepared) -> Option<conversion::Model> {
        match &prepared.new.order_id {
            Some(order) => self.by_order.remove(&(prepared.context.campaign.id, order.clone())),
            None => self.without_order.pop_front(),
        }
    }
}
