//! The console's payouts: every payout made, newest first, and a run that pays
//! every affiliate whose approved balance in a currency reaches a minimum (the
//! services of `POST /api/v1/payouts` and `GET /api/v1/payouts`).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use upline_types::Currency;

use super::session::{ErrorPage, Operator, Posted};
use crate::domain::money::parse_amount;
use crate::http::AppState;
use crate::service::lifecycle::{self, PayoutFilter, PayoutView};
use crate::service::operators::Session;

/// Payouts a page shows.
const PAGE: u64 = 50;

/// The payouts page's routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/console/payouts", get(list).post(pay_out))
}

/// The list's filter, as its query string.
#[derive(Deserialize, Default)]
struct Filter {
    #[serde(default)]
    affiliate: Option<i64>,
    #[serde(default)]
    before: Option<i64>,
}

/// The pay-out form, what was entered and what is wrong with it.
struct RunForm {
    currency: String,
    minimum: String,
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/payouts.html")]
struct PayoutsPage {
    title: &'static str,
    session: Session,
    affiliate: String,
    payouts: Vec<PayoutView>,
    /// The next page's query string, when this page is full.
    next: Option<String>,
    form: RunForm,
    /// The payouts the run just made.
    made: Option<Vec<PayoutView>>,
}

impl PayoutsPage {
    async fn load(state: &AppState, session: Session, filter: Filter, form: RunForm) -> crate::Result<Self> {
        let wanted = PayoutFilter { affiliate: filter.affiliate, before: filter.before, limit: Some(PAGE) };
        let payouts = lifecycle::payouts(&state.reader, &wanted).await?;
        let next = (payouts.len() as u64 == PAGE).then(|| {
            super::query(&[
                ("affiliate", filter.affiliate.map(|a| a.to_string())),
                ("before", payouts.last().map(|p| p.id.to_string())),
            ])
        });
        let affiliate = filter.affiliate.map(|a| a.to_string()).unwrap_or_default();
        Ok(Self { title: "Payouts", session, affiliate, payouts, next, form, made: None })
    }
}

async fn list(State(state): State<AppState>, operator: Operator, Query(filter): Query<Filter>) -> Response {
    let form = RunForm { currency: String::new(), minimum: "50.00".into(), error: None };
    match PayoutsPage::load(&state, operator.session, filter, form).await {
        Ok(page) => page.into_response(),
        Err(err) => ErrorPage::from_error(&err),
    }
}

/// Pays every balance in the currency of at least the minimum, and shows what was paid.
async fn pay_out(State(state): State<AppState>, Posted { operator, fields }: Posted) -> Response {
    let value = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim().to_owned());
    let mut form = RunForm {
        currency: value("currency").unwrap_or_default().to_uppercase(),
        minimum: value("minimum").unwrap_or_default(),
        error: None,
    };
    let paid = async {
        let invalid = |field: &str, message: String| crate::Error::InvalidInput { field: field.into(), message };
        let currency =
            Currency::from_code(&form.currency).map_err(|err| invalid("currency", err.message().to_owned()))?;
        let minimum =
            form.minimum.parse().map_err(|_| invalid("minimum", "must be a decimal number, e.g. 50.00".into()))?;
        let minimum = parse_amount("minimum", minimum, currency)?;
        lifecycle::pay_out(&state.db, minimum, "operator", state.clock.now()).await
    };
    let (made, status) = match paid.await {
        Ok(made) => (Some(made), StatusCode::OK),
        Err(err) if err.status_and_code().0.is_client_error() => {
            form.error = Some(err.to_string());
            (None, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(err) => return ErrorPage::from_error(&err),
    };
    match PayoutsPage::load(&state, operator.session, Filter::default(), form).await {
        Ok(page) => (status, PayoutsPage { made, ..page }).into_response(),
        Err(err) => ErrorPage::from_error(&err),
    }
}
