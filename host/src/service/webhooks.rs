//! Webhooks out. Operators register endpoints; events (a commission created,
//! approved, declined or paid; an affiliate's group changed by a rule; an award
//! granted) are queued in the transaction that makes them happen, one delivery per
//! endpoint that wants the event, and each delivery is sent by a durable job of its
//! own (`Kind::Webhook`): retried after 1, 2, 4 and 8 minutes, then `failed` until
//! an operator re-runs the job (`POST /api/v1/jobs/{id}/run`).
//!
//! A delivery is a `POST` of `{"id", "type", "created-at", "data"}` signed as Stripe
//! and Dub sign theirs: `Upline-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
//! "<t>.<body>" with the endpoint's secret>`. Event ids are unique per endpoint (a
//! unique index), so an event is queued once, and a delivery that got a 2xx is never
//! sent again; only a host that dies between the 2xx and recording it sends it again,
//! with the same `id`, by which receivers deduplicate.

use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use serde::Serialize;
use sha2::Sha256;

use super::jobs::{Lease, Scheduler};
use crate::db::entity::{commission, webhook_delivery, webhook_endpoint};
use crate::error::{Error, Result};

/// The events an endpoint can ask for.
pub const EVENTS: [&str; 6] = [
    "commission.created",
    "commission.approved",
    "commission.declined",
    "commission.paid",
    "affiliate.group-changed",
    "award.granted",
];

/// How long an endpoint has to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// An event to deliver.
#[derive(Debug, Clone)]
pub struct Event {
    /// Unique for the event (the same event queued twice is queued once).
    pub id: String,
    /// One of [`EVENTS`].
    pub kind: &'static str,
    /// What happened.
    pub data: serde_json::Value,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event {
    /// `kind` (`commission.*`) of a commission as it is at `at`: its id is the
    /// commission's (a commission is created, approved, declined or paid once).
    pub fn commission(kind: &'static str, row: &commission::Model, at: DateTime<Utc>) -> Result<Self> {
        let view = super::engine::CommissionView::of(row.clone())?;
        let data = serde_json::to_value(view).unwrap_or_default();
        Ok(Event { id: format!("{kind}:{}", row.id), kind, data, at })
    }

    /// An event without a natural id (a group change, an award): a random one.
    pub fn new(kind: &'static str, data: serde_json::Value, at: DateTime<Utc>) -> Self {
        Event { id: format!("{kind}:{}", hex::encode(rand::random::<[u8; 12]>())), kind, data, at }
    }
}

/// Whether an endpoint is registered: the callers build their events only then, so
/// a host without webhooks pays one indexed query per change.
pub async fn listening(db: &impl ConnectionTrait) -> Result<bool> {
    let active = webhook_endpoint::Entity::find().filter(webhook_endpoint::Column::Active.eq(true));
    Ok(active.select_only().column(webhook_endpoint::Column::Id).into_tuple::<i64>().one(db).await?.is_some())
}

/// Queues `events` for every active endpoint that wants them, with a job each, in the
/// caller's transaction.
pub async fn emit(db: &impl ConnectionTrait, events: Vec<Event>) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let endpoints = webhook_endpoint::Entity::find().filter(webhook_endpoint::Column::Active.eq(true)).all(db).await?;
    for endpoint in &endpoints {
        for event in events.iter().filter(|event| wants(endpoint, event.kind)) {
            let body =
                serde_json::json!({"id": event.id, "type": event.kind, "created-at": event.at, "data": event.data});
            let row = webhook_delivery::ActiveModel {
                endpoint_id: Set(endpoint.id),
                event_id: Set(event.id.clone()),
                event: Set(event.kind.into()),
                body: Set(body.to_string()),
                state: Set(PENDING.into()),
                attempts: Set(0),
                last_status: Set(None),
                last_error: Set(None),
                delivered_at: Set(None),
                created_at: Set(event.at),
                ..Default::default()
            };
            let once = OnConflict::columns([webhook_delivery::Column::EndpointId, webhook_delivery::Column::EventId])
                .do_nothing()
                .to_owned();
            match webhook_delivery::Entity::insert(row).on_conflict(once).exec(db).await {
                Ok(inserted) => super::jobs::schedule_delivery(db, inserted.last_insert_id, event.at).await?,
                Err(DbErr::RecordNotInserted) => {}
                Err(err) => return Err(err.into()),
            }
        }
    }
    Ok(())
}

