//! One plugin call: a fresh store with the plugin's limits, the call, and the
//! mapping of whatever went wrong to a typed [`CallError`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde::Serialize;
use upline_types::{CampaignQuery, Level, NamedPeriod, Period, StatsQuery};
use wasmtime::component::Instance;
use wasmtime::{Engine, Store, Trap};

use super::limits::{LimitTrap, MemoryLimiter};
use super::{Hook, LoadedPlugin};
use crate::error::{CallError, Error, Failure, Result};
use upline_package::{Limit, Limits};

/// Answers a plugin's statistics queries (the `stats` import).
pub trait StatsSource: Send + Sync {
    /// Answers one query; the error is shown to the plugin.
    fn query(&self, query: &StatsQuery) -> Result<Decimal, String>;

    /// Answers one query without the commissions of the conversion the call is
    /// about (the same as [`query`](Self::query) where none are counted yet).
    fn query_before(&self, query: &StatsQuery) -> Result<Decimal, String>;

    /// Answers one query over the whole campaign.
    fn query_campaign(&self, query: &CampaignQuery) -> Result<Decimal, String>;

    /// The bounds of a named period of `campaign`'s calendar around the call's `now`.
    fn period_bounds(&self, campaign: u64, period: NamedPeriod) -> Result<Period, String>;
}

/// The source of a call for which the host reads no statistics (an approval, a
/// period close): a granted plugin's queries get this error.
pub struct NoStatistics;

impl StatsSource for NoStatistics {
    fn query(&self, _: &StatsQuery) -> Result<Decimal, String> {
        Err(NO_STATISTICS.into())
    }

    fn query_before(&self, _: &StatsQuery) -> Result<Decimal, String> {
        Err(NO_STATISTICS.into())
    }

    fn query_campaign(&self, _: &CampaignQuery) -> Result<Decimal, String> {
        Err(NO_STATISTICS.into())
    }

    fn period_bounds(&self, _: u64, _: NamedPeriod) -> Result<Period, String> {
        Err(NO_STATISTICS.into())
    }
}

const NO_STATISTICS: &str = "the host answers `stats` queries in the screen, distribute and bonus-rules hooks only";

/// What the operator grants a plugin for a call, on top of what its manifest asks.
#[derive(Clone, Default)]
pub struct Grants {
    /// Answers `stats` queries; `None` refuses them.
    pub stats: Option<Arc<dyn StatsSource>>,
    /// Allows a distribution above the commissionable total.
    pub exceed_total: bool,
}

/// How to call a plugin: its per-campaign configuration (JSON, already validated
/// against its schema) and the operator's grants.
#[derive(Clone)]
pub struct Invocation {
    /// The configuration as JSON text.
    pub config: String,
    /// What the operator grants.
    pub grants: Grants,
}

impl Invocation {
    /// This invocation with its `stats` queries answered by `source` (when there is
    /// one and the operator granted `stats`; else unchanged).
    pub fn with_stats(&self, source: Option<&Arc<dyn StatsSource>>) -> Invocation {
        let mut invocation = self.clone();
        if let Some(source) = source
            && invocation.grants.stats.is_some()
        {
            invocation.grants.stats = Some(source.clone());
        }
        invocation
    }

    /// Whether `plugin` may query statistics: its manifest asks for `stats` and the
    /// operator grants it.
    pub fn reads_stats(&self, plugin: &LoadedPlugin) -> bool {
        self.grants.stats.is_some() && plugin.manifest.requests(super::Capability::Stats)
    }

    /// Whether `plugin`'s commissions may add up to more than the conversion's
    /// commissionable total: its manifest asks for `exceed-total` and the operator grants it.
    pub fn may_exceed_total(&self, plugin: &LoadedPlugin) -> bool {
        self.grants.exceed_total && plugin.manifest.requests(super::Capability::ExceedTotal)
    }
}

impl Default for Invocation {
    fn default() -> Self {
        Self { config: "{}".into(), grants: Grants::default() }
    }
}

