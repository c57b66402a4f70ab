//! Click tracking. A click gets a token, `<click id>.<random>`, that the merchant's
//! page keeps in a first-party cookie for the campaign's cookie lifetime; a
//! conversion that presents the token is credited to the click's affiliate.
//!
//! Obvious bots are not counted, and a visitor's repeated clicks on one link within
//! [`UNIQUE_WINDOW`] count once. Clicks are many and small: one task writes them in
//! batches, one multi-row insert per batch, and each request waits until its click
//! is stored.

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::hash::BuildHasher;

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Set};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use super::config::Config;
use crate::clock::Clock;
use crate::db::entity::{campaign, click};
use crate::domain::affiliate::AffiliateStatus;
use crate::error::{Error, Result};

/// At most this many clicks per insert.
const BATCH: usize = 1000;

/// A click waiting to be stored, and who waits for its id.
struct Pending {
    row: click::ActiveModel,
    stored: oneshot::Sender<Result<i64>>,
}

/// The handle of the task that stores clicks in batches.
#[derive(Clone)]
struct ClickWriter(mpsc::Sender<Pending>);

impl ClickWriter {
    /// Starts the writer task on `db`.
    fn start(db: DatabaseConnection) -> Self {
        let (sender, receiver) = mpsc::channel(4 * BATCH);
        tokio::spawn(write_batches(db, receiver));
        Self(sender)
    }

    /// Stores one click; returns its id once it is committed.
    async fn write(&self, row: click::ActiveModel) -> Result<i64> {
        let stopped = || Error::Internal("the click writer has stopped".into());
        let (stored, wait) = oneshot::channel();
        self.0.send(Pending { row, stored }).await.map_err(|_| stopped())?;
        wait.await.map_err(|_| stopped())?
    }
}

/// Takes every click waiting (up to [`BATCH`]) and stores them with one insert.
async fn write_batches(db: DatabaseConnection, mut receiver: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(BATCH);
    while receiver.recv_many(&mut batch, BATCH).await > 0 {
        let rows = batch.iter().map(|pending| pending.row.clone());
        match click::Entity::insert_many(rows).exec_with_returning(&db).await {
            Ok(stored) => {
                // Matched by their random secret: RETURNING promises no order.
                let ids: HashMap<String, i64> = stored.into_iter().map(|row| (row.visitor, row.id)).collect();
                for pending in batch.drain(..) {
                    let id = pending.row.visitor.try_as_ref().and_then(|visitor| ids.get(visitor).copied());
                    let _ =
                        pending.stored.send(id.ok_or_else(|| Error::Internal("a stored click went missing".into())));
                }
            }
            Err(err) => {
                tracing::error!(error = %err, clicks = batch.len(), "storing clicks");
                for pending in batch.drain(..) {
                    let _ = pending.stored.send(Err(Error::Database(err.to_string())));
                }
            }
        }
    }
}

/// A recorded click, as the snippet and the redirect need it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Click {
    /// The token to keep in the cookie and send with conversions.
    pub token: String,
    /// The cookie's name for this campaign.
    pub cookie: String,
    /// How long the cookie lives.
    pub max_age_days: i32,
    /// `first-click` (keep an existing cookie) or `last-click` (replace it).
    pub attribution: String,
}

/// Who clicked, as far as the server can tell: the client's address and user agent.
#[derive(Debug, Clone)]
pub struct Visitor {
    /// The client's address.
    pub ip: std::net::IpAddr,
    /// Its `User-Agent`.
    pub user_agent: Option<String>,
}

/// What became of a click.
#[derive(Debug, Clone)]
pub enum Clicked {
    /// Stored: a unique click.
    Counted(Click),
    /// The same visitor clicked the same link within [`UNIQUE_WINDOW`]: counted once,
    /// the earlier click (and token) returned.
    Repeated(Click),
    /// An obvious bot (a known crawler's user agent, or none): not counted, no token.
    Bot,
}

/// Repeated clicks of one visitor on one link within this time count once.
pub const UNIQUE_WINDOW: std::time::Duration = std::time::Duration::from_secs(3600);

/// How many visitors' recent clicks are remembered (a bound on memory).
const RECENT_CLICKS: usize = 200_000;

/// Records clicks: drops bots, counts a visitor's repeated clicks once, and stores
/// the rest in batches.
pub struct Tracker {
    writer: ClickWriter,
    bots: isbot::Bots,
    /// Recent clicks by visitor and link: this host's memory, so on several hosts a
    /// repeat that lands on another host counts again.
    recent: quick_cache::sync::Cache<u64, (Click, std::time::Instant)>,
    hasher: std::hash::RandomState,
    clock: Clock,
}

impl Tracker {
    /// Starts the click writer on `db`; clicks are stamped by `clock`.
    pub fn start(db: DatabaseConnection, clock: Clock) -> Self {
        Self {
            writer: ClickWriter::start(db),
            bots: isbot::Bots::default(),
            recent: quick_cache::sync::Cache::new(RECENT_CLICKS),
            hasher: std::hash::RandomState::new(),
            clock,
        }
    }

