//! Reading stored conversions: one with its commissions, or a filtered page of them.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::engine::{CommissionView, ConversionView, Recorded};
use crate::db::entity::{commission, conversion};
use crate::error::{Error, Result};

/// A stored conversion's statuses.
pub const STATUSES: [&str; 4] = ["processed", "failed", "rejected", "superseded"];

/// Which conversions to list, oldest first, a page at a time: all (up to `limit`)
/// when empty.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[into_params(parameter_in = Query)]
pub struct ConversionFilter {
    /// Only this campaign's.
    pub campaign: Option<i64>,
    /// Only those credited to this affiliate.
    pub affiliate: Option<i64>,
    /// Only in this status: `processed`, `failed`, `rejected` or `superseded`.
    pub status: Option<String>,
    /// Only the one with this order id.
    pub order_id: Option<String>,
    /// Only those with a larger id: the last id of the previous page.
    pub after: Option<i64>,
    /// At most this many (1 to 1000; default 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
}

/// The conversions `filter` selects, oldest first.
pub async fn list(db: &impl ConnectionTrait, filter: &ConversionFilter) -> Result<Vec<ConversionView>> {
    let mut query = conversion::Entity::find().order_by_asc(conversion::Column::Id);
    if let Some(campaign) = filter.campaign {
        query = query.filter(conversion::Column::CampaignId.eq(campaign));
    }
    if let Some(affiliate) = filter.affiliate {
        query = query.filter(conversion::Column::AffiliateId.eq(affiliate));
    }
    if let Some(status) = &filter.status {
        if !STATUSES.contains(&status.as_str()) {
            let message = format!("must be one of {}", STATUSES.join(", "));
            return Err(Error::InvalidInput { field: "status".into(), message });
        }
        query = query.filter(conversion::Column::Status.eq(status.as_str()));
    }
    if let Some(order_id) = &filter.order_id {
        query = query.filter(conversion::Column::OrderId.eq(order_id.as_str()));
    }
    if let Some(after) = filter.after {
        query = query.filter(conversion::Column::Id.gt(after));
    }
    let rows = query.limit(crate::domain::page_limit(filter.limit)?).all(db).await?;
    rows.iter().map(ConversionView::of).collect()
}

/// A stored conversion and its commissions.
pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Recorded> {
    let row = conversion::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "conversion", id: id.to_string() })?;
    let commissions = commission::Entity::find()
        .filter(commission::Column::ConversionId.eq(id))
        .order_by_asc(commission::Column::Id)
        .all(db)
        .await?;
    Ok(Recorded {
        conversion: ConversionView::of(&row)?,
        commissions: commissions.into_iter().map(CommissionView::of).collect::<Result<_>>()?,
        plugin_calls: None,
    })
}
