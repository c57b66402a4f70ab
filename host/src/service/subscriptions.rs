//! Subscriptions: recurring revenue a conversion starts (`subscription` on the
//! conversion). Each payment is a conversion of commission type `recurring`,
//! credited to the subscription's affiliate and planned by the campaign's plugins
//! like any other, so refunding one payment reverses that payment's commissions
//! only. Scheduled payments are made by the subscription's job, each at its due time
//! (`domain::schedule::Recurrence::due`), with order id `<subscription>#<n>`; a
//! `varied` subscription's payments are reported by the merchant, with order id
//! `<subscription>:<payment id>`. Either way the unique order id makes a payment
//! count once.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait};
use serde::Serialize;
use upline_types::Money;

use super::engine::{Recorded, prepare_payment};
use super::jobs::{Lease, Scheduler};
use crate::db::entity::{job, subscription};
use crate::db::from_minor;
use crate::domain::money::parse_amount;
use crate::domain::schedule::Recurrence;
use crate::error::{Error, Result};
use crate::http::AppState;

/// A subscription's states.
pub mod status {
    /// Pays when due.
    pub const ACTIVE: &str = "active";
    /// Cancelled by the merchant: pays no more.
    pub const CANCELLED: &str = "cancelled";
    /// Past its end date or its last payment.
    pub const ENDED: &str = "ended";
}

/// A subscription as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct SubscriptionView {
    /// The host's id.
    pub id: i64,
    /// The merchant's id.
    pub external_id: String,
    /// Campaign.
    pub campaign: i64,
    /// Who its payments are credited to.
    pub affiliate: i64,
    /// The conversion that started it.
    pub conversion: i64,
    /// How often it pays.
    pub recurrence: String,
    /// What each scheduled payment's commissions are computed on.
    #[schema(value_type = crate::http::openapi::sdk::Money)]
    pub amount: Money,
    /// Payments fall due from this time.
    pub started_at: DateTime<Utc>,
    /// No scheduled payment after this time (not checked for `varied`).
    pub ends_at: Option<DateTime<Utc>>,
    /// At most this many scheduled payments (not checked for `varied`).
    pub max_payments: Option<i32>,
    /// Payments made.
    pub payments: i32,
    /// `active`, `cancelled` or `ended`.
    pub status: String,
}

impl SubscriptionView {
    fn of(row: subscription::Model) -> Result<Self> {
        Ok(Self {
            amount: from_minor(row.amount_minor, &row.currency)?,
            id: row.id,
            external_id: row.external_id,
            campaign: row.campaign_id,
            affiliate: row.affiliate_id,
            conversion: row.conversion_id,
            recurrence: row.recurrence,
            started_at: row.started_at,
            ends_at: row.ends_at,
            max_payments: row.max_payments,
            payments: row.payments,
            status: row.status,
        })
    }
}

/// Makes a subscription's next payment, as its job: the payment's conversion and
/// commissions, the subscription's count and the job's next due time commit in one
/// transaction. A subscription that was cancelled, reached its end date or its last
/// payment ends, and so does its job.
pub async fn pay_next(scheduler: &Scheduler, lease: &Lease, now: DateTime<Utc>) -> Result<()> {
    let db = &scheduler.db;
    let id = lease.job().subscription_id.ok_or_else(|| Error::Database("a subscription job without one".into()))?;
    let row = subscription::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "subscription", id: id.to_string() })?;
    let config = scheduler.cache.current(db, &scheduler.registry).await?;
    let campaign = config.campaign(row.campaign_id).await?;
    let zone = super::campaigns::zone(&campaign)?;
    let recurrence: Recurrence = row.recurrence.parse().map_err(Error::Database)?;
    let number = row.payments + 1;
    let due = recurrence.due(&zone, row.started_at, number as u32)?;
    let last = row.max_payments.is_some_and(|max| number > max);
    let Some(due) =
        due.filter(|due| !last && row.ends_at.is_none_or(|end| *due <= end) && row.status == status::ACTIVE)
    else {
        let txn = db.begin().await?;
        lease.fence(&txn, now).await?;
        end(&txn, &row, now).await?;
        lease.complete(&txn, now, None).await?;
        return Ok(txn.commit().await?);
    };
    if due > now {
        // Not due yet: the campaign's time zone changed since the job was scheduled.
        let txn = db.begin().await?;
        lease.postpone(&txn, now, due).await?;
        return Ok(txn.commit().await?);
    }
    let order = format!("{}#{number}", row.external_id);
    let total = from_minor(row.amount_minor, &row.currency)?;
    let prepared = prepare_payment(db, &config, &row, (order.clone(), Some(number)), total, due).await?;
    let planned = scheduler.engine.plan_for_job(prepared).await?;
    let next = recurrence.due(&zone, row.started_at, number as u32 + 1)?;
    let txn = db.begin().await?;
    lease.fence(&txn, now).await?;
    if planned.write_in(&txn).await?.is_none() {
        return Err(Error::Conflict {
            field: "order-id".into(),
            message: format!("campaign {} already has an order `{order}`", row.campaign_id),
        });
    }
    count_payment(&txn, &row, now).await?;
    lease.complete(&txn, now, next).await?;
    Ok(txn.commit().await?)
}

