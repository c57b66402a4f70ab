//! `/api/v1/awards` and `/api/v1/notifications`: what rule plugins gave affiliates.

use axum::extract::State;
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::{AppState, Query};
use crate::error::Result;
use crate::service::rewards::{self, AwardView, Listing, NotificationView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(awards)).routes(routes!(notifications))
}

/// Which awards or notifications to list, oldest first, a page at a time.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct Filter {
    /// Only this campaign's.
    campaign: Option<i64>,
    /// Only this affiliate's.
    affiliate: Option<i64>,
    /// Only those with a larger id: the last id of the previous page.
    after: Option<i64>,
    /// At most this many (1 to 1000; default 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
}

impl Filter {
    fn listing(&self) -> Result<Listing> {
        let limit = super::conversions::page_limit(self.limit)?;
        Ok(Listing { campaign: self.campaign, affiliate: self.affiliate, after: self.after, limit })
    }
}

/// Awards (badges, perks) rule plugins gave affiliates.
#[utoipa::path(
    get,
    path = "/awards",
    tag = "rewards",
    params(Filter),
    responses(
        (status = 200, description = "The awards", body = Vec<AwardView>),
        (status = 400, description = "A query parameter is invalid", body = ErrorBody),
    )
)]
async fn awards(State(state): State<AppState>, Query(filter): Query<Filter>) -> Result<impl IntoResponse> {
    Ok(axum::Json(rewards::awards(&state.reader, filter.listing()?).await?))
}

/// Notifications rule plugins sent affiliates.
#[utoipa::path(
    get,
    path = "/notifications",
    tag = "rewards",
    params(Filter),
    responses(
        (status = 200, description = "The notifications", body = Vec<NotificationView>),
        (status = 400, description = "A query parameter is invalid", body = ErrorBody),
    )
)]
async fn notifications(State(state): State<AppState>, Query(filter): Query<Filter>) -> Result<impl IntoResponse> {
    Ok(axum::Json(rewards::notifications(&state.reader, filter.listing()?).await?))
}