/// A log record a plugin wrote during a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct LogRecord {
    /// Its level: `trace`, `debug`, `info`, `warn` or `error`.
    #[schema(value_type = String)]
    pub level: Level,
    /// Its message.
    pub message: String,
}

/// What a call cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Usage {
    /// Fuel (instructions) consumed.
    pub fuel: u64,
    /// Largest linear memory size reached, in bytes.
    pub peak_memory: usize,
    /// Wall-clock time from store creation to the result, instantiation included.
    #[serde(rename = "elapsed_us", with = "micros")]
    #[schema(value_type = u64)]
    pub elapsed: Duration,
}

/// A duration as whole microseconds.
mod micros {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u128(d.as_micros())
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        <u64 as serde::Deserialize>::deserialize(d).map(Duration::from_micros)
    }
}

/// A successful call's result, with what it cost and what the plugin logged.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome<T> {
    /// The validated result.
    pub value: T,
    /// What the call cost.
    pub usage: Usage,
    /// What the plugin logged.
    pub logs: Vec<LogRecord>,
}

/// What a failed call logged and cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallTrace {
    /// What the plugin logged, in order.
    pub logs: Vec<LogRecord>,
    /// What the call cost.
    pub usage: Usage,
}

/// One plugin call as an operator sees it (in `/simulate`'s answer and on a flagged
/// conversion): which plugin and hook, what it logged, what it cost, and why it
/// failed if it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct CallReport {
    /// The plugin, `id@version`.
    pub plugin: String,
    /// The hook called.
    #[schema(value_type = String)]
    pub hook: Hook,
    /// What the plugin logged, in order.
    pub logs: Vec<LogRecord>,
    /// What the call cost; none when it was refused before it ran.
    pub usage: Option<Usage>,
    /// Why the call failed, if it did.
    pub error: Option<String>,
}

impl CallReport {
    /// The report of `plugin`'s call of `hook` that ended with `result`, and the
    /// result's value (a failed call's error gives its trace to the report).
    pub fn of<T>(plugin: &LoadedPlugin, hook: Hook, result: Result<Outcome<T>>) -> (Self, Result<T>) {
        let report = |logs, usage, error| CallReport { plugin: plugin.label.to_string(), hook, logs, usage, error };
        match result {
            Ok(Outcome { value, usage, logs }) => (report(logs, Some(usage), None), Ok(value)),
            Err(Error::PluginCall(mut failed)) => {
                // The report carries the trace from here on: moved, not copied.
                let (logs, usage) = match failed.trace.take() {
                    Some(trace) => (trace.logs, Some(trace.usage)),
                    None => (vec![], None),
                };
                (report(logs, usage, Some(failed.failure.to_string())), Err(Error::PluginCall(failed)))
            }
            Err(err) => (report(vec![], None, Some(err.to_string())), Err(err)),
        }
    }
}

/// The data of one call's store.
pub struct CallState {
    limiter: MemoryLimiter,
    label: Arc<str>,
    logs: Vec<LogRecord>,
    log_bytes: usize,
    max_log_bytes: usize,
    panic: Option<String>,
    stats: Option<Arc<dyn StatsSource>>,
}

