//! `/api/v1/campaigns/{id}/subscriptions`: subscriptions started by conversions,
//! addressed by the merchant's own id: list, look up, report a payment of a
//! `varied` one, cancel.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::conversions::page_limit;
use super::error::ErrorBody;
use super::{AppState, Json, Page, Query};
use crate::error::Result;
use crate::service::engine::Recorded;
use crate::service::subscriptions::{self, SubscriptionView};

const ACTOR: &str = "operator";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get))
        .routes(routes!(report_payment))
        .routes(routes!(cancel))
}

/// The campaign's subscriptions by id, a page at a time.
#[utoipa::path(
    get,
    path = "/campaigns/{id}/subscriptions",
    tag = "conversions",
    params(("id" = i64, Path, description = "Campaign id"), Page),
    responses(
        (status = 200, description = "The subscriptions", body = Vec<SubscriptionView>),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(page): Query<Page>,
) -> Result<impl IntoResponse> {
    let campaign = super::id("id", &id)?;
    Ok(axum::Json(subscriptions::list(&state.reader, campaign, page.after, page_limit(page.limit)?).await?))
}

/// One subscription, by the merchant's id.
#[utoipa::path(
    get,
    path = "/campaigns/{id}/subscriptions/{subscription}",
    tag = "conversions",
    params(
        ("id" = i64, Path, description = "Campaign id"),
        ("subscription" = String, Path, description = "The merchant's subscription id"),
    ),
    responses(
        (status = 200, description = "The subscription", body = SubscriptionView),
        (status = 404, description = "No such subscription", body = ErrorBody),
    )
)]
async fn get(
    State(state): State<AppState>,
    Path((id, subscription)): Path<(String, String)>,
) -> Result<impl IntoResponse> {
    Ok(axum::Json(subscriptions::get(&state.reader, super::id("id", &id)?, &subscription).await?))
}

/// A payment of a `varied` subscription, as the merchant reports it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct PaymentRequest {
    /// The merchant's id of the payment (1 to 200 characters): a repeated report of
    /// it is refused, so it pays once.
    payment_id: String,
    /// What was paid, in the subscription's currency (a decimal string).
    #[schema(value_type = String)]
    total: Decimal,
}

/// Records a payment of a `varied` subscription: a `recurring` conversion whose
/// commissions the campaign's plugins compute, credited to the subscription's
/// affiliate.
#[utoipa::path(
    post,
    path = "/campaigns/{id}/subscriptions/{subscription}/payments",
    tag = "conversions",
    params(
        ("id" = i64, Path, description = "Campaign id"),
        ("subscription" = String, Path, description = "The merchant's subscription id"),
    ),
    request_body = PaymentRequest,
    responses(
        (status = 201, description = "The payment's conversion and commissions", body = Recorded),
        (status = 400, description = "A field is invalid", body = ErrorBody),
        (status = 404, description = "No such subscription", body = ErrorBody),
        (status = 409, description = "The payment is recorded already, or the subscription is not `varied` or not active", body = ErrorBody),
    )
)]
async fn report_payment(
    State(state): State<AppState>,
    Path((id, subscription)): Path<(String, String)>,
    Json(payment): Json<PaymentRequest>,
) -> Result<impl IntoResponse> {
    let campaign = super::id("id", &id)?;
    let recorded =
        subscriptions::report_payment(&state, campaign, &subscription, &payment.payment_id, payment.total).await?;
    Ok((StatusCode::CREATED, axum::Json(recorded)))
}

/// Cancels a subscription: no payment falls due after this.
#[utoipa::path(
    post,
    path = "/campaigns/{id}/subscriptions/{subscription}/cancel",
    tag = "conversions",
    params(
        ("id" = i64, Path, description = "Campaign id"),
        ("subscription" = String, Path, description = "The merchant's subscription id"),
    ),
    responses(
        (status = 200, description = "The cancelled subscription", body = SubscriptionView),
        (status = 404, description = "No such subscription", body = ErrorBody),
        (status = 409, description = "It is cancelled or ended already", body = ErrorBody),
    )
)]
async fn cancel(
    State(state): State<AppState>,
    Path((id, subscription)): Path<(String, String)>,
) -> Result<impl IntoResponse> {
    let campaign = super::id("id", &id)?;
    Ok(axum::Json(subscriptions::cancel(&state.db, campaign, &subscription, ACTOR, state.clock.now()).await?))
}
