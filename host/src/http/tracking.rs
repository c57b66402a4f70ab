//! Public tracking endpoints (no API key): the redirect link, click recording for
//! the JS snippet, and the snippet itself.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::{AppState, ClientIp, Json, Query, throttled};
use crate::domain::campaign::invalid;
use crate::domain::conversion::{ConversionRequest, Source};
use crate::error::{Error, Result};
use crate::service::config::Config;
use crate::service::tracking::{Click, Clicked, Visitor};

/// The snippet merchants put on their pages.
const SNIPPET: &str = include_str!("snippet.js");

/// The public tracking routes, each client within its rate limits.
pub fn router(state: AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(redirect))
        .routes(routes!(click))
        .routes(routes!(snippet))
        .routes(routes!(conversion))
        .route_layer(middleware::from_fn_with_state(state, throttled))
        .layer(tower_http::cors::CorsLayer::permissive())
}

/// Who is clicking.
fn visitor(ClientIp(ip): ClientIp, headers: &HeaderMap) -> Visitor {
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned);
    Visitor { ip, user_agent }
}

/// Where the referral link leads.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct RedirectQuery {
    /// The merchant's page: an http(s) URL on the campaign's landing URL's host or one
    /// of its allowed hosts; anything else (or nothing) leads to the landing URL.
    to: Option<String>,
}

/// Records the click and sends the visitor on to the merchant's page, with the click
/// token in the `upline_click` parameter for the snippet to keep. The page is `to`
/// when the campaign allows its host, else the campaign's landing URL: the link
/// cannot send visitors elsewhere. A repeated click of the same visitor within an
/// hour gets the earlier token and counts once; an obvious bot gets no token.
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
        (status = 303, description = "To the merchant's page", headers(("location" = String, description = "`to` or the landing URL, with `upline_click=<token>` added"))),
        (status = 400, description = "An id is invalid, the campaign or affiliate is unknown, or `to` is not allowed and the campaign has no landing URL", body = ErrorBody),
        (status = 429, description = "Too many requests from this client", body = ErrorBody),
    )
)]
async fn redirect(
    State(state): State<AppState>,
    Path((campaign, affiliate)): Path<(String, String)>,
    Query(query): Query<RedirectQuery>,
    client: ClientIp,
    headers: HeaderMap,
) -> Result<impl IntoResponse> {
    let (campaign, affiliate) = (super::id("campaign", &campaign)?, super::id("affiliate", &affiliate)?);
    let config = state.cache.current(&state.db, &state.registry).await?;
    let mut target = config.destinations(campaign).await?.target(query.to.as_deref()).ok_or_else(|| {
        invalid("to", format!("campaign {campaign} has no landing URL, and `to` is not on one of its allowed hosts"))
    })?;
    let referrer = headers.get(header::REFERER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let visitor = visitor(client, &headers);
    let landing = Some(target.to_string());
    match state.tracker.click(&config, (campaign, affiliate), &visitor, landing, referrer).await? {
        Clicked::Counted(click) | Clicked::Repeated(click) => {
            target.query_pairs_mut().append_pair("upline_click", &click.token);
        }
        Clicked::Bot => {}
    }
    Ok(Redirect::to(target.as_str()))
}

/// Refuses a browser's request from a page on a host the campaign does not allow (its
/// landing URL's or an allowed host), so no other site can make its visitors'
/// browsers report clicks or sales for the campaign. Requests without an `Origin`
/// (not from a page's script) pass; they are limited by the rest of the model
/// (`docs/security.md`).
async fn check_origin(config: &Config<'_>, headers: &HeaderMap, campaign: i64) -> Result<()> {
    let Some(origin) = headers.get(header::ORIGIN) else { return Ok(()) };
    let destinations = config.destinations(campaign).await?;
    let host = origin.to_str().ok().and_then(|origin| url::Url::parse(origin).ok());
    if host.as_ref().and_then(url::Url::host_str).is_some_and(|host| destinations.allows(host)) {
        return Ok(());
    }
    Err(Error::Forbidden(format!(
        "campaign {campaign} does not take requests from pages of {}: add the host to its `allowed-hosts`",
        origin.to_str().unwrap_or("that origin")
    )))
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
        (status = 200, description = "The visitor clicked this link within the hour: the same click", body = Click),
        (status = 204, description = "An obvious bot: not counted"),
        (status = 400, description = "A field is invalid, or the campaign or affiliate is unknown", body = ErrorBody),
        (status = 403, description = "The page's origin is not one of the campaign's hosts", body = ErrorBody),
        (status = 429, description = "Too many requests from this client", body = ErrorBody),
    )
)]
async fn click(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    Json(request): Json<ClickRequest>,
) -> Result<Response> {
    let config = state.cache.current(&state.db, &state.registry).await?;
    check_origin(&config, &headers, request.campaign).await?;
    let link = (request.campaign, request.affiliate);
    let visitor = visitor(client, &headers);
    Ok(match state.tracker.click(&config, link, &visitor, request.landing_url, request.referrer).await? {
        Clicked::Counted(click) => (StatusCode::CREATED, axum::Json(click)).into_response(),
        Clicked::Repeated(click) => (StatusCode::OK, axum::Json(click)).into_response(),
        Clicked::Bot => StatusCode::NO_CONTENT.into_response(),
    })
}

/// What the browser learns about a conversion it reported: not the commissions.
#[derive(Serialize, ToSchema)]
struct Receipt {
    /// The conversion's id.
    id: i64,
    /// `processed`, or `failed` when a plugin failed (the conversion is kept). Its
    /// commissions wait for the merchant's confirmation either way.
    status: String,
}

/// Records a conversion reported by the snippet on the merchant's page (no API key).
/// Anyone can send this, so: the browser cannot name the affiliate (the conversion is
/// credited by the visitor's click token or an affiliate's coupon), it must give the
/// order id (each order once), the campaign takes a capped number per day, and its
/// commissions are never approved automatically: they wait for the merchant's server
/// report of the same order, which supersedes this one, or for an operator.
#[utoipa::path(
    post,
    path = "/t/conversions",
    tag = "tracking",
    responses(
        (status = 201, description = "Stored (or stored and flagged)", body = Receipt),
        (status = 400, description = "A field is invalid, the affiliate is named, the order id is missing, or there is no click token or coupon", body = ErrorBody),
        (status = 403, description = "The campaign takes no browser reports, or not from this page's origin", body = ErrorBody),
        (status = 409, description = "The campaign already has a conversion with this order id", body = ErrorBody),
        (status = 429, description = "The campaign has taken its browser reports for today, or this client sent too many", body = ErrorBody),
    )
)]
async fn conversion(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(request): Json<ConversionRequest>,
) -> Result<impl IntoResponse> {
    if request.names_affiliate() {
        return Err(invalid("affiliate", "the browser cannot name the affiliate: send the click token or a coupon"));
    }
    if !request.has_order_id() {
        return Err(invalid("order-id", "a browser-reported conversion needs the order id, so each order counts once"));
    }
    let config = state.cache.current(&state.db, &state.registry).await?;
    check_origin(&config, &headers, request.campaign()).await?;
    let recorded = state.engine.record(super::conversions::prepare(&state, request, Source::Browser).await?).await?;
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
