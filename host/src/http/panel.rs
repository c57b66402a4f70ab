//! The affiliate panel's API: log in, then see only your own data.

use axum::Extension;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::openapi::{AFFILIATE_SESSION, secured};
use super::reports::ReportQuery;
use super::{AppState, Json, Page, Query, bearer, throttled};
use crate::domain::affiliate::check_password;
use crate::error::Result;
use crate::service::affiliates::{self, Affiliate};
use crate::service::engine::CommissionView;
use crate::service::lifecycle::{self, CommissionFilter, PayoutFilter, PayoutView};
use crate::service::progress::CampaignProgress;
use crate::service::reports::{self, Report};
use crate::service::rewards;
use crate::service::sessions::{self, Session};

/// The logged-in affiliate, and the session's token.
#[derive(Debug, Clone)]
struct Me {
    affiliate: i64,
    token: String,
}

/// `/affiliate/login` (public, rate-limited per client and per account) and the
/// affiliate's own endpoints.
pub fn router(state: AppState) -> OpenApiRouter<AppState> {
    let own = OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(commissions))
        .routes(routes!(payouts))
        .routes(routes!(report))
        .routes(routes!(progress))
        .routes(routes!(awards))
        .routes(routes!(notifications))
        .routes(routes!(logout))
        .routes(routes!(logout_everywhere))
        .routes(routes!(change_password));
    let own =
        secured(own, AFFILIATE_SESSION).route_layer(middleware::from_fn_with_state(state.clone(), require_affiliate));
    let login =
        OpenApiRouter::new().routes(routes!(login)).route_layer(middleware::from_fn_with_state(state, throttled));
    login.merge(own)
}

async fn require_affiliate(State(state): State<AppState>, mut request: Request, next: Next) -> Result<Response> {
    let token =
        bearer(&request, "send the session token from /api/v1/affiliate/login as `Authorization: Bearer <token>`")?;
    let affiliate = sessions::affiliate_of(&state.reader, &token, state.clock.now()).await?;
    request.extensions_mut().insert(Me { affiliate, token });
    Ok(next.run(request).await)
}

/// An affiliate's credentials.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Login {
    /// Login e-mail.
    email: String,
    /// Password.
    password: String,
}

/// Logs an affiliate in: the session token is good for 24 hours. Attempts are
/// limited per client (10 at once, 20 a minute) and per account (10 at once, then
/// one a minute).
#[utoipa::path(
    post,
    path = "/affiliate/login",
    tag = "panel",
    responses(
        (status = 200, description = "A new session", body = Session),
        (status = 400, description = "The body is invalid", body = ErrorBody),
        (status = 401, description = "The e-mail or the password is wrong", body = ErrorBody),
        (status = 429, description = "Too many attempts from this client or for this account", body = ErrorBody),
        (status = 503, description = "Too many password checks waiting", body = ErrorBody),
    )
)]
async fn login(State(state): State<AppState>, Json(body): Json<Login>) -> Result<impl IntoResponse> {
    state.throttles.check_account(&body.email)?;
    Ok(axum::Json(sessions::login(&state.db, &state.passwords, &body.email, &body.password, state.clock.now()).await?))
}

/// Ends this session.
#[utoipa::path(post, path = "/affiliate/logout", tag = "panel", responses((status = 204, description = "Logged out")))]
async fn logout(State(state): State<AppState>, Extension(me): Extension<Me>) -> Result<StatusCode> {
    sessions::logout(&state.db, &me.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of the affiliate, this one included.
#[utoipa::path(
    post,
    path = "/affiliate/logout-everywhere",
    tag = "panel",
    responses((status = 204, description = "Every session ended"))
)]
async fn logout_everywhere(State(state): State<AppState>, Extension(me): Extension<Me>) -> Result<StatusCode> {
    sessions::revoke_all(&state.db, me.affiliate).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A password change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct PasswordChange {
    /// The password now.
    current_password: String,
    /// The new one: 10 to 200 characters.
    new_password: String,
}

/// Changes the affiliate's password; every session ends (log in again with the new one).
#[utoipa::path(
    put,
    path = "/affiliate/password",
    tag = "panel",
    responses(
        (status = 204, description = "Changed; every session ended"),
        (status = 400, description = "The new password is invalid", body = ErrorBody),
        (status = 401, description = "The current password is wrong", body = ErrorBody),
        (status = 429, description = "Too many attempts for this account", body = ErrorBody),
    )
)]
async fn change_password(
    State(state): State<AppState>,
    Extension(me): Extension<Me>,
    Json(body): Json<PasswordChange>,
) -> Result<StatusCode> {
    check_password("new-password", &body.new_password)?;
    let id = me.affiliate;
    let email = affiliates::get(&state.reader, id).await?.email;
    state.throttles.check_account(&email)?;
    sessions::check_credentials(&state.db, &state.passwords, &email, &body.current_password).await?;
    let hash = state.passwords.hash(body.new_password).await?;
    affiliates::set_password(&state.db, id, hash, &format!("affiliate:{id}"), state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The logged-in affiliate.
#[utoipa::path(
    get,
    path = "/affiliate/me",
    tag = "panel",
    responses((status = 200, description = "The affiliate", body = Affiliate))
)]
async fn me(State(state): State<AppState>, Extension(me): Extension<Me>) -> Result<impl IntoResponse> {
    Ok(axum::Json(affiliates::get(&state.reader, me.affiliate).await?))
}

