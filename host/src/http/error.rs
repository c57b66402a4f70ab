//! Every error leaves the server in one JSON shape:
//! `{"error": {"code": "...", "message": "...", "field": "..."}}`.
//! Client errors say what is wrong; internal ones are logged and stay opaque.

use axum::Json;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use upline_package::Error as PackageError;
use utoipa::ToSchema;

use crate::error::Error;

/// The body of every error response.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

/// What went wrong.
#[derive(Serialize, ToSchema)]
struct ErrorDetail<'a> {
    /// Stable and machine-readable, e.g. `invalid_input`, `unauthorized`, `forbidden`,
    /// `not_found`, `conflict`, `too_large`, `rate_limited` (with `Retry-After`),
    /// `invalid_wasm`, `plugin_failed`, `unavailable`, `internal`.
    #[schema(example = "invalid_input")]
    code: &'static str,
    /// For people.
    message: String,
    /// The offending field or parameter, e.g. `tiers[0].rule` (client errors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl Error {
    /// The HTTP status and stable error code of this error.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        use StatusCode as S;
        match self {
            Error::Package(err) => match err {
                PackageError::InvalidWasm(_) => (S::UNPROCESSABLE_ENTITY, "invalid_wasm"),
                PackageError::NotAComponent => (S::UNPROCESSABLE_ENTITY, "not_a_component"),
                PackageError::MissingSection(_) => (S::UNPROCESSABLE_ENTITY, "missing_section"),
                PackageError::UnsupportedApiVersion { .. } => (S::UNPROCESSABLE_ENTITY, "unsupported_api_version"),
                PackageError::InvalidManifest { .. } => (S::UNPROCESSABLE_ENTITY, "invalid_manifest"),
                PackageError::Build(_) | PackageError::Io { .. } => (S::INTERNAL_SERVER_ERROR, "internal"),
            },
            Error::MissingExport { .. } => (S::UNPROCESSABLE_ENTITY, "missing_export"),
            Error::UndeclaredImport { .. } => (S::UNPROCESSABLE_ENTITY, "undeclared_import"),
            Error::Compile(_) => (S::UNPROCESSABLE_ENTITY, "compile_failed"),
            Error::PluginNotFound { .. } => (S::NOT_FOUND, "plugin_not_found"),
            Error::HookNotImplemented { .. } => (S::CONFLICT, "hook_not_implemented"),
            Error::InvalidConfig { .. } => (S::UNPROCESSABLE_ENTITY, "invalid_config"),
            Error::InvalidInput { .. } => (S::BAD_REQUEST, "invalid_input"),
            Error::Unauthorized(_) => (S::UNAUTHORIZED, "unauthorized"),
            Error::Forbidden(_) => (S::FORBIDDEN, "forbidden"),
            Error::RateLimited { .. } => (S::TOO_MANY_REQUESTS, "rate_limited"),
            Error::Unavailable { .. } => (S::SERVICE_UNAVAILABLE, "unavailable"),
            Error::TooLarge { .. } => (S::PAYLOAD_TOO_LARGE, "too_large"),
            Error::SlowBody(_) => (S::REQUEST_TIMEOUT, "timeout"),
            Error::NotFound { .. } => (S::NOT_FOUND, "not_found"),
            Error::Conflict { .. } => (S::CONFLICT, "conflict"),
            Error::PluginCall(_) => (S::BAD_GATEWAY, "plugin_failed"),
            Error::Io { .. } | Error::Database(_) | Error::Internal(_) => (S::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Error::Package(PackageError::InvalidManifest { field, .. })
            | Error::InvalidConfig { field, .. }
            | Error::InvalidInput { field, .. }
            | Error::Conflict { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let opaque = status.is_server_error() && !matches!(self, Error::PluginCall(_) | Error::Unavailable { .. });
        let message = if opaque {
            tracing::error!(error = %self, "request failed");
            "internal error; see the server log".to_owned()
        } else {
            self.to_string()
        };
        let mut response =
            (status, Json(ErrorBody { error: ErrorDetail { code, message, field: self.field() } })).into_response();
        if let Error::RateLimited { retry_after, .. } | Error::Unavailable { retry_after, .. } = self {
            // Whole seconds, rounded up: never "0" while the limit still holds.
            let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        response
    }
}

/// Puts every error response that did not come from [`Error`] (an unknown route, a
/// method not allowed, a body over the size limit, a timeout...) in the one JSON
/// shape, keeping its status and headers (e.g. `Allow`).
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    // JSON errors stay as they are, and so do the console's HTML error pages.
    let shaped = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json") || value.starts_with("text/html"));
    if !(status.is_client_error() || status.is_server_error()) || shaped {
        return response;
    }
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        status if status.is_server_error() => "internal",
        _ => "invalid_input",
    };
    let message = match status {
        StatusCode::NOT_FOUND => "no such route: see /api/v1/openapi.json".to_owned(),
        StatusCode::METHOD_NOT_ALLOWED => "the route does not take this method".to_owned(),
        status => status.canonical_reason().unwrap_or("error").to_lowercase(),
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(CONTENT_LENGTH);
    parts.headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let body = serde_json::to_vec(&ErrorBody { error: ErrorDetail { code, message, field: None } }).unwrap_or_default();
    Response::from_parts(parts, axum::body::Body::from(body))
}
