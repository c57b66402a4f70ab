//! The commission engine: a conversion in, its commissions out, in three steps.
//!
//! 1. [`prepare`] (`prepare.rs`): check the conversion against its campaign, find
//!    who referred it, compute its commissionable total, and read what its plan
//!    needs: the configuration (from the cache of `service::config`) and, when an
//!    approval plugin is enabled, the facts it decides on. Reads only.
//! 2. plan (`plan.rs`): with ids from the host's allocator, call the campaign's
//!    plugins on a bounded pool of blocking threads and decide every commission (its
//!    amount, its status and hold, the plugin's trail) and every other action. No
//!    transaction is open: a slow plugin holds a core, never a write. A plugin's
//!    failure is part of the plan: the conversion is stored flagged with the plugin,
//!    its version and the reason, and can be reprocessed once that is fixed.
//! 3. write (`writer.rs`): inserts and conditional updates only, many conversions per
//!    transaction. The unique index decides duplicate order ids (a duplicate's plan is
//!    discarded); a database error fails the request with a 5xx and stores nothing of
//!    it.
//!
//! Nothing is lost and nothing is silently paid as zero: a conversion is stored with
//! its commissions, or flagged with why it has none.

use std::sync::Arc;

use sea_orm::{DatabaseConnection, EntityTrait};
use serde::Serialize;
use upline_types as sdk;

mod plan;
mod prepare;
mod writer;

pub use plan::Flagged;
pub(crate) use plan::{by_approval_setting, millis};
pub use prepare::{Prepared, prepare, prepare_payment};

use self::plan::Plan;
use self::writer::ConversionWriter;
use super::blocking::BlockingPool;
use super::config::Config;
use super::ids::{Ids, Table};
use super::stats::{CAMPAIGN, InFlight};
use crate::clock::Clock;
use crate::db::entity::{commission, conversion};
use crate::db::from_minor;
use crate::error::{Error, Result};
use crate::plugin::CallReport;
use crate::plugin::Registry;

/// A conversion and the commissions it produced.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Recorded {
    /// The stored conversion.
    pub conversion: ConversionView,
    /// Its commissions.
    pub commissions: Vec<CommissionView>,
    /// `/simulate` only: every plugin call of the plan, with what each logged and cost.
    #[serde(rename = "plugin-calls", skip_serializing_if = "Option::is_none")]
    pub plugin_calls: Option<Vec<CallReport>>,
}

/// A conversion as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct ConversionView {
    /// Id (0 when simulated).
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
    /// `processed`, `failed`, `rejected` (by a screen plugin) or `superseded`.
    pub status: String,
    /// Why processing failed, or why a screen plugin rejected it.
    pub error: Option<String>,
    /// The plugin that failed or rejected it, `id@version`.
    pub failed_plugin: Option<String>,
    /// When it has no commissions because a plugin failed or rejected it: the plan's
    /// plugin calls, with what each logged and cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin_calls: Option<Vec<CallReport>>,
    /// `server` or `browser` (whose commissions wait for the merchant's confirmation).
    pub source: String,
    /// The subscription it started (payment 0) or is a payment of.
    pub subscription: Option<i64>,
    /// Which payment of the subscription: 0 for the conversion that started it,
    /// none for one the merchant reported of a `varied` subscription.
    pub payment_number: Option<i32>,
    /// When it was recorded.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl ConversionView {
    /// The API view of a stored conversion.
    pub fn of(row: &conversion::Model) -> Result<Self> {
        Ok(Self {
            id: row.id,
            campaign: row.campaign_id,
            affiliate: row.affiliate_id,
            order_id: row.order_id.clone(),
            commissionable: from_minor(row.commissionable_minor, &row.currency)?,
            status: row.status.clone(),
            error: row.error.clone(),
            failed_plugin: row.failed_plugin.as_ref().map(|id| trail(id, row.failed_version.as_deref())),
            plugin_calls: row.plugin_calls.clone().and_then(|calls| serde_json::from_value(calls).ok()),
            source: row.source.clone(),
            subscription: row.subscription_id,
            payment_number: row.payment_number,
            created_at: row.created_at,
        })
    }
}

