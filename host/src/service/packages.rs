//! Plugin packages shared through the database, so that every host of a deployment
//! (several hosts on one PostgreSQL database) runs the same plugins, active versions
//! and limits. A host publishes what it installs, activates or limits, and
//! increments the configuration counter; the other hosts notice the counter move
//! (`service::config`) and [`sync`]: they install the packages they lack and apply
//! the active versions and limits.

use std::collections::HashSet;

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set, TransactionTrait,
};

use super::audit::json;
use crate::db::entity::plugin_package;
use crate::error::{Error, Result};
use crate::plugin::{Limits, PluginId, PluginInfo, Registry};

/// Stores an installed package; `active` makes it the plugin's active version.
pub async fn publish(db: &DatabaseConnection, registry: &Registry, info: &PluginInfo, active: bool) -> Result<()> {
    let bytes = registry.package(&info.digest)?;
    let txn = db.begin().await?;
    if active {
        deactivate(&txn, &info.id).await?;
    }
    let row = plugin_package::ActiveModel {
        digest: Set(info.digest.to_string()),
        plugin_id: Set(info.id.to_string()),
        version: Set(info.version.to_string()),
        manifest: Set(json(info)),
        bytes: Set(bytes),
        active: Set(active),
        installed_at: Set(chrono::Utc::now()),
        limits: Set(Some(json(&info.limits))),
    };
    let mut upsert = OnConflict::column(plugin_package::Column::Digest);
    upsert.update_columns([plugin_package::Column::Active, plugin_package::Column::Limits]);
    plugin_package::Entity::insert(row).on_conflict(upsert).exec_without_returning(&txn).await?;
    super::config::changed(&txn).await?;
    Ok(txn.commit().await?)
}

/// Makes `version` the plugin's active version for every host.
pub async fn activate(db: &DatabaseConnection, id: &PluginId, version: &semver::Version) -> Result<()> {
    let txn = db.begin().await?;
    deactivate(&txn, id).await?;
    plugin_package::Entity::update_many()
        .col_expr(plugin_package::Column::Active, true.into())
        .filter(plugin_package::Column::PluginId.eq(id.to_string()))
        .filter(plugin_package::Column::Version.eq(version.to_string()))
        .exec(&txn)
        .await?;
    super::config::changed(&txn).await?;
    Ok(txn.commit().await?)
}

/// Sets the limits of the plugin's active version for every host.
pub async fn set_limits(db: &DatabaseConnection, id: &PluginId, limits: Limits) -> Result<()> {
    let txn = db.begin().await?;
    plugin_package::Entity::update_many()
        .col_expr(plugin_package::Column::Limits, Some(json(&limits)).into())
        .filter(plugin_package::Column::PluginId.eq(id.to_string()))
        .filter(plugin_package::Column::Active.eq(true))
        .exec(&txn)
        .await?;
    super::config::changed(&txn).await?;
    Ok(txn.commit().await?)
}

async fn deactivate(db: &impl ConnectionTrait, id: &PluginId) -> Result<()> {
    plugin_package::Entity::update_many()
        .col_expr(plugin_package::Column::Active, false.into())
        .filter(plugin_package::Column::PluginId.eq(id.to_string()))
        .exec(db)
        .await?;
    Ok(())
}

/// Brings the registry in line with the database: installs the packages it lacks,
/// activates the active versions and applies their limits; publishes the packages
/// only this host has (active only where the database has no active version).
pub async fn sync(db: &DatabaseConnection, registry: &Registry) -> Result<()> {
    type Listed = (String, String, String, bool, Option<serde_json::Value>);
    let listed: Vec<Listed> = plugin_package::Entity::find()
        .select_only()
        .column(plugin_package::Column::Digest)
        .column(plugin_package::Column::PluginId)
        .column(plugin_package::Column::Version)
        .column(plugin_package::Column::Active)
        .column(plugin_package::Column::Limits)
        .into_tuple()
        .all(db)
        .await?;
    let installed: HashSet<String> = registry.list().iter().map(|info| info.digest.to_string()).collect();
    for (digest, ..) in listed.iter().filter(|(digest, ..)| !installed.contains(digest)) {
        if let Some(row) = plugin_package::Entity::find_by_id(digest.clone()).one(db).await? {
            let info = registry.install(row.bytes)?;
            tracing::info!(plugin = %info.id, version = %info.version, "installed from the database");
        }
    }
    for (_, id, version, _, limits) in listed.iter().filter(|(_, _, _, active, _)| *active) {
        let (id, version): (PluginId, semver::Version) = match (id.parse(), version.parse()) {
            (Ok(id), Ok(version)) => (id, version),
            _ => {
                return Err(Error::Database(format!("plugin_packages: `{id}` `{version}` is not an id and a version")));
            }
        };
        if registry.get(&id)?.manifest.version != version {
            registry.activate(&id, &version)?;
        }
        let limits: Option<Limits> = limits.clone().and_then(|limits| serde_json::from_value(limits).ok());
        if let Some(limits) = limits
            && registry.get(&id)?.limits != limits
        {
            registry.set_limits(&id, limits)?;
        }
    }
    let published: HashSet<&str> = listed.iter().map(|(digest, ..)| digest.as_str()).collect();
    let with_active: HashSet<&str> =
        listed.iter().filter(|(_, _, _, active, _)| *active).map(|(_, id, ..)| id.as_str()).collect();
    for info in registry.list().iter().filter(|info| !published.contains(info.digest.to_string().as_str())) {
        let active = info.active && !with_active.contains(info.id.to_string().as_str());
        publish(db, registry, info, active).await?;
    }
    Ok(())
}
