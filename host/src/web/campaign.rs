//! One campaign in the console: its settings (every one changeable), its commission
//! groups ([`super::groups`]), its plugins switched on or off with a configuration
//! form generated from each plugin's JSON Schema, and "try a sale" (the simulate
//! endpoint as a form).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::groups::GroupForms;
use super::schema_form::{self, ConfigField};
use super::session::{ErrorPage, Operator, Posted};
use super::settings_form::SettingsForm;
use crate::domain::campaign::CampaignRequest;
use crate::domain::conversion::{ConversionRequest, Source};
use crate::http::AppState;
use crate::plugin::Capability;
use crate::service::bindings::{self, Setting};
use crate::service::campaigns::{self, Campaign};
use crate::service::engine::Recorded;
use crate::service::operators::Session;

/// The campaign page's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/campaigns/{id}", get(show))
        .route("/console/campaigns/{id}/settings", post(save_settings))
        .route("/console/campaigns/{id}/plugins/{plugin}", post(save_plugin))
        .route("/console/campaigns/{id}/try", post(try_sale))
}

/// One installed plugin's form for the campaign.
struct PluginForm {
    id: String,
    name: String,
    version: String,
    description: String,
    /// Switched on, as stored.
    on: bool,
    /// Switched on, as the form shows it.
    enabled: bool,
    /// The capabilities its manifest asks for, and whether each is granted here.
    grants: Vec<(String, bool)>,
    fields: Vec<ConfigField>,
    /// An error that names no field.
    error: Option<String>,
}

/// The "try a sale" form, what was entered and what is wrong with it.
#[derive(Default)]
struct SaleForm {
    affiliate: String,
    total: String,
    affiliate_error: Option<String>,
    total_error: Option<String>,
    error: Option<String>,
}

/// A commission line a tried sale would store.
struct Line {
    affiliate: i64,
    tier: i32,
    kind: String,
    amount: String,
    status: String,
    plugin: String,
    explanation: String,
}

/// What a tried sale would store.
struct Tried {
    status: String,
    error: Option<String>,
    lines: Vec<Line>,
}

/// A campaign's page.
#[derive(Template, WebTemplate)]
#[template(path = "console/campaign.html")]
pub struct CampaignPage {
    title: String,
    session: Session,
    campaign: Campaign,
    /// Its settings.
    form: SettingsForm,
    /// Its commission groups.
    pub groups: Vec<GroupForms>,
    /// The new group's name as entered, and what is wrong with it.
    pub new_group: String,
    /// Why the new group was refused.
    pub group_error: Option<String>,
    /// The affiliate entered to move to a group, and why that was refused.
    pub member: (String, Option<String>),
    plugins: Vec<PluginForm>,
    sale: SaleForm,
    tried: Option<Tried>,
}

impl CampaignPage {
    /// The page of campaign `id` with its stored settings and groups, and every
    /// installed plugin's stored setting.
    pub async fn load(state: &AppState, session: Session, id: i64) -> crate::Result<Self> {
        let campaign = campaigns::get(&state.reader, id).await?;
        let bound = bindings::list(&state.reader, id).await?;
        let plugins = state
            .registry
            .list()
            .into_iter()
            .filter(|info| info.active)
            .map(|info| {
                let binding = bound.iter().find(|b| b.plugin == info.id.to_string());
                let config = binding.map_or(serde_json::json!({}), |b| b.config.clone());
                let granted = binding.map(|b| b.grants.clone()).unwrap_or_default();
                PluginForm {
                    id: info.id.to_string(),
                    name: info.name.clone(),
                    version: info.version.to_string(),
                    description: info.description.clone(),
                    on: binding.is_some_and(|b| b.enabled),
                    enabled: binding.is_some_and(|b| b.enabled),
                    grants: info.capabilities.iter().map(|c| (c.to_string(), granted.contains(c))).collect(),
                    fields: schema_form::fields(&info.config_schema, &config),
                    error: None,
                }
            })
            .collect();
        let title = campaign.settings.name.clone();
        Ok(Self {
            title,
            session,
            form: SettingsForm::of(&campaign),
            groups: campaign.groups.iter().map(GroupForms::of).collect(),
            new_group: String::new(),
            group_error: None,
            member: (String::new(), None),
            campaign,
            plugins,
            sale: SaleForm::default(),
            tried: None,
        })
    }

    /// The page with `status`.
    pub fn respond(self, status: StatusCode) -> Response {
        (status, self).into_response()
    }
}

async fn show(State(state): State<AppState>, operator: Operator, Path(id): Path<i64>) -> Response {
    match CampaignPage::load(&state, operator.session, id).await {
        Ok(page) => page.respond(StatusCode::OK),
        Err(err) => ErrorPage::from_error(&err),
    }
}

/// Changes every setting at once, through the same checks as `PATCH
/// /api/v1/campaigns/{id}`; a refused value is shown beside its field.
async fn save_settings(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { operator, fields }: Posted,
) -> Response {
    let form = SettingsForm::posted(&fields, true);
    let saved =
        campaigns::update(&state.db, id, state.clock.now(), |_| form.request().and_then(CampaignRequest::parse)).await;
    match saved {
        Ok(_) => Redirect::to(&format!("/console/campaigns/{id}#settings")).into_response(),
        Err(err) if super::shown_on_form(&err) => match CampaignPage::load(&state, operator.session, id).await {
            Ok(page) => CampaignPage { form: form.failed(&err), ..page }.respond(StatusCode::UNPROCESSABLE_ENTITY),
            Err(err) => ErrorPage::from_error(&err),
        },
        Err(err) => ErrorPage::from_error(&err),
    }
}

