//! The database's own speed, for comparison: the rows one HTTP sale stored (its
//! conversion and commissions, read back from the database) written again straight
//! to it, with no HTTP and no plugins, and the server's batching and durability: the
//! same connection settings (`upline_host::db::connect`, so SQLite's
//! `synchronous=FULL`, and the caller starts the checkpointer), one writer task that takes every waiting
//! sale (up to 128) per transaction, conversions in `INSERT ... ON CONFLICT DO
//! NOTHING RETURNING` and commissions in plain inserts, up to 64 rows per statement
//! (the server's own inserts, `upline_host::db::{CONVERSIONS, COMMISSIONS}`), one
//! commit; each client waits for its commit.
//!
//! With [`Rules`], each sale's commissions are first computed by the load's two
//! rules, multi-tier and sale-bonus, either compiled natively or as the wasm plugins
//! through the host's runtime (a fresh instance per call, limits, checks), so the two
//! runs differ only in how the rules run.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Statement, TransactionTrait,
};
use tokio::sync::{mpsc, oneshot};
use upline_host::db::entity::{commission, conversion};
use upline_host::db::{COMMISSIONS, CONVERSIONS};
use upline_host::plugin::{Invocation, LoadedPlugin, Registry, hooks};
use upline_host::service::blocking::BlockingPool;
use upline_plugin_sdk::testing::TestHost;
use upline_plugin_sdk::{Action, BonusInput, BonusRules as _, Distribute as _, DistributeInput, TierRule, Trigger};

use crate::Phase;

/// At most this many sales per transaction, as the server's writer.
const BATCH: usize = 128;

/// One sale's rows, as the server stored them.
#[derive(Clone)]
struct Template {
    conversion: conversion::Model,
    commissions: Vec<commission::Model>,
}

/// A sale to write and who waits for its commit.
struct Job {
    conversion: conversion::Model,
    commissions: Vec<commission::Model>,
    done: oneshot::Sender<()>,
}

/// How each sale's commissions are computed before it is written.
pub enum Rules {
    /// Not at all: the stored sale's amounts are written again.
    None,
    /// multi-tier and sale-bonus compiled natively.
    Native,
    /// The same two plugins' packages, through the host's runtime.
    Wasm {
        registry: Box<Registry>,
        multi_tier: Arc<LoadedPlugin>,
        sale_bonus: Arc<LoadedPlugin>,
        _cache: tempfile::TempDir,
    },
}

/// The sale-bonus configuration of the load's campaign.
const BONUS_CONFIG: &str = r#"{"minimum": "100", "bonus": "5"}"#;

impl Rules {
    /// The wasm rules, from the packages in `packages`.
    pub fn wasm(packages: &std::path::Path) -> anyhow::Result<Self> {
        let cache = tempfile::tempdir()?;
        let registry = Box::new(Registry::open(cache.path())?);
        // The newest package of each, as the server installs them all.
        let load = |name: &str| -> anyhow::Result<Arc<LoadedPlugin>> {
            let mut installed = None;
            for entry in std::fs::read_dir(packages)? {
                let path = entry?.path();
                let file = path.file_name().and_then(|file| file.to_str()).unwrap_or_default();
                if file.strip_prefix(name).is_some_and(|rest| rest.starts_with('-')) && file.ends_with(".wasm") {
                    installed = Some(registry.install(std::fs::read(&path)?)?);
                }
            }
            let info = installed.with_context(|| format!("no {name} package in {}", packages.display()))?;
            let newest = registry.list().into_iter().filter(|p| p.id == info.id).map(|p| p.version).max();
            registry.activate(&info.id, &newest.unwrap_or(info.version))?;
            Ok(registry.get(&info.id)?)
        };
        let (multi_tier, sale_bonus) = (load("multi-tier")?, load("sale-bonus")?);
        Ok(Rules::Wasm { registry, multi_tier, sale_bonus, _cache: cache })
    }

    /// Computes the sale's commissions and puts their amounts in `rows` (tier lines
    /// first, then the bonus, as the server stores them).
    fn apply(&self, sale: &Sale, rows: &mut [commission::Model]) -> anyhow::Result<()> {
        let (lines, actions) = match self {
            Rules::None => return Ok(()),
            Rules::Native => {
                let host = TestHost::new();
                let config: multi_tier::Config = serde_json::from_str("{}")?;
                let bonus: sale_bonus::Config = serde_json::from_str(BONUS_CONFIG)?;
                (
                    multi_tier::MultiTier::distribute(&sale.distribute, &config, &host)?,
                    sale_bonus::SaleBonus::evaluate(&sale.bonus, &bonus, &host)?,
                )
            }
            Rules::Wasm { registry, multi_tier, sale_bonus, .. } => {
                let engine = registry.engine();
                let bonus = Invocation { config: BONUS_CONFIG.into(), ..Invocation::default() };
                let currency = sale.distribute.conversion.total.currency();
                (
                    engine.call::<hooks::Distribute>(multi_tier, &Invocation::default(), &sale.distribute, &())?.value,
                    engine.call::<hooks::BonusRules>(sale_bonus, &bonus, &sale.bonus, &currency)?.value,
                )
            }
        };
        let bonuses = actions.into_iter().filter_map(|action| match action {
            Action::Bonus { amount, .. } => Some(amount),
            _ => None,
        });
        let amounts: Vec<_> = lines.into_iter().map(|line| line.amount).chain(bonuses).collect();
        anyhow::ensure!(
            amounts.len() == rows.len(),
            "the rules made {} commissions, not {}",
            amounts.len(),
            rows.len()
        );
        for (row, amount) in rows.iter_mut().zip(amounts) {
            row.amount_minor = upline_host::db::to_minor(amount, "amount")?;
        }
        Ok(())
    }
}

