//! The console's pages: log in and out, and the campaigns (list, create).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

use super::session::{self, ErrorPage, Operator, Posted};
use super::settings_form::SettingsForm;
use crate::domain::campaign::CampaignRequest;
use crate::http::AppState;
use crate::service::campaigns;
use crate::service::operators::{self, Session};

/// The console's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(campaigns_page))
        .route("/console/campaigns", post(create_campaign))
        .route("/console/login", get(login_page).post(login))
        .route("/console/logout", post(logout))
}

#[derive(Template, WebTemplate)]
#[template(path = "console/login.html")]
struct LoginPage {
    title: &'static str,
    email: String,
    error: Option<String>,
}

async fn login_page() -> LoginPage {
    LoginPage { title: "Log in", email: String::new(), error: None }
}

#[derive(Deserialize)]
struct Credentials {
    email: String,
    password: String,
}

/// Starts a session and goes to the campaigns; a wrong e-mail or password shows the
/// form again with the reason.
async fn login(State(state): State<AppState>, jar: CookieJar, Form(form): Form<Credentials>) -> Response {
    let refused = |status: StatusCode, message: String| {
        (status, LoginPage { title: "Log in", email: form.email.clone(), error: Some(message) }).into_response()
    };
    if let Err(err) = state.throttles.check_account(&form.email) {
        return refused(StatusCode::TOO_MANY_REQUESTS, err.to_string());
    }
    match operators::login(&state.db, &state.passwords, &form.email, &form.password, state.clock.now()).await {
        Ok(token) => (jar.add(session::cookie(session::CONSOLE, token)), Redirect::to("/console")).into_response(),
        Err(crate::Error::Unauthorized(why)) => refused(StatusCode::UNAUTHORIZED, why.to_owned()),
        Err(err) => ErrorPage::from_error(&err),
    }
}

/// Ends the session.
async fn logout(State(state): State<AppState>, jar: CookieJar, Posted { operator, .. }: Posted) -> Response {
    match operators::logout(&state.db, &operator.token).await {
        Ok(()) => (session::forget(jar, session::CONSOLE), Redirect::to("/console/login")).into_response(),
        Err(err) => ErrorPage::from_error(&err),
    }
}

/// A campaign as the list shows it.
struct CampaignRow {
    id: i64,
    name: String,
    currency: String,
    time_zone: String,
    approval: String,
    hold_days: i32,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/campaigns.html")]
struct CampaignsPage {
    title: &'static str,
    session: Session,
    campaigns: Vec<CampaignRow>,
    form: SettingsForm,
}

async fn campaigns_page(State(state): State<AppState>, operator: Operator) -> Response {
    render_campaigns(&state, operator.session, SettingsForm::new_campaign(), StatusCode::OK).await
}

async fn render_campaigns(state: &AppState, session: Session, form: SettingsForm, status: StatusCode) -> Response {
    match campaigns::list(&state.reader).await {
        Ok(list) => {
            let campaigns = list
                .into_iter()
                .map(|c| CampaignRow {
                    id: c.settings.id,
                    name: c.settings.name,
                    currency: c.settings.currency,
                    time_zone: c.settings.time_zone,
                    approval: c.settings.approval,
                    hold_days: c.settings.hold_days,
                })
                .collect();
            (status, CampaignsPage { title: "Campaigns", session, campaigns, form }).into_response()
        }
        Err(err) => ErrorPage::from_error(&err),
    }
}

/// Creates a campaign with the API's checks and defaults; a refused field is shown
/// beside it, with what was entered.
async fn create_campaign(State(state): State<AppState>, Posted { operator, fields }: Posted) -> Response {
    let form = SettingsForm::posted(&fields, false);
    let created = match form.request().and_then(CampaignRequest::parse) {
        Ok(settings) => campaigns::create(&state.db, settings, state.clock.now()).await,
        Err(err) => Err(err),
    };
    match created {
        Ok(_) => Redirect::to("/console").into_response(),
        Err(err) if err.status_and_code().0.is_client_error() => {
            render_campaigns(&state, operator.session, form.failed(&err), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(err) => ErrorPage::from_error(&err),
    }
}
