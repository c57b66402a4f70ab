//! The installed plugins: every version of each is kept loaded, one is active.
//! Installing or activating a version swaps an `Arc`: calls in flight keep the
//! version they started with.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use serde::Serialize;

use super::engine::{LoadedPlugin, PluginEngine};
use super::store::PackageStore;
use super::{Digest, Hook, Limits, PluginId};
use crate::error::{Error, Result};
use upline_package::Package;

/// What the host shows about an installed plugin version.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PluginInfo {
    /// Id.
    #[schema(value_type = String)]
    pub id: PluginId,
    /// Display name.
    pub name: String,
    /// Version.
    #[schema(value_type = String)]
    pub version: semver::Version,
    /// Contract version.
    #[schema(value_type = String)]
    pub api_version: semver::Version,
    /// Description.
    pub description: String,
    /// Hooks implemented.
    pub hooks: Vec<Hook>,
    /// Capabilities requested.
    pub capabilities: Vec<super::Capability>,
    /// Limits in force.
    pub limits: Limits,
    /// Package digest (hex SHA-256).
    #[schema(value_type = String)]
    pub digest: Digest,
    /// True for the version calls use.
    pub active: bool,
    /// JSON Schema of the per-campaign configuration.
    pub config_schema: serde_json::Value,
}

struct Versions {
    active: Arc<LoadedPlugin>,
    all: BTreeMap<semver::Version, Arc<LoadedPlugin>>,
}

/// The installed plugins and the engine that runs them.
pub struct Registry {
    engine: PluginEngine,
    store: PackageStore,
    plugins: RwLock<BTreeMap<PluginId, Versions>>,
    /// Counts changes (installs, activations, limits), so caches of loaded plugins
    /// know when to reload.
    generation: AtomicU64,
}

impl Registry {
    /// Opens the store under `data_dir` and loads every installed package; the
    /// highest version of each plugin is active.
    pub fn open(data_dir: &Path) -> Result<Self> {
        let engine = PluginEngine::new()?;
        let store = PackageStore::open(data_dir, engine.engine())?;
        let registry = Self { engine, store, plugins: RwLock::default(), generation: AtomicU64::new(0) };
        for bytes in registry.store.packages()? {
            let plugin = Arc::new(registry.engine.load(&Package::parse(bytes)?, Some(&registry.store))?);
            let mut plugins = registry.write();
            let versions = plugins
                .entry(plugin.manifest.id.clone())
                .or_insert_with(|| Versions { active: plugin.clone(), all: BTreeMap::new() });
            if plugin.manifest.version > versions.active.manifest.version {
                versions.active = plugin.clone();
            }
            versions.all.insert(plugin.manifest.version.clone(), plugin);
        }
        Ok(registry)
    }

    /// The engine, to call plugins.
    pub fn engine(&self) -> &PluginEngine {
        &self.engine
    }

    /// Validates, compiles and stores a package, and makes it the active version of
    /// its plugin. Installing the same bytes again changes nothing but the active
    /// version.
    pub fn install(&self, bytes: Vec<u8>) -> Result<PluginInfo> {
        let package = Package::parse(bytes)?;
        let plugin = Arc::new(self.engine.load(&package, Some(&self.store))?);
        let id = plugin.manifest.id.clone();
        let mut plugins = self.write();
        if let Some(existing) = plugins.get(&id).and_then(|versions| versions.all.get(&plugin.manifest.version))
            && existing.digest != plugin.digest
        {
            let message =
                format!("{id} {} is already installed with other contents: bump the version", plugin.manifest.version);
            return Err(Error::invalid_manifest("version", message));
        }
        // Only an accepted package reaches the store, which the next start loads.
        self.store.save(&package)?;
        let versions =
            plugins.entry(id.clone()).or_insert_with(|| Versions { active: plugin.clone(), all: BTreeMap::new() });
        versions.all.insert(plugin.manifest.version.clone(), plugin.clone());
        versions.active = plugin;
        tracing::info!(plugin = %id, version = %versions.active.manifest.version, "plugin installed and active");
        Ok(info(&versions.active, true))
    }

    /// Makes an installed version the active one.
    pub fn activate(&self, id: &PluginId, version: &semver::Version) -> Result<()> {
        let mut plugins = self.write();
        let versions = plugins.get_mut(id).ok_or_else(|| not_found(id, None))?;
        versions.active = versions.all.get(version).cloned().ok_or_else(|| not_found(id, Some(version)))?;
        Ok(())
    }

    /// Changes the limits of a plugin's active version.
    pub fn set_limits(&self, id: &PluginId, limits: Limits) -> Result<()> {
        let mut plugins = self.write();
        let versions = plugins.get_mut(id).ok_or_else(|| not_found(id, None))?;
        let plugin = Arc::new(versions.active.with_limits(limits)?);
        versions.all.insert(plugin.manifest.version.clone(), plugin.clone());
        versions.active = plugin;
        Ok(())
    }

    /// The active version of a plugin.
    pub fn get(&self, id: &PluginId) -> Result<Arc<LoadedPlugin>> {
        self.read().get(id).map(|versions| versions.active.clone()).ok_or_else(|| not_found(id, None))
    }

    /// The bytes of an installed package.
    pub fn package(&self, digest: &Digest) -> Result<Vec<u8>> {
        self.store.package(digest)
    }

    /// Every installed version of every plugin.
    pub fn list(&self) -> Vec<PluginInfo> {
        self.read()
            .values()
            .flat_map(|versions| {
                versions.all.values().map(|plugin| info(plugin, Arc::ptr_eq(plugin, &versions.active)))
            })
            .collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<PluginId, Versions>> {
        // A panic while holding the lock cannot leave the map half-updated: every
        // update is a single insert or assignment.
        self.plugins.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Which change the registry is at; it moves on every install, activation or
    /// limits change.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<PluginId, Versions>> {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.plugins.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn not_found(id: &PluginId, version: Option<&semver::Version>) -> Error {
    Error::PluginNotFound { id: id.clone(), version: version.cloned() }
}

fn info(plugin: &LoadedPlugin, active: bool) -> PluginInfo {
    let m = &plugin.manifest;
    PluginInfo {
        id: m.id.clone(),
        name: m.name.clone(),
        version: m.version.clone(),
        api_version: m.api_version.clone(),
        description: m.description.clone(),
        hooks: m.hooks.clone(),
        capabilities: m.capabilities.clone(),
        limits: plugin.limits,
        digest: plugin.digest.clone(),
        active,
        config_schema: m.config_schema.clone(),
    }
}