    /// Records a click on `affiliate`'s link for `campaign` by `visitor`.
    pub async fn click(
        &self,
        config: &Config<'_>,
        (campaign_id, affiliate_id): (i64, i64),
        visitor: &Visitor,
        landing_url: Option<String>,
        referrer: Option<String>,
    ) -> Result<Clicked> {
        let campaign = config.campaign(campaign_id).await?;
        if config.affiliate(affiliate_id).await?.status != AffiliateStatus::Active.as_str() {
            return Err(Error::InvalidInput {
                field: "affiliate".into(),
                message: format!("affiliate {affiliate_id} is not active"),
            });
        }
        let outcome = |outcome: Clicked| {
            let kind = match outcome {
                Clicked::Counted(_) => "counted",
                Clicked::Repeated(_) => "repeated",
                Clicked::Bot => "bot",
            };
            metrics::counter!("upline_clicks_total", "kind" => kind).increment(1);
            Ok(outcome)
        };
        if visitor.user_agent.as_deref().is_none_or(|agent| agent.trim().is_empty() || self.bots.is_bot(agent)) {
            return outcome(Clicked::Bot);
        }
        let key = self.hasher.hash_one((campaign_id, affiliate_id, visitor.ip, &visitor.user_agent));
        if let Some((click, at)) = self.recent.get(&key)
            && at.elapsed() < UNIQUE_WINDOW
        {
            return outcome(Clicked::Repeated(click));
        }
        let clip = |text: Option<String>| text.map(|t| t.chars().take(2000).collect::<String>());
        let secret = hex::encode(rand::random::<[u8; 16]>());
        let now = self.clock.now();
        let row = click::ActiveModel {
            campaign_id: Set(campaign.id),
            affiliate_id: Set(affiliate_id),
            visitor: Set(secret.clone()),
            landing_url: Set(clip(landing_url)),
            referrer: Set(clip(referrer)),
            created_at: Set(now),
            ..Default::default()
        };
        let id = self.writer.write(row).await?;
        let click = Click {
            token: format!("{id}.{secret}"),
            cookie: format!("upline_{}", campaign.id),
            max_age_days: campaign.cookie_days,
            attribution: campaign.attribution.clone(),
        };
        self.recent.insert(key, (click.clone(), std::time::Instant::now()));
        outcome(Clicked::Counted(click))
    }
}

/// The affiliate a click token credits in `campaign_id`, if the token is genuine,
/// of that campaign, and within the campaign's cookie lifetime.
pub async fn attribute(
    db: &impl ConnectionTrait,
    campaign: &campaign::Model,
    token: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    let refused =
        || Error::InvalidInput { field: "click".into(), message: "not a valid click token for this campaign".into() };
    let (id, secret) = token.split_once('.').ok_or_else(refused)?;
    let id: i64 = id.parse().map_err(|_| refused())?;
    let row = click::Entity::find_by_id(id).one(db).await?.ok_or_else(refused)?;
    if row.visitor != secret || row.campaign_id != campaign.id {
        return Err(refused());
    }
    if row.created_at + chrono::Duration::days(campaign.cookie_days.into()) < now {
        return Err(Error::InvalidInput {
            field: "click".into(),
            message: "the click is older than the cookie lifetime".into(),
        });
    }
    Ok(row.affiliate_id)
}

/// Takes one of the campaign's browser-reported conversions of the day (UTC), with a
/// conditional upsert: concurrent reports, on one host or several, cannot pass the
/// cap. Refused with 403 when the campaign takes none, with 429 until the next day
/// when it has taken its share. Counts attempts, also those refused later (a
/// duplicate order id, say).
pub async fn reserve_browser_report(
    db: &DatabaseConnection,
    campaign: &campaign::Model,
    now: DateTime<Utc>,
) -> Result<()> {
    let cap = campaign.browser_conversions_per_day;
    if cap <= 0 {
        return Err(Error::Forbidden(format!(
            "campaign {} takes no browser-reported conversions: report them from the merchant's server",
            campaign.id
        )));
    }
    let today = now.date_naive();
    let count = || Expr::col(("browser_report_days", "count"));
    let reserve = Query::insert()
        .into_table("browser_report_days")
        .columns(["campaign_id", "day", "count"])
        .values_panic([campaign.id.into(), today.to_string().into(), 1.into()])
        .on_conflict(
            OnConflict::columns(["campaign_id", "day"])
                .value("count", count().add(1))
                .action_and_where(count().lt(cap))
                .to_owned(),
        )
        .returning_col("count")
        .to_owned();
    if db.query_one(&reserve).await?.is_some() {
        return Ok(());
    }
    let tomorrow = today.succ_opt().unwrap_or(today).and_time(chrono::NaiveTime::MIN).and_utc();
    Err(Error::RateLimited {
        message: format!("campaign {} has taken its {cap} browser-reported conversions today (UTC)", campaign.id),
        retry_after: (tomorrow - now).to_std().unwrap_or_default(),
    })
}
