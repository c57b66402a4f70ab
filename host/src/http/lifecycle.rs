//! Commission decisions (single and bulk), payouts, and refunds.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use rust_decimal::Decimal;
use serde::Deserialize;
use upline_types::Currency;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::{AppState, Json, Query};
use crate::domain::campaign::invalid;
use crate::domain::money::parse_amount;
use crate::error::Result;
use crate::service::engine::CommissionView;
use crate::service::lifecycle::{self, Decision, PayoutFilter, PayoutView};

const ACTOR: &str = "operator";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(approve_one))
        .routes(routes!(decline_one))
        .routes(routes!(approve_many))
        .routes(routes!(decline_many))
        .routes(routes!(pay_out, payouts))
        .routes(routes!(refund))
}

/// Why a commission is declined.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Reason {
    /// 1 to 1000 characters.
    reason: String,
}

/// Commissions to approve or decline at once.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Ids {
    /// 1 to 10000 commission ids; all are decided or none.
    ids: Vec<i64>,
    /// Why (1 to 1000 characters); required to decline.
    #[serde(default)]
    reason: Option<String>,
}

/// Approves a pending commission.
#[utoipa::path(
    post,
    path = "/commissions/{id}/approve",
    tag = "lifecycle",
    params(("id" = i64, Path, description = "Commission id")),
    responses(
        (status = 200, description = "The approved commission", body = CommissionView),
        (status = 400, description = "The id is not an id", body = ErrorBody),
        (status = 404, description = "No such commission", body = ErrorBody),
        (status = 409, description = "The commission is not pending", body = ErrorBody),
    )
)]
async fn approve_one(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let id = super::id("id", &id)?;
    Ok(axum::Json(lifecycle::decide(&state.db, &[id], &Decision::Approve, ACTOR, state.clock.now()).await?.remove(0)))
}

/// Declines a pending commission.
#[utoipa::path(
    post,
    path = "/commissions/{id}/decline",
    tag = "lifecycle",
    params(("id" = i64, Path, description = "Commission id")),
    responses(
        (status = 200, description = "The declined commission", body = CommissionView),
        (status = 400, description = "The id or the reason is invalid", body = ErrorBody),
        (status = 404, description = "No such commission", body = ErrorBody),
        (status = 409, description = "The commission is not pending", body = ErrorBody),
    )
)]
async fn decline_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<Reason>,
) -> Result<impl IntoResponse> {
    let (id, decision) = (super::id("id", &id)?, Decision::decline(Some(body.reason))?);
    Ok(axum::Json(lifecycle::decide(&state.db, &[id], &decision, ACTOR, state.clock.now()).await?.remove(0)))
}

/// Approves pending commissions, all or none.
#[utoipa::path(
    post,
    path = "/commissions/approve",
    tag = "lifecycle",
    responses(
        (status = 200, description = "The approved commissions", body = Vec<CommissionView>),
        (status = 400, description = "The ids are invalid", body = ErrorBody),
        (status = 404, description = "A commission does not exist", body = ErrorBody),
        (status = 409, description = "A commission is not pending", body = ErrorBody),
    )
)]
async fn approve_many(State(state): State<AppState>, Json(body): Json<Ids>) -> Result<impl IntoResponse> {
    Ok(axum::Json(lifecycle::decide(&state.db, &body.ids, &Decision::Approve, ACTOR, state.clock.now()).await?))
}

/// Declines pending commissions, all or none.
#[utoipa::path(
    post,
    path = "/commissions/decline",
    tag = "lifecycle",
    responses(
        (status = 200, description = "The declined commissions", body = Vec<CommissionView>),
        (status = 400, description = "The ids or the reason are invalid", body = ErrorBody),
        (status = 404, description = "A commission does not exist", body = ErrorBody),
        (status = 409, description = "A commission is not pending", body = ErrorBody),
    )
)]
async fn decline_many(State(state): State<AppState>, Json(body): Json<Ids>) -> Result<impl IntoResponse> {
    let decision = Decision::decline(body.reason)?;
    Ok(axum::Json(lifecycle::decide(&state.db, &body.ids, &decision, ACTOR, state.clock.now()).await?))
}

/// Which balances to pay.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PayoutRequest {
    /// ISO 4217 code: only commissions in this currency are paid.
    currency: String,
    /// The smallest balance paid, a decimal string, e.g. `"50.00"`.
    minimum: Decimal,
}

/// Pays every affiliate whose approved, unpaid commissions in the currency add up to
/// at least the minimum; the commissions become `paid`.
#[utoipa::path(
    post,
    path = "/payouts",
    tag = "lifecycle",
    responses(
        (status = 201, description = "The payouts made", body = Vec<PayoutView>),
        (status = 400, description = "The currency or the minimum is invalid", body = ErrorBody),
    )
)]
async fn pay_out(State(state): State<AppState>, Json(body): Json<PayoutRequest>) -> Result<impl IntoResponse> {
    let currency = Currency::from_code(&body.currency).map_err(|err| invalid("currency", err.message()))?;
    let minimum = parse_amount("minimum", body.minimum, currency)?;
    let payouts = lifecycle::pay_out(&state.db, minimum, ACTOR, state.clock.now()).await?;
    Ok((StatusCode::CREATED, axum::Json(payouts)))
}

/// Payouts made, newest first, a page at a time (`before` the last id seen).
#[utoipa::path(
    get,
    path = "/payouts",
    tag = "lifecycle",
    params(PayoutFilter),
    responses(
        (status = 200, description = "The payouts", body = Vec<PayoutView>),
        (status = 400, description = "A query parameter is invalid", body = ErrorBody),
    )
)]
async fn payouts(State(state): State<AppState>, Query(filter): Query<PayoutFilter>) -> Result<impl IntoResponse> {
    Ok(axum::Json(lifecycle::payouts(&state.reader, &filter).await?))
}

/// A refund or chargeback of part or all of a conversion.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RefundRequest {
    /// How much of the commissionable total is refunded (not yet refunded, above 0), a
    /// decimal string.
    amount: Decimal,
    /// The conversion's currency.
    currency: String,
    /// A chargeback rather than a refund.
    #[serde(default)]
    chargeback: bool,
}

/// Refunds a conversion: its commissions are reversed in proportion.
#[utoipa::path(
    post,
    path = "/conversions/{id}/refund",
    tag = "lifecycle",
    params(("id" = i64, Path, description = "Conversion id")),
    responses(
        (status = 201, description = "The reversing commissions", body = Vec<CommissionView>),
        (status = 400, description = "The id, the amount or the currency is invalid", body = ErrorBody),
        (status = 404, description = "No such conversion", body = ErrorBody),
    )
)]
async fn refund(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<RefundRequest>,
) -> Result<impl IntoResponse> {
    let currency = Currency::from_code(&body.currency).map_err(|err| invalid("currency", err.message()))?;
    let kind = if body.chargeback { "chargeback" } else { "refund" };
    let amount = parse_amount("amount", body.amount, currency)?;
    let reversals = lifecycle::refund(&state.db, super::id("id", &id)?, amount, kind, ACTOR, state.clock.now()).await?;
    Ok((StatusCode::CREATED, axum::Json(reversals)))
}
