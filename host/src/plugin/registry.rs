//! The loaded plugins: every installed version of each, one active, and the
//! operator's limits per plugin. The database is the one source of what is
//! installed (`service::packages` fills the registry from it); the registry is what
//! this host has compiled. Installing or activating a version swaps an `Arc`: calls
//! in flight keep the version they started with.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use serde::Serialize;

use super::cache::ArtifactCache;
use super::engine::{LoadedPlugin, PluginEngine};
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
    /// The active version, with the operator's limits if there are some.
    active: Arc<LoadedPlugin>,
    /// Every version, with its manifest's limits.
    all: BTreeMap<semver::Version, Arc<LoadedPlugin>>,
    /// The operator's limits for whichever version is active.
    limits: Option<Limits>,
}

impl Versions {
    /// Makes `plugin` (one of `all`) active, with the operator's limits.
    fn activate(&mut self, plugin: &Arc<LoadedPlugin>) -> Result<()> {
        self.active = match self.limits {
            Some(limits) if limits != plugin.limits => Arc::new(plugin.with_limits(limits)?),
            _ => plugin.clone(),
        };
        Ok(())
    }
}

/// The installed plugins and the engine that runs them.
pub struct Registry {
    engine: PluginEngine,
    cache: ArtifactCache,
    plugins: RwLock<BTreeMap<PluginId, Versions>>,
    /// Counts changes (installs, activations, limits), so caches of loaded plugins
    /// know when to reload.
    generation: AtomicU64,
}

impl Registry {
    /// An empty registry whose compiled artifacts are cached under `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self> {
        let engine = PluginEngine::new()?;
        let cache = ArtifactCache::open(data_dir, engine.engine())?;
        Ok(Self { engine, cache, plugins: RwLock::default(), generation: AtomicU64::new(0) })
    }

    /// The engine, to call plugins.
    pub fn engine(&self) -> &PluginEngine {
        &self.engine
    }

    /// Compiles (or takes from the cache) and links a package, without adding it.
    pub fn load(&self, package: &Package) -> Result<Arc<LoadedPlugin>> {
        Ok(Arc::new(self.engine.load(package, Some(&self.cache))?))
    }

    /// Validates and compiles a package and makes it the active version of its
    /// plugin. The same bytes again change nothing but the active version; the same
    /// version with other bytes is refused.
    pub fn install(&self, bytes: Vec<u8>) -> Result<PluginInfo> {
        let plugin = self.load(&Package::parse(bytes)?)?;
        self.add(plugin, true)
    }

    /// Adds a loaded version, as the active one if `active` (or if it is its plugin's
    /// first, or replaces the active one); refused when the version is there with
    /// other bytes, unless it is a development version, which the new bytes replace.
    pub fn add(&self, plugin: Arc<LoadedPlugin>, active: bool) -> Result<PluginInfo> {
        let id = plugin.manifest.id.clone();
        let mut plugins = self.write();
        let version = &plugin.manifest.version;
        // The installed bytes of this version, if other, and whether it is active.
        let replaced = plugins.get(&id).and_then(|versions| {
            let existing = versions.all.get(version)?;
            (existing.digest != plugin.digest).then_some(versions.active.manifest.version == *version)
        });
        let active = match replaced {
            Some(_) if !plugin.manifest.is_development() => {
                let message = format!("{id} {version} is already installed with other contents: bump the version");
                return Err(Error::invalid_manifest("version", message));
            }
            Some(was_active) => active || was_active,
            None => active,
        };
        let versions = plugins.entry(id.clone()).or_insert_with(|| Versions {
            active: plugin.clone(),
            all: BTreeMap::new(),
            limits: None,
        });
        versions.all.insert(plugin.manifest.version.clone(), plugin.clone());
        if active {
            versions.activate(&plugin)?;
            tracing::info!(plugin = %id, version = %plugin.manifest.version, "plugin version active");
        }
        let active = versions.active.manifest.version == plugin.manifest.version;
        Ok(info(if active { &versions.active } else { &plugin }, active))
    }

    /// True when the package whose hex digest is `digest` is loaded.
    pub fn has_digest(&self, digest: &str) -> bool {
        self.read().values().any(|versions| versions.all.values().any(|plugin| plugin.digest.as_str() == digest))
    }

    /// What the host shows of one installed version.
    pub fn info(&self, id: &PluginId, version: &semver::Version) -> Result<PluginInfo> {
        self.list()
            .into_iter()
            .find(|info| info.id == *id && info.version == *version)
            .ok_or_else(|| not_found(id, Some(version)))
    }

    /// Makes an installed version the active one, with the plugin's limits.
    pub fn activate(&self, id: &PluginId, version: &semver::Version) -> Result<()> {
        let mut plugins = self.write();
        let versions = plugins.get_mut(id).ok_or_else(|| not_found(id, None))?;
        let plugin = versions.all.get(version).cloned().ok_or_else(|| not_found(id, Some(version)))?;
        versions.activate(&plugin)
    }

    /// Sets the plugin's limits (`None`: each version's manifest limits); they stay
    /// when another version is activated. Limits above [`Limits::MAX`] are refused.
    pub fn set_limits(&self, id: &PluginId, limits: Option<Limits>) -> Result<()> {
        let mut plugins = self.write();
        let versions = plugins.get_mut(id).ok_or_else(|| not_found(id, None))?;
        let active = versions.all.get(&versions.active.manifest.version).cloned().unwrap_or(versions.active.clone());
        let previous = std::mem::replace(&mut versions.limits, limits);
        versions.activate(&active).inspect_err(|_| versions.limits = previous)
    }

    /// The limits the operator set for the plugin, if any.
    pub fn limits(&self, id: &PluginId) -> Option<Limits> {
        self.read().get(id).and_then(|versions| versions.limits)
    }

    /// The active version of a plugin.
    pub fn get(&self, id: &PluginId) -> Result<Arc<LoadedPlugin>> {
        self.read().get(id).map(|versions| versions.active.clone()).ok_or_else(|| not_found(id, None))
    }

    /// Every installed version of every plugin.
    pub fn list(&self) -> Vec<PluginInfo> {
        self.read()
            .values()
            .flat_map(|versions| {
                versions.all.values().map(|plugin| {
                    let active = plugin.manifest.version == versions.active.manifest.version;
                    info(if active { &versions.active } else { plugin }, active)
                })
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
        config_schema: plugin.config_schema().clone(),
    }
}
