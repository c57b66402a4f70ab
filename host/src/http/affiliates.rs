//! `/api/v1/affiliates`: create, show, the tree below an affiliate, and group
//! membership per campaign.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::{AppState, Json};
use crate::domain::affiliate::AffiliateRequest;
use crate::error::Result;
use crate::service::affiliates::{self, Affiliate};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create)).routes(routes!(show)).routes(routes!(tree)).routes(routes!(set_group))
}

/// Creates an affiliate, under its recruiting affiliate if `parent` is given.
#[utoipa::path(
    post,
    path = "/affiliates",
    tag = "affiliates",
    responses(
        (status = 201, description = "The affiliate", body = Affiliate),
        (status = 400, description = "A field is invalid, or `parent` does not exist", body = ErrorBody),
        (status = 409, description = "The e-mail is taken", body = ErrorBody),
    )
)]
async fn create(State(state): State<AppState>, Json(request): Json<AffiliateRequest>) -> Result<impl IntoResponse> {
    // Hashing the password is deliberately slow: keep it off the async workers.
    let new = tokio::task::spawn_blocking(move || request.parse())
        .await
        .map_err(|err| crate::Error::Internal(err.to_string()))??;
    Ok((StatusCode::CREATED, axum::Json(affiliates::create(&state.db, new).await?)))
}

/// One affiliate.
#[utoipa::path(
    get,
    path = "/affiliates/{id}",
    tag = "affiliates",
    params(("id" = i64, Path, description = "Affiliate id")),
    responses(
        (status = 200, description = "The affiliate", body = Affiliate),
        (status = 400, description = "The id is not an id", body = ErrorBody),
        (status = 404, description = "No such affiliate", body = ErrorBody),
    )
)]
async fn show(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(affiliates::get(&state.db, super::id("id", &id)?).await?))
}

/// The affiliate's recruits, their recruits, and so on, breadth first.
#[utoipa::path(
    get,
    path = "/affiliates/{id}/tree",
    tag = "affiliates",
    params(("id" = i64, Path, description = "Affiliate id")),
    responses(
        (status = 200, description = "Everyone below the affiliate", body = Vec<Affiliate>),
        (status = 400, description = "The id is not an id", body = ErrorBody),
        (status = 404, description = "No such affiliate", body = ErrorBody),
    )
)]
async fn tree(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(affiliates::descendants(&state.db, super::id("id", &id)?).await?))
}

/// The commission group an affiliate is in for a campaign.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Membership {
    /// A group of the campaign.
    group: i64,
}

/// Puts the affiliate in a group of the campaign.
#[utoipa::path(
    put,
    path = "/campaigns/{campaign}/affiliates/{id}/group",
    tag = "affiliates",
    params(("campaign" = i64, Path, description = "Campaign id"), ("id" = i64, Path, description = "Affiliate id")),
    responses(
        (status = 204, description = "Done"),
        (status = 400, description = "An id is not an id, or the group is not the campaign's", body = ErrorBody),
        (status = 404, description = "No such affiliate", body = ErrorBody),
    )
)]
async fn set_group(
    State(state): State<AppState>,
    Path((campaign, id)): Path<(String, String)>,
    Json(request): Json<Membership>,
) -> Result<StatusCode> {
    let (campaign, id) = (super::id("campaign", &campaign)?, super::id("id", &id)?);
    affiliates::set_group(&state.db, campaign, id, request.group).await?;
    Ok(StatusCode::NO_CONTENT)
}
