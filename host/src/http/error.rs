//! Every error leaves the server in one JSON shape:
//! `{"error": {"code": "...", "message": "...", "field": "..."}}`.
//! Client errors say what is wrong; internal ones are logged and stay opaque.

use axum::Json;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
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
            Error::InvalidWasm(_) => (S::UNPROCESSABLE_ENTITY, "invalid_wasm"),
            Error::NotAComponent => (S::UNPROCESSABLE_ENTITY, "not_a_component"),
            Error::MissingSection(_) => (S::UNPROCESSABLE_ENTITY, "missing_section"),
            Error::UnsupportedApiVersion { .. } => (S::UNPROCESSABLE_ENTITY, "unsupported_api_version"),
            Error::InvalidManifest { .. } => (S::UNPROCESSABLE_ENTITY, "invalid_manifest"),
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
            Error::NotFound { .. } => (S::NOT_FOUND, "not_found"),
            Error::Conflict { .. } => (S::CONFLICT, "conflict"),
            Error::PluginCall(_) => (S::BAD_GATEWAY, "plugin_failed"),
            Error::Build(_) | Error::Io { .. } | Error::Database(_) | Error::Internal(_) => {
                (S::INTERNAL_SERVER_ERROR, "internal")
            }
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Error::InvalidManifest { field, .. }
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
