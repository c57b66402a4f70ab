//! Hostile plugins are stopped with an error naming the plugin, its version and the
//! limit or invariant, and the host goes on serving.

use std::sync::Arc;

use upline_host::Error;
use upline_host::error::{CallError, Failure};
use upline_host::plugin::{
    Approve, Distribute, Grants, Invocation, Limit, Limits, LoadedPlugin, Registry, StatsSource,
};
use upline_plugin_sdk::{CampaignQuery, Decimal, DistributeInput, NamedPeriod, Period, PeriodSpec, StatsQuery};
use upline_tests::*;

fn setup() -> (tempfile::TempDir, Registry, Arc<LoadedPlugin>) {
    let (dir, registry) = registry();
    let id = registry.install(hostile()).expect("install").id;
    let plugin = registry.get(&id).expect("installed");
    (dir, registry, plugin)
}

fn input() -> DistributeInput {
    sale(money("100.00", "EUR"), &[(1, 1), (2, 1)], vec![group(1, "G", vec![])])
}

fn run(
    registry: &Registry,
    plugin: &LoadedPlugin,
    mode: &str,
) -> Result<Vec<upline_plugin_sdk::CommissionLine>, Error> {
    let config = plugin.configure(&serde_json::json!({ "mode": mode })).expect("valid config");
    let invocation = Invocation { config, ..Invocation::default() };
    registry.engine().call::<Distribute>(plugin, &invocation, &input(), &()).map(|outcome| outcome.value)
}

/// The call failed as `expected`, the error names the plugin and version, and a
/// well-behaved call on the same engine still succeeds.
fn assert_stopped(registry: &Registry, plugin: &LoadedPlugin, mode: &str, expected: impl Fn(&Failure) -> bool) {
    match run(registry, plugin, mode) {
        Err(Error::PluginCall(err @ CallError { .. })) => {
            assert!(expected(&err.failure), "{mode}: unexpected failure {err}");
            assert_eq!(err.plugin.as_str(), "hostile");
            let message = err.to_string();
            assert!(message.contains("hostile") && message.contains("0.1.0"), "{message}");
        }
        other => panic!("{mode}: expected a failed call, got {other:?}"),
    }
    assert_eq!(run(registry, plugin, "behave").expect("the host keeps serving").len(), 1, "after {mode}");
}

#[test]
fn an_infinite_loop_hits_the_deadline() {
    let (_dir, registry, plugin) = setup();
    let plugin =
        plugin.with_limits(Limits { fuel: Limits::MAX.fuel, timeout_ms: 20, ..plugin.limits }).expect("limits");
    assert_stopped(&registry, &plugin, "infinite-loop", |f| {
        *f == Failure::LimitExceeded { limit: Limit::Timeout, allowed: 20 }
    });
}

#[test]
fn an_infinite_loop_runs_out_of_fuel() {
    let (_dir, registry, plugin) = setup();
    let plugin = plugin.with_limits(Limits { fuel: 1_000_000, timeout_ms: 10_000, ..plugin.limits }).expect("limits");
    assert_stopped(&registry, &plugin, "infinite-loop", |f| {
        *f == Failure::LimitExceeded { limit: Limit::Fuel, allowed: 1_000_000 }
    });
}

#[test]
fn a_memory_bomb_hits_the_memory_cap() {
    let (_dir, registry, plugin) = setup();
    assert_stopped(&registry, &plugin, "memory-bomb", |f| {
        *f == Failure::LimitExceeded { limit: Limit::Memory, allowed: 16 }
    });
}

#[test]
fn a_panic_is_reported_with_its_message() {
    let (_dir, registry, plugin) = setup();
    assert_stopped(&registry, &plugin, "panic", |f| matches!(f, Failure::Panic(m) if m.contains("panics on purpose")));
}

#[test]
fn an_oversized_result_is_refused() {
    let (_dir, registry, plugin) = setup();
    assert_stopped(&registry, &plugin, "huge-output", |f| {
        *f == Failure::LimitExceeded { limit: Limit::Output, allowed: 64 }
    });
}

#[test]
fn a_log_flood_hits_the_log_cap() {
    let (_dir, registry, plugin) = setup();
    assert_stopped(&registry, &plugin, "log-flood", |f| *f == Failure::LimitExceeded { limit: Limit::Log, allowed: 4 });
}

