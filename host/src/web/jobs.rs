//! The console's jobs: what each does, when it runs next and how its last run went,
//! a page at a time, with a failed one run again (`jobs::list`, `jobs::rerun`, the
//! services of `GET /api/v1/jobs` and `POST /jobs/{id}/run`).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::session::{ErrorPage, Operator, Posted};
use crate::http::AppState;
use crate::service::jobs::{self, JobFilter, JobView};
use crate::service::operators::Session;

/// Jobs a page shows.
const PAGE: u64 = 50;

/// The jobs page's routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/console/jobs", get(list)).route("/console/jobs/{id}/run", post(rerun))
}

/// The page's filter, as its query string.
#[derive(Deserialize)]
struct Filter {
    /// `scheduled`, `failed` or `done`; all when empty.
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    after: Option<i64>,
}

/// A job, as listed.
struct Row {
    view: JobView,
    kind: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/jobs.html")]
struct JobsPage {
    title: &'static str,
    session: Session,
    states: Vec<(&'static str, bool)>,
    jobs: Vec<Row>,
    /// The next page's query string, when this page is full.
    next: Option<String>,
}

async fn list(State(state): State<AppState>, operator: Operator, Query(filter): Query<Filter>) -> Response {
    let chosen = filter.state.filter(|s| !s.is_empty());
    let wanted = JobFilter { campaign: None, state: chosen.clone(), after: filter.after, limit: PAGE };
    let jobs = match jobs::list(&state.reader, wanted, state.clock.now()).await {
        Ok(jobs) => jobs,
        Err(err) => return ErrorPage::from_error(&err),
    };
    let next = (jobs.len() as u64 == PAGE)
        .then(|| super::query(&[("state", chosen.clone()), ("after", jobs.last().map(|job| job.id.to_string()))]));
    let current = chosen.unwrap_or_default();
    let states = ["", "scheduled", "failed", "done"].into_iter().map(|s| (s, s == current)).collect();
    let jobs = jobs
        .into_iter()
        .map(|view| {
            let kind = serde_json::to_value(view.kind).ok().and_then(|k| k.as_str().map(str::to_owned));
            Row { kind: kind.unwrap_or_default(), view }
        })
        .collect();
    JobsPage { title: "Jobs", session: operator.session, states, jobs, next }.into_response()
}

/// Runs a failed job again: it is due at once, its attempts reset.
async fn rerun(State(state): State<AppState>, Path(id): Path<i64>, Posted { .. }: Posted) -> Response {
    match jobs::rerun(&state.db, id, "operator", state.clock.now()).await {
        Ok(_) => Redirect::to("/console/jobs").into_response(),
        Err(err) => ErrorPage::from_error(&err),
    }
}
