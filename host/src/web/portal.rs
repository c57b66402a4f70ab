//! The affiliate portal: log in and out, and a dashboard of earnings by status, a
//! chart of the last 12 months (server-rendered SVG, with the same figures as a
//! table), the referral links, progress and awards, and the latest commissions; in
//! English, German or Dutch ([`Tr`]); the commissions and payouts pages are
//! [`super::portal_lists`]. The session is the affiliate panel's
//! (`service::sessions`), its token in an HttpOnly cookie.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Form, FromRequestParts, Path, State};
use axum::http::header::HOST;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;
use serde::Deserialize;
use upline_types::Currency;

use super::i18n::Tr;
use super::session::{self, ErrorPage};
use crate::http::AppState;
use crate::service::reports::{self, Earnings, Period};
use crate::service::{affiliates, campaigns, coupons, lifecycle, rewards, sessions};

/// The portal's session cookie.
const COOKIE: &str = "upline_portal";

/// Commissions the dashboard lists.
const LATEST: u64 = 20;

/// The portal's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal", get(dashboard))
        .merge(super::portal_lists::router())
        .route("/portal/login", get(login_page).post(login))
        .route("/portal/logout", post(logout))
        .route("/portal/language/{code}", get(language))
}

/// A logged-in affiliate's request.
pub struct Affiliate {
    /// The affiliate.
    pub id: i64,
    token: String,
    /// The session's CSRF token, for the logout form.
    pub csrf: String,
}