/// Switches a plugin on or off for the campaign with its configuration and grants,
/// through the same service as `PUT /api/v1/campaigns/{id}/plugins/{plugin}`; a
/// refused value is shown beside the field the schema names.
async fn save_plugin(
    State(state): State<AppState>,
    Path((id, plugin)): Path<(i64, String)>,
    Posted { operator, fields }: Posted,
) -> Result<Response, Response> {
    let mut page = CampaignPage::load(&state, operator.session, id).await.map_err(|err| ErrorPage::from_error(&err))?;
    let Some(form) = page.plugins.iter_mut().find(|form| form.id == plugin) else {
        return Err(ErrorPage::response(StatusCode::NOT_FOUND, format!("no plugin `{plugin}` is installed")));
    };
    let config_values: Vec<(String, String)> = fields
        .iter()
        .filter_map(|(name, value)| name.strip_prefix("cfg.").map(|name| (name.to_owned(), value.clone())))
        .collect();
    let enabled = fields.iter().any(|(name, value)| name == "enabled" && value == "true");
    let grants: Vec<Capability> = fields
        .iter()
        .filter(|(name, _)| name == "grant")
        .filter_map(|(_, value)| serde_json::from_value(serde_json::Value::String(value.clone())).ok())
        .collect();
    form.enabled = enabled;
    for (capability, granted) in &mut form.grants {
        *granted = grants.iter().any(|g| g.to_string() == *capability);
    }
    let Some(config) = schema_form::read(&mut form.fields, &config_values) else {
        return Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY));
    };
    let saved = match plugin.parse() {
        Ok(plugin_id) => {
            let setting = Setting { enabled, config: Some(config), position: None, grants: Some(grants) };
            bindings::set(&state.db, &state.registry, id, &plugin_id, setting, state.clock.now()).await
        }
        Err(message) => Err(crate::Error::InvalidInput { field: "plugin".into(), message }),
    };
    match saved {
        Ok(_) => return Ok(Redirect::to(&format!("/console/campaigns/{id}#plugin-{plugin}")).into_response()),
        Err(crate::Error::InvalidConfig { field, message, .. }) => {
            // The schema names a JSON pointer: its first segment is the form's field.
            let name = field.trim_start_matches('/').split('/').next().unwrap_or_default().to_owned();
            match form.fields.iter_mut().find(|f| f.name == name && !name.is_empty()) {
                Some(field) => field.error = Some(message),
                None => form.error = Some(message),
            }
        }
        Err(err) if err.status_and_code().0.is_client_error() => form.error = Some(err.to_string()),
        Err(err) => return Err(ErrorPage::from_error(&err)),
    }
    Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY))
}

/// Runs a sale of the entered total for the entered affiliate through the
/// campaign's plugins, storing nothing, and shows each line with its plugin.
async fn try_sale(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { operator, fields }: Posted,
) -> Result<Response, Response> {
    let mut page = CampaignPage::load(&state, operator.session, id).await.map_err(|err| ErrorPage::from_error(&err))?;
    let entered =
        |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim().to_owned()).unwrap_or_default();
    page.sale.affiliate = entered("affiliate");
    page.sale.total = entered("total");
    let affiliate: serde_json::Value =
        page.sale.affiliate.parse::<i64>().map_or_else(|_| page.sale.affiliate.clone().into(), Into::into);
    let body = serde_json::json!({"campaign": id, "affiliate": affiliate, "total": page.sale.total});
    let simulated = async {
        let request: ConversionRequest = crate::http::parse_json(body.to_string().as_bytes())?;
        state.engine.simulate(crate::http::prepare(&state, request, Source::Server).await?).await
    };
    match simulated.await {
        Ok(recorded) => {
            page.tried = Some(tried(recorded));
            return Ok(page.respond(StatusCode::OK));
        }
        Err(crate::Error::InvalidInput { field, message }) if field == "affiliate" => {
            page.sale.affiliate_error = Some(message);
        }
        Err(crate::Error::InvalidInput { field, message }) if field == "total" => page.sale.total_error = Some(message),
        Err(err) if err.status_and_code().0.is_client_error() => page.sale.error = Some(err.to_string()),
        Err(err) => return Err(ErrorPage::from_error(&err)),
    }
    Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY))
}

/// A simulation's outcome as the page shows it.
fn tried(recorded: Recorded) -> Tried {
    let lines = recorded
        .commissions
        .into_iter()
        .map(|line| Line {
            affiliate: line.affiliate,
            tier: line.tier,
            kind: line.commission_type,
            amount: format!("{} {}", line.amount.amount(), line.amount.currency()),
            status: line.status,
            plugin: line.plugin.unwrap_or_default(),
            explanation: line.explanation,
        })
        .collect();
    Tried { status: recorded.conversion.status, error: recorded.conversion.error, lines }
}