impl CallState {
    /// Records a log line, trapping the call once the log budget is spent.
    pub fn record_log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        self.log_bytes += message.len();
        if self.log_bytes > self.max_log_bytes {
            return Err(LimitTrap(Limit::Log).into());
        }
        // At the plugin's own level, so the server's log filter treats it like the host's.
        let plugin = &*self.label;
        match level {
            Level::Trace => tracing::trace!(target: "plugin", plugin, "{message}"),
            Level::Debug => tracing::debug!(target: "plugin", plugin, "{message}"),
            Level::Info => tracing::info!(target: "plugin", plugin, "{message}"),
            Level::Warn => tracing::warn!(target: "plugin", plugin, "{message}"),
            Level::Error => tracing::error!(target: "plugin", plugin, "{message}"),
        }
        self.logs.push(LogRecord { level, message });
        Ok(())
    }

    /// Remembers the panic message the SDK reports just before the plugin traps.
    pub fn record_panic(&mut self, message: String) -> wasmtime::Result<()> {
        let cap = self.max_log_bytes.min(message.len());
        let cut = (0..=cap).rev().find(|i| message.is_char_boundary(*i)).unwrap_or(0);
        self.panic = Some(message[..cut].to_owned());
        Ok(())
    }

    /// Answers a `stats` query if the capability is granted.
    pub fn stats(&self, query: &StatsQuery) -> Result<Decimal, String> {
        self.stats_source()?.query(query)
    }

    /// Answers a `stats` query without the call's own conversion, if granted.
    pub fn stats_before(&self, query: &StatsQuery) -> Result<Decimal, String> {
        self.stats_source()?.query_before(query)
    }

    /// Answers a `stats` query over the whole campaign, if granted.
    pub fn campaign_stats(&self, query: &CampaignQuery) -> Result<Decimal, String> {
        self.stats_source()?.query_campaign(query)
    }

    /// The bounds of a named period of the campaign's calendar, if `stats` is granted.
    pub fn named_bounds(&self, campaign: u64, period: NamedPeriod) -> Result<Period, String> {
        self.stats_source()?.period_bounds(campaign, period)
    }

    fn stats_source(&self) -> Result<&Arc<dyn StatsSource>, String> {
        self.stats.as_ref().ok_or_else(|| "the `stats` capability is not granted to this plugin".to_owned())
    }
}

/// Runs `hook` of `plugin` in a fresh store with the plugin's limits.
///
/// `run` calls the instance; its outer error is a trap, its inner one the plugin's
/// own error. The input is size-checked before the call; the result's size is
/// bounded while wasmtime copies it out ([`run_export`]), then it is handed to
/// `check` for the invariants. A failed call's error carries what the plugin logged
/// and what the call cost.
pub(super) fn call<I: Serialize, T>(
    engine: &Engine,
    plugin: &LoadedPlugin,
    hook: Hook,
    invocation: &Invocation,
    input: &I,
    run: impl FnOnce(&mut Store<CallState>, &Instance) -> wasmtime::Result<Result<T, String>>,
    check: impl FnOnce(&T) -> Result<(), String>,
) -> Result<Outcome<T>> {
    if !plugin.manifest.hooks.contains(&hook) {
        return Err(Error::HookNotImplemented { plugin: plugin.manifest.id.clone(), hook });
    }
    let fail = |failure, trace| {
        Error::PluginCall(CallError {
            plugin: plugin.manifest.id.clone(),
            version: plugin.manifest.version.clone(),
            hook,
            failure,
            trace,
        })
    };
    let limits = plugin.limits;
    check_size(Limit::Input, &limits, json_size(input) + invocation.config.len())
        .map_err(|failure| fail(failure, None))?;
    let stats = invocation.grants.stats.clone().filter(|_| plugin.manifest.requests(super::Capability::Stats));
    let Ran { result, usage, logs } = run_export(engine, plugin, hook.interface(), stats, run);
    let checked = result.and_then(|value| check(&value).map_err(Failure::InvalidOutput).map(|()| value));
    match checked {
        Ok(value) => Ok(Outcome { value, usage, logs }),
        Err(failure) => Err(fail(failure, Some(Box::new(CallTrace { logs, usage })))),
    }
}

/// What running one export produced: its value or why it failed, what it cost, and
/// what the plugin logged.
pub(super) struct Ran<T> {
    pub result: Result<T, Failure>,
    pub usage: Usage,
    pub logs: Vec<LogRecord>,
}

