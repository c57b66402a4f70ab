//! `/api/v1/webhooks`: endpoints that get events, and their deliveries.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::{AppState, Json, Page, Query};
use crate::error::Result;
use crate::service::webhooks::{self, DeliveryView, EndpointView};

const ACTOR: &str = "operator";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(register, list)).routes(routes!(remove)).routes(routes!(deliveries))
}

/// An endpoint to register.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewEndpoint {
    /// Where events are POSTed (http or https).
    url: String,
    /// The events it wants: `commission.created`, `commission.approved`,
    /// `commission.declined`, `commission.paid`, `affiliate.group-changed`,
    /// `award.granted`. Left out: all of them.
    events: Option<Vec<String>>,
}

/// Registers an endpoint; the answer holds the secret its deliveries are signed with.
#[utoipa::path(
    post,
    path = "/webhooks",
    tag = "webhooks",
    request_body = NewEndpoint,
    responses(
        (status = 201, description = "The endpoint, with its signing secret", body = EndpointView),
        (status = 400, description = "The URL or an event is invalid (the field is named)", body = ErrorBody),
    )
)]
async fn register(State(state): State<AppState>, Json(new): Json<NewEndpoint>) -> Result<impl IntoResponse> {
    let endpoint = webhooks::register(&state.db, &new.url, new.events, ACTOR, state.clock.now()).await?;
    Ok((StatusCode::CREATED, axum::Json(endpoint)))
}

/// The registered endpoints, removed ones included.
#[utoipa::path(
    get,
    path = "/webhooks",
    tag = "webhooks",
    responses((status = 200, description = "The endpoints", body = Vec<EndpointView>))
)]
async fn list(State(state): State<AppState>) -> Result<impl IntoResponse> {
    Ok(axum::Json(webhooks::list(&state.reader).await?))
}

/// Removes an endpoint: nothing more is queued or sent to it.
#[utoipa::path(
    delete,
    path = "/webhooks/{id}",
    tag = "webhooks",
    params(("id" = i64, Path, description = "Endpoint id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such endpoint", body = ErrorBody),
    )
)]
async fn remove(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse> {
    webhooks::remove(&state.db, super::id("id", &id)?, ACTOR, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An endpoint's deliveries with their attempts, oldest first, a page at a time.
#[utoipa::path(
    get,
    path = "/webhooks/{id}/deliveries",
    tag = "webhooks",
    params(("id" = i64, Path, description = "Endpoint id"), Page),
    responses(
        (status = 200, description = "The deliveries", body = Vec<DeliveryView>),
        (status = 404, description = "No such endpoint", body = ErrorBody),
    )
)]
async fn deliveries(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(page): Query<Page>,
) -> Result<impl IntoResponse> {
    let limit = super::conversions::page_limit(page.limit)?;
    let id = super::id("id", &id)?;
    Ok(axum::Json(webhooks::deliveries(&state.reader, id, page.after.unwrap_or(0), limit).await?))
}
