//! The console's audit log: every status and configuration change, who made it and
//! when, with the record before and after; newest first, filtered by the kind of
//! record, its id and the actor (the service of `GET /api/v1/audit`).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::session::{ErrorPage, Operator};
use crate::http::AppState;
use crate::service::audit::{self, AuditFilter, AuditView};
use crate::service::operators::Session;

/// Records a page shows.
const PAGE: u64 = 50;

/// The audit log's route.
pub fn router() -> Router<AppState> {
    Router::new().route("/console/audit", get(list))
}

/// The filter, as its query string (empty fields: any).
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Filter {
    #[serde(default)]
    entity: String,
    #[serde(default)]
    entity_id: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    before: Option<i64>,
}

/// A record as the page shows it: the JSON before and after, pretty-printed.
struct Row {
    view: AuditView,
    before: Option<String>,
    after: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/audit.html")]
struct AuditPage {
    title: &'static str,
    session: Session,
    entity: String,
    entity_id: String,
    actor: String,
    rows: Vec<Row>,
    /// The next page's query string, when this page is full.
    next: Option<String>,
}

async fn list(State(state): State<AppState>, operator: Operator, Query(filter): Query<Filter>) -> Response {
    let given = |text: &str| Some(text.trim().to_owned()).filter(|text| !text.is_empty());
    let wanted = AuditFilter {
        entity: given(&filter.entity),
        entity_id: given(&filter.entity_id),
        actor: given(&filter.actor),
        before: filter.before,
        limit: Some(PAGE),
    };
    let records = match audit::list(&state.reader, &wanted).await {
        Ok(records) => records,
        Err(err) => return ErrorPage::from_error(&err),
    };
    let next = (records.len() as u64 == PAGE).then(|| {
        super::query(&[
            ("entity", wanted.entity.clone()),
            ("entity-id", wanted.entity_id.clone()),
            ("actor", wanted.actor.clone()),
            ("before", records.last().map(|r| r.id.to_string())),
        ])
    });
    let pretty = |value: &Option<serde_json::Value>| value.as_ref().and_then(|v| serde_json::to_string_pretty(v).ok());
    let rows = records
        .into_iter()
        .map(|view| Row { before: pretty(&view.before), after: pretty(&view.after), view })
        .collect();
    AuditPage {
        title: "Audit log",
        session: operator.session,
        entity: filter.entity,
        entity_id: filter.entity_id,
        actor: filter.actor,
        rows,
        next,
    }
    .into_response()
}
