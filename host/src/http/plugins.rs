//! `/api/v1/plugins`: install, list, activate a version, set limits.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::routing::{post, put};
use axum::{Router, response::IntoResponse};
use serde::Deserialize;

use super::{AppState, Json};
use crate::error::{Error, Result};
use crate::plugin::{Limits, PluginId};

/// Largest package accepted.
const MAX_PACKAGE_BYTES: usize = 32 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", post(install).get(list).layer(DefaultBodyLimit::max(MAX_PACKAGE_BYTES)))
        .route("/{id}/activate", post(activate))
        .route("/{id}/limits", put(set_limits))
}

/// Installs the package in the body (`application/wasm`) and makes it active.
async fn install(State(state): State<AppState>, body: Bytes) -> Result<impl IntoResponse> {
    let registry = state.registry.clone();
    // Compiling is CPU-bound: keep it off the async workers.
    let info = tokio::task::spawn_blocking(move || registry.install(body.to_vec()))
        .await
        .map_err(|err| Error::Internal(err.to_string()))??;
    Ok((StatusCode::CREATED, axum::Json(info)))
}

async fn list(State(state): State<AppState>) -> impl IntoResponse {
    axum::Json(state.registry.list())
}

fn plugin_id(id: &str) -> Result<PluginId> {
    id.parse().map_err(|message| Error::InvalidInput { field: "id".into(), message })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Activate {
    version: semver::Version,
}

async fn activate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<Activate>,
) -> Result<StatusCode> {
    state.registry.activate(&plugin_id(&id)?, &body.version)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_limits(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(limits): Json<Limits>,
) -> Result<StatusCode> {
    state.registry.set_limits(&plugin_id(&id)?, limits)?;
    Ok(StatusCode::NO_CONTENT)
}
