//! `/api/v1/plugins`: install, list, activate a version, set limits.

use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::{AppState, Json, Query};
use crate::error::{Error, Result};
use crate::plugin::{Limits, PluginId, PluginInfo};
use crate::service::packages::{self, Existing};

/// Largest package accepted.
pub const MAX_PACKAGE_BYTES: usize = 32 * 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(install, list).layer(DefaultBodyLimit::max(MAX_PACKAGE_BYTES)))
        .routes(routes!(activate))
        .routes(routes!(set_limits))
}

/// How to install a package.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct InstallOptions {
    /// A development install: the package, of a development version (`x.y.z-dev...`),
    /// replaces the installed one of the same version (default false).
    #[serde(default)]
    dev: bool,
}

/// Installs the package in the body (`application/wasm`) and makes it active.
#[utoipa::path(
    post,
    path = "/",
    tag = "plugins",
    params(InstallOptions),
    request_body(description = "A plugin package, at most 32 MiB", content(("application/wasm"))),
    responses(
        (status = 201, description = "The installed version, now active", body = PluginInfo),
        (status = 409, description = "This version of the plugin is installed already, or `dev` with a release version (code `conflict`, field `version`)", body = ErrorBody),
        (status = 413, description = "The package is larger than 32 MiB", body = ErrorBody),
        (status = 422, description = "The package is not a valid plugin (code `invalid_wasm`, `invalid_manifest`, ...)", body = ErrorBody),
    )
)]
async fn install(
    State(state): State<AppState>,
    Query(options): Query<InstallOptions>,
    request: Request,
) -> Result<impl IntoResponse> {
    let existing = if options.dev { Existing::ReplaceDevelopment } else { Existing::Refuse };
    let body = super::body(request, &state, MAX_PACKAGE_BYTES).await?;
    let failed = |err: tokio::task::JoinError| Error::Internal(err.to_string());
    // A task of its own: if the client gives up (or the handler times out), the
    // install still finishes and is stored, never half-done.
    let install = tokio::spawn(async move {
        packages::install(&state.db, &state.registry, body.to_vec(), existing, state.clock.now()).await
    });
    Ok((StatusCode::CREATED, axum::Json(install.await.map_err(failed)??)))
}

/// Every installed version of every plugin, as the database has them.
#[utoipa::path(get, path = "/", tag = "plugins", responses((status = 200, description = "The plugins", body = Vec<PluginInfo>)))]
async fn list(State(state): State<AppState>) -> Result<impl IntoResponse> {
    packages::sync(&state.db, &state.registry).await?;
    Ok(axum::Json(state.registry.list()))
}

fn plugin_id(id: &str) -> Result<PluginId> {
    id.parse().map_err(|message| Error::InvalidInput { field: "id".into(), message })
}

/// The version to make active.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Activate {
    /// An installed version, e.g. `1.2.0`.
    #[schema(value_type = String)]
    version: semver::Version,
}

/// Makes an installed version the one calls use.
#[utoipa::path(
    post,
    path = "/{id}/activate",
    tag = "plugins",
    params(("id" = String, Path, description = "Plugin id")),
    responses(
        (status = 204, description = "Done"),
        (status = 400, description = "The id or the version is invalid", body = ErrorBody),
        (status = 404, description = "No such plugin or version", body = ErrorBody),
    )
)]
async fn activate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<Activate>,
) -> Result<StatusCode> {
    let id = plugin_id(&id)?;
    packages::activate(&state.db, &state.registry, &id, &body.version, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets the plugin's per-call limits (left-out ones take their defaults), for
/// whichever version is active now or later.
#[utoipa::path(
    put,
    path = "/{id}/limits",
    tag = "plugins",
    params(("id" = String, Path, description = "Plugin id")),
    responses(
        (status = 204, description = "Done"),
        (status = 400, description = "The id is invalid", body = ErrorBody),
        (status = 404, description = "No such plugin", body = ErrorBody),
        (status = 422, description = "A limit is above the maximum", body = ErrorBody),
    )
)]
async fn set_limits(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(limits): Json<Limits>,
) -> Result<StatusCode> {
    let id = plugin_id(&id)?;
    packages::set_limits(&state.db, &state.registry, &id, limits, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
