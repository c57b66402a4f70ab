//! `/api/v1/audit`: the audit log, every status and configuration change with who
//! made it, newest first.

use axum::extract::State;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::{AppState, Query};
use crate::error::Result;
use crate::service::audit::{self, AuditFilter, AuditView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// Audit records, newest first, a page at a time (`before` the last id seen).
#[utoipa::path(
    get,
    path = "/audit",
    tag = "operations",
    params(AuditFilter),
    responses(
        (status = 200, description = "The records", body = Vec<AuditView>),
        (status = 400, description = "A query parameter is invalid", body = ErrorBody),
    )
)]
async fn list(State(state): State<AppState>, Query(filter): Query<AuditFilter>) -> Result<impl IntoResponse> {
    Ok(axum::Json(audit::list(&state.reader, &filter).await?))
}
