//! `/api/v1/reports/affiliates`: clicks, conversions and commissions per affiliate
//! and period (the affiliate panel has its own, limited to the affiliate).

use axum::extract::State;
use axum::response::IntoResponse;
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::{AppState, Query};
use crate::error::Result;
use crate::service::reports::{self, Period, Report};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(affiliates))
}

/// The report's query parameters (days are `YYYY-MM-DD`, inclusive, UTC).
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// First day; default the first of `to`'s month.
    from: Option<NaiveDate>,
    /// Last day; default today.
    to: Option<NaiveDate>,
    /// Only this campaign.
    campaign: Option<i64>,
    /// Only this affiliate.
    affiliate: Option<i64>,
}

impl ReportQuery {
    /// The period asked for, for `affiliate` when given (the panel's caller).
    pub fn period(self, affiliate: Option<i64>, today: chrono::NaiveDate) -> Result<Period> {
        Period::new(self.from, self.to, self.campaign, affiliate.or(self.affiliate), today)
    }
}

/// Clicks, conversions and commissions per affiliate in the period.
#[utoipa::path(
    get,
    path = "/reports/affiliates",
    tag = "reports",
    params(ReportQuery),
    responses(
        (status = 200, description = "One row per affiliate with activity in the period", body = Report),
        (status = 400, description = "A query parameter is invalid", body = ErrorBody),
    )
)]
async fn affiliates(State(state): State<AppState>, Query(query): Query<ReportQuery>) -> Result<impl IntoResponse> {
    Ok(axum::Json(reports::report(&state.reader, query.period(None, state.clock.now().date_naive())?).await?))
}
