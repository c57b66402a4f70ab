//! `/api/v1/campaigns` and `/api/v1/groups`: campaigns, commission groups, tier rates.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use serde::Deserialize;

use super::{AppState, Json};
use crate::domain::campaign::{self, CampaignRequest, RatesRequest};
use crate::error::Result;
use crate::service::{bindings, campaigns};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/campaigns", post(create).get(list))
        .route("/campaigns/{id}", get(show))
        .route("/campaigns/{id}/groups", post(add_group))
        .route("/groups/{id}/rates", put(set_rates))
        .route("/campaigns/{id}/plugins", get(list_bindings))
        .route("/campaigns/{id}/plugins/{plugin}", put(set_binding))
}

async fn create(State(state): State<AppState>, Json(request): Json<CampaignRequest>) -> Result<impl IntoResponse> {
    let created = campaigns::create(&state.db, request.parse()?).await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

async fn list(State(state): State<AppState>) -> Result<impl IntoResponse> {
    Ok(axum::Json(campaigns::list(&state.db).await?))
}

async fn show(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(campaigns::get(&state.db, super::id("id", &id)?).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct GroupRequest {
    name: String,
    #[serde(default)]
    is_default: bool,
}

async fn add_group(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(request): Json<GroupRequest>,
) -> Result<impl IntoResponse> {
    let name = campaign::name("name", &request.name)?;
    let group = campaigns::add_group(&state.db, super::id("id", &id)?, name, request.is_default).await?;
    Ok((StatusCode::CREATED, axum::Json(group)))
}

async fn set_rates(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(request): Json<RatesRequest>,
) -> Result<impl IntoResponse> {
    let group = campaigns::set_rates(&state.db, super::id("id", &id)?, |currency| request.parse(currency)).await?;
    Ok(axum::Json(group))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BindingRequest {
    enabled: bool,
    #[serde(default = "empty_object")]
    config: serde_json::Value,
    #[serde(default)]
    position: i32,
}

fn empty_object() -> serde_json::Value {
    serde_json::json!({})
}

async fn list_bindings(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let id = super::id("id", &id)?;
    campaigns::get(&state.db, id).await?;
    Ok(axum::Json(bindings::list(&state.db, id).await?))
}

/// Enables, disables or configures a plugin for the campaign.
async fn set_binding(
    State(state): State<AppState>,
    Path((id, plugin)): Path<(String, String)>,
    Json(request): Json<BindingRequest>,
) -> Result<impl IntoResponse> {
    let plugin = plugin.parse().map_err(|message| crate::Error::InvalidInput { field: "plugin".into(), message })?;
    let binding = bindings::set(
        &state.db,
        &state.registry,
        super::id("id", &id)?,
        &plugin,
        request.enabled,
        request.config,
        request.position,
    )
    .await?;
    Ok(axum::Json(binding))
}
