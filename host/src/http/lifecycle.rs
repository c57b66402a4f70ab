//! Commission decisions (single and bulk), payouts, and refunds.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use rust_decimal::Decimal;
use serde::Deserialize;
use upline_plugin_sdk::{Currency, Money};

use super::{AppState, Json};
use crate::domain::campaign::invalid;
use crate::error::Result;
use crate::service::lifecycle::{self, Decision};

const ACTOR: &str = "operator";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/commissions/{id}/approve", post(approve_one))
        .route("/commissions/{id}/decline", post(decline_one))
        .route("/commissions/approve", post(approve_many))
        .route("/commissions/decline", post(decline_many))
        .route("/payouts", post(pay_out))
        .route("/conversions/{id}/refund", post(refund))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reason {
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Ids {
    ids: Vec<i64>,
    #[serde(default)]
    reason: Option<String>,
}

fn reason(reason: Option<String>) -> Result<String> {
    match reason.map(|r| r.trim().to_owned()) {
        Some(r) if !r.is_empty() && r.len() <= 1000 => Ok(r),
        _ => Err(invalid("reason", "a decline needs a reason of 1 to 1000 characters")),
    }
}

async fn approve_one(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let id = super::id("id", &id)?;
    Ok(axum::Json(lifecycle::decide(&state.db, &[id], &Decision::Approve, ACTOR).await?.remove(0)))
}

async fn decline_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<Reason>,
) -> Result<impl IntoResponse> {
    let (id, decision) = (super::id("id", &id)?, Decision::Decline(reason(Some(body.reason))?));
    Ok(axum::Json(lifecycle::decide(&state.db, &[id], &decision, ACTOR).await?.remove(0)))
}

async fn approve_many(State(state): State<AppState>, Json(body): Json<Ids>) -> Result<impl IntoResponse> {
    Ok(axum::Json(lifecycle::decide(&state.db, &body.ids, &Decision::Approve, ACTOR).await?))
}

async fn decline_many(State(state): State<AppState>, Json(body): Json<Ids>) -> Result<impl IntoResponse> {
    let decision = Decision::Decline(reason(body.reason)?);
    Ok(axum::Json(lifecycle::decide(&state.db, &body.ids, &decision, ACTOR).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PayoutRequest {
    currency: String,
    minimum: Decimal,
}

async fn pay_out(State(state): State<AppState>, Json(body): Json<PayoutRequest>) -> Result<impl IntoResponse> {
    let currency = Currency::from_code(&body.currency).map_err(|err| invalid("currency", err.message()))?;
    if body.minimum.is_sign_negative() {
        return Err(invalid("minimum", "must not be negative"));
    }
    let payouts = lifecycle::pay_out(&state.db, Money::new(body.minimum, currency), ACTOR).await?;
    Ok((StatusCode::CREATED, axum::Json(payouts)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RefundRequest {
    amount: Decimal,
    currency: String,
    #[serde(default)]
    chargeback: bool,
}

async fn refund(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<RefundRequest>,
) -> Result<impl IntoResponse> {
    let currency = Currency::from_code(&body.currency).map_err(|err| invalid("currency", err.message()))?;
    let kind = if body.chargeback { "chargeback" } else { "refund" };
    let reversals =
        lifecycle::refund(&state.db, super::id("id", &id)?, Money::new(body.amount, currency), kind, ACTOR).await?;
    Ok((StatusCode::CREATED, axum::Json(reversals)))
}
