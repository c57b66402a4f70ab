//! `/api/v1/campaigns/{campaign}/coupons` and `/api/v1/coupons/{id}`: coupon codes
//! assigned to affiliates.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get};
use serde::Deserialize;

use super::{AppState, Json};
use crate::error::Result;
use crate::service::coupons;

pub fn router() -> Router<AppState> {
    Router::new().route("/campaigns/{campaign}/coupons", get(list).post(create)).route("/coupons/{id}", delete(remove))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CouponRequest {
    affiliate: i64,
    code: String,
}

async fn create(
    State(state): State<AppState>,
    Path(campaign): Path<String>,
    Json(request): Json<CouponRequest>,
) -> Result<impl IntoResponse> {
    let campaign = super::id("campaign", &campaign)?;
    let coupon = coupons::create(&state.db, campaign, request.affiliate, &request.code).await?;
    Ok((StatusCode::CREATED, axum::Json(coupon)))
}

async fn list(State(state): State<AppState>, Path(campaign): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(coupons::list(&state.db, super::id("campaign", &campaign)?).await?))
}

async fn remove(State(state): State<AppState>, Path(id): Path<String>) -> Result<StatusCode> {
    coupons::delete(&state.db, super::id("id", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