fn wants(endpoint: &webhook_endpoint::Model, kind: &str) -> bool {
    match &endpoint.events {
        Some(events) => events.as_array().is_some_and(|events| events.iter().any(|event| event == kind)),
        None => true,
    }
}

/// A delivery's states.
const PENDING: &str = "pending";
const DELIVERED: &str = "delivered";
const FAILED: &str = "failed";

/// Sends the delivery of the job `lease` holds; a 2xx completes the job, anything
/// else fails the attempt (the job retries it).
pub(crate) async fn deliver(scheduler: &Scheduler, lease: &Lease, delivery: i64, now: DateTime<Utc>) -> Result<()> {
    let db = &scheduler.db;
    let row = webhook_delivery::Entity::find_by_id(delivery)
        .one(db)
        .await?
        .ok_or_else(|| Error::Database(format!("webhook delivery {delivery} is gone")))?;
    let endpoint = webhook_endpoint::Entity::find_by_id(row.endpoint_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::Database(format!("webhook endpoint {} is gone", row.endpoint_id)))?;
    // Already delivered (a re-run after the record): nothing to send. Removed
    // endpoint: the delivery fails for good, without retries.
    let sent = match (row.state.as_str(), endpoint.active) {
        (DELIVERED, _) => Ok(None),
        (_, false) => Ok(Some(Err("the endpoint was removed".to_owned()))),
        _ => send(&endpoint, &row, now).await.map(|status| Some(Ok(status))),
    };
    let txn = db.begin().await?;
    lease.fence(&txn, now).await?;
    let update = webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Attempts, Expr::value(row.attempts + 1))
        .filter(webhook_delivery::Column::Id.eq(row.id));
    let failed = |update: sea_orm::UpdateMany<webhook_delivery::Entity>, state, status: Option<i32>, error: &str| {
        update
            .col_expr(webhook_delivery::Column::State, Expr::value(state))
            .col_expr(webhook_delivery::Column::LastStatus, Expr::value(status))
            .col_expr(webhook_delivery::Column::LastError, Expr::value(error))
    };
    match sent {
        Ok(outcome) => {
            match outcome {
                Some(Ok(status)) => {
                    update
                        .col_expr(webhook_delivery::Column::State, Expr::value(DELIVERED))
                        .col_expr(webhook_delivery::Column::LastStatus, Expr::value(status))
                        .col_expr(webhook_delivery::Column::LastError, Expr::value(Option::<String>::None))
                        .col_expr(webhook_delivery::Column::DeliveredAt, Expr::value(now))
                        .exec(&txn)
                        .await?;
                }
                Some(Err(removed)) => {
                    failed(update, FAILED, None, &removed).exec(&txn).await?;
                }
                None => {}
            }
            lease.complete(&txn, now, None).await?;
            txn.commit().await?;
            Ok(())
        }
        Err((status, error)) => {
            // The job's last attempt: the delivery fails with it.
            let state = if lease.job().attempts + 1 >= super::jobs::MAX_ATTEMPTS { FAILED } else { PENDING };
            failed(update, state, status, &error).exec(&txn).await?;
            txn.commit().await?;
            Err(Error::Unavailable {
                message: format!("webhook {}: {error}", endpoint.url),
                retry_after: Duration::ZERO,
            })
        }
    }
}

/// POSTs a delivery, signed; its status if 2xx, else the status (if any) and why.
async fn send(
    endpoint: &webhook_endpoint::Model,
    row: &webhook_delivery::Model,
    now: DateTime<Utc>,
) -> std::result::Result<i32, (Option<i32>, String)> {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    let client = CLIENT.get_or_init(|| reqwest::Client::builder().timeout(TIMEOUT).build().unwrap_or_default());
    let response = client
        .post(&endpoint.url)
        .header("content-type", "application/json")
        .header("upline-event-id", &row.event_id)
        .header("upline-signature", signature(&endpoint.secret, now.timestamp(), &row.body))
        .body(row.body.clone())
        .send()
        .await
        .map_err(|err| (None, format!("{err}")))?;
    let status = i32::from(response.status().as_u16());
    match response.status().is_success() {
        true => Ok(status),
        false => Err((Some(status), format!("answered {}", response.status()))),
    }
}

