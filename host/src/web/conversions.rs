//! The console's conversions: filtered and paged, and one conversion with its
//! commissions, refunded (or charged back) in part or in full, or reprocessed when a
//! plugin failed on it; through the services of `GET /api/v1/conversions`,
//! `POST /conversions/{id}/refund` and `POST /conversions/{id}/reprocess`.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::session::{ErrorPage, Operator, Posted};
use crate::domain::money::parse_amount;
use crate::http::AppState;
use crate::service::conversions::{self, ConversionFilter};
use crate::service::engine::{ConversionView, Recorded};
use crate::service::lifecycle;
use crate::service::operators::Session;

/// Conversions a page shows.
const PAGE: u64 = 50;

/// The conversions pages' routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/conversions", get(list))
        .route("/console/conversions/{id}", get(show))
        .route("/console/conversions/{id}/refund", post(refund))
        .route("/console/conversions/{id}/reprocess", post(reprocess))
}

/// The list's filter, as its query string.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Filter {
    #[serde(default)]
    campaign: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    order_id: Option<String>,
    #[serde(default)]
    after: Option<i64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/conversions.html")]
struct ListPage {
    title: &'static str,
    session: Session,
    campaign: String,
    order_id: String,
    statuses: Vec<(&'static str, bool)>,
    conversions: Vec<ConversionView>,
    /// The next page's query string, when this page is full.
    next: Option<String>,
}

async fn list(State(state): State<AppState>, operator: Operator, Query(filter): Query<Filter>) -> Response {
    let text = |value: &Option<String>| value.clone().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let campaign = match text(&filter.campaign).map(|c| c.parse::<i64>()) {
        Some(Ok(campaign)) => Some(campaign),
        Some(Err(_)) => return ErrorPage::response(StatusCode::BAD_REQUEST, "campaign: must be a campaign id"),
        None => None,
    };
    let wanted = ConversionFilter {
        campaign,
        status: text(&filter.status),
        order_id: text(&filter.order_id),
        after: filter.after,
        limit: Some(PAGE),
        ..ConversionFilter::default()
    };
    let found = match conversions::list(&state.reader, &wanted).await {
        Ok(found) => found,
        Err(err) => return ErrorPage::from_error(&err),
    };
    let next = (found.len() as u64 == PAGE).then(|| {
        super::query(&[
            ("campaign", wanted.campaign.map(|c| c.to_string())),
            ("status", wanted.status.clone()),
            ("order-id", wanted.order_id.clone()),
            ("after", found.last().map(|c| c.id.to_string())),
        ])
    });
    let chosen = wanted.status.clone().unwrap_or_default();
    let statuses = std::iter::once("").chain(conversions::STATUSES).map(|s| (s, s == chosen)).collect();
    ListPage {
        title: "Conversions",
        session: operator.session,
        campaign: wanted.campaign.map(|c| c.to_string()).unwrap_or_default(),
        order_id: wanted.order_id.unwrap_or_default(),
        statuses,
        conversions: found,
        next,
    }
    .into_response()
}

/// The refund form, what was entered and what is wrong with it.
#[derive(Default)]
struct RefundForm {
    amount: String,
    chargeback: bool,
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/conversion.html")]
struct ConversionPage {
    title: String,
    session: Session,
    recorded: Recorded,
    refund: RefundForm,
    /// Why reprocessing was refused.
    reprocess_error: Option<String>,
}

impl ConversionPage {
    async fn load(state: &AppState, session: Session, id: i64) -> crate::Result<Self> {
        let recorded = conversions::get(&state.reader, id).await?;
        let title = format!("Conversion {id}");
        Ok(Self { title, session, recorded, refund: RefundForm::default(), reprocess_error: None })
    }
}

async fn show(State(state): State<AppState>, operator: Operator, Path(id): Path<i64>) -> Response {
    match ConversionPage::load(&state, operator.session, id).await {
        Ok(page) => page.into_response(),
        Err(err) => ErrorPage::from_error(&err),
    }
}

/// Refunds (or charges back) the entered amount of the conversion: its commissions
/// are reversed in proportion.
async fn refund(State(state): State<AppState>, Path(id): Path<i64>, Posted { operator, fields }: Posted) -> Response {
    let mut page = match ConversionPage::load(&state, operator.session, id).await {
        Ok(page) => page,
        Err(err) => return ErrorPage::from_error(&err),
    };
    let value = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim().to_owned());
    page.refund.amount = value("amount").unwrap_or_default();
    page.refund.chargeback = value("chargeback").is_some_and(|v| v == "true");
    let kind = if page.refund.chargeback { "chargeback" } else { "refund" };
    let currency = page.recorded.conversion.commissionable.currency();
    let refunded = async {
        let amount = page.refund.amount.parse().map_err(|_| crate::Error::InvalidInput {
            field: "amount".into(),
            message: "must be a decimal number, e.g. 12.50".into(),
        })?;
        let amount = parse_amount("amount", amount, currency)?;
        lifecycle::refund(&state.db, id, amount, kind, "operator", state.clock.now()).await
    };
    match refunded.await {
        Ok(_) => Redirect::to(&format!("/console/conversions/{id}#commissions")).into_response(),
        Err(err) if err.status_and_code().0.is_client_error() => {
            page.refund.error = Some(err.to_string());
            (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
        }
        Err(err) => ErrorPage::from_error(&err),
    }
}

/// Computes a flagged conversion again with the campaign's current plugins.
async fn reprocess(State(state): State<AppState>, Path(id): Path<i64>, Posted { operator, .. }: Posted) -> Response {
    let reprocessed = async {
        let config = state.cache.current(&state.db, &state.registry).await?;
        state.engine.reprocess(&state.reader, &config, id).await
    };
    match reprocessed.await {
        Ok(_) => Redirect::to(&format!("/console/conversions/{id}")).into_response(),
        Err(err) if super::shown_on_form(&err) => match ConversionPage::load(&state, operator.session, id).await {
            Ok(page) => (StatusCode::CONFLICT, ConversionPage { reprocess_error: Some(err.to_string()), ..page })
                .into_response(),
            Err(err) => ErrorPage::from_error(&err),
        },
        Err(err) => ErrorPage::from_error(&err),
    }
}
