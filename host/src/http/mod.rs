//! The HTTP API, under `/api/v1`. Handlers are thin: extract, parse into domain
//! types, call a service, map the error (in `error`). Every route is documented in
//! the OpenAPI document (in `openapi`).

mod affiliates;
mod audit;
mod campaigns;
mod conversions;
pub(crate) use conversions::prepare;
mod coupons;
mod error;
mod jobs;
mod lifecycle;
pub mod openapi;
mod operator_keys;
mod panel;
mod plugins;
mod reports;
mod rewards;
pub mod serve;
mod subscriptions;
mod tracking;
mod webhooks;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, FromRequestParts, OriginalUri, Request, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use utoipa::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use tower_http::classify::ServerErrorsFailureClass;
use tower_http::timeout::RequestBodyTimeoutLayer;

use crate::error::{Error, Result};
use crate::plugin::Registry;
use crate::service::throttle::Throttles;

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
    /// Plans conversions and writes them in batches.
    pub engine: Arc<crate::service::engine::Engine>,
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
    /// Where "now" comes from.
    pub clock: crate::clock::Clock,
}

/// A page of a list by id.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// Only those with a larger id: the last id of the previous page.
    pub after: Option<i64>,
    /// At most this many (1 to 1000; default 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
}

/// The largest JSON body any endpoint takes (plugin packages have their own limit).
pub const JSON_BODY_LIMIT: usize = 2 * 1024 * 1024;

pub use plugins::MAX_PACKAGE_BYTES;

/// How long a handler may take before the client gets a 503.
pub const HANDLER_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a request's body may pause between its parts.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// The whole API, serving its own OpenAPI document, and the merchant console.
pub fn router(state: AppState) -> Router {
    let (router, document) = api(&state).split_for_parts();
    router
        .merge(crate::web::router())
        .layer(Extension(Arc::new(document)))
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(middleware::from_fn(deadline))
        .layer(RequestBodyTimeoutLayer::new(BODY_TIMEOUT))
        .layer(middleware::map_response(error::json_errors))
        .layer(tower_http::trace::TraceLayer::new_for_http().on_failure(log_failure))
        .with_state(state)
}

/// Answers 503 when a handler takes longer than [`HANDLER_TIMEOUT`], except for the
/// routes that record conversions: one handed to the writer is stored whether or not
/// its client still waits, so a 503 would invite a retry that stores it twice. The
/// writer's bounded queue limits their wait instead (503 when it is full, before
/// anything is stored).
async fn deadline(request: Request, next: Next) -> Response {
    let records = request.method() == axum::http::Method::POST
        && matches!(request.uri().path(), "/api/v1/conversions" | "/t/conversions");
    if records {
        return next.run(request).await;
    }
    match tokio::time::timeout(HANDLER_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => Error::Unavailable {
            message: format!("the request took longer than {HANDLER_TIMEOUT:?}"),
            retry_after: Duration::from_secs(1),
        }
        .into_response(),
    }
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
        .merge(audit::router())
        .merge(conversions::router())
        .merge(coupons::router())
        .merge(lifecycle::router())
        .merge(subscriptions::router())
        .merge(jobs::router())
        .merge(reports::router())
        .merge(rewards::router())
        .merge(webhooks::router());
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
            return Ok(ClientIp(IpAddr::to_canonical(&ip)));
        }
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| ClientIp(peer.ip().to_canonical()))
            .ok_or_else(|| Error::Internal("the request carries no peer address".into()))
    }
}

/// Route middleware for the public routes: the client's share of its route's
/// throttle (unless the client is exempt): the snippet's conversions, logins, or the
/// tracking endpoints.
pub async fn throttled(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    request: Request,
    next: Next,
) -> Result<Response> {
    let throttles = &state.throttles;
    // The whole path: routers nested under `/api/v1` see their part only.
    let path = request.extensions().get::<OriginalUri>().map_or(request.uri().path(), |uri| uri.path());
    let throttle = match path {
        "/t/conversions" => &throttles.browser_conversions,
        "/api/v1/affiliate/login" | "/console/login" => &throttles.logins,
        _ => &throttles.tracking,
    };
    throttles.check_client(throttle, ip)?;
    Ok(next.run(request).await)
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
/// one is a 413, one that pauses longer than [`BODY_TIMEOUT`] a 408, in the API's
/// error shape.
pub async fn body<S: Send + Sync>(request: Request, state: &S, limit: usize) -> Result<Bytes> {
    Bytes::from_request(request, state).await.map_err(|err| {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        while let Some(current) = cause {
            if current.is::<tower_http::timeout::TimeoutError>() {
                return Error::SlowBody(BODY_TIMEOUT);
            }
            cause = current.source();
        }
        if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::TooLarge { limit }
        } else {
            Error::InvalidInput { field: String::new(), message: err.body_text() }
        }
    })
}

/// Logs a failed response: a 503 (a full queue, answered with `Retry-After`) is
/// expected back-pressure under load, so at debug level; any other at error level.
fn log_failure(failure: ServerErrorsFailureClass, latency: Duration, _: &tracing::Span) {
    match failure {
        ServerErrorsFailureClass::StatusCode(StatusCode::SERVICE_UNAVAILABLE) => {
            tracing::debug!(?latency, "response 503: busy, the client was told when to retry");
        }
        failure => tracing::error!(%failure, ?latency, "response failed"),
    }
}
