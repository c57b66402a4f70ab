//! `/api/v1/campaigns/{campaign}/coupons` and `/api/v1/coupons/{id}`: coupon codes
//! assigned to affiliates.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::{AppState, Json};
use crate::error::Result;
use crate::service::coupons::{self, Coupon};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(remove))
}

/// A code to assign.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CouponRequest {
    /// The affiliate credited with sales using the code.
    affiliate: i64,
    /// The code: 1 to 64 characters without spaces, matched case-insensitively.
    code: String,
}

/// Assigns a coupon code to an affiliate in the campaign.
#[utoipa::path(
    post,
    path = "/campaigns/{campaign}/coupons",
    tag = "coupons",
    params(("campaign" = i64, Path, description = "Campaign id")),
    responses(
        (status = 201, description = "The coupon", body = Coupon),
        (status = 400, description = "A field is invalid, or the affiliate is unknown", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "The code is already assigned in the campaign", body = ErrorBody),
    )
)]
async fn create(
    State(state): State<AppState>,
    Path(campaign): Path<String>,
    Json(request): Json<CouponRequest>,
) -> Result<impl IntoResponse> {
    let campaign = super::id("campaign", &campaign)?;
    let coupon = coupons::create(&state.db, campaign, request.affiliate, &request.code, state.clock.now()).await?;
    Ok((StatusCode::CREATED, axum::Json(coupon)))
}

/// The campaign's coupons, by code.
#[utoipa::path(
    get,
    path = "/campaigns/{campaign}/coupons",
    tag = "coupons",
    params(("campaign" = i64, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "The coupons", body = Vec<Coupon>),
        (status = 400, description = "The id is invalid", body = ErrorBody),
    )
)]
async fn list(State(state): State<AppState>, Path(campaign): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(coupons::list(&state.reader, super::id("campaign", &campaign)?).await?))
}

/// Withdraws a coupon: later sales with the code are not credited by it.
#[utoipa::path(
    delete,
    path = "/coupons/{id}",
    tag = "coupons",
    params(("id" = i64, Path, description = "Coupon id")),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 400, description = "The id is invalid", body = ErrorBody),
        (status = 404, description = "No such coupon", body = ErrorBody),
    )
)]
async fn remove(State(state): State<AppState>, Path(id): Path<String>) -> Result<StatusCode> {
    coupons::delete(&state.db, super::id("id", &id)?, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
