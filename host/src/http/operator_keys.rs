//! `/api/v1/operator-keys`: the operator API keys stored in the database (the
//! server's bootstrap key is not among them): create, list, revoke. And
//! `/api/v1/operators`: the accounts people log in to the merchant console with.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::{AppState, Json};
use crate::error::Result;
use crate::service::operator_keys::{self, NewKey, OperatorKey};
use crate::service::operators::{self, Operator};

const ACTOR: &str = "operator";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create, list)).routes(routes!(revoke)).routes(routes!(create_operator))
}

/// What a new key is for.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct KeyRequest {
    /// E.g. `shop backend`, 1 to 200 characters.
    name: String,
}

/// Creates an operator API key; the key is in this answer only.
#[utoipa::path(
    post,
    path = "/operator-keys",
    tag = "operations",
    responses(
        (status = 201, description = "The key (shown once) and its id", body = NewKey),
        (status = 400, description = "The name is invalid", body = ErrorBody),
    )
)]
async fn create(State(state): State<AppState>, Json(body): Json<KeyRequest>) -> Result<impl IntoResponse> {
    Ok((StatusCode::CREATED, axum::Json(operator_keys::create(&state.db, &body.name, ACTOR, state.clock.now()).await?)))
}

/// The stored operator keys (never the keys themselves).
#[utoipa::path(
    get,
    path = "/operator-keys",
    tag = "operations",
    responses((status = 200, description = "The keys", body = Vec<OperatorKey>))
)]
async fn list(State(state): State<AppState>) -> Result<impl IntoResponse> {
    Ok(axum::Json(operator_keys::list(&state.reader).await?))
}

/// Revokes an operator key: it stops working at once.
#[utoipa::path(
    delete,
    path = "/operator-keys/{id}",
    tag = "operations",
    params(("id" = i64, Path, description = "Key id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "The id is not an id", body = ErrorBody),
        (status = 404, description = "No such key", body = ErrorBody),
    )
)]
async fn revoke(State(state): State<AppState>, Path(id): Path<String>) -> Result<StatusCode> {
    operator_keys::revoke(&state.db, super::id("id", &id)?, ACTOR, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new console account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct OperatorRequest {
    /// Login e-mail.
    email: String,
    /// 10 to 200 characters.
    password: String,
}

/// Creates an operator account for the merchant console (`/console`).
#[utoipa::path(
    post,
    path = "/operators",
    tag = "operations",
    responses(
        (status = 201, description = "The account", body = Operator),
        (status = 400, description = "The e-mail or the password is invalid", body = ErrorBody),
        (status = 409, description = "The e-mail has an account", body = ErrorBody),
    )
)]
async fn create_operator(
    State(state): State<AppState>,
    Json(body): Json<OperatorRequest>,
) -> Result<impl IntoResponse> {
    let credentials = (body.email.as_str(), body.password.as_str());
    let created = operators::create(&state.db, &state.passwords, credentials, ACTOR, state.clock.now()).await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}