/// Runs one export of `plugin` (a hook, or its configuration's) in a fresh store
/// with the plugin's limits, answering `stats` queries from `stats`.
pub(super) fn run_export<T>(
    engine: &Engine,
    plugin: &LoadedPlugin,
    export: &str,
    stats: Option<Arc<dyn StatsSource>>,
    run: impl FnOnce(&mut Store<CallState>, &Instance) -> wasmtime::Result<Result<T, String>>,
) -> Ran<T> {
    let limits = plugin.limits;
    let _span = tracing::debug_span!("plugin call", plugin = %plugin.label, export).entered();
    let started = Instant::now();
    let mut store = Store::new(
        engine,
        CallState {
            limiter: MemoryLimiter::new(limits.memory_bytes()),
            label: plugin.label.clone(),
            logs: Vec::new(),
            log_bytes: 0,
            max_log_bytes: usize::try_from(limits.max_log_kib * 1024).unwrap_or(usize::MAX),
            panic: None,
            stats,
        },
    );
    store.limiter(|state| &mut state.limiter);
    // Fuel and an epoch deadline both fit any store: setting them cannot fail.
    let _ = store.set_fuel(limits.fuel);
    // The ticker advances the epoch every millisecond; one extra tick absorbs the
    // partial tick already under way.
    store.set_epoch_deadline(limits.timeout_ms + 1);
    // The output limit: wasmtime counts the bytes of the strings and lists it copies
    // out of the plugin (the result, and each log message) against this budget and
    // traps the call past it, before the host holds an oversized result.
    store.set_hostcall_fuel(usize::try_from(limits.max_output_kib * 1024).unwrap_or(usize::MAX));

    let result = plugin.pre.instantiate(&mut store).and_then(|instance| run(&mut store, &instance));
    let fuel = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
    let usage = Usage { fuel, peak_memory: store.data().limiter.peak(), elapsed: started.elapsed() };
    let state = store.into_data();
    let outcome = match &result {
        Ok(Ok(_)) => "ok",
        Ok(Err(_)) => "returned-error",
        Err(_) => "trapped",
    };
    let labels =
        [("plugin", plugin.manifest.id.to_string()), ("hook", export.to_owned()), ("outcome", outcome.to_owned())];
    metrics::counter!("upline_plugin_calls_total", &labels).increment(1);
    metrics::histogram!("upline_plugin_call_seconds", &labels[..2]).record(usage.elapsed.as_secs_f64());
    let result = match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(message)) => Err(Failure::Returned(message)),
        Err(trap) => Err(classify(&trap, &limits, state.panic)),
    };
    Ran { result, usage, logs: state.logs }
}

/// A result that does not convert to the host's types: the call fails as invalid output.
#[derive(Debug)]
pub struct BadOutput(pub String);

impl std::fmt::Display for BadOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadOutput {}

/// Names the cause of a trap: a limit, a panic, or another trap.
fn classify(trap: &wasmtime::Error, limits: &Limits, panic: Option<String>) -> Failure {
    let exceeded = |limit| Failure::LimitExceeded { limit, allowed: limits.get(limit) };
    if let Some(BadOutput(message)) = trap.downcast_ref::<BadOutput>() {
        return Failure::InvalidOutput(message.clone());
    }
    if let Some(LimitTrap(limit)) = trap.downcast_ref::<LimitTrap>() {
        return exceeded(*limit);
    }
    // wasmtime's error for an exhausted hostcall budget is private: known by its words.
    if format!("{trap:#}").contains("fuel allocated for hostcalls has been exhausted") {
        return exceeded(Limit::Output);
    }
    match trap.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => exceeded(Limit::Fuel),
        Some(Trap::Interrupt) => exceeded(Limit::Timeout),
        _ => match panic {
            Some(message) => Failure::Panic(message),
            None => Failure::Trap(format!("{trap:#}")),
        },
    }
}

fn check_size(limit: Limit, limits: &Limits, bytes: usize) -> Result<(), Failure> {
    let allowed = limits.get(limit);
    if bytes as u64 > allowed * 1024 { Err(Failure::LimitExceeded { limit, allowed }) } else { Ok(()) }
}

/// The JSON-encoded size of a value, without building the JSON text.
fn json_size<T: Serialize>(value: &T) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing to a counter cannot fail, and our types always serialize.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}
