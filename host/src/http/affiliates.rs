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
use crate::domain::affiliate::{AffiliateRequest, AffiliateStatus, check_password};
use crate::error::Result;
use crate::service::affiliates::{self, Affiliate};

const ACTOR: &str = "operator";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(show))
        .routes(routes!(tree))
        .routes(routes!(set_group))
        .routes(routes!(set_status))
        .routes(routes!(set_password))
        .routes(routes!(set_customer))
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
    let new = request.parse(|password| state.passwords.hash(password)).await?;
    Ok((StatusCode::CREATED, axum::Json(affiliates::create(&state.db, new, state.clock.now()).await?)))
}

/// An affiliate's new status.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StatusChange {
    /// `active` or `suspended`.
    status: AffiliateStatus,
}

/// Suspends an affiliate (its sessions end, it cannot log in, its links record no
/// clicks) or makes it active again.
#[utoipa::path(
    put,
    path = "/affiliates/{id}/status",
    tag = "affiliates",
    params(("id" = i64, Path, description = "Affiliate id")),
    responses(
        (status = 200, description = "The affiliate", body = Affiliate),
        (status = 400, description = "The id or the status is invalid", body = ErrorBody),
        (status = 404, description = "No such affiliate", body = ErrorBody),
    )
)]
async fn set_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<StatusChange>,
) -> Result<impl IntoResponse> {
    Ok(axum::Json(
        affiliates::set_status(&state.db, super::id("id", &id)?, body.status, ACTOR, state.clock.now()).await?,
    ))
}

/// An affiliate's own customer reference.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CustomerChange {
    /// As the merchant sends a conversion's `customer` (1 to 200 characters); null
    /// forgets it. Required (a missing field is not a null).
    #[serde(deserialize_with = "Option::deserialize")]
    customer: Option<String>,
}

/// Records the affiliate's own customer reference in the merchant's shop: screen
/// plugins (the `guards` plugin) compare it with a conversion's `customer` to refuse
/// commissions on the affiliate's own purchases.
#[utoipa::path(
    put,
    path = "/affiliates/{id}/customer",
    tag = "affiliates",
    params(("id" = i64, Path, description = "Affiliate id")),
    responses(
        (status = 200, description = "The affiliate", body = Affiliate),
        (status = 400, description = "The id or the customer is invalid", body = ErrorBody),
        (status = 404, description = "No such affiliate", body = ErrorBody),
    )
)]
async fn set_customer(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<CustomerChange>,
) -> Result<impl IntoResponse> {
    let id = super::id("id", &id)?;
    let customer = crate::domain::conversion::reference("customer", body.customer)?;
    Ok(axum::Json(affiliates::set_customer(&state.db, id, customer, ACTOR, state.clock.now()).await?))
}

/// A password an operator sets.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewPassword {
    /// 10 to 200 characters.
    password: String,
}

/// Sets an affiliate's password (e.g. after a reset request); its sessions end.
#[utoipa::path(
    put,
    path = "/affiliates/{id}/password",
    tag = "affiliates",
    params(("id" = i64, Path, description = "Affiliate id")),
    responses(
        (status = 204, description = "Set; every session of the affiliate ended"),
        (status = 400, description = "The id or the password is invalid", body = ErrorBody),
        (status = 404, description = "No such affiliate", body = ErrorBody),
    )
)]
async fn set_password(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<NewPassword>,
) -> Result<StatusCode> {
    let id = super::id("id", &id)?;
    check_password("password", &body.password)?;
    let hash = state.passwords.hash(body.password).await?;
    affiliates::set_password(&state.db, id, hash, ACTOR, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
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
    Ok(axum::Json(affiliates::get(&state.reader, super::id("id", &id)?).await?))
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
    Ok(axum::Json(affiliates::descendants(&state.reader, super::id("id", &id)?).await?))
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
    affiliates::set_group(&state.db, campaign, id, request.group, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
