//! `/api/v1/jobs`: the durable schedule (hold release, period close and end,
//! subscription payments): when each job runs next, how its last run went, and
//! re-running one that failed.

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::conversions::page_limit;
use super::error::ErrorBody;
use super::{AppState, Query};
use crate::error::Result;
use crate::service::jobs::{self, JobFilter, JobView};

const ACTOR: &str = "operator";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(rerun))
}

/// Which jobs to list.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct Filter {
    /// Only this campaign's.
    campaign: Option<i64>,
    /// Only in this state: `scheduled`, `failed` or `done`.
    state: Option<String>,
    /// Only those with a larger id: the last id of the previous page.
    after: Option<i64>,
    /// At most this many (1 to 1000; default 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
}

/// Jobs by id, a page at a time: what each does, when it runs next, how its last
/// run went.
#[utoipa::path(
    get,
    path = "/jobs",
    tag = "operations",
    params(Filter),
    responses(
        (status = 200, description = "The jobs", body = Vec<JobView>),
        (status = 400, description = "A query parameter is invalid", body = ErrorBody),
    )
)]
async fn list(State(state): State<AppState>, Query(filter): Query<Filter>) -> Result<impl IntoResponse> {
    let filter = JobFilter {
        campaign: filter.campaign,
        state: filter.state,
        after: filter.after,
        limit: page_limit(filter.limit)?,
    };
    Ok(axum::Json(jobs::list(&state.reader, filter, state.clock.now()).await?))
}

/// Re-runs a failed job: it is due at once, its attempts reset.
#[utoipa::path(
    post,
    path = "/jobs/{id}/run",
    tag = "operations",
    params(("id" = i64, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job, due now", body = JobView),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 409, description = "The job has not failed", body = ErrorBody),
    )
)]
async fn rerun(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(jobs::rerun(&state.db, super::id("id", &id)?, ACTOR, state.clock.now()).await?))
}
