//! `/api/v1/affiliates`: create, show, the tree below an affiliate, and group
//! membership per campaign.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use serde::Deserialize;

use super::{AppState, Json};
use crate::domain::affiliate::AffiliateRequest;
use crate::error::Result;
use crate::service::affiliates;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/affiliates", post(create))
        .route("/affiliates/{id}", get(show))
        .route("/affiliates/{id}/tree", get(tree))
        .route("/campaigns/{campaign}/affiliates/{id}/group", put(set_group))
}

async fn create(State(state): State<AppState>, Json(request): Json<AffiliateRequest>) -> Result<impl IntoResponse> {
    // Hashing the password is deliberately slow: keep it off the async workers.
    let new = tokio::task::spawn_blocking(move || request.parse())
        .await
        .map_err(|err| crate::Error::Internal(err.to_string()))??;
    Ok((StatusCode::CREATED, axum::Json(affiliates::create(&state.db, new).await?)))
}

async fn show(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(affiliates::get(&state.db, super::id("id", &id)?).await?))
}

async fn tree(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(affiliates::descendants(&state.db, super::id("id", &id)?).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupRequest {
    group: i64,
}

async fn set_group(
    State(state): State<AppState>,
    Path((campaign, id)): Path<(String, String)>,
    Json(request): Json<GroupRequest>,
) -> Result<StatusCode> {
    let (campaign, id) = (super::id("campaign", &campaign)?, super::id("id", &id)?);
    affiliates::set_group(&state.db, campaign, id, request.group).await?;
    Ok(StatusCode::NO_CONTENT)
}