#[test]
fn an_oversized_input_is_refused_before_the_call() {
    let (_dir, registry, plugin) = setup();
    let plugin = plugin.with_limits(Limits { max_input_kib: 1, ..plugin.limits }).expect("limits");
    let mut big = input();
    big.conversion.custom_fields = vec![("note".into(), "x".repeat(2048))];
    let invocation = Invocation { config: r#"{"mode":"behave"}"#.into(), ..Invocation::default() };
    let err = registry.engine().call::<Distribute>(&plugin, &invocation, &big, &()).expect_err("too big");
    assert!(
        matches!(err, Error::PluginCall(CallError { failure: Failure::LimitExceeded { limit: Limit::Input, .. }, .. })),
        "{err}"
    );
}

#[test]
fn results_breaking_an_invariant_are_refused() {
    let (_dir, registry, plugin) = setup();
    for (mode, words) in [
        ("outside-upline", "not in the upline"),
        ("over-total", "the plugin needs the `exceed-total` capability in its manifest, granted for the campaign"),
        ("negative", "negative"),
        ("unrounded", "not rounded"),
        ("minor-units", "EUR says 4 minor-unit digits; EUR has 2"),
    ] {
        assert_stopped(&registry, &plugin, mode, |f| matches!(f, Failure::InvalidOutput(m) if m.contains(words)));
    }
}

#[test]
fn a_plugin_error_is_reported_as_returned() {
    let (_dir, registry, plugin) = setup();
    assert_stopped(&registry, &plugin, "error", |f| *f == Failure::Returned("hostile plugin refuses".into()));
}

#[test]
fn an_approval_decline_without_a_reason_is_refused() {
    let (_dir, registry, plugin) = setup();
    let input = upline_plugin_sdk::ApprovalInput {
        now: upline_plugin_sdk::Timestamp::from_millis(0),
        commission: upline_plugin_sdk::Commission {
            id: 1.into(),
            conversion: 1.into(),
            campaign: 1.into(),
            affiliate: 1.into(),
            tier: 1,
            commission_type: upline_plugin_sdk::CommissionType::Sale,
            amount: money("1.00", "EUR"),
            created_at: upline_plugin_sdk::Timestamp::from_millis(0),
        },
        affiliate_first_login: None,
        sub_affiliate_first_conversion: None,
        sub_affiliate_first_sale: None,
        sub_affiliate_first_action: None,
        affiliate_since: upline_plugin_sdk::Timestamp::from_millis(0),
        hold_days: 30,
    };
    let invocation = Invocation { config: r#"{"mode":"behave"}"#.into(), ..Invocation::default() };
    let err = registry.engine().call::<Approve>(&plugin, &invocation, &input, &()).expect_err("empty reason");
    assert!(
        matches!(err, Error::PluginCall(CallError { failure: Failure::InvalidOutput(ref m), .. }) if m.contains("reason")),
        "{err}"
    );
}

/// Answers every query with 12.34 and records the periods asked for.
#[derive(Default)]
struct FixedStats(std::sync::Mutex<Vec<PeriodSpec>>);

impl StatsSource for FixedStats {
    fn query(&self, query: &StatsQuery) -> Result<Decimal, String> {
        assert_eq!(query.affiliate.get(), 1);
        self.0.lock().expect("not poisoned").push(query.period);
        Ok("12.34".parse().expect("decimal"))
    }

    fn query_before(&self, query: &StatsQuery) -> Result<Decimal, String> {
        self.query(query)
    }

    fn query_campaign(&self, _: &CampaignQuery) -> Result<Decimal, String> {
        Err("not asked in these tests".into())
    }

    fn period_bounds(&self, _: u64, _: NamedPeriod) -> Result<Period, String> {
        Err("not asked in these tests".into())
    }
}

#[test]
fn stats_are_answered_only_when_granted() {
    let (_dir, registry, plugin) = setup();
    let config = r#"{"mode":"stats"}"#.to_owned();
    let stats = Arc::new(FixedStats::default());

    let denied = Invocation { config: config.clone(), ..Invocation::default() };
    let err = registry.engine().call::<Distribute>(&plugin, &denied, &input(), &()).expect_err("not granted");
    assert!(err.to_string().contains("`stats` capability is not granted"), "{err}");

    let granted = Invocation { config, grants: Grants { stats: Some(stats.clone()), exceed_total: false } };
    let outcome = registry.engine().call::<Distribute>(&plugin, &granted, &input(), &()).expect("granted");
    assert_eq!(outcome.value[0].amount, money("12.34", "EUR"));
    assert!(outcome.usage.fuel > 0 && outcome.usage.peak_memory > 0, "{:?}", outcome.usage);
    assert_eq!(*stats.0.lock().expect("not poisoned"), [PeriodSpec::Named(NamedPeriod::ThisMonth)]);
}

/// The hostile plugin as built against contract 0.1.0 loads and runs on this host;
/// its stats query, of 0.1, arrives as a span of time.
#[test]
fn a_plugin_built_against_contract_0_1_runs_and_queries_spans() {
    let (_dir, registry) = registry();
    let old =
        std::fs::read(workspace_root().join("tests/fixtures/packages-v0.1.0/hostile-0.1.0.wasm")).expect("fixture");
    let plugin = registry.get(&registry.install(old).expect("install").id).expect("installed");
    assert_eq!(plugin.manifest.api_version.to_string(), "0.1.0");
    let stats = Arc::new(FixedStats::default());
    let config = r#"{"mode":"stats"}"#.to_owned();
    let granted = Invocation { config, grants: Grants { stats: Some(stats.clone()), exceed_total: false } };
    let outcome = registry.engine().call::<Distribute>(&plugin, &granted, &input(), &()).expect("runs");
    assert_eq!(outcome.value[0].amount, money("12.34", "EUR"));
    let now = input().now;
    let asked = stats.0.lock().expect("not poisoned").clone();
    assert_eq!(asked, [PeriodSpec::Span(Period { start: now, end: now.plus_days(30) })]);
}
