//! Plugin packages in the database: the one source of truth for what is installed,
//! which version of each plugin is active, and the limits an operator set per
//! plugin. Every host's [`Registry`] is filled from it, at start and whenever the
//! configuration counter moves (`service::config`), so several hosts on one
//! database run the same plugins; the files under the data directory are only a
//! cache of compiled artifacts.

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set,
    SqlErr, TransactionTrait,
};

use super::audit::json;
use crate::db::entity::{plugin_limit, plugin_package};
use crate::error::{Error, Result};
use crate::plugin::{Limits, Package, PluginId, PluginInfo, Registry};

/// Who changes packages: the operator (over the API, the console or the command line).
const ACTOR: &str = "operator";

/// What installing a version that is already installed does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse it (the API and `upline plugin install`): a new package needs a new version.
    Refuse,
    /// Keep the installed one when the bytes are the same (`upline serve --install`,
    /// run again at every start); other bytes are still refused.
    Keep,
    /// A development install (`upline plugin install --dev`, `POST /api/v1/plugins?dev=true`):
    /// a rebuilt development version (`x.y.z-dev...`) replaces the installed one
    /// of the same version; a release version is still refused.
    ReplaceDevelopment,
}

/// Installs a package as its plugin's active version, for every host. A version
/// that is installed already is refused (or kept, see [`Existing`]) before anything
/// is written; the package is checked and compiled before it is stored.
pub async fn install(
    db: &DatabaseConnection,
    registry: &Arc<Registry>,
    bytes: Vec<u8>,
    existing: Existing,
    now: DateTime<Utc>,
) -> Result<PluginInfo> {
    let package = blocking(move || Ok(Package::parse(bytes)?)).await?;
    let (id, version) = (package.manifest.id.clone(), package.manifest.version.clone());
    let replace = existing == Existing::ReplaceDevelopment;
    if replace && !package.manifest.is_development() {
        let message = format!(
            "{id} {version} is not a development version: only `x.y.z-dev` versions are replaced in place (a \
             release needs a new version), so install it without `dev`"
        );
        return Err(Error::Conflict { field: "version".into(), message });
    }
    match installed(db, &package).await? {
        Some(installed) if !replace || installed.same => return installed.kept(db, registry, existing, now).await,
        _ => {}
    }
    let plugin = {
        let registry = registry.clone();
        let package = package.clone();
        blocking(move || registry.load(&package)).await?
    };
    let txn = db.begin().await?;
    // First: it locks the counter's row, so package changes on several hosts take
    // turns and each sees the others' active versions.
    super::config::changed(&txn).await?;
    deactivate(&txn, &id).await?;
    if replace {
        plugin_package::Entity::delete_many()
            .filter(plugin_package::Column::PluginId.eq(id.to_string()))
            .filter(plugin_package::Column::Version.eq(version.to_string()))
            .exec(&txn)
            .await?;
    }
    let row = plugin_package::ActiveModel {
        digest: Set(package.digest.as_str().to_owned()),
        plugin_id: Set(id.to_string()),
        version: Set(version.to_string()),
        manifest: Set(json(&package.manifest)),
        bytes: Set(package.bytes.clone()),
        active: Set(true),
        installed_at: Set(now),
    };
    // Another host may have installed the same version meanwhile: the unique index says.
    if let Err(err) = plugin_package::Entity::insert(row).exec_without_returning(&txn).await {
        drop(txn);
        return match (err.sql_err(), installed(db, &package).await?) {
            (Some(SqlErr::UniqueConstraintViolation(_)), Some(installed)) => {
                installed.kept(db, registry, existing, now).await
            }
            _ => Err(err.into()),
        };
    }
    let installed = serde_json::json!({"version": version.to_string(), "digest": package.digest.as_str()});
    super::audit::record(&txn, now, ACTOR, "plugin.install", ("plugin", &id), None, Some(installed)).await?;
    txn.commit().await?;
    registry.add(plugin, true)
}

/// A version being installed that the database already has.
struct Installed {
    id: PluginId,
    version: semver::Version,
    /// With the same bytes.
    same: bool,
}

/// The installed package with `package`'s plugin and version, if there is one.
async fn installed(db: &DatabaseConnection, package: &Package) -> Result<Option<Installed>> {
    let (id, version) = (&package.manifest.id, &package.manifest.version);
    let digest = plugin_package::Entity::find()
        .select_only()
        .column(plugin_package::Column::Digest)
        .filter(plugin_package::Column::PluginId.eq(id.to_string()))
        .filter(plugin_package::Column::Version.eq(version.to_string()))
        .into_tuple::<String>()
        .one(db)
        .await?;
    Ok(digest.map(|digest| Installed {
        id: id.clone(),
        version: version.clone(),
        same: digest == package.digest.as_str(),
    }))
}

impl Installed {
    /// The installed version when the same bytes may be kept; otherwise the refusal.
    async fn kept(
        self,
        db: &DatabaseConnection,
        registry: &Arc<Registry>,
        existing: Existing,
        now: DateTime<Utc>,
    ) -> Result<PluginInfo> {
        let Installed { id, version, same } = self;
        if same && existing == Existing::Keep {
            sync(db, registry).await?;
            return registry.info(&id, &version);
        }
        if same && existing == Existing::ReplaceDevelopment {
            activate(db, registry, &id, &version, now).await?;
            return registry.info(&id, &version);
        }
        let message = if same {
            format!("{id} {version} is already installed with these same contents")
        } else {
            format!(
                "{id} {version} is already installed with other contents: a changed plugin needs a new version \
                 (in plugin.toml and Cargo.toml)"
            )
        };
        Err(Error::Conflict { field: "version".into(), message })
    }
}

