//! `/api/v1/conversions` (server-to-server, with an API key) and `/api/v1/commissions`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;

use super::{AppState, Json, Query};
use crate::db::entity::commission;
use crate::domain::conversion::ConversionRequest;
use crate::error::Result;
use crate::service::engine::{self, CommissionView, Mode, Recorded};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/conversions", post(record))
        .route("/simulate", post(simulate))
        .route("/commissions", get(list))
}

/// Records a conversion; 201 with its commissions, or with `status: failed` and the
/// error when a plugin failed (the conversion is kept for retry or review).
async fn record(State(state): State<AppState>, Json(request): Json<ConversionRequest>) -> Result<impl IntoResponse> {
    let recorded = run(&state, request, Mode::Record).await?;
    Ok((StatusCode::CREATED, axum::Json(recorded)))
}

/// Checks a conversion request against its campaign (whose currency is the
/// default) and runs it through the engine.
pub async fn run(state: &AppState, request: ConversionRequest, mode: Mode) -> Result<Recorded> {
    let config = state.cache.current(&state.db, &state.registry).await?;
    let campaign = config.campaign(request.campaign()).await?;
    let prepared = engine::prepare(&state.db, &config, request.parse(&campaign.currency)?).await?;
    match mode {
        Mode::Record => state.conversions.record(prepared).await,
        Mode::Simulate => engine::record(&state.db, &state.registry, prepared, mode).await,
    }
}

/// Runs a hypothetical conversion through the campaign's current plugins and returns
/// the commissions and their trail, writing nothing.
async fn simulate(State(state): State<AppState>, Json(request): Json<ConversionRequest>) -> Result<impl IntoResponse> {
    Ok(axum::Json(run(&state, request, Mode::Simulate).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Filter {
    campaign: Option<i64>,
    affiliate: Option<i64>,
    conversion: Option<i64>,
    status: Option<crate::domain::CommissionStatus>,
}

async fn list(State(state): State<AppState>, Query(filter): Query<Filter>) -> Result<impl IntoResponse> {
    let mut query = commission::Entity::find().order_by_asc(commission::Column::Id);
    if let Some(campaign) = filter.campaign {
        query = query.filter(commission::Column::CampaignId.eq(campaign));
    }
    if let Some(affiliate) = filter.affiliate {
        query = query.filter(commission::Column::AffiliateId.eq(affiliate));
    }
    if let Some(conversion) = filter.conversion {
        query = query.filter(commission::Column::ConversionId.eq(conversion));
    }
    if let Some(status) = filter.status {
        query = query.filter(commission::Column::Status.eq(status.as_str()));
    }
    let rows = query.all(&state.db).await?;
    Ok(axum::Json(rows.into_iter().map(CommissionView::of).collect::<Result<Vec<_>>>()?))
}
