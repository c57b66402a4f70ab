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
use crate::service::campaigns;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/campaigns", post(create).get(list))
        .route("/campaigns/{id}", get(show))
        .route("/campaigns/{id}/groups", post(add_group))
        .route("/groups/{id}/rates", put(set_rates))
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