/// `t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes a key of any length: this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// An endpoint as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct EndpointView {
    /// Id.
    pub id: i64,
    /// Where events are POSTed.
    pub url: String,
    /// The events it gets; none: all of them.
    pub events: Option<Vec<String>>,
    /// The key deliveries are signed with.
    pub secret: String,
    /// False once removed.
    pub active: bool,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

impl EndpointView {
    fn of(row: webhook_endpoint::Model) -> Self {
        Self {
            id: row.id,
            url: row.url,
            events: row.events.and_then(|events| serde_json::from_value(events).ok()),
            secret: row.secret,
            active: row.active,
            created_at: row.created_at,
        }
    }
}

/// Registers an endpoint for `events` (all when none); audited.
pub async fn register(
    db: &DatabaseConnection,
    url: &str,
    events: Option<Vec<String>>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<EndpointView> {
    let invalid = |field: String, message: String| Error::InvalidInput { field, message };
    let parsed = url::Url::parse(url).map_err(|err| invalid("url".into(), err.to_string()))?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(invalid("url".into(), "must be an http or https URL".into()));
    }
    if let Some((i, event)) = events.iter().flatten().enumerate().find(|(_, event)| !EVENTS.contains(&event.as_str())) {
        return Err(invalid(format!("events[{i}]"), format!("`{event}` is not one of {}", EVENTS.join(", "))));
    }
    let txn = db.begin().await?;
    let row = webhook_endpoint::ActiveModel {
        url: Set(parsed.to_string()),
        secret: Set(hex::encode(rand::random::<[u8; 32]>())),
        events: Set(events.map(|events| serde_json::json!(events))),
        active: Set(true),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let after = serde_json::json!({"url": row.url, "events": row.events});
    super::audit::record(&txn, now, actor, "webhook.register", ("webhook", row.id), None, Some(after)).await?;
    txn.commit().await?;
    Ok(EndpointView::of(row))
}

/// The registered endpoints, removed ones included.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<EndpointView>> {
    let rows = webhook_endpoint::Entity::find().order_by_asc(webhook_endpoint::Column::Id).all(db).await?;
    Ok(rows.into_iter().map(EndpointView::of).collect())
}

/// Removes an endpoint: nothing more is queued or sent to it; audited.
pub async fn remove(db: &DatabaseConnection, id: i64, actor: &str, now: DateTime<Utc>) -> Result<()> {
    let txn = db.begin().await?;
    let removed = webhook_endpoint::Entity::update_many()
        .col_expr(webhook_endpoint::Column::Active, Expr::value(false))
        .filter(webhook_endpoint::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    if removed.rows_affected != 1 {
        return Err(Error::NotFound { entity: "webhook", id: id.to_string() });
    }
    super::audit::record(&txn, now, actor, "webhook.remove", ("webhook", id), None, None).await?;
    Ok(txn.commit().await?)
}

/// A delivery as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct DeliveryView {
    /// Id.
    pub id: i64,
    /// The event's id.
    pub event_id: String,
    /// The event type.
    pub event: String,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    /// Attempts made.
    pub attempts: i32,
    /// The HTTP status of the last attempt, if one came back.
    pub last_status: Option<i32>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When the event happened.
    pub created_at: DateTime<Utc>,
}

/// An endpoint's deliveries, oldest first, a page at a time.
pub async fn deliveries(db: &impl ConnectionTrait, endpoint: i64, after: i64, limit: u64) -> Result<Vec<DeliveryView>> {
    if webhook_endpoint::Entity::find_by_id(endpoint).one(db).await?.is_none() {
        return Err(Error::NotFound { entity: "webhook", id: endpoint.to_string() });
    }
    let rows = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint))
        .filter(webhook_delivery::Column::Id.gt(after))
        .order_by_asc(webhook_delivery::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| DeliveryView {
            id: row.id,
            event_id: row.event_id,
            event: row.event,
            state: row.state,
            attempts: row.attempts,
            last_status: row.last_status,
            last_error: row.last_error,
            delivered_at: row.delivered_at,
            created_at: row.created_at,
        })
        .collect())
}
