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

/// One field of a form: what it shows, what was entered, and what is wrong with it.
struct Field {
    /// The API's name of the field, also the form's.
    name: &'static str,
    label: &'static str,
    /// The input's type (`text`, `number`, `url`); a select when it has options.
    kind: &'static str,
    value: String,
    required: bool,
    hint: &'static str,
    /// A select's options, and whether each is the value.
    options: Vec<(&'static str, bool)>,
    error: Option<String>,
}

/// The new-campaign form.
struct CampaignForm {
    fields: Vec<Field>,
    /// An error that names no field of the form.
    general: Option<String>,
}

impl CampaignForm {
    /// The form with `values` entered (the API's defaults where none).
    fn with(values: &[(String, String)]) -> Self {
        let value = |name: &str, default: &str| {
            values.iter().find(|(field, _)| field == name).map_or(default, |(_, value)| value.as_str()).to_owned()
        };
        let field = |name, label, kind, default: &str, required, hint| Field {
            name,
            label,
            kind,
            value: value(name, default),
            required,
            hint,
            options: vec![],
            error: None,
        };
        let approval = value("approval", "automatic");
        let fields = vec![
            field("name", "Name", "text", "", true, ""),
            field("currency", "Currency", "text", "EUR", true, "ISO 4217 code, e.g. EUR"),
            field("landing-url", "Landing URL", "url", "", false, "Where referral links send visitors"),
            field("time-zone", "Time zone", "text", "UTC", false, "IANA name, e.g. Europe/Amsterdam"),
            field("hold-days", "Hold days", "number", "0", false, "Days new commissions wait before approval"),
            Field {
                options: ["automatic", "manual"].into_iter().map(|option| (option, option == approval)).collect(),
                ..field("approval", "Approval", "text", "automatic", false, "Without an approval plugin")
            },
        ];
        Self { fields, general: None }
    }

    /// The form showing `err` beside the field it names (or above the form).
    fn failed(mut self, err: &crate::Error) -> Self {
        let (field, message) = match err {
            crate::Error::InvalidInput { field, message } | crate::Error::Conflict { field, message } => {
                (field.as_str(), message.clone())
            }
            err => ("", err.to_string()),
        };
        match self.fields.iter_mut().find(|f| f.name == field) {
            Some(f) => f.error = Some(message),
            None => self.general = Some(message),
        }
        self
    }

    /// The request the API would get: the fields filled in, numbers as numbers.
    fn request(&self) -> crate::Result<CampaignRequest> {
        let body: serde_json::Map<String, serde_json::Value> = self
            .fields
            .iter()
            .filter(|f| !f.value.trim().is_empty())
            .map(|f| {
                let number = (f.kind == "number").then(|| f.value.trim().parse::<u64>().ok()).flatten();
                (f.name.to_owned(), number.map_or_else(|| f.value.trim().into(), serde_json::Value::from))
            })
            .collect();
        crate::http::parse_json(serde_json::Value::Object(body).to_string().as_bytes())
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "console/campaigns.html")]
struct CampaignsPage {
    title: &'static str,
    session: Session,
    campaigns: Vec<CampaignRow>,
    form: CampaignForm,
}

async fn campaigns_page(State(state): State<AppState>, operator: Operator) -> Response {
    render_campaigns(&state, operator.session, CampaignForm::with(&[]), StatusCode::OK).await
}

async fn render_campaigns(state: &AppState, session: Session, form: CampaignForm, status: StatusCode) -> Response {
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
    let form = CampaignForm::with(&fields);
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