/// Makes `version` the plugin's active version for every host. Audited.
pub async fn activate(
    db: &DatabaseConnection,
    registry: &Arc<Registry>,
    id: &PluginId,
    version: &semver::Version,
    now: DateTime<Utc>,
) -> Result<()> {
    let txn = db.begin().await?;
    super::config::changed(&txn).await?;
    deactivate(&txn, id).await?;
    let activated = plugin_package::Entity::update_many()
        .col_expr(plugin_package::Column::Active, true.into())
        .filter(plugin_package::Column::PluginId.eq(id.to_string()))
        .filter(plugin_package::Column::Version.eq(version.to_string()))
        .exec(&txn)
        .await?;
    if activated.rows_affected != 1 {
        let plugin = plugin_package::Entity::find().filter(plugin_package::Column::PluginId.eq(id.to_string()));
        let known = plugin.count(&txn).await? > 0;
        return Err(Error::PluginNotFound { id: id.clone(), version: known.then(|| version.clone()) });
    }
    let activated = serde_json::json!({"version": version.to_string()});
    super::audit::record(&txn, now, ACTOR, "plugin.activate", ("plugin", id), None, Some(activated)).await?;
    txn.commit().await?;
    sync(db, registry).await
}

/// Sets the plugin's limits for every host, whichever version is or becomes active.
/// Audited.
pub async fn set_limits(
    db: &DatabaseConnection,
    registry: &Arc<Registry>,
    id: &PluginId,
    limits: Limits,
    now: DateTime<Utc>,
) -> Result<()> {
    limits.check().map_err(|(field, message)| Error::InvalidConfig {
        plugin: id.clone(),
        field: format!("limits.{field}"),
        message,
    })?;
    let txn = db.begin().await?;
    super::config::changed(&txn).await?;
    let plugin = plugin_package::Entity::find().filter(plugin_package::Column::PluginId.eq(id.to_string()));
    if plugin.count(&txn).await? == 0 {
        return Err(Error::PluginNotFound { id: id.clone(), version: None });
    }
    let row = plugin_limit::ActiveModel { plugin_id: Set(id.to_string()), limits: Set(json(&limits)) };
    let upsert =
        OnConflict::column(plugin_limit::Column::PluginId).update_column(plugin_limit::Column::Limits).to_owned();
    plugin_limit::Entity::insert(row).on_conflict(upsert).exec_without_returning(&txn).await?;
    super::audit::record(&txn, now, ACTOR, "plugin.limits", ("plugin", id), None, Some(json(&limits))).await?;
    txn.commit().await?;
    sync(db, registry).await
}

async fn deactivate(db: &impl ConnectionTrait, id: &PluginId) -> Result<()> {
    plugin_package::Entity::update_many()
        .col_expr(plugin_package::Column::Active, false.into())
        .filter(plugin_package::Column::PluginId.eq(id.to_string()))
        .exec(db)
        .await?;
    Ok(())
}

/// Brings the registry in line with the database: loads the packages it lacks
/// (compiling them, or taking them from the artifact cache), then applies each
/// plugin's limits and active version.
pub async fn sync(db: &DatabaseConnection, registry: &Arc<Registry>) -> Result<()> {
    let listed: Vec<(String, String, String, bool)> = plugin_package::Entity::find()
        .select_only()
        .column(plugin_package::Column::Digest)
        .column(plugin_package::Column::PluginId)
        .column(plugin_package::Column::Version)
        .column(plugin_package::Column::Active)
        .into_tuple()
        .all(db)
        .await?;
    for (digest, ..) in &listed {
        if registry.has_digest(digest) {
            continue;
        }
        if let Some(row) = plugin_package::Entity::find_by_id(digest.clone()).one(db).await? {
            let registry = registry.clone();
            let info = blocking(move || registry.add(registry.load(&Package::parse(row.bytes)?)?, false)).await?;
            tracing::info!(plugin = %info.id, version = %info.version, "loaded from the database");
        }
    }
    let limits: HashMap<String, serde_json::Value> =
        plugin_limit::Entity::find().all(db).await?.into_iter().map(|row| (row.plugin_id, row.limits)).collect();
    for (_, id, version, active) in &listed {
        let corrupt = || Error::Database(format!("plugin_packages: `{id}` `{version}` is not an id and a version"));
        let plugin: PluginId = id.parse().map_err(|_| corrupt())?;
        let limits: Option<Limits> = match limits.get(id) {
            Some(limits) => Some(
                serde_json::from_value(limits.clone())
                    .map_err(|err| Error::Database(format!("plugin_limits of `{id}`: {err}")))?,
            ),
            None => None,
        };
        if registry.limits(&plugin) != limits {
            registry.set_limits(&plugin, limits)?;
        }
        if *active {
            let version: semver::Version = version.parse().map_err(|_| corrupt())?;
            if registry.get(&plugin)?.manifest.version != version {
                registry.activate(&plugin, &version)?;
            }
        }
    }
    Ok(())
}

/// Runs CPU-bound package work (parsing, compiling) off the async workers. Rare
/// operator work, so tokio's blocking pool rather than the engine's per-core pool,
/// which is kept for conversions' plugin calls.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(|err| Error::Internal(format!("package work: {err}")))?
}
