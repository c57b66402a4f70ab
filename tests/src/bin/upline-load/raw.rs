//! The database's own speed, for comparison: the rows one HTTP sale stored (its
//! conversion and commissions, read back from the database) written again straight
//! to it, with no HTTP and no plugins, and the server's batching and durability: the
//! same connection settings (`upline_host::db::connect`, so SQLite's
//! `synchronous=FULL` and the checkpointer), one writer task that takes every waiting
//! sale (up to 128) per transaction, conversions in one `INSERT ... ON CONFLICT DO
//! NOTHING RETURNING`, commissions 64 rows per statement, one commit; each client
//! waits for its commit.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    Statement, TransactionTrait,
};
use tokio::sync::{mpsc, oneshot};
use upline_host::db::entity::{commission, conversion};

use crate::Phase;

/// At most this many sales per transaction, as the server's writer.
const BATCH: usize = 128;
/// Commission rows per insert statement, as the server's writer.
const ROWS_PER_INSERT: usize = 64;

/// One sale's rows, as the server stored them.
#[derive(Clone)]
struct Template {
    conversion: conversion::Model,
    commissions: Vec<commission::Model>,
}

/// A sale to write and who waits for its commit.
struct Job {
    conversion: conversion::ActiveModel,
    commissions: Vec<commission::ActiveModel>,
    done: oneshot::Sender<()>,
}

/// Writes copies of the sale `order_id` from `connections` clients for `duration`.
pub async fn run(url: &str, order_id: &str, connections: usize, duration: Duration) -> anyhow::Result<Phase> {
    let db = upline_host::db::connect(url).await?;
    upline_host::db::checkpoints(url).await?;
    let conversion = conversion::Entity::find()
        .filter(conversion::Column::OrderId.eq(order_id))
        .one(&db)
        .await?
        .with_context(|| format!("the sale {order_id} is not stored"))?;
    let commissions =
        commission::Entity::find().filter(commission::Column::ConversionId.eq(conversion.id)).all(&db).await?;
    let template = Arc::new(Template { conversion, commissions });
    let (conversion_ids, commission_ids) =
        (AtomicI64::new(next_id(&db, "conversions").await?), AtomicI64::new(next_id(&db, "commissions").await?));

    let (sender, receiver) = mpsc::channel(8 * BATCH);
    let writer = tokio::spawn(write_batches(db, receiver));
    let started = Instant::now();
    let deadline = started + duration;
    let clients = (0..connections).map(|_| {
        let (sender, template) = (sender.clone(), template.clone());
        let (conversion_ids, commission_ids) = (&conversion_ids, &commission_ids);
        async move {
            let mut latencies = Histogram::<u64>::new(3)?;
            while Instant::now() < deadline {
                let id = conversion_ids.fetch_add(1, Ordering::Relaxed);
                let now = chrono::Utc::now();
                let mut row = template.conversion.clone().into_active_model();
                (row.id, row.order_id, row.created_at) = (Set(id), Set(Some(format!("raw-{id}"))), Set(now));
                let commissions = template
                    .commissions
                    .iter()
                    .map(|commission| {
                        let mut row = commission.clone().into_active_model();
                        row.id = Set(commission_ids.fetch_add(1, Ordering::Relaxed));
                        (row.conversion_id, row.created_at, row.updated_at) = (Set(Some(id)), Set(now), Set(now));
                        row
                    })
                    .collect();
                let (done, wait) = oneshot::channel();
                let sent = Instant::now();
                sender.send(Job { conversion: row, commissions, done }).await.ok().context("the writer stopped")?;
                wait.await.context("a batch failed")?;
                latencies.record(sent.elapsed().as_micros() as u64)?;
            }
            anyhow::Ok(latencies)
        }
    });
    let results = futures_util::future::join_all(clients).await;
    let elapsed = started.elapsed();
    drop(sender);
    writer.await??;
    let mut latencies = Histogram::<u64>::new(3)?;
    for result in results {
        latencies.add(result?)?;
    }
    let requests = latencies.len();
    Ok(Phase { latencies, statuses: vec![(201, requests)], elapsed })
}

/// The first id after every id in `table`.
async fn next_id(db: &DatabaseConnection, table: &str) -> anyhow::Result<i64> {
    let sql = format!("SELECT COALESCE(MAX(id), 0) FROM {table}");
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await?.context("no row")?;
    Ok(row.try_get_by_index::<i64>(0)? + 1)
}

async fn write_batches(db: DatabaseConnection, mut receiver: mpsc::Receiver<Job>) -> anyhow::Result<()> {
    let mut jobs = Vec::with_capacity(BATCH);
    while receiver.recv_many(&mut jobs, BATCH).await > 0 {
        let batch = std::mem::take(&mut jobs);
        let txn = db.begin().await?;
        let mut conversions = Vec::with_capacity(batch.len());
        let mut commissions = Vec::new();
        let mut waiting = Vec::with_capacity(batch.len());
        for job in batch {
            conversions.push(job.conversion);
            commissions.extend(job.commissions);
            waiting.push(job.done);
        }
        conversion::Entity::insert_many(conversions)
            .on_conflict_do_nothing_on([conversion::Column::CampaignId, conversion::Column::OrderId])
            .exec_with_returning_keys(&txn)
            .await?;
        for chunk in commissions.chunks(ROWS_PER_INSERT) {
            commission::Entity::insert_many(chunk.to_vec()).exec_without_returning(&txn).await?;
        }
        txn.commit().await?;
        for done in waiting {
            let _ = done.send(());
        }
    }
    Ok(())
}