/// `id@version`.
fn trail(plugin: &str, version: Option<&str>) -> String {
    format!("{plugin}@{}", version.unwrap_or_default())
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
    /// When it was made (for a subscription's payment, its due time; for a period
    /// adjustment, the period it is booked in).
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl CommissionView {
    /// The API view of a stored commission.
    pub fn of(row: commission::Model) -> Result<Self> {
        Ok(Self {
            amount: from_minor(row.amount_minor, &row.currency)?,
            plugin: row.plugin_id.as_ref().map(|id| trail(id, row.plugin_version.as_deref())),
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
            created_at: row.created_at,
        })
    }
}

/// A planned conversion, for a job to write inside its own transaction.
pub struct Planned(Plan);

impl Planned {
    /// Writes it in `txn`; `None`, writing nothing, when its order id is taken.
    pub async fn write_in(&self, txn: &sea_orm::DatabaseTransaction) -> Result<Option<Recorded>> {
        match writer::write_in(txn, &self.0).await? {
            true => self.0.recorded().map(Some),
            false => Ok(None),
        }
    }
}

/// How many times a conversion is planned again when the statistics its plugins
/// read change before it is written.
const REPLANS: usize = 16;

/// Locks for conversions whose plugins read statistics, by referrer (hashed).
const TURNS: usize = 256;

/// The turn lock of a referrer in a campaign (or of the whole campaign, [`CAMPAIGN`]).
fn turn_of(key: (i64, i64)) -> usize {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(key) as usize % TURNS
}

/// A stored conversion, counted in the metrics by its status.
fn counted(recorded: Recorded) -> Recorded {
    metrics::counter!("upline_conversions_total", "status" => recorded.conversion.status.clone()).increment(1);
    recorded
}

/// Conversions waiting for a plan beyond those being planned (past it, 503).
const PLANS_QUEUED: usize = 4096;

/// The engine of one server: the plugin pool, the id allocator and the writer.
pub struct Engine {
    db: DatabaseConnection,
    /// Read-only connections (on SQLite beside the one writer): statistics are read here.
    reader: DatabaseConnection,
    registry: Arc<Registry>,
    plugins: BlockingPool,
    ids: Ids,
    writer: ConversionWriter,
    clock: Clock,
    turns: Vec<tokio::sync::Mutex<()>>,
    in_flight: InFlight,
}

impl Engine {
    /// Starts the writer task on `db` (the writer connection); `clock` says when a
    /// flagged conversion is reprocessed.
    pub fn start(
        (db, reader): (DatabaseConnection, DatabaseConnection),
        registry: Arc<Registry>,
        clock: Clock,
    ) -> Self {
        Self {
            writer: ConversionWriter::start(db.clone()),
            plugins: BlockingPool::per_core(PLANS_QUEUED, "conversions being computed"),
            ids: Ids::default(),
            registry,
            db,
            reader,
            clock,
            turns: (0..TURNS).map(|_| tokio::sync::Mutex::new(())).collect(),
            in_flight: InFlight::default(),
        }
    }

    /// Plans a prepared conversion and stores it (with its commissions, or flagged);
    /// returns once it is committed.
    ///
    /// When the statistics its plugins read changed before it was written, it is
    /// planned again with fresh ones, up to [`REPLANS`] times (then a 503).
    pub async fn record(&self, prepared: Prepared) -> Result<Recorded> {
        let id = self.ids.one(&self.db, Table::Conversions).await?;
        let Some(key) = plan::stats_key(&prepared) else {
            // No plugin reads statistics: the plan cannot go stale.
            let plan = self.plan(prepared, id).await?;
            let written = self.writer.enqueue(plan)?.await?;
            return written
                .map(counted)
                .ok_or_else(|| Error::Internal("a plan reading no statistics went stale".into()));
        };
        // Conversions of one referrer whose plugins read statistics are computed one
        // at a time on this host, each handed to the writer before the next starts
        // and seen by it as in flight: none computes from sums the one before it
        // makes stale. Where the plugins read the whole campaign's sums, that is every
        // conversion of the campaign.
        let (campaign, _) = key;
        let key = if self.in_flight.wants_campaign(campaign) { (campaign, CAMPAIGN) } else { key };
        let turn = &self.turns[turn_of(key)];
        for _ in 0..REPLANS {
            let guard = turn.lock().await;
            let plan = self.plan(prepared.clone(), id).await?;
            let (conversion, reads) = (plan.conversion.clone(), plan.reads.clone());
            self.in_flight.add(&conversion, &reads, &plan.commissions);
            let written = self.writer.enqueue(plan);
            drop(guard);
            let written = match written {
                Ok(written) => written.await,
                Err(err) => Err(err),
            };
            self.in_flight.answered(&conversion, &reads, matches!(written, Ok(Some(_))));
            if let Some(recorded) = written? {
                return Ok(counted(recorded));
            }
            metrics::counter!("upline_conversions_replanned_total").increment(1);
        }
        Err(Error::Unavailable {
            message: format!(
                "the statistics of conversion {id}'s affiliates changed {REPLANS} times while it was computed"
            ),
            retry_after: std::time::Duration::from_secs(1),
        })
    }

    /// Plans a prepared conversion (a subscription's payment) for a job to write in
    /// its own transaction, with [`Planned::write_in`].
    pub async fn plan_for_job(&self, prepared: Prepared) -> Result<Planned> {
        let id = self.ids.one(&self.db, Table::Conversions).await?;
        Ok(Planned(self.plan(prepared, id).await?))
    }

    /// What recording a prepared conversion would store: its plan, with ids 0,
    /// written nowhere (the order id is not checked for duplicates).
    pub async fn simulate(&self, prepared: Prepared) -> Result<Recorded> {
        let plan = self.plan(prepared, 0).await?;
        Ok(Recorded { plugin_calls: Some(plan.calls.0.clone()), ..plan.recorded()? })
    }

    /// Plans a flagged conversion again with the campaign's current plugins and their
    /// configuration, keeping its id and order id. Stored with its commissions when
    /// the plan succeeds, once: a concurrent reprocess gets a 409.
    pub async fn reprocess(&self, reader: &DatabaseConnection, config: &Config<'_>, id: i64) -> Result<Recorded> {
        let row = conversion::Entity::find_by_id(id)
            .one(reader)
            .await?
            .ok_or(Error::NotFound { entity: "conversion", id: id.to_string() })?;
        if row.status != plan::FAILED {
            return Err(Error::Conflict {
                field: "status".into(),
                message: format!("conversion {id} is {}: only a flagged conversion is reprocessed", row.status),
            });
        }
        let now = self.clock.now();
        let prepared = prepare::prepare_stored(reader, config, row, now).await?;
        let plan = self.plan(prepared, id).await?;
        writer::reprocess(&self.db, plan, now).await
    }

    /// Where `affiliate` stands on the levels of every campaign's rule plugins, at
    /// `now`; the plugins run on the engine's pool.
    pub async fn progress(
        &self,
        reader: &DatabaseConnection,
        config: &Config<'_>,
        affiliate: i64,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<super::progress::CampaignProgress>> {
        super::progress::of(reader, config, &self.registry, &self.plugins, affiliate, now).await
    }

    async fn plan(&self, prepared: Prepared, conversion_id: i64) -> Result<Plan> {
        let dbs = (&self.db, &self.reader);
        plan::plan(&self.plugins, &self.ids, dbs, &self.in_flight, self.registry.clone(), prepared, conversion_id).await
    }
}
