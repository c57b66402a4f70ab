//! The HTTP API, under `/api/v1`. Handlers are thin: extract, parse into domain
//! types, call a service, map the error (in `error`). Every route is documented in
//! the OpenAPI document (in `openapi`).

mod affiliates;
mod campaigns;
mod conversions;
mod coupons;
mod error;
mod lifecycle;
pub mod openapi;
mod operator_keys;
mod panel;
mod plugins;
mod reports;
pub mod serve;
mod tracking;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::{Extension, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use utoipa::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

use crate::error::{Error, Result};
use crate::plugin::Registry;
use crate::service::throttle::{Throttle, Throttles};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The installed plugins.
    pub registry: Arc<Registry>,
    /// The database, for writes and the reads that go with them.
    pub db: sea_orm::DatabaseConnection,
    /// The database for reads that may take long (reports, lists): on SQLite a pool
    /// of read-only connections beside the one writer.
    pub reader: sea_orm::DatabaseConnection,
    /// The configuration the commission engine reads, cached.
    pub cache: Arc<crate::service::config::ConfigCache>,
    /// Records clicks: bots dropped, repeats counted once, stored in batches.
    pub tracker: Arc<crate::service::tracking::Tracker>,
    /// Records conversions in batches.
    pub conversions: crate::service::engine::ConversionWriter,
    /// Rate limits per client and per account.
    pub throttles: Arc<Throttles>,
    /// Password hashing and checking, off the async workers.
    pub passwords: Arc<crate::service::passwords::Passwords>,
    /// SHA-256 of the bootstrap operator API key (from the environment); keys
    /// created with `upline operator-key` live hashed in the database.
    pub operator_key_hash: [u8; 32],
    /// SHA-256 of the token `/metrics` asks for on this address; without one it is
    /// not served here.
    pub metrics_token_hash: Option<[u8; 32]>,
    /// Take the client's address from `X-Forwarded-For` (behind a trusted proxy).
    pub trust_forwarded_for: bool,
}

/// The largest JSON body any endpoint takes (plugin packages have their own limit).
pub const JSON_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// How long a handler may take before the client gets a 503.
pub const HANDLER_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a client may take to send a request's body.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// The whole API, serving its own OpenAPI document.
pub fn router(state: AppState) -> Router {
    let (router, document) = api(&state).split_for_parts();
    router
        .layer(Extension(Arc::new(document)))
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, HANDLER_TIMEOUT))
        .layer(RequestBodyTimeoutLayer::new(BODY_TIMEOUT))
        .layer(middleware::map_response(error::json_errors))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// `/metrics` alone, for an address of its own (no token: the address is the guard).
pub fn metrics_router() -> Router {
    let (router, _) = OpenApiRouter::new().routes(routes!(scrape)).split_for_parts();
    router.layer(Extension(metrics_handle()))
}

/// Every route with its documentation.
fn api(state: &AppState) -> OpenApiRouter<AppState> {
    let operator = OpenApiRouter::new()
        .nest("/plugins", plugins::router())
        .merge(operator_keys::router())
        .merge(campaigns::router())
        .merge(affiliates::router())
        .merge(conversions::router())
        .merge(coupons::router())
        .merge(lifecycle::router())
        .merge(reports::router());
    let operator = openapi::secured(operator, openapi::OPERATOR_KEY)
        .route_layer(middleware::from_fn_with_state(state.clone(), require_operator));
    let v1 = operator.merge(panel::router(state.clone())).routes(routes!(openapi::document));
    let metrics = OpenApiRouter::new().routes(routes!(scrape).layer(Extension(metrics_handle())));
    let metrics = openapi::secured(metrics, openapi::METRICS_TOKEN)
        .route_layer(middleware::from_fn_with_state(state.clone(), require_metrics_token));
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(health))
        .merge(metrics)
        .nest("/api/v1", v1)
        .merge(tracking::router(state.clone()))
}

/// Liveness.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, description = "`ok`", body = String)))]
async fn health() -> &'static str {
    "ok"
}

/// Prometheus metrics: on this address only when the server has a metrics token
/// (`--metrics-token`), else on the separate `--metrics-listen` address only.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "The Prometheus text format", body = String),
        (status = 404, description = "Metrics are not served on this address", body = error::ErrorBody),
    )
)]
async fn scrape(Extension(handle): Extension<PrometheusHandle>) -> String {
    handle.render()
}

