//! Coupon codes assigned to affiliates: a sale that carries one is credited to the
//! affiliate without a click cookie. Codes are unique per campaign and matched
//! case-insensitively (stored upper-cased).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
    SqlErr, TransactionTrait,
};
use serde::Serialize;

use super::audit::{self, json};
use crate::db::entity::{affiliate, campaign, coupon};
use crate::domain::campaign::invalid;
use crate::error::{Error, Result};

/// A coupon as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Coupon {
    /// Id.
    pub id: i64,
    /// Campaign.
    pub campaign: i64,
    /// The affiliate credited.
    pub affiliate: i64,
    /// The code (upper-cased).
    pub code: String,
}

impl From<coupon::Model> for Coupon {
    fn from(row: coupon::Model) -> Self {
        Self { id: row.id, campaign: row.campaign_id, affiliate: row.affiliate_id, code: row.code }
    }
}

/// The stored form of a code: trimmed and upper-cased.
fn normalize(code: &str) -> String {
    code.trim().to_uppercase()
}

/// Assigns `code` in `campaign_id` to `affiliate_id`.
pub async fn create(
    db: &DatabaseConnection,
    campaign_id: i64,
    affiliate_id: i64,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Coupon> {
    let code = normalize(code);
    if code.is_empty() || code.len() > 64 || code.chars().any(char::is_whitespace) {
        return Err(invalid("code", "must be 1 to 64 characters without spaces"));
    }
    let txn = db.begin().await?;
    let db = &txn;
    campaign::Entity::find_by_id(campaign_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "campaign", id: campaign_id.to_string() })?;
    affiliate::Entity::find_by_id(affiliate_id)
        .one(db)
        .await?
        .ok_or_else(|| invalid("affiliate", format!("affiliate {affiliate_id} does not exist")))?;
    let row = coupon::ActiveModel {
        campaign_id: Set(campaign_id),
        affiliate_id: Set(affiliate_id),
        code: Set(code.clone()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|err| match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => Error::Conflict {
            field: "code".into(),
            message: format!("coupon {code} is already assigned in campaign {campaign_id}"),
        },
        _ => err.into(),
    })?;
    let created = Coupon::from(row);
    audit::record(db, now, "operator", "coupon.create", ("coupon", created.id), None, Some(json(&created))).await?;
    txn.commit().await?;
    Ok(created)
}

/// The campaign's coupons, by code.
pub async fn list(db: &impl ConnectionTrait, campaign_id: i64) -> Result<Vec<Coupon>> {
    let rows = coupon::Entity::find()
        .filter(coupon::Column::CampaignId.eq(campaign_id))
        .order_by_asc(coupon::Column::Code)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(Coupon::from).collect())
}

/// The affiliate's coupons in every campaign, by campaign and code.
pub async fn of_affiliate(db: &impl ConnectionTrait, affiliate_id: i64) -> Result<Vec<Coupon>> {
    let rows = coupon::Entity::find()
        .filter(coupon::Column::AffiliateId.eq(affiliate_id))
        .order_by_asc(coupon::Column::CampaignId)
        .order_by_asc(coupon::Column::Code)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(Coupon::from).collect())
}

/// Withdraws a coupon: later sales with the code are no longer credited by it.
pub async fn delete(db: &DatabaseConnection, id: i64, now: DateTime<Utc>) -> Result<()> {
    let txn = db.begin().await?;
    let db = &txn;
    let row = coupon::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "coupon", id: id.to_string() })?;
    coupon::Entity::delete_by_id(id).exec(db).await?;
    audit::record(db, now, "operator", "coupon.delete", ("coupon", id), Some(json(&Coupon::from(row))), None).await?;
    Ok(txn.commit().await?)
}

/// The affiliate a coupon code credits in the campaign, if the code is assigned.
pub async fn affiliate_of(db: &impl ConnectionTrait, campaign_id: i64, code: &str) -> Result<Option<i64>> {
    let row = coupon::Entity::find()
        .filter(coupon::Column::CampaignId.eq(campaign_id))
        .filter(coupon::Column::Code.eq(normalize(code)))
        .one(db)
        .await?;
    Ok(row.map(|row| row.affiliate_id))
}
