//! Public tracking endpoints (no API key): the redirect link, click recording for
//! the JS snippet, and the snippet itself.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::{AppState, Json, Query};
use crate::domain::campaign::invalid;
use crate::domain::conversion::ConversionRequest;
use crate::error::Result;
use crate::service::engine::Mode;
use crate::service::tracking::{self, Click};

/// The snippet merchants put on their pages.
const SNIPPET: &str = include_str!("snippet.js");

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(redirect))
        .routes(routes!(click))
        .routes(routes!(conversion))
        .routes(routes!(snippet))
        .layer(tower_http::cors::CorsLayer::permissive())
}

/// Where the referral link leads.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct RedirectQuery {
    /// The merchant's page: an http(s) URL of at most 2000 characters.
    to: String,
}

/// Records the click and sends the visitor on to the merchant's page, with the click
/// token in the `upline_click` parameter for the snippet to keep.
#[utoipa::path(
    get,
    path = "/r/{campaign}/{affiliate}",
    tag = "tracking",
    params(
        ("campaign" = i64, Path, description = "Campaign id"),
        ("affiliate" = i64, Path, description = "Affiliate id"),
        RedirectQuery,
    ),
    responses(
        (status = 303, description = "To the merchant's page", headers(("location" = String, description = "`to` with `upline_click=<token>` added"))),
        (status = 400, description = "An id or `to` is invalid, or the campaign or affiliate is unknown", body = ErrorBody),
    )
)]
async fn redirect(
    State(state): State<AppState>,
    Path((campaign, affiliate)): Path<(String, String)>,
    Query(query): Query<RedirectQuery>,
    headers: HeaderMap,
) -> Result<impl IntoResponse> {
    let (campaign, affiliate) = (super::id("campaign", &campaign)?, super::id("affiliate", &affiliate)?);
    if !(query.to.starts_with("https://") || query.to.starts_with("http://")) || query.to.len() > 2000 {
        return Err(invalid("to", "must be an http(s) URL of at most 2000 characters"));
    }
    let referrer = headers.get(header::REFERER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let config = state.cache.current(&state.db, &state.registry).await?;
    let click = tracking::click(&config, &state.clicks, campaign, affiliate, Some(query.to.clone()), referrer).await?;
    let separator = if query.to.contains('?') { '&' } else { '?' };
    Ok(Redirect::to(&format!("{}{separator}upline_click={}", query.to, click.token)))
}

/// A click the snippet saw.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ClickRequest {
    /// Campaign id.
    campaign: i64,
    /// Affiliate id.
    affiliate: i64,
    /// The page the visitor landed on.
    #[serde(default)]
    landing_url: Option<String>,
    /// The page the visitor came from.
    #[serde(default)]
    referrer: Option<String>,
}

/// Records a click from the snippet (the visitor arrived with `?aff=<affiliate>`).
#[utoipa::path(
    post,
    path = "/t/clicks",
    tag = "tracking",
    responses(
        (status = 201, description = "The click, and the cookie to keep", body = Click),
        (status = 400, description = "A field is invalid, or the campaign or affiliate is unknown", body = ErrorBody),
    )
)]
async fn click(State(state): State<AppState>, Json(request): Json<ClickRequest>) -> Result<impl IntoResponse> {
    let config = state.cache.current(&state.db, &state.registry).await?;
    let (campaign, affiliate) = (request.campaign, request.affiliate);
    let click =
        tracking::click(&config, &state.clicks, campaign, affiliate, request.landing_url, request.referrer).await?;
    Ok((StatusCode::CREATED, axum::Json(click)))
}

/// What the browser learns about a conversion it reported: not the commissions.
#[derive(Serialize, ToSchema)]
struct Receipt {
    /// The conversion's id.
    id: i64,
    /// `processed`, or `failed` when a plugin failed (the conversion is kept).
    status: String,
}

/// Records a conversion reported by the snippet on the merchant's page (no API key).
/// A browser cannot name the affiliate: the conversion is credited by the visitor's
/// click token or an affiliate's coupon, and approval rules decide the rest.
#[utoipa::path(
    post,
    path = "/t/conversions",
    tag = "tracking",
    responses(
        (status = 201, description = "Stored (or stored and flagged)", body = Receipt),
        (status = 400, description = "A field is invalid, the affiliate is named, or there is no click token or coupon", body = ErrorBody),
        (status = 409, description = "The campaign already has a conversion with this order id", body = ErrorBody),
    )
)]
async fn conversion(
    State(state): State<AppState>,
    Json(request): Json<ConversionRequest>,
) -> Result<impl IntoResponse> {
    if request.names_affiliate() {
        return Err(invalid("affiliate", "the browser cannot name the affiliate: send the click token or a coupon"));
    }
    let recorded = super::conversions::run(&state, request, Mode::Record).await?;
    let receipt = Receipt { id: recorded.conversion.id, status: recorded.conversion.status };
    Ok((StatusCode::CREATED, axum::Json(receipt)))
}

/// The JavaScript snippet merchants put on their pages.
#[utoipa::path(
    get,
    path = "/t/snippet.js",
    tag = "tracking",
    responses((status = 200, description = "The snippet", body = String, content_type = "application/javascript"))
)]
async fn snippet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=300")], SNIPPET)
}