/// The Prometheus exporter, installed once per process.
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (several servers in one test process).
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// SHA-256 of an API key, as stored and compared.
pub fn hash_key(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// The bearer token of a request; `hint` says where to get one.
fn bearer(request: &Request, hint: &'static str) -> Result<String> {
    request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::to_owned)
        .ok_or(Error::Unauthorized(hint))
}

async fn require_metrics_token(State(state): State<AppState>, request: Request, next: Next) -> Result<Response> {
    let Some(expected) = state.metrics_token_hash else {
        return Err(Error::NotFound {
            entity: "route",
            id: "/metrics on this address (set a metrics token, or a metrics address of its own)".into(),
        });
    };
    let token = bearer(&request, "send the metrics token as `Authorization: Bearer <token>`")?;
    if hash_key(&token) != expected {
        return Err(Error::Unauthorized("the metrics token is not valid"));
    }
    Ok(next.run(request).await)
}

/// The client's address: the peer's, or, behind a trusted proxy
/// (`AppState::trust_forwarded_for`), the last one the proxy added to
/// `X-Forwarded-For`.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let forwarded = || {
            let header = parts.headers.get_all("x-forwarded-for").iter().next_back()?.to_str().ok()?;
            header.rsplit(',').next()?.trim().parse().ok()
        };
        if state.trust_forwarded_for
            && let Some(ip) = forwarded()
        {
            return Ok(ClientIp(ip));
        }
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| ClientIp(peer.ip()))
            .ok_or_else(|| Error::Internal("the request carries no peer address".into()))
    }
}

/// Route middleware: the client's share of `throttle` (unless it is exempt).
pub async fn throttled(
    state: &AppState,
    throttle: fn(&Throttles) -> &Throttle<IpAddr>,
    request: Request,
    next: Next,
) -> Result<Response> {
    let (mut parts, body) = request.into_parts();
    let ClientIp(ip) = ClientIp::from_request_parts(&mut parts, state).await?;
    state.throttles.check_client(throttle(&state.throttles), ip)?;
    Ok(next.run(Request::from_parts(parts, body)).await)
}

async fn require_operator(State(state): State<AppState>, request: Request, next: Next) -> Result<Response> {
    let key = bearer(&request, "send the operator API key as `Authorization: Bearer <key>`")?;
    let bootstrap = hash_key(&key) == state.operator_key_hash;
    if !bootstrap && !crate::service::operator_keys::is_valid(&state.db, &key).await? {
        return Err(Error::Unauthorized("the operator API key is not valid"));
    }
    Ok(next.run(request).await)
}

/// Parses a path id, naming the path parameter on error.
pub fn id(field: &str, text: &str) -> Result<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| Error::InvalidInput { field: field.into(), message: format!("`{text}` is not an id") })
}

/// Parses JSON, naming the offending field on error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let (path, message) = (err.path().to_string(), err.inner().to_string());
        let missing = field_named(&message);
        let field = match (missing, path.as_str()) {
            (Some(name), ".") => name.to_owned(),
            (Some(name), parent) => format!("{parent}.{name}"),
            (None, _) => path,
        };
        Error::InvalidInput { field, message }
    })
}

/// A query string whose errors name the offending parameter, in the API's error shape.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de).map(Query).map_err(|err| {
            let message = err.inner().to_string();
            let field = match err.path().to_string() {
                path if path == "." => field_named(&message).unwrap_or_default().to_owned(),
                path => path,
            };
            Error::InvalidInput { field, message }
        })
    }
}

/// The field serde says is missing: it reports that at the parent's path.
fn field_named(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next())
}

/// A JSON body whose errors name the offending field, in the API's error shape.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self> {
        parse_json(&body(request, state, JSON_BODY_LIMIT).await?).map(Json)
    }
}

/// A request's body, at most `limit` bytes (the route's `DefaultBodyLimit`): a larger
/// one is a 413 in the API's error shape.
pub async fn body<S: Send + Sync>(request: Request, state: &S, limit: usize) -> Result<Bytes> {
    Bytes::from_request(request, state).await.map_err(|err| {
        if err.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            Error::TooLarge { limit }
        } else {
            Error::InvalidInput { field: String::new(), message: err.body_text() }
        }
    })
}
