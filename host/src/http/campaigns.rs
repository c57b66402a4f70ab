//! `/api/v1/campaigns` and `/api/v1/groups`: campaigns, commission groups, tier rates.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::{AppState, Json, Query};
use crate::domain::campaign::{self, CampaignRequest, RatesRequest};
use crate::error::Result;
use crate::plugin::Capability;
use crate::service::bindings::{self, Binding, Setting};
use crate::service::campaigns::{self, Campaign, Group};
use crate::service::stats::{self, StatsReport};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(show, update))
        .routes(routes!(add_group))
        .routes(routes!(set_rates))
        .routes(routes!(list_bindings))
        .routes(routes!(set_binding))
        .routes(routes!(stats))
}

/// The period of a statistics report.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct StatsPeriod {
    /// `today`, `yesterday`, `this-week`, `last-week`, `this-month` (default),
    /// `last-month`, `this-quarter`, `last-quarter`, `this-year`, `last-year` or
    /// `all-time`, in the campaign's time zone.
    #[param(value_type = Option<String>)]
    period: Option<upline_types::NamedPeriod>,
}

/// An affiliate's statistics in the campaign over a period, per commission status:
/// what plugins granted `stats` are answered with (kept by the database in the
/// transaction of every change to the ledger).
#[utoipa::path(
    get,
    path = "/campaigns/{id}/affiliates/{affiliate}/stats",
    tag = "campaigns",
    params(
        ("id" = i64, Path, description = "Campaign id"),
        ("affiliate" = i64, Path, description = "Affiliate id"),
        StatsPeriod,
    ),
    responses(
        (status = 200, description = "The statistics", body = StatsReport),
        (status = 400, description = "An id or the period is invalid", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
    )
)]
async fn stats(
    State(state): State<AppState>,
    Path((id, affiliate)): Path<(String, String)>,
    Query(query): Query<StatsPeriod>,
) -> Result<impl IntoResponse> {
    let config = state.cache.current(&state.db, &state.registry).await?;
    let campaign = config.campaign(super::id("id", &id)?).await?;
    let affiliate = super::id("affiliate", &affiliate)?;
    let period = query.period.unwrap_or(upline_types::NamedPeriod::ThisMonth);
    Ok(axum::Json(stats::report(&state.reader, &campaign, affiliate, period, state.clock.now()).await?))
}

/// Creates a campaign with a default group named `Default`.
#[utoipa::path(
    post,
    path = "/campaigns",
    tag = "campaigns",
    responses(
        (status = 201, description = "The campaign", body = Campaign),
        (status = 400, description = "A field is invalid", body = ErrorBody),
    )
)]
async fn create(State(state): State<AppState>, Json(request): Json<CampaignRequest>) -> Result<impl IntoResponse> {
    let created = campaigns::create(&state.db, request.parse()?, state.clock.now()).await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

/// Every campaign.
#[utoipa::path(get, path = "/campaigns", tag = "campaigns", responses((status = 200, description = "The campaigns", body = Vec<Campaign>)))]
async fn list(State(state): State<AppState>) -> Result<impl IntoResponse> {
    Ok(axum::Json(campaigns::list(&state.reader).await?))
}

/// One campaign.
#[utoipa::path(
    get,
    path = "/campaigns/{id}",
    tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "The campaign", body = Campaign),
        (status = 400, description = "The id is not an id", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
    )
)]
async fn show(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(campaigns::get(&state.reader, super::id("id", &id)?).await?))
}

/// Changes a campaign's settings: the body has any of the fields of a new campaign
/// (`currency` only unchanged); the others keep their values.
#[utoipa::path(
    patch,
    path = "/campaigns/{id}",
    tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id")),
    request_body(content = serde_json::Value, description = "Any fields of `CampaignRequest`"),
    responses(
        (status = 200, description = "The campaign", body = Campaign),
        (status = 400, description = "The id or a field is invalid, or the currency would change", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
    )
)]
async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(patch): Json<serde_json::Map<String, serde_json::Value>>,
) -> Result<impl IntoResponse> {
    let updated = campaigns::update(&state.db, super::id("id", &id)?, state.clock.now(), |current| {
        // The stored settings in the request's shape, with the patch on top.
        let mut request = serde_json::to_value(current).map_err(|err| crate::Error::Internal(err.to_string()))?;
        if let Some(fields) = request.as_object_mut() {
            fields.remove("id");
            fields.remove("created-at");
            fields.extend(patch);
        }
        super::parse_json::<CampaignRequest>(request.to_string().as_bytes())?.parse()
    })
    .await?;
    Ok(axum::Json(updated))
}

