//! Click tracking. A click gets a token, `<click id>.<random>`, that the merchant's
//! page keeps in a first-party cookie for the campaign's cookie lifetime; a
//! conversion that presents the token is credited to the click's affiliate.
//!
//! Clicks are many and small: one task writes them in batches, one multi-row
//! insert per batch, and each request waits until its click is stored.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Set};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use super::config::Config;
use crate::db::entity::{campaign, click};
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
pub struct ClickWriter(mpsc::Sender<Pending>);

impl ClickWriter {
    /// Starts the writer task on `db`.
    pub fn start(db: DatabaseConnection) -> Self {
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

/// Records a click on `affiliate`'s link for `campaign`.
pub async fn click(
    config: &Config<'_>,
    writer: &ClickWriter,
    campaign_id: i64,
    affiliate_id: i64,
    landing_url: Option<String>,
    referrer: Option<String>,
) -> Result<Click> {
    let campaign = config.campaign(campaign_id).await?;
    if config.affiliate(affiliate_id).await?.status != "active" {
        return Err(Error::InvalidInput {
            field: "affiliate".into(),
            message: format!("affiliate {affiliate_id} is not active"),
        });
    }
    let clip = |text: Option<String>| text.map(|t| t.chars().take(2000).collect::<String>());
    let secret = hex::encode(rand::random::<[u8; 16]>());
    let row = click::ActiveModel {
        campaign_id: Set(campaign.id),
        affiliate_id: Set(affiliate_id),
        visitor: Set(secret.clone()),
        landing_url: Set(clip(landing_url)),
        referrer: Set(clip(referrer)),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    };
    let id = writer.write(row).await?;
    Ok(Click {
        token: format!("{id}.{secret}"),
        cookie: format!("upline_{}", campaign.id),
        max_age_days: campaign.cookie_days,
        attribution: campaign.attribution.clone(),
    })
}

/// The affiliate a click token credits in `campaign_id`, if the token is genuine,
/// of that campaign, and within the campaign's cookie lifetime.
pub async fn attribute(db: &impl ConnectionTrait, campaign: &campaign::Model, token: &str) -> Result<i64> {
    let refused =
        || Error::InvalidInput { field: "click".into(), message: "not a valid click token for this campaign".into() };
    let (id, secret) = token.split_once('.').ok_or_else(refused)?;
    let id: i64 = id.parse().map_err(|_| refused())?;
    let row = click::Entity::find_by_id(id).one(db).await?.ok_or_else(refused)?;
    if row.visitor != secret || row.campaign_id != campaign.id {
        return Err(refused());
    }
    if row.created_at + chrono::Duration::days(campaign.cookie_days.into()) < chrono::Utc::now() {
        return Err(Error::InvalidInput {
            field: "click".into(),
            message: "the click is older than the cookie lifetime".into(),
        });
    }
    Ok(row.affiliate_id)
}
