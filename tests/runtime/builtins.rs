//! The built-in distribution plugins, run as wasm components through the runtime.

use upline_host::plugin::{Distribute, Invocation, PluginId, Registry};
use upline_plugin_sdk::{CommissionLine, Decimal, DistributeInput, TierRule};
use upline_tests::*;

fn install(registry: &Registry, name: &str) -> PluginId {
    registry.install(package(&format!("plugins/{name}"))).expect("install").id
}

fn distribute(
    registry: &Registry,
    id: &PluginId,
    config: serde_json::Value,
    input: &DistributeInput,
) -> Vec<CommissionLine> {
    let plugin = registry.get(id).expect("installed");
    let invocation = Invocation { config: plugin.configure(&config).expect("valid config"), ..Invocation::default() };
    registry.engine().call::<Distribute>(&plugin, &invocation, input, &()).expect("distribution").value
}

fn paid(lines: &[CommissionLine]) -> Vec<(u64, u32, String)> {
    lines.iter().map(|l| (l.affiliate.get(), l.tier, l.amount.amount().to_string())).collect()
}

#[test]
fn variable_tier_pays_the_domain_example_10_10_0_30() {
    let (_dir, registry) = registry();
    let id = install(&registry, "variable-tier");

    let lines = distribute(&registry, &id, serde_json::json!({}), &domain_example("100.00"));

    let expected = [(4, 1, "10"), (3, 2, "10"), (2, 3, "0"), (1, 4, "30")];
    assert_eq!(lines.len(), expected.len());
    for (line, (affiliate, tier, amount)) in lines.iter().zip(expected) {
        assert_eq!((line.affiliate.get(), line.tier), (affiliate, tier));
        assert_eq!(line.amount, money(amount, "EUR"), "affiliate {affiliate}");
    }
    let total: Decimal = lines.iter().map(|l| l.amount.amount()).sum();
    assert_eq!(total, Decimal::from(50), "the highest group rate, 50 %, is distributed");
    assert!(lines[1].explanation.contains("Premium"), "{}", lines[1].explanation);
}

#[test]
fn multi_tier_percent_fixed_and_percent_of_previous() {
    let (_dir, registry) = registry();
    let id = install(&registry, "multi-tier");
    let rules = vec![
        TierRule::Percent(pct("20")),
        TierRule::Fixed("5".parse().expect("decimal")),
        TierRule::PercentOfPrevious(pct("50")),
        TierRule::Percent(pct("2")),
    ];
    let input = sale(money("80.00", "EUR"), &[(10, 1), (11, 1), (12, 1), (13, 1)], vec![group(1, "Standard", rules)]);

    let lines = distribute(&registry, &id, serde_json::json!({}), &input);

    assert_eq!(
        paid(&lines),
        [(10, 1, "16.00".into()), (11, 2, "5.00".into()), (12, 3, "2.50".into()), (13, 4, "1.60".into())]
    );
}

#[test]
fn an_empty_upline_pays_nobody() {
    let (_dir, registry) = registry();
    for name in ["multi-tier", "variable-tier"] {
        let id = install(&registry, name);
        let input = sale(money("100", "EUR"), &[], vec![group(1, "Basic", vec![TierRule::Percent(pct("10"))])]);
        assert!(distribute(&registry, &id, serde_json::json!({}), &input).is_empty(), "{name}");
    }
}

#[test]
fn multi_tier_pays_a_hundred_tiers() {
    let (_dir, registry) = registry();
    let id = install(&registry, "multi-tier");
    let upline: Vec<(u64, u64)> = (1..=100).map(|affiliate| (affiliate, 1)).collect();
    let mut rules = vec![TierRule::Percent(pct("10"))];
    rules.extend((2..=100).map(|_| TierRule::Percent(pct("0.1"))));
    let input = sale(money("1000.00", "EUR"), &upline, vec![group(1, "Deep", rules)]);

    let lines = distribute(&registry, &id, serde_json::json!({}), &input);
    let limited = distribute(&registry, &id, serde_json::json!({"max-tiers": 3}), &input);

    assert_eq!(lines.len(), 100);
    assert_eq!((lines[99].affiliate.get(), lines[99].tier), (100, 100));
    assert_eq!(lines[0].amount, money("100.00", "EUR"));
    assert!(lines[1..].iter().all(|l| l.amount == money("1.00", "EUR")));
    assert_eq!(limited.len(), 3);
}

#[test]
fn variable_tier_walks_a_hundred_tiers() {
    let (_dir, registry) = registry();
    let id = install(&registry, "variable-tier");
    // Affiliate i is in group i, whose tier-1 rate is i %: each parent adds 1 %.
    let upline: Vec<(u64, u64)> = (1..=100).map(|i| (i, i)).collect();
    let groups = (1..=100).map(|i| group(i, &format!("G{i}"), vec![TierRule::Percent(pct(&i.to_string()))])).collect();
    let input = sale(money("1000.00", "EUR"), &upline, groups);

    let lines = distribute(&registry, &id, serde_json::json!({}), &input);

    assert_eq!(lines.len(), 100);
    assert!(lines.iter().all(|l| l.amount == money("10.00", "EUR")), "each tier adds 1 % of 1000");
    assert_eq!(lines[99].tier, 100);
}

#[test]
fn amounts_are_rounded_to_the_currency_minor_unit_half_away_from_zero() {
    let (_dir, registry) = registry();
    let id = install(&registry, "multi-tier");
    let rules = vec![TierRule::Percent(pct("12.5")), TierRule::Percent(pct("12.5"))];
    for (total, currency, expected) in [
        // 12.5 % of 0.20 EUR = 0.025 -> 0.03 (half away from zero); running total 0.05 -> 0.05, so tier 2 gets 0.02.
        ("0.20", "EUR", ["0.03", "0.02"]),
        // JPY has no minor unit: 12.5 % of 100 = 12.5 -> 13, running 25 -> 12.
        ("100", "JPY", ["13", "12"]),
        // KWD has three decimals: 12.5 % of 1.001 = 0.125125 -> 0.125, running 0.25025 -> 0.250.
        ("1.001", "KWD", ["0.125", "0.125"]),
    ] {
        let input = sale(money(total, currency), &[(1, 1), (2, 1)], vec![group(1, "G", rules.clone())]);
        let lines = distribute(&registry, &id, serde_json::json!({}), &input);
        let amounts: Vec<String> = lines.iter().map(|l| l.amount.amount().to_string()).collect();
        assert_eq!(amounts, expected, "{total} {currency}");
    }
}

#[test]
fn configuration_is_checked_against_the_plugin_schema() {
    let (_dir, registry) = registry();
    let id = install(&registry, "multi-tier");
    let plugin = registry.get(&id).expect("installed");

    let err = plugin.configure(&serde_json::json!({"max-tiers": 0})).expect_err("below the minimum");
    assert!(matches!(err, upline_host::Error::InvalidConfig { ref field, .. } if field == "/max-tiers"), "{err}");
    let err = plugin.configure(&serde_json::json!({"colour": "red"})).expect_err("unknown property");
    assert!(err.to_string().contains("colour"), "{err}");
}
