//! Benchmark: one `distribute` hook call with a 5-tier upline, through the whole host
//! path (fresh store, instantiation from the `InstancePre`, the call, size checks and
//! invariant validation), against the same plugin logic compiled natively.
//!
//! Run with `cargo xtask bench` (release build, `RUST_LIB_BACKTRACE=0`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use upline_host::plugin::{Invocation, hooks};
use upline_plugin_sdk::testing::TestHost;
use upline_plugin_sdk::{Distribute, DistributeInput, TierRule};
use upline_tests::*;

const SAMPLES: usize = 20_000;
const THROUGHPUT_TIME: Duration = Duration::from_secs(2);

struct Report {
    p50: Duration,
    p99: Duration,
    calls_per_sec: f64,
}

/// Times `call` one by one for percentiles, then back to back for throughput.
fn measure(mut call: impl FnMut()) -> Report {
    for _ in 0..1_000 {
        call();
    }
    let mut samples: Vec<Duration> = (0..SAMPLES)
        .map(|_| {
            let started = Instant::now();
            call();
            started.elapsed()
        })
        .collect();
    samples.sort();
    let started = Instant::now();
    let mut calls = 0u64;
    while started.elapsed() < THROUGHPUT_TIME {
        for _ in 0..100 {
            call();
        }
        calls += 100;
    }
    Report {
        p50: samples[SAMPLES / 2],
        p99: samples[SAMPLES * 99 / 100],
        calls_per_sec: calls as f64 / started.elapsed().as_secs_f64(),
    }
}

/// `cargo bench ... -- <filter>` runs only the cases whose name contains the filter.
fn selected(name: &str) -> bool {
    std::env::args().skip(1).filter(|arg| !arg.starts_with("--")).all(|filter| name.contains(&filter))
}

fn print(name: &str, report: &Report) {
    println!(
        "| {name:<28} | {:>9.2} | {:>9.2} | {:>12.0} |",
        report.p50.as_secs_f64() * 1e6,
        report.p99.as_secs_f64() * 1e6,
        report.calls_per_sec
    );
}

/// A 5-tier upline whose groups' tier-1 rates rise by 10 % per tier, so variable tier
/// pays all five tiers; tiers 2 to 5 mix percent, fixed and percent-of-previous.
fn five_tiers() -> DistributeInput {
    let groups = (1..=5u64)
        .map(|i| {
            let rules = vec![
                TierRule::Percent(pct(&(i * 10).to_string())),
                TierRule::Percent(pct("5")),
                TierRule::Fixed("1.50".parse().expect("decimal")),
                TierRule::PercentOfPrevious(pct("50")),
                TierRule::Percent(pct("1")),
            ];
            group(i, &format!("Level {i}"), rules)
        })
        .collect();
    let upline: Vec<(u64, u64)> = (1..=5).map(|i| (100 + i, i)).collect();
    sale(money("123.45", "EUR"), &upline, groups)
}

fn main() {
    let input = five_tiers();
    let (_dir, registry) = registry();
    println!("distribute hook, 5-tier upline, one thread; latency in microseconds\n");
    println!("| {:<28} | {:>9} | {:>9} | {:>12} |", "call", "p50 (us)", "p99 (us)", "calls/s");
    println!("|{:-<30}|{:-<11}|{:-<11}|{:-<14}|", "", "", "", "");
    for name in ["variable-tier", "multi-tier"] {
        let id = registry.install(package(&format!("plugins/{name}"))).expect("install").id;
        let plugin = registry.get(&id).expect("installed");
        let invocation = Invocation::default();
        let lines = registry.engine().call::<hooks::Distribute>(&plugin, &invocation, &input, &()).expect("call").value;
        assert_eq!(lines.len(), 5, "{name}: {lines:?}");
        let case = format!("{name} (wasm, fresh instance)");
        if !selected(&case) {
            continue;
        }
        print(
            &case,
            &measure(|| {
                black_box(
                    registry
                        .engine()
                        .call::<hooks::Distribute>(&plugin, &invocation, black_box(&input), &())
                        .expect("call"),
                );
            }),
        );
    }
    let host = TestHost::new();
    let variable = variable_tier::Config::default();
    if !selected("native") {
        return;
    }
    print(
        "variable-tier (native)",
        &measure(|| {
            black_box(variable_tier::VariableTier::distribute(black_box(&input), &variable, &host).expect("call"));
        }),
    );
    let multi = multi_tier::Config::default();
    print(
        "multi-tier (native)",
        &measure(|| {
            black_box(multi_tier::MultiTier::distribute(black_box(&input), &multi, &host).expect("call"));
        }),
    );
}
