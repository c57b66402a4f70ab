//! The wasmtime engine plugins run on: compiled once per package, instantiated
//! fresh for every call, interrupted by fuel and by an epoch ticker.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::component::{Component, InstancePre, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::cache::ArtifactCache;
use super::call::{CallState, Invocation, Outcome, call, run_export};
use super::contract::{self, Exports};
use super::hooks::HookKind;
use super::{Capability, Limits, Manifest};
use crate::error::{Error, Result};
use upline_package::Package;
use upline_package::versions;

/// A plugin compiled and linked, ready to be instantiated for each call.
pub struct LoadedPlugin {
    /// Its manifest.
    pub manifest: Manifest,
    /// The digest of its package.
    pub digest: super::Digest,
    /// The limits its calls run under.
    pub limits: Limits,
    pub(super) label: Arc<str>,
    pub(super) pre: InstancePre<CallState>,
    exports: Exports,
    schema: Arc<ConfigSchema>,
}

/// The JSON Schema of a plugin's configuration, and its compiled validator.
struct ConfigSchema {
    json: serde_json::Value,
    validator: jsonschema::Validator,
}

impl ConfigSchema {
    fn new(json: serde_json::Value) -> Result<Self> {
        upline_package::check_config_schema(&json)?;
        let validator = jsonschema::validator_for(&json)
            .map_err(|err| Error::invalid_manifest("config-schema", err.to_string()))?;
        Ok(Self { json, validator })
    }
}

impl LoadedPlugin {
    /// The same plugin with other limits (checked against [`Limits::MAX`]).
    pub fn with_limits(&self, limits: Limits) -> Result<Self> {
        limits.check().map_err(|(field, message)| Error::InvalidConfig {
            plugin: self.manifest.id.clone(),
            field: format!("limits.{field}"),
            message,
        })?;
        Ok(Self {
            manifest: self.manifest.clone(),
            digest: self.digest.clone(),
            limits,
            label: self.label.clone(),
            pre: self.pre.clone(),
            exports: Exports::new(versions::check(&self.manifest.api_version)?, &self.pre, &self.manifest.hooks)?,
            schema: self.schema.clone(),
        })
    }

    /// `id@version`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The JSON Schema of its per-campaign configuration.
    pub fn config_schema(&self) -> &serde_json::Value {
        &self.schema.json
    }

    /// Checks a per-campaign configuration against the plugin's JSON Schema and
    /// returns it as the JSON text the plugin receives. [`PluginEngine::configure`]
    /// also asks the plugin whether it can read it.
    pub fn configure(&self, config: &serde_json::Value) -> Result<String> {
        if let Some(err) = self.schema.validator.iter_errors(config).next() {
            return Err(Error::InvalidConfig {
                plugin: self.manifest.id.clone(),
                field: err.instance_path().to_string(),
                message: err.to_string(),
            });
        }
        Ok(config.to_string())
    }
}

/// How many plugin calls can be in flight at once (each holds one pooled instance).
pub const MAX_CONCURRENT_CALLS: u32 = 1_000;
/// Bytes of linear memory reset by memset between calls. Covers a plugin built by
/// `build` (64 KiB stack, its data, and the first heap pages of the SDK's allocator).
const KEEP_RESIDENT_MEMORY: usize = 256 * 1024;
/// Bytes of table reset by memset between calls.
const KEEP_RESIDENT_TABLE: usize = 64 * 1024;
/// Core instances (and tables) a plugin component may use: its module plus the
/// adapter shims `wit-component` adds.
const CORE_INSTANCES_PER_CALL: u32 = 4;

/// The engine, the linker with the host's imports, and the epoch ticker.
pub struct PluginEngine {
    engine: Engine,
    linker: Linker<CallState>,
    _ticker: EpochTicker,
}

