//! The console's commissions: filtered by campaign, affiliate and status, a page at a time,
//! approved or declined one by one or in bulk (a decline with its reason), through
//! the same services as `GET /api/v1/commissions` and `POST /commissions/approve`.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::session::{ErrorPage, Operator, Posted};
use crate::domain::CommissionStatus;
use crate::http::AppState;
use crate::service::engine::CommissionView;
use crate::service::lifecycle::{self, CommissionFilter, Decision};
use crate::service::operators::Session;

/// Commissions a page shows.
const PAGE: u64 = 50;

/// The commissions page's routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/console/commissions", get(list)).route("/console/commissions/decide", post(decide))
}

/// The page's filter, as its query string.
#[derive(Debug, Default, Deserialize)]
struct Filter {
    #[serde(default)]
    campaign: Option<i64>,
    #[serde(default)]
    affiliate: Option<i64>,
    /// A status, or empty for all.
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    after: Option<i64>,
}

impl Filter {
    /// The query string of this filter from `after` on (none for the first page).
    fn query(&self, after: Option<i64>) -> String {
        super::query(&[
            ("campaign", self.campaign.map(|c| c.to_string())),
            ("affiliate", self.affiliate.map(|a| a.to_string())),
            ("status", self.status.clone()),
            ("after", after.map(|a| a.to_string())),
        ])
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "console/commissions.html")]
struct CommissionsPage {
    title: &'static str,
    session: Session,
    campaign: String,
    affiliate: String,
    statuses: Vec<(&'static str, bool)>,
    commissions: Vec<CommissionView>,
    /// The query string of the current page, to come back to after a decision.
    this_page: String,
    /// The next page's query string, when this page is full.
    next: Option<String>,
    error: Option<String>,
}

async fn list(State(state): State<AppState>, operator: Operator, Query(filter): Query<Filter>) -> Response {
    page(&state, operator.session, filter, None).await
}

async fn page(state: &AppState, session: Session, filter: Filter, error: Option<String>) -> Response {
    let status = match filter.status.as_deref().filter(|s| !s.is_empty()).map(str::parse::<CommissionStatus>) {
        Some(Ok(status)) => Some(status),
        Some(Err(message)) => return ErrorPage::response(StatusCode::BAD_REQUEST, message),
        None => None,
    };
    let wanted = CommissionFilter {
        campaign: filter.campaign,
        affiliate: filter.affiliate,
        status,
        after: filter.after,
        limit: Some(PAGE),
        ..CommissionFilter::default()
    };
    let commissions = match lifecycle::list(&state.reader, &wanted).await {
        Ok(commissions) => commissions,
        Err(err) => return ErrorPage::from_error(&err),
    };
    let next = (commissions.len() as u64 == PAGE).then(|| filter.query(commissions.last().map(|c| c.id)));
    let chosen = filter.status.clone().unwrap_or_default();
    let statuses = ["", "pending", "approved", "declined", "paid"].into_iter().map(|s| (s, s == chosen)).collect();
    let page = CommissionsPage {
        title: "Commissions",
        session,
        campaign: filter.campaign.map(|c| c.to_string()).unwrap_or_default(),
        affiliate: filter.affiliate.map(|a| a.to_string()).unwrap_or_default(),
        statuses,
        commissions,
        this_page: filter.query(filter.after),
        next,
        error: error.clone(),
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    (status, page).into_response()
}

/// Approves or declines the commissions ticked (or the one whose button was
/// pressed), all or none, then shows the same page again.
async fn decide(State(state): State<AppState>, Posted { operator, fields }: Posted) -> Response {
    let value = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let back = value("back").unwrap_or_default();
    let filter: Filter = serde_urlencoded::from_str(&back).unwrap_or_default();
    // A row's own button names its commission: `approve:7`; the bulk ones the ticked rows.
    let (action, own) = match value("decision").as_deref().and_then(|d| d.split_once(':')) {
        Some((action, id)) => (action.to_owned(), id.parse::<i64>().ok()),
        None => (value("decision").unwrap_or_default(), None),
    };
    let ids: Vec<i64> = match own {
        Some(id) => vec![id],
        None => fields.iter().filter(|(n, _)| n == "id").filter_map(|(_, v)| v.parse().ok()).collect(),
    };
    let decision = match action.as_str() {
        "approve" => Ok(Decision::Approve),
        _ => Decision::decline(value("reason")),
    };
    let decided = match decision {
        Ok(decision) => lifecycle::decide(&state.db, &ids, &decision, "operator", state.clock.now()).await,
        Err(err) => Err(err),
    };
    match decided {
        Ok(_) => Redirect::to(&format!("/console/commissions?{}", filter.query(filter.after))).into_response(),
        Err(err) if err.status_and_code().0.is_client_error() => {
            page(&state, operator.session, filter, Some(err.to_string())).await
        }
        Err(err) => ErrorPage::from_error(&err),
    }
}