/// Counts a payment of `row` (read with its current count); a conflict when another
/// payment was counted meanwhile.
async fn count_payment(
    txn: &sea_orm::DatabaseTransaction,
    row: &subscription::Model,
    now: DateTime<Utc>,
) -> Result<()> {
    let counted = subscription::Entity::update_many()
        .col_expr(subscription::Column::Payments, Expr::col(subscription::Column::Payments).add(1))
        .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
        .filter(subscription::Column::Id.eq(row.id))
        .filter(subscription::Column::Payments.eq(row.payments))
        .exec(txn)
        .await?;
    if counted.rows_affected != 1 {
        return Err(Error::Conflict {
            field: "subscription".into(),
            message: format!("subscription `{}` was paid meanwhile: try again", row.external_id),
        });
    }
    Ok(())
}

/// The campaign's subscription with the merchant's id `external_id`.
async fn find(db: &DatabaseConnection, campaign: i64, external_id: &str) -> Result<subscription::Model> {
    subscription::Entity::find()
        .filter(subscription::Column::CampaignId.eq(campaign))
        .filter(subscription::Column::ExternalId.eq(external_id))
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound { entity: "subscription", id: external_id.to_owned() })
}

/// Records a payment the merchant reports of a `varied` subscription: a `recurring`
/// conversion worth `total`, under order id `<subscription>:<payment id>`, so a
/// repeated report is refused with 409 and pays once.
pub async fn report_payment(
    state: &AppState,
    campaign: i64,
    external_id: &str,
    payment_id: &str,
    total: Decimal,
) -> Result<Recorded> {
    let now = state.clock.now();
    let payment_id = payment_id.trim();
    if payment_id.is_empty() || payment_id.len() > 200 {
        return Err(Error::InvalidInput { field: "payment-id".into(), message: "must be 1 to 200 characters".into() });
    }
    let row = find(&state.db, campaign, external_id).await?;
    if row.recurrence != Recurrence::Varied.to_string() {
        return Err(Error::Conflict {
            field: "subscription".into(),
            message: format!("subscription `{external_id}` pays {} on its own schedule", row.recurrence),
        });
    }
    let over = row.ends_at.is_some_and(|end| now > end) || row.max_payments.is_some_and(|max| row.payments >= max);
    if row.status == status::ACTIVE && over {
        end(&state.db, &row, now).await?;
    }
    if row.status != status::ACTIVE || over {
        let status = if over { status::ENDED } else { row.status.as_str() };
        return Err(Error::Conflict {
            field: "subscription".into(),
            message: format!("subscription `{external_id}` is {status}: past its end date or its last payment"),
        });
    }
    let currency = from_minor(0, &row.currency)?.currency();
    let total = parse_amount("total", total, currency)?;
    let config = state.cache.current(&state.db, &state.registry).await?;
    let order = format!("{external_id}:{payment_id}");
    let prepared = prepare_payment(&state.reader, &config, &row, (order, None), total, now).await?;
    let planned = state.engine.plan_for_job(prepared).await?;
    let txn = state.db.begin().await?;
    let Some(recorded) = planned.write_in(&txn).await? else {
        return Err(Error::Conflict {
            field: "payment-id".into(),
            message: format!("payment `{payment_id}` of subscription `{external_id}` is already recorded"),
        });
    };
    count_payment(&txn, &row, now).await?;
    txn.commit().await?;
    Ok(recorded)
}

/// Marks an active subscription ended (past its end date or its last payment).
async fn end(db: &impl sea_orm::ConnectionTrait, row: &subscription::Model, now: DateTime<Utc>) -> Result<()> {
    subscription::Entity::update_many()
        .col_expr(subscription::Column::Status, Expr::value(status::ENDED))
        .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
        .filter(subscription::Column::Id.eq(row.id))
        .filter(subscription::Column::Status.eq(status::ACTIVE))
        .exec(db)
        .await?;
    Ok(())
}

/// Cancels a subscription: it pays no more, and its job is done. Audited.
pub async fn cancel(
    db: &DatabaseConnection,
    campaign: i64,
    external_id: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<SubscriptionView> {
    let row = find(db, campaign, external_id).await?;
    let txn = db.begin().await?;
    let cancelled = subscription::Entity::update_many()
        .col_expr(subscription::Column::Status, Expr::value(status::CANCELLED))
        .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
        .filter(subscription::Column::Id.eq(row.id))
        .filter(subscription::Column::Status.eq(status::ACTIVE))
        .exec(&txn)
        .await?;
    if cancelled.rows_affected != 1 {
        return Err(Error::Conflict {
            field: "subscription".into(),
            message: format!("subscription `{external_id}` is {}", row.status),
        });
    }
    // A run in progress finds it cancelled, or commits first (its payment was due).
    job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value(super::jobs::state::DONE))
        .filter(job::Column::SubscriptionId.eq(row.id))
        .filter(job::Column::LeaseOwner.is_null())
        .exec(&txn)
        .await?;
    super::audit::record(&txn, now, actor, "subscription.cancel", ("subscription", row.id), None, None).await?;
    txn.commit().await?;
    get(db, campaign, external_id).await
}

/// One subscription of the campaign, by the merchant's id.
pub async fn get(db: &DatabaseConnection, campaign: i64, external_id: &str) -> Result<SubscriptionView> {
    SubscriptionView::of(find(db, campaign, external_id).await?)
}

/// The campaign's subscriptions by id, a page at a time (after `after`, at most `limit`).
pub async fn list(
    db: &DatabaseConnection,
    campaign: i64,
    after: Option<i64>,
    limit: u64,
) -> Result<Vec<SubscriptionView>> {
    let mut query = subscription::Entity::find()
        .filter(subscription::Column::CampaignId.eq(campaign))
        .order_by_asc(subscription::Column::Id)
        .limit(limit);
    if let Some(after) = after {
        query = query.filter(subscription::Column::Id.gt(after));
    }
    query.all(db).await?.into_iter().map(SubscriptionView::of).collect()
}
