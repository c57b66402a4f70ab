//! The console's plugins: every installed plugin with its versions (one active), a
//! package uploaded, another version activated, and the limits of its calls, through
//! the services of `/api/v1/plugins` (`packages::install`, `activate`, `set_limits`).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value};

use super::session::{ErrorPage, Operator, Posted, check_csrf};
use crate::http::{AppState, MAX_PACKAGE_BYTES};
use crate::plugin::{Limits, PluginId, PluginInfo};
use crate::service::operators::Session;
use crate::service::packages::{self, Existing};

/// The plugins page's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/plugins", get(show).post(upload).layer(DefaultBodyLimit::max(MAX_PACKAGE_BYTES + 64 * 1024)))
        .route("/console/plugins/{id}/activate", post(activate))
        .route("/console/plugins/{id}/limits", post(set_limits))
}

/// One limit's field.
pub struct LimitField {
    /// The API's name, also the form's.
    pub name: String,
    /// In force.
    pub value: String,
    /// What the API says is wrong with it.
    pub error: Option<String>,
}

/// A plugin with all its installed versions.
pub struct PluginRow {
    /// Id.
    pub id: String,
    /// The active version's name, description, hooks and capabilities.
    pub active: PluginInfo,
    /// The hooks it implements.
    pub hooks: String,
    /// Every installed version, oldest first, and whether each is active.
    pub versions: Vec<(String, String, bool)>,
    /// Its limits, as a form.
    pub limits: Vec<LimitField>,
    /// An error that names no limit.
    pub error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/plugins.html")]
struct PluginsPage {
    title: &'static str,
    session: Session,
    plugins: Vec<PluginRow>,
    /// Why the uploaded package was refused.
    upload_error: Option<String>,
}

impl PluginsPage {
    async fn load(state: &AppState, session: Session) -> crate::Result<Self> {
        packages::sync(&state.db, &state.registry).await?;
        let mut plugins: Vec<PluginRow> = Vec::new();
        for info in state.registry.list() {
            let version = (info.version.to_string(), info.api_version.to_string(), info.active);
            match plugins.last_mut() {
                Some(row) if row.id == info.id.to_string() => {
                    row.versions.push(version);
                    if info.active {
                        row.limits = limit_fields(&info.limits);
                        row.active = info;
                    }
                }
                _ => plugins.push(PluginRow {
                    id: info.id.to_string(),
                    hooks: serde_json::to_value(&info.hooks)
                        .ok()
                        .and_then(|hooks| {
                            hooks.as_array().map(|h| h.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "))
                        })
                        .unwrap_or_default(),
                    versions: vec![version],
                    limits: limit_fields(&info.limits),
                    error: None,
                    active: info,
                }),
            }
        }
        Ok(Self { title: "Plugins", session, plugins, upload_error: None })
    }
}

/// The limits as fields, in their JSON order.
fn limit_fields(limits: &Limits) -> Vec<LimitField> {
    let json = serde_json::to_value(limits).unwrap_or_default();
    json.as_object()
        .into_iter()
        .flatten()
        .map(|(name, value)| LimitField { name: name.clone(), value: value.to_string(), error: None })
        .collect()
}

async fn show(State(state): State<AppState>, operator: Operator) -> Response {
    match PluginsPage::load(&state, operator.session).await {
        Ok(page) => page.into_response(),
        Err(err) => ErrorPage::from_error(&err),
    }
}

/// Installs an uploaded package as its plugin's active version (a development
/// version replaces itself when `dev` is ticked); a refused package is shown above
/// the form with the reason.
async fn upload(State(state): State<AppState>, operator: Operator, multipart: Multipart) -> Response {
    let (fields, package) = match read_upload(multipart).await {
        Ok(read) => read,
        Err(err) => return ErrorPage::response(StatusCode::BAD_REQUEST, err),
    };
    let fields = match check_csrf(&operator.session.csrf, fields) {
        Ok(fields) => fields,
        Err(bad) => return bad.into_response(),
    };
    let dev = fields.iter().any(|(name, value)| name == "dev" && value == "true");
    let existing = if dev { Existing::ReplaceDevelopment } else { Existing::Refuse };
    let installed = match package.filter(|bytes| !bytes.is_empty()) {
        Some(bytes) => {
            // A task of its own, as the API does: the install finishes even if the
            // browser goes away.
            let state = state.clone();
            let install = tokio::spawn(async move {
                packages::install(&state.db, &state.registry, bytes, existing, state.clock.now()).await
            });
            install.await.unwrap_or_else(|err| Err(crate::Error::Internal(err.to_string())))
        }
        None => Err(crate::Error::InvalidInput { field: "package".into(), message: "choose a package file".into() }),
    };
    match installed {
        Ok(info) => Redirect::to(&format!("/console/plugins#plugin-{}", info.id)).into_response(),
        Err(err) if err.status_and_code().0.is_client_error() => {
            match PluginsPage::load(&state, operator.session).await {
                Ok(page) => {
                    (StatusCode::UNPROCESSABLE_ENTITY, PluginsPage { upload_error: Some(err.to_string()), ..page })
                        .into_response()
                }
                Err(err) => ErrorPage::from_error(&err),
            }
        }
        Err(err) => ErrorPage::from_error(&err),
    }
}

/// The upload form's text fields and its package file.
async fn read_upload(mut multipart: Multipart) -> Result<(Vec<(String, String)>, Option<Vec<u8>>), String> {
    let mut fields = Vec::new();
    let mut package = None;
    while let Some(field) = multipart.next_field().await.map_err(|err| err.body_text())? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "package" {
            package = Some(field.bytes().await.map_err(|err| err.body_text())?.to_vec());
        } else {
            fields.push((name, field.text().await.map_err(|err| err.body_text())?));
        }
    }
    Ok((fields, package))
}

/// Makes the posted `version` the plugin's active one.
async fn activate(State(state): State<AppState>, Path(id): Path<String>, Posted { fields, .. }: Posted) -> Response {
    let version = fields.iter().find(|(name, _)| name == "version").map(|(_, v)| v.as_str()).unwrap_or_default();
    let activated = match (id.parse::<PluginId>(), version.parse::<semver::Version>()) {
        (Ok(plugin), Ok(version)) => {
            packages::activate(&state.db, &state.registry, &plugin, &version, state.clock.now()).await
        }
        (Err(message), _) => Err(crate::Error::InvalidInput { field: "id".into(), message }),
        (_, Err(err)) => Err(crate::Error::InvalidInput { field: "version".into(), message: err.to_string() }),
    };
    match activated {
        Ok(()) => Redirect::to(&format!("/console/plugins#plugin-{id}")).into_response(),
        Err(err) => ErrorPage::from_error(&err),
    }
}

/// Sets the plugin's limits; a refused one is shown beside its field.
async fn set_limits(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { operator, fields }: Posted,
) -> Response {
    let body: Map<String, Value> = fields
        .iter()
        .filter_map(|(name, value)| {
            let name = name.strip_prefix("limit.")?;
            let value = value.trim().parse::<u64>().map_or_else(|_| Value::from(value.trim()), Value::from);
            Some((name.to_owned(), value))
        })
        .collect();
    let saved = async {
        let plugin: PluginId =
            id.parse().map_err(|message| crate::Error::InvalidInput { field: "id".into(), message })?;
        let limits: Limits = crate::http::parse_json(Value::Object(body.clone()).to_string().as_bytes())?;
        packages::set_limits(&state.db, &state.registry, &plugin, limits, state.clock.now()).await
    };
    let err = match saved.await {
        Ok(()) => return Redirect::to(&format!("/console/plugins#plugin-{id}")).into_response(),
        Err(err) if err.status_and_code().0.is_client_error() => err,
        Err(err) => return ErrorPage::from_error(&err),
    };
    let mut page = match PluginsPage::load(&state, operator.session).await {
        Ok(page) => page,
        Err(err) => return ErrorPage::from_error(&err),
    };
    let Some(row) = page.plugins.iter_mut().find(|row| row.id == id) else { return ErrorPage::from_error(&err) };
    let (field, message) = match &err {
        crate::Error::InvalidInput { field, message } | crate::Error::InvalidConfig { field, message, .. } => {
            (field.trim_start_matches("limits.").to_owned(), message.clone())
        }
        err => (String::new(), err.to_string()),
    };
    for limit in &mut row.limits {
        limit.value =
            body.get(&limit.name).map_or_else(String::new, |v| v.as_str().map_or(v.to_string(), str::to_owned));
        if limit.name == field {
            limit.error = Some(message.clone());
        }
    }
    if !row.limits.iter().any(|limit| limit.error.is_some()) {
        row.error = Some(message);
    }
    (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}