/// The logged-in affiliate's commissions, oldest first, a page at a time.
#[utoipa::path(
    get,
    path = "/affiliate/commissions",
    tag = "panel",
    params(Page),
    responses((status = 200, description = "The commissions", body = Vec<CommissionView>))
)]
async fn commissions(
    State(state): State<AppState>,
    Extension(me): Extension<Me>,
    Query(page): Query<Page>,
) -> Result<impl IntoResponse> {
    let filter =
        CommissionFilter { affiliate: Some(me.affiliate), after: page.after, limit: page.limit, ..Default::default() };
    Ok(axum::Json(lifecycle::list(&state.reader, &filter).await?))
}

/// A page of payouts, newest first.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct PayoutPage {
    /// Only those with a smaller id: the last id of the previous page.
    before: Option<i64>,
    /// At most this many (1 to 1000; default 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
}

/// The logged-in affiliate's payouts, newest first, a page at a time.
#[utoipa::path(
    get,
    path = "/affiliate/payouts",
    tag = "panel",
    params(PayoutPage),
    responses((status = 200, description = "The payouts", body = Vec<PayoutView>))
)]
async fn payouts(
    State(state): State<AppState>,
    Extension(me): Extension<Me>,
    Query(page): Query<PayoutPage>,
) -> Result<impl IntoResponse> {
    let filter = PayoutFilter { affiliate: Some(me.affiliate), before: page.before, limit: page.limit };
    Ok(axum::Json(lifecycle::payouts(&state.reader, &filter).await?))
}

/// The logged-in affiliate's awards (badges, perks), oldest first, a page at a time.
#[utoipa::path(
    get,
    path = "/affiliate/awards",
    tag = "panel",
    params(Page),
    responses((status = 200, description = "The awards", body = Vec<rewards::AwardView>))
)]
async fn awards(
    State(state): State<AppState>,
    Extension(me): Extension<Me>,
    Query(page): Query<Page>,
) -> Result<impl IntoResponse> {
    Ok(axum::Json(rewards::awards(&state.reader, own(&me, &page)?).await?))
}

/// The logged-in affiliate's notifications, oldest first, a page at a time.
#[utoipa::path(
    get,
    path = "/affiliate/notifications",
    tag = "panel",
    params(Page),
    responses((status = 200, description = "The notifications", body = Vec<rewards::NotificationView>))
)]
async fn notifications(
    State(state): State<AppState>,
    Extension(me): Extension<Me>,
    Query(page): Query<Page>,
) -> Result<impl IntoResponse> {
    Ok(axum::Json(rewards::notifications(&state.reader, own(&me, &page)?).await?))
}

/// A page of the caller's own records, in every campaign.
fn own(me: &Me, page: &Page) -> Result<rewards::Listing> {
    let limit = super::conversions::page_limit(page.limit)?;
    Ok(rewards::Listing { campaign: None, affiliate: Some(me.affiliate), after: page.after, limit })
}

/// The affiliate's own report per period (an `affiliate` parameter is ignored:
/// it is always the caller).
#[utoipa::path(
    get,
    path = "/affiliate/report",
    tag = "panel",
    params(ReportQuery),
    responses(
        (status = 200, description = "The caller's clicks, conversions and commissions in the period", body = Report),
        (status = 400, description = "A query parameter is invalid", body = ErrorBody),
    )
)]
async fn report(
    State(state): State<AppState>,
    Extension(me): Extension<Me>,
    Query(query): Query<ReportQuery>,
) -> Result<impl IntoResponse> {
    Ok(axum::Json(
        reports::report(&state.reader, query.period(Some(me.affiliate), state.clock.now().date_naive())?).await?,
    ))
}

/// Where the affiliate stands on the levels of each campaign's rule plugins (every
/// enabled `bonus-rules` plugin built against contract 0.2 that reports levels), e.g.
/// "200.00 EUR of sales to Gold". A plugin that fails is listed with its error.
#[utoipa::path(
    get,
    path = "/affiliate/progress",
    tag = "panel",
    responses((status = 200, description = "The affiliate's progress per campaign and rule", body = Vec<CampaignProgress>))
)]
async fn progress(State(state): State<AppState>, Extension(me): Extension<Me>) -> Result<impl IntoResponse> {
    let config = state.cache.current(&state.db, &state.registry).await?;
    Ok(axum::Json(state.engine.progress(&state.reader, &config, me.affiliate, state.clock.now()).await?))
}