impl PluginEngine {
    /// An engine with fuel metering and epoch interruption, and a running ticker.
    pub fn new() -> Result<Self> {
        let mut config = Config::new();
        config.consume_fuel(true).epoch_interruption(true);
        // Instances come from a pool of pre-reserved slots: a call reuses a slot
        // instead of mapping and unmapping memory.
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(MAX_CONCURRENT_CALLS)
            .total_core_instances(MAX_CONCURRENT_CALLS * CORE_INSTANCES_PER_CALL)
            .total_memories(MAX_CONCURRENT_CALLS)
            .total_tables(MAX_CONCURRENT_CALLS * CORE_INSTANCES_PER_CALL)
            .max_memory_size(Limits::MAX.memory_bytes())
            // Reset the low memory a call touches (stack, data, first heap pages) with
            // memset rather than madvise: no page faults and no TLB shootdowns per call.
            .linear_memory_keep_resident(KEEP_RESIDENT_MEMORY)
            .table_keep_resident(KEEP_RESIDENT_TABLE)
            // Where Linux can say which of those pages a call wrote (PAGEMAP_SCAN,
            // kernel 6.7 and later), only those are reset.
            .pagemap_scan(Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config).map_err(|err| Error::Internal(format!("creating the engine: {err}")))?;
        let mut linker = Linker::new(&engine);
        contract::add_to_linker(&mut linker)?;
        let ticker = EpochTicker::start(engine.clone())?;
        Ok(Self { engine, linker, _ticker: ticker })
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Compiles (or takes from `cache`) and links a package, checking its
    /// imports and that it exports every hook its manifest declares.
    pub fn load(&self, package: &Package, cache: Option<&ArtifactCache>) -> Result<LoadedPlugin> {
        let api = versions::check(&package.manifest.api_version)?;
        let component = match cache {
            Some(cache) => cache.component(&self.engine, package)?,
            None => Component::new(&self.engine, &package.bytes).map_err(|err| Error::Compile(format!("{err:#}")))?,
        };
        self.check_imports(&component, &package.manifest)?;
        let pre = self.linker.instantiate_pre(&component).map_err(|err| Error::Compile(format!("{err:#}")))?;
        let exports = Exports::new(api, &pre, &package.manifest.hooks)?;
        // A 0.1 manifest carries the schema; a later plugin is asked for it below.
        let schema = package.manifest.config_schema.clone().unwrap_or_else(|| serde_json::json!({}));
        let manifest = package.manifest.clone();
        let mut plugin = LoadedPlugin {
            label: format!("{}@{}", manifest.id, manifest.version).into(),
            limits: manifest.limits,
            manifest,
            digest: package.digest.clone(),
            pre,
            exports,
            schema: Arc::new(ConfigSchema::new(schema)?),
        };
        if plugin.exports.has_config() {
            plugin.schema = Arc::new(ConfigSchema::new(self.describe_config(&plugin)?)?);
        }
        Ok(plugin)
    }

    /// Asks the plugin for its configuration's JSON Schema (`config.schema`).
    fn describe_config(&self, plugin: &LoadedPlugin) -> Result<serde_json::Value> {
        let ran = run_export(&self.engine, plugin, "config.schema", None, |store, instance| {
            plugin.exports.config_schema(store, instance)
        });
        let failed = |message: String| Error::invalid_manifest("config-schema", message);
        let text = ran.result.map_err(|failure| failed(format!("the plugin's `config.schema` failed: {failure}")))?;
        serde_json::from_str(&text).map_err(|err| failed(format!("the plugin's `config.schema` is not JSON: {err}")))
    }

    /// Checks a per-campaign configuration against the plugin's JSON Schema, then
    /// asks the plugin whether it can read it (`config.check`), so a configuration
    /// is refused when it is saved rather than at the next conversion. Returns it
    /// as the JSON text the plugin receives.
    pub fn configure(&self, plugin: &LoadedPlugin, config: &serde_json::Value) -> Result<String> {
        let text = plugin.configure(config)?;
        if !plugin.exports.has_config() {
            return Ok(text);
        }
        let ran = run_export(&self.engine, plugin, "config.check", None, |store, instance| {
            plugin.exports.check_config(store, instance, &text)
        });
        let refused = |field, message| Error::InvalidConfig { plugin: plugin.manifest.id.clone(), field, message };
        match ran.result {
            Ok(Ok(())) => Ok(text),
            Ok(Err((field, message))) => Err(refused(field, format!("the plugin cannot read it: {message}"))),
            Err(failure) => Err(refused(String::new(), format!("the plugin failed to check it: {failure}"))),
        }
    }

    /// Only the contract's interfaces may be imported, and `stats` only when the
    /// manifest asks for it.
    fn check_imports(&self, component: &Component, manifest: &Manifest) -> Result<()> {
        for (name, _) in component.component_type().imports(&self.engine) {
            let interface = name.strip_prefix("upline:plugin/").and_then(|rest| rest.split_once('@')).map(|(i, _)| i);
            match interface {
                Some("log" | "types") => {}
                Some("stats") if manifest.requests(Capability::Stats) => {}
                Some("stats") => {
                    return Err(Error::UndeclaredImport {
                        import: name.to_owned(),
                        reason: "but the manifest does not request the `stats` capability",
                    });
                }
                _ => {
                    return Err(Error::UndeclaredImport {
                        import: name.to_owned(),
                        reason: "which the plugin contract does not offer (plugins get no WASI, clock, network or files)",
                    });
                }
            }
        }
        Ok(())
    }

    /// Calls hook `H` of `plugin` (e.g. `engine.call::<Distribute>(..)`): a fresh
    /// instance under the plugin's limits, the export of its contract version, and
    /// the output checked by `H::check` (given `context`, e.g. the campaign's currency
    /// for bonus rules) before it is returned.
    pub fn call<H: HookKind>(
        &self,
        plugin: &LoadedPlugin,
        invocation: &Invocation,
        input: &H::Input,
        context: &H::Context,
    ) -> Result<Outcome<H::Output>> {
        let exceed_total = invocation.may_exceed_total(plugin);
        call(
            &self.engine,
            plugin,
            H::HOOK,
            invocation,
            input,
            |store, instance| H::run(&plugin.exports, store, instance, input, &invocation.config),
            |output| H::check(input, output, context, exceed_total),
        )
    }
}

/// Advances the engine's epoch every millisecond, so epoch deadlines are
/// wall-clock deadlines. Stops when dropped.
struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    const TICK: Duration = Duration::from_millis(1);

    fn start(engine: Engine) -> Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("plugin-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(Self::TICK);
                    engine.increment_epoch();
                }
            })
            .map_err(|err| Error::Internal(format!("starting the epoch ticker: {err}")))?;
        Ok(Self { stop, thread: Some(thread) })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