impl FromRequestParts<AppState> for Affiliate {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let login = || Redirect::to("/portal/login").into_response();
        let token = session::token(parts, COOKIE).ok_or_else(login)?;
        match sessions::affiliate_of(&state.reader, &token, state.clock.now()).await {
            Ok(id) => Ok(Affiliate { id, csrf: sessions::csrf_token(&token), token }),
            Err(crate::Error::Unauthorized(_)) => Err(login()),
            Err(err) => Err(ErrorPage::from_error(&err)),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/login.html")]
struct LoginPage {
    title: String,
    t: Tr,
    email: String,
    error: Option<String>,
}

async fn login_page(t: Tr) -> LoginPage {
    LoginPage { title: t.t("log-in-title"), t, email: String::new(), error: None }
}

#[derive(Deserialize)]
struct Credentials {
    email: String,
    password: String,
}

async fn login(State(state): State<AppState>, t: Tr, jar: CookieJar, Form(form): Form<Credentials>) -> Response {
    let refused = |status: StatusCode, message: String| {
        let page = LoginPage { title: t.t("log-in-title"), t, email: form.email.clone(), error: Some(message) };
        (status, page).into_response()
    };
    if let Err(err) = state.throttles.check_account(&form.email) {
        return refused(StatusCode::TOO_MANY_REQUESTS, err.to_string());
    }
    match sessions::login(&state.db, &state.passwords, &form.email, &form.password, state.clock.now()).await {
        Ok(session) => (jar.add(session::cookie(COOKIE, session.token)), Redirect::to("/portal")).into_response(),
        Err(crate::Error::Unauthorized(_)) => refused(StatusCode::UNAUTHORIZED, t.t("wrong-login")),
        Err(err) => ErrorPage::from_error(&err),
    }
}

async fn logout(
    State(state): State<AppState>,
    me: Affiliate,
    jar: CookieJar,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(refused) = session::check_csrf(&me.csrf, fields) {
        return refused.into_response();
    }
    match sessions::logout(&state.db, &me.token).await {
        Ok(()) => (session::forget(jar, COOKIE), Redirect::to("/portal/login")).into_response(),
        Err(err) => ErrorPage::from_error(&err),
    }
}

/// The language switch: keeps the language in a cookie.
async fn language(Path(code): Path<String>, jar: CookieJar) -> Response {
    match Tr::named(&code) {
        Some(chosen) => (jar.add(chosen.cookie()), Redirect::to("/portal")).into_response(),
        None => ErrorPage::response(StatusCode::NOT_FOUND, format!("the portal does not speak `{code}`")),
    }
}

/// One status's earnings, as shown.
struct StatusRow {
    status: String,
    count: i64,
    amount: String,
}

/// One month's bar of the chart.
struct Bar {
    label: String,
    amount: String,
    x: i64,
    y: i64,
    height: i64,
}

/// A campaign's ways to refer: the referral link, the same as HTML to paste, a
/// link to the shop's landing page for pages that carry the tracking snippet, and
/// the affiliate's coupon codes.
struct Link {
    campaign: String,
    url: String,
    html: String,
    direct: Option<String>,
    coupons: Vec<String>,
}

/// A commission, as listed.
struct Row {
    date: String,
    campaign: i64,
    amount: String,
    status: String,
    explanation: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/dashboard.html")]
struct Dashboard {
    title: String,
    t: Tr,
    name: String,
    csrf: String,
    earnings: Vec<StatusRow>,
    /// The chart's currency, and its bars; none without earnings.
    chart: Option<(String, Vec<Bar>)>,
    links: Vec<Link>,
    progress: Vec<String>,
    awards: Vec<String>,
    latest: Vec<Row>,
}

/// The chart's height in SVG units.
const CHART_HEIGHT: i64 = 160;

async fn dashboard(State(state): State<AppState>, t: Tr, me: Affiliate, headers: HeaderMap) -> Response {
    match dashboard_of(&state, t, &me, &headers).await {
        Ok(page) => page.into_response(),
        Err(err) => ErrorPage::from_error(&err),
    }
}

async fn dashboard_of(state: &AppState, t: Tr, me: &Affiliate, headers: &HeaderMap) -> crate::Result<Dashboard> {
    let now = state.clock.now();
    let today = now.date_naive();
    let db = &state.reader;
    let affiliate = affiliates::get(db, me.id).await?;
    let all_time = today.checked_sub_days(chrono::Days::new(3650)).unwrap_or(today);
    let earnings = earnings(db, me.id, all_time, today, today).await?;
    let status_rows = earnings
        .iter()
        .map(|e| StatusRow {
            status: t.t(&format!("status-{}", e.status)),
            count: e.count,
            amount: t.money(e.amount.amount(), e.amount.currency()),
        })
        .collect();
    let chart = match earnings.first().map(|e| e.amount.currency()) {
        Some(currency) => Some((currency.code().to_owned(), chart(db, t, me.id, today, currency).await?)),
        None => None,
    };
    let host = headers.get(HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1:8080");
    let coupons = coupons::of_affiliate(db, me.id).await?;
    let links = campaigns::list(db)
        .await?
        .into_iter()
        .map(|c| {
            let url = format!("http://{host}/r/{}/{}", c.settings.id, me.id);
            let direct = c.settings.landing_url.as_deref().and_then(|landing| url::Url::parse(landing).ok()).map(
                |mut landing| {
                    landing.query_pairs_mut().append_pair("aff", &me.id.to_string());
                    landing.to_string()
                },
            );
            Link {
                html: format!(r#"<a href="{url}">{}</a>"#, c.settings.name),
                coupons: coupons.iter().filter(|k| k.campaign == c.settings.id).map(|k| k.code.clone()).collect(),
                campaign: c.settings.name,
                url,
                direct,
            }
        })
        .collect();
    let config = state.cache.current(&state.db, &state.registry).await?;
    let progress = state
        .engine
        .progress(db, &config, me.id, now)
        .await?
        .into_iter()
        .filter(|p| p.error.is_none())
        .map(|p| p.summary)
        .collect();
    let listing = rewards::Listing { campaign: None, affiliate: Some(me.id), after: None, limit: 100 };
    let awards = rewards::awards(db, listing).await?.into_iter().map(|a| a.name).collect();
    let latest = lifecycle::latest(db, me.id, LATEST)
        .await?
        .into_iter()
        .map(|c| Row {
            date: c.created_at.format("%Y-%m-%d").to_string(),
            campaign: c.campaign,
            amount: t.money(c.amount.amount(), c.amount.currency()),
            status: t.t(&format!("status-{}", c.status)),
            explanation: c.explanation,
        })
        .collect();
    Ok(Dashboard {
        title: t.t("dashboard"),
        t,
        name: affiliate.name,
        csrf: me.csrf.clone(),
        earnings: status_rows,
        chart,
        links,
        progress,
        awards,
        latest,
    })
}

/// The affiliate's commissions from `from` to `to` (whole days), by status and
/// currency: the operators' report's figures.
async fn earnings(
    db: &sea_orm::DatabaseConnection,
    affiliate: i64,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> crate::Result<Vec<Earnings>> {
    let period = Period::new(Some(from), Some(to), None, Some(affiliate), today)?;
    let report = reports::report(db, period).await?;
    Ok(report.affiliates.into_iter().flat_map(|a| a.commissions).collect())
}

/// The last 12 months' earnings in `currency` (approved, pending and paid), one bar
/// each, scaled to the largest.
async fn chart(
    db: &sea_orm::DatabaseConnection,
    t: Tr,
    affiliate: i64,
    today: NaiveDate,
    currency: Currency,
) -> crate::Result<Vec<Bar>> {
    let this_month = today.with_day(1).unwrap_or(today);
    let mut months = Vec::with_capacity(12);
    for back in (0..12).rev() {
        let start = this_month.checked_sub_months(Months::new(back)).unwrap_or(this_month);
        let end = start.checked_add_months(Months::new(1)).and_then(|d| d.pred_opt()).unwrap_or(start).min(today);
        let earned: Decimal = earnings(db, affiliate, start, end, today)
            .await?
            .iter()
            .filter(|e| e.status != "declined" && e.amount.currency() == currency)
            .map(|e| e.amount.amount())
            .sum();
        months.push((start, earned));
    }
    let highest = months.iter().map(|(_, earned)| *earned).max().filter(|h| *h > Decimal::ZERO).unwrap_or(Decimal::ONE);
    Ok(months
        .into_iter()
        .enumerate()
        .map(|(i, (start, earned))| {
            let scaled = (earned.max(Decimal::ZERO) * Decimal::from(CHART_HEIGHT) / highest).round();
            let height = i64::try_from(scaled.mantissa()).unwrap_or(0).clamp(0, CHART_HEIGHT);
            Bar {
                label: start.format("%Y-%m").to_string(),
                amount: t.money(earned, currency),
                x: 40 * i as i64 + 10,
                y: CHART_HEIGHT - height,
                height,
            }
        })
        .collect())
}
