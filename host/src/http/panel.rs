//! The affiliate panel's API: log in, then see only your own data.

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;

use super::reports::ReportQuery;
use super::{AppState, Json, Query, bearer};
use crate::db::entity::commission;
use crate::error::Result;
use crate::service::engine::CommissionView;
use crate::service::{affiliates, reports, sessions};

/// The logged-in affiliate.
#[derive(Debug, Clone, Copy)]
struct Me(i64);

/// `/affiliate/login` (public) and the affiliate's own endpoints.
pub fn router(state: AppState) -> Router<AppState> {
    let own = Router::new()
        .route("/affiliate/me", get(me))
        .route("/affiliate/commissions", get(commissions))
        .route("/affiliate/report", get(report))
        .route_layer(middleware::from_fn_with_state(state, require_affiliate));
    Router::new().route("/affiliate/login", post(login)).merge(own)
}

async fn require_affiliate(State(state): State<AppState>, mut request: Request, next: Next) -> Result<Response> {
    let token =
        bearer(&request, "send the session token from /api/v1/affiliate/login as `Authorization: Bearer <token>`")?;
    let affiliate = sessions::affiliate_of(&state.db, &token).await?;
    request.extensions_mut().insert(Me(affiliate));
    Ok(next.run(request).await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    email: String,
    password: String,
}

async fn login(State(state): State<AppState>, Json(body): Json<Login>) -> Result<impl IntoResponse> {
    Ok(axum::Json(sessions::login(&state.db, &body.email, &body.password).await?))
}

async fn me(State(state): State<AppState>, Extension(Me(id)): Extension<Me>) -> Result<impl IntoResponse> {
    Ok(axum::Json(affiliates::get(&state.db, id).await?))
}

async fn commissions(State(state): State<AppState>, Extension(Me(id)): Extension<Me>) -> Result<impl IntoResponse> {
    let rows = commission::Entity::find()
        .filter(commission::Column::AffiliateId.eq(id))
        .order_by_asc(commission::Column::Id)
        .all(&state.db)
        .await?;
    Ok(axum::Json(rows.into_iter().map(CommissionView::of).collect::<Result<Vec<_>>>()?))
}

/// The affiliate's own report (an `affiliate` parameter is ignored: it is always the caller).
async fn report(
    State(state): State<AppState>,
    Extension(Me(id)): Extension<Me>,
    Query(query): Query<ReportQuery>,
) -> Result<impl IntoResponse> {
    Ok(axum::Json(reports::report(&state.db, query.period(Some(id))?).await?))
}
