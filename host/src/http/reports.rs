//! `/api/v1/reports/affiliates`: clicks, conversions and commissions per affiliate
//! and period (the affiliate panel has its own, limited to the affiliate).

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::NaiveDate;
use serde::Deserialize;

use super::{AppState, Query};
use crate::error::Result;
use crate::service::reports::{self, Period};

pub fn router() -> Router<AppState> {
    Router::new().route("/reports/affiliates", get(affiliates))
}

/// The report's query parameters (days are `YYYY-MM-DD`, inclusive).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    campaign: Option<i64>,
    affiliate: Option<i64>,
}

impl ReportQuery {
    /// The period asked for, for `affiliate` when given (the panel's caller).
    pub fn period(self, affiliate: Option<i64>) -> Result<Period> {
        Period::new(self.from, self.to, self.campaign, affiliate.or(self.affiliate))
    }
}

async fn affiliates(State(state): State<AppState>, Query(query): Query<ReportQuery>) -> Result<impl IntoResponse> {
    Ok(axum::Json(reports::report(&state.db, query.period(None)?).await?))
}
