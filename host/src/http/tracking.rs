//! Public tracking endpoints (no API key): the redirect link, click recording for
//! the JS snippet, and the snippet itself.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::{AppState, Json, Query};
use crate::domain::campaign::invalid;
use crate::domain::conversion::ConversionRequest;
use crate::error::Result;
use crate::service::engine::Mode;
use crate::service::tracking;

/// The snippet merchants put on their pages.
const SNIPPET: &str = include_str!("snippet.js");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/r/{campaign}/{affiliate}", get(redirect))
        .route("/t/clicks", post(click))
        .route("/t/conversions", post(conversion))
        .route("/t/snippet.js", get(snippet))
        .layer(tower_http::cors::CorsLayer::permissive())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RedirectQuery {
    to: String,
}

/// Records the click and sends the visitor on to the merchant's page, with the click
/// token in the `upline_click` parameter for the snippet to keep.
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ClickRequest {
    campaign: i64,
    affiliate: i64,
    #[serde(default)]
    landing_url: Option<String>,
    #[serde(default)]
    referrer: Option<String>,
}

/// Records a click from the snippet (the visitor arrived with `?aff=<affiliate>`).
async fn click(State(state): State<AppState>, Json(request): Json<ClickRequest>) -> Result<impl IntoResponse> {
    let config = state.cache.current(&state.db, &state.registry).await?;
    let (campaign, affiliate) = (request.campaign, request.affiliate);
    let click =
        tracking::click(&config, &state.clicks, campaign, affiliate, request.landing_url, request.referrer).await?;
    Ok((StatusCode::CREATED, axum::Json(click)))
}

/// What the browser learns about a conversion it reported: not the commissions.
#[derive(Serialize)]
struct Receipt {
    id: i64,
    status: String,
}

/// Records a conversion reported by the snippet on the merchant's page (no API key).
/// A browser cannot name the affiliate: the conversion is credited by the visitor's
/// click token or an affiliate's coupon, and approval rules decide the rest.
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

async fn snippet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=300")], SNIPPET)
}