/// A new commission group.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct NewGroup {
    /// Display name, 1 to 200 characters, unique in the campaign.
    name: String,
    /// New affiliates join it.
    #[serde(default)]
    is_default: bool,
}

/// Adds a commission group to the campaign.
#[utoipa::path(
    post,
    path = "/campaigns/{id}/groups",
    tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id")),
    responses(
        (status = 201, description = "The group", body = Group),
        (status = 400, description = "The id or the name is invalid", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "The campaign has a group of that name", body = ErrorBody),
    )
)]
async fn add_group(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(request): Json<NewGroup>,
) -> Result<impl IntoResponse> {
    let name = campaign::name("name", &request.name)?;
    let group =
        campaigns::add_group(&state.db, super::id("id", &id)?, name, request.is_default, state.clock.now()).await?;
    Ok((StatusCode::CREATED, axum::Json(group)))
}

/// Sets a group's tiers for one commission type.
#[utoipa::path(
    put,
    path = "/groups/{id}/rates",
    tag = "campaigns",
    params(("id" = i64, Path, description = "Group id")),
    responses(
        (status = 200, description = "The group", body = Group),
        (status = 400, description = "The id, the commission type or a tier is invalid", body = ErrorBody),
        (status = 404, description = "No such group", body = ErrorBody),
    )
)]
async fn set_rates(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(request): Json<RatesRequest>,
) -> Result<impl IntoResponse> {
    let group =
        campaigns::set_rates(&state.db, super::id("id", &id)?, |currency| request.parse(currency), state.clock.now())
            .await?;
    Ok(axum::Json(group))
}

/// A plugin's switch and configuration for a campaign.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct BindingRequest {
    /// Switched on.
    enabled: bool,
    /// The configuration, valid against the plugin's `config_schema` and readable by
    /// the plugin (both checked when it is switched on). Left out: the stored one, `{}` for a new binding.
    #[serde(default)]
    config: Option<serde_json::Value>,
    /// Order of calls (lower first). Left out: the stored one, 0 for a new binding.
    #[serde(default)]
    position: Option<i32>,
    /// Capabilities granted to the plugin for this campaign, among those its manifest
    /// requests: `exceed-total` lets its commissions add up to more than the
    /// conversion's commissionable total. Left out: the stored ones, none for a new
    /// binding.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    grants: Option<Vec<Capability>>,
}

/// The campaign's plugins.
#[utoipa::path(
    get,
    path = "/campaigns/{id}/plugins",
    tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "The plugins bound to the campaign", body = Vec<Binding>),
        (status = 400, description = "The id is not an id", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
    )
)]
async fn list_bindings(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let id = super::id("id", &id)?;
    campaigns::get(&state.reader, id).await?;
    Ok(axum::Json(bindings::list(&state.reader, id).await?))
}

/// Enables, disables or configures a plugin for the campaign.
#[utoipa::path(
    put,
    path = "/campaigns/{id}/plugins/{plugin}",
    tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id"), ("plugin" = String, Path, description = "Plugin id")),
    responses(
        (status = 200, description = "The binding", body = Binding),
        (status = 400, description = "The campaign id or the plugin id is invalid", body = ErrorBody),
        (status = 404, description = "No such campaign or plugin", body = ErrorBody),
        (status = 422, description = "The configuration does not match the plugin's schema", body = ErrorBody),
    )
)]
async fn set_binding(
    State(state): State<AppState>,
    Path((id, plugin)): Path<(String, String)>,
    Json(request): Json<BindingRequest>,
) -> Result<impl IntoResponse> {
    let plugin = plugin.parse().map_err(|message| crate::Error::InvalidInput { field: "plugin".into(), message })?;
    let setting = Setting {
        enabled: request.enabled,
        config: request.config,
        position: request.position,
        grants: request.grants,
    };
    let binding =
        bindings::set(&state.db, &state.registry, super::id("id", &id)?, &plugin, setting, state.clock.now()).await?;
    Ok(axum::Json(binding))
}
