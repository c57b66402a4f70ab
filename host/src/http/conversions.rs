//! `/api/v1/conversions` (server-to-server, with an API key) and `/api/v1/commissions`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::{AppState, Json, Query};
use crate::db::entity::{commission, conversion};
use crate::domain::conversion::{ConversionRequest, NewConversion, Source};
use crate::error::{Error, Result};
use crate::service::engine::{self, CommissionView, Prepared, Recorded};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(record))
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
    let id = super::id("id", &id)?;
    let row = conversion::Entity::find_by_id(id)
        .one(&state.reader)
        .await?
        .ok_or(Error::NotFound { entity: "conversion", id: id.to_string() })?;
    let commissions = commission::Entity::find()
        .filter(commission::Column::ConversionId.eq(id))
        .order_by_asc(commission::Column::Id)
        .all(&state.reader)
        .await?;
    Ok(axum::Json(Recorded {
        conversion: engine::ConversionView::of(&row)?,
        commissions: commissions.into_iter().map(CommissionView::of).collect::<Result<_>>()?,
        plugin_calls: None,
    }))
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

/// Which commissions to list, a page at a time: all (up to `limit`) when empty.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct Filter {
    /// Only this campaign's.
    campaign: Option<i64>,
    /// Only this affiliate's.
    affiliate: Option<i64>,
    /// Only this conversion's.
    conversion: Option<i64>,
    /// Only those in this status.
    #[param(inline)]
    status: Option<crate::domain::CommissionStatus>,
    /// Only those with a larger id: the last id of the previous page.
    after: Option<i64>,
    /// At most this many (1 to 1000; default 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
}

/// The page size asked for, checked.
pub fn page_limit(limit: Option<u64>) -> Result<u64> {
    match limit.unwrap_or(1000) {
        limit @ 1..=1000 => Ok(limit),
        _ => Err(crate::domain::campaign::invalid("limit", "must be 1 to 1000")),
    }
}

/// Commissions, oldest first, a page at a time (`after` the last id seen).
#[utoipa::path(
    get,
    path = "/commissions",
    tag = "conversions",
    params(Filter),
    responses(
        (status = 200, description = "The commissions", body = Vec<CommissionView>),
        (status = 400, description = "A query parameter is invalid", body = ErrorBody),
    )
)]
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
    if let Some(after) = filter.after {
        query = query.filter(commission::Column::Id.gt(after));
    }
    let rows = query.limit(page_limit(filter.limit)?).all(&state.reader).await?;
    Ok(axum::Json(rows.into_iter().map(CommissionView::of).collect::<Result<Vec<_>>>()?))
}