/// The rules' inputs for the stored sale: its upline (one group paying 10/5/3/2/1 %,
/// as the load sets up) and its total.
struct Sale {
    distribute: DistributeInput,
    bonus: BonusInput,
}

impl Sale {
    fn of(template: &Template) -> anyhow::Result<Self> {
        let tiers = ["10", "5", "3", "2", "1"].iter().map(|rate| Ok(TierRule::Percent(upline_tests::pct(rate))));
        let group = upline_tests::group(1, "Load", tiers.collect::<anyhow::Result<Vec<_>>>()?);
        let row = &template.conversion;
        let total = upline_host::db::from_minor(row.total_minor, &row.currency)?;
        let upline: Vec<(u64, u64)> =
            template.commissions[..5].iter().map(|commission| (commission.affiliate_id as u64, 1)).collect();
        let distribute = upline_tests::sale(total, &upline, vec![group.clone()]);
        let bonus = BonusInput {
            now: distribute.now,
            campaign: distribute.conversion.campaign,
            affiliate: distribute.upline[0].affiliate,
            group: group.id,
            groups: vec![group],
            trigger: Trigger::Conversion(distribute.conversion.clone()),
            upline: distribute.upline.clone(),
        };
        Ok(Sale { distribute, bonus })
    }
}

/// Writes copies of the sale `order_id` from `connections` clients for `duration`,
/// each computed with `rules` first (in a pool of one blocking thread per core, as
/// the server runs its plugins).
pub async fn run(
    url: &str,
    order_id: &str,
    connections: usize,
    duration: Duration,
    rules: Arc<Rules>,
) -> anyhow::Result<Phase> {
    let db = upline_host::db::connect(url).await?;
    let conversion = conversion::Entity::find()
        .filter(conversion::Column::OrderId.eq(order_id))
        .one(&db)
        .await?
        .with_context(|| format!("the sale {order_id} is not stored"))?;
    let commissions = commission::Entity::find()
        .filter(commission::Column::ConversionId.eq(conversion.id))
        .order_by_asc(commission::Column::Id)
        .all(&db)
        .await?;
    let template = Arc::new(Template { conversion, commissions });
    let sale = Arc::new(Sale::of(&template)?);
    let (conversion_ids, commission_ids) =
        (AtomicI64::new(next_id(&db, "conversions").await?), AtomicI64::new(next_id(&db, "commissions").await?));

    let (sender, receiver) = mpsc::channel(8 * BATCH);
    let writer = tokio::spawn(write_batches(db, receiver));
    let started = Instant::now();
    let deadline = started + duration;
    // Every client may wait for a core: none is refused.
    let pool = BlockingPool::per_core(connections, "sales' rules");
    let clients = (0..connections).map(|_| {
        let (sender, template, sale, rules) = (sender.clone(), template.clone(), sale.clone(), rules.clone());
        let (conversion_ids, commission_ids, pool) = (&conversion_ids, &commission_ids, &pool);
        async move {
            let mut latencies = Histogram::<u64>::new(3)?;
            while Instant::now() < deadline {
                let id = conversion_ids.fetch_add(1, Ordering::Relaxed);
                let now = chrono::Utc::now();
                let row = conversion::Model {
                    id,
                    order_id: Some(format!("raw-{id}")),
                    created_at: now,
                    ..template.conversion.clone()
                };
                let mut commissions: Vec<commission::Model> = template
                    .commissions
                    .iter()
                    .map(|commission| commission::Model {
                        id: commission_ids.fetch_add(1, Ordering::Relaxed),
                        conversion_id: Some(id),
                        created_at: now,
                        updated_at: now,
                        ..commission.clone()
                    })
                    .collect();
                if !matches!(*rules, Rules::None) {
                    // In the server's kind of pool: one blocking thread per core,
                    // the other sales waiting for one.
                    let (rules, sale) = (rules.clone(), sale.clone());
                    commissions =
                        pool.run(move || rules.apply(&sale, &mut commissions).map(|()| commissions)).await??;
                }
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
        CONVERSIONS.insert(&txn, &conversions.iter().collect::<Vec<_>>()).await?;
        COMMISSIONS.insert(&txn, &commissions.iter().collect::<Vec<_>>()).await?;
        txn.commit().await?;
        for done in waiting {
            let _ = done.send(());
        }
    }
    Ok(())
}
