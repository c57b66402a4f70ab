//! `/api/v1/conversions` (server-to-server, with an API key) and `/api/v1/commissions`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::{AppState, Json, Query};
use crate::domain::conversion::{ConversionRequest, NewConversion, Source};
use crate::error::Result;
use crate::service::conversions::{self, ConversionFilter};
use crate::service::engine::{self, CommissionView, ConversionView, Prepared, Recorded};
use crate::service::lifecycle::{self, CommissionFilter};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(record, list_conversions))
        .routes(routes!(simulate))
        .routes(routes!(reprocess))
        .routes(routes!(show))
        .routes(routes!(list))
}

/// A stored conversion and its commissions; a flagged or rejected one with its plugin
/// calls (what each plugin logged and what the call cost).
#[utoipa::path(
    get,
    path = "/conversions/{id}",
    tag = "conversions",
    params(("id" = i64, Path, description = "Conversion id")),
    responses(
        (status = 200, description = "The conversion and its commissions", body = Recorded),
        (status = 400, description = "The id is not an id", body = ErrorBody),
        (status = 404, description = "No such conversion", body = ErrorBody),
    )
)]
async fn show(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(conversions::get(&state.reader, super::id("id", &id)?).await?))
}

/// Conversions, oldest first, a page at a time (`after` the last id seen).
#[utoipa::path(
    get,
    path = "/conversions",
    tag = "conversions",
    params(ConversionFilter),
    responses(
        (status = 200, description = "The conversions", body = Vec<ConversionView>),
        (status = 400, description = "A query parameter is invalid", body = ErrorBody),
    )
)]
async fn list_conversions(
    State(state): State<AppState>,
    Query(filter): Query<ConversionFilter>,
) -> Result<impl IntoResponse> {
    Ok(axum::Json(conversions::list(&state.reader, &filter).await?))
}

/// Computes a flagged conversion again with the campaign's current plugins and their
/// configuration (once the plugin or its configuration is fixed), keeping its id and
/// order id: its commissions are stored once, or it stays flagged with the new reason.
#[utoipa::path(
    post,
    path = "/conversions/{id}/reprocess",
    tag = "conversions",
    params(("id" = i64, Path, description = "Conversion id")),
    responses(
        (status = 200, description = "The conversion and its commissions, or it flagged again", body = Recorded),
        (status = 400, description = "The id is not an id", body = ErrorBody),
        (status = 404, description = "No such conversion", body = ErrorBody),
        (status = 409, description = "The conversion is not flagged (or was reprocessed meanwhile)", body = ErrorBody),
    )
)]
async fn reprocess(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let config = state.cache.current(&state.db, &state.registry).await?;
    Ok(axum::Json(state.engine.reprocess(&state.reader, &config, super::id("id", &id)?).await?))
}

/// Records a conversion; 201 with its commissions, or with `status: failed` and the
/// error when a plugin failed (the conversion is kept for retry or review). An order
/// the snippet reported first is superseded: the merchant's report wins.
#[utoipa::path(
    post,
    path = "/conversions",
    tag = "conversions",
    responses(
        (status = 201, description = "The stored conversion and its commissions", body = Recorded),
        (status = 400, description = "A field is invalid, or the campaign, affiliate or click is unknown", body = ErrorBody),
        (status = 409, description = "The campaign already has a conversion with this order id, or a subscription with its `subscription.id`", body = ErrorBody),
    )
)]
async fn record(State(state): State<AppState>, Json(request): Json<ConversionRequest>) -> Result<impl IntoResponse> {
    let recorded = state.engine.record(prepare(&state, request, Source::Server).await?).await?;
    Ok((StatusCode::CREATED, axum::Json(recorded)))
}

/// Checks a conversion request against its campaign (whose currency is the
/// default) and prepares it for the engine. A browser's report that is well-formed
/// and attributed takes one of the campaign's daily share.
pub async fn prepare(state: &AppState, request: ConversionRequest, source: Source) -> Result<Prepared> {
    let config = state.cache.current(&state.db, &state.registry).await?;
    let campaign = config.campaign(request.campaign()).await?;
    let new = NewConversion { source, ..request.parse(&campaign.currency)? };
    let prepared = engine::prepare(&state.reader, &config, new, state.clock.now()).await?;
    if source == Source::Browser {
        crate::service::tracking::reserve_browser_report(&state.db, &campaign, state.clock.now()).await?;
    }
    Ok(prepared)
}

/// Runs a hypothetical conversion through the campaign's current plugins and returns
/// the commissions and their trail, writing nothing.
#[utoipa::path(
    post,
    path = "/simulate",
    tag = "conversions",
    responses(
        (status = 200, description = "What recording it would store (every id is 0)", body = Recorded),
        (status = 400, description = "A field is invalid, or the campaign, affiliate or click is unknown", body = ErrorBody),
    )
)]
async fn simulate(State(state): State<AppState>, Json(request): Json<ConversionRequest>) -> Result<impl IntoResponse> {
    Ok(axum::Json(state.engine.simulate(prepare(&state, request, Source::Server).await?).await?))
}

pub use crate::domain::page_limit;

/// Commissions, oldest first, a page at a time (`after` the last id seen).
#[utoipa::path(
    get,
    path = "/commissions",
    tag = "conversions",
    params(CommissionFilter),
    responses(
        (status = 200, description = "The commissions", body = Vec<CommissionView>),
        (status = 400, description = "A query parameter is invalid", body = ErrorBody),
    )
)]
async fn list(State(state): State<AppState>, Query(filter): Query<CommissionFilter>) -> Result<impl IntoResponse> {
    Ok(axum::Json(lifecycle::list(&state.reader, &filter).await?))
}
