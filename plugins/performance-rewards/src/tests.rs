use upline_plugin_sdk::Conversion;
use upline_plugin_sdk::testing::{self, TestHost};

use super::*;

const SEASONAL: &str = include_str!("../examples/seasonal-ladder.json");
const FIVE_OR_MORE: &str = include_str!("../examples/five-or-more.json");
const REVENUE_BONUS: &str = include_str!("../examples/revenue-bonus.json");

/// 2026-07-15T12:00:00Z, inside the seasonal ladder's season.
const JULY: i64 = 1_784_116_800_000;
/// 2026-07-01T00:00:00+02:00.
const JULY_START: i64 = 1_782_856_800_000;

fn config(json: &str) -> Config {
    serde_json::from_str(json).expect("a valid configuration")
}

fn refused(json: serde_json::Value) -> String {
    serde_json::from_value::<Config>(json).expect_err("refused").to_string()
}

fn d(text: &str) -> Decimal {
    text.parse().expect("decimal")
}

fn eur(amount: &str) -> Money {
    Money::new(d(amount), Currency::from_code("EUR").expect("EUR"))
}

fn sale(total: &str) -> Conversion {
    Conversion { id: 9.into(), occurred_at: Timestamp::from_millis(JULY), ..testing::sale(eur(total)) }
}

fn input(group: u64, trigger: Trigger) -> BonusInput {
    BonusInput {
        now: Timestamp::from_millis(JULY),
        campaign: 1.into(),
        affiliate: 4.into(),
        group: group.into(),
        groups: vec![],
        trigger,
        upline: vec![],
    }
}

fn query(metric: Metric, statuses: StatusFilter, period: PeriodSpec) -> StatsQuery {
    StatsQuery { affiliate: 4.into(), campaign: 1.into(), metric, statuses, period }
}

fn this_month(metric: Metric) -> StatsQuery {
    query(metric, StatusFilter::ApprovedOrPending, PeriodSpec::Named(NamedPeriod::ThisMonth))
}

/// A host where this month's `metric` went from `before` to `after` with the conversion.
fn host(metric: Metric, before: &str, after: &str) -> TestHost {
    TestHost::new().with_stat(this_month(metric), d(after)).with_stat_before(this_month(metric), d(before)).with_period(
        NamedPeriod::ThisMonth,
        Period { start: Timestamp::from_millis(JULY_START), end: Timestamp::from_millis(JULY_START + 31 * 86_400_000) },
    )
}

fn moves(actions: &[Action]) -> Vec<(u64, Option<i64>)> {
    actions
        .iter()
        .filter_map(|action| match action {
            Action::MoveToGroup { group, retroactive_from, .. } => {
                Some((group.get(), retroactive_from.map(Timestamp::millis)))
            }
            _ => None,
        })
        .collect()
}

fn bonuses(actions: &[Action]) -> Vec<Decimal> {
    actions
        .iter()
        .filter_map(|action| match action {
            Action::Bonus { amount, .. } => Some(amount.amount()),
            _ => None,
        })
        .collect()
}

fn awards(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|action| match action {
            Action::Award { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_sale_that_passes_a_level_moves_the_affiliate_up_for_the_next_sales() {
    let seasonal = config(SEASONAL);
    let host = host(Metric::SalesTotal, "900", "1200");
    let actions =
        PerformanceRewards::evaluate(&input(1, Trigger::Conversion(sale("300"))), &seasonal, &host).expect("actions");
    assert_eq!(moves(&actions), [(2, None)], "{actions:?}");
    assert_eq!(awards(&actions), ["Performance badge"]);
    assert!(bonuses(&actions).is_empty());
    assert!(actions.iter().any(|a| matches!(a, Action::Notify { message, .. } if message.contains("Silver"))));
}

#[test]
fn a_big_sale_passes_several_levels_and_gets_each_level_s_rewards_once() {
    let seasonal = config(SEASONAL);
    let host = host(Metric::SalesTotal, "900", "3500");
    let actions =
        PerformanceRewards::evaluate(&input(1, Trigger::Conversion(sale("2600"))), &seasonal, &host).expect("actions");
    assert_eq!(moves(&actions), [(3, None)]);
    assert_eq!(awards(&actions), ["Performance badge"]);
    assert_eq!(bonuses(&actions), [d("100.00")]);
}

#[test]
fn a_sale_within_the_level_held_does_nothing() {
    let seasonal = config(SEASONAL);
    let host = host(Metric::SalesTotal, "1200", "1500");
    let actions =
        PerformanceRewards::evaluate(&input(2, Trigger::Conversion(sale("300"))), &seasonal, &host).expect("actions");
    assert!(actions.is_empty(), "{actions:?}");
}

#[test]
fn a_level_already_held_is_not_given_again_after_a_refund_and_a_new_sale() {
    // Gold was reached, a refund took the month below 3,000, a new sale passes it again.
    let seasonal = config(SEASONAL);
    let host = host(Metric::SalesTotal, "2900", "3100");
    let actions =
        PerformanceRewards::evaluate(&input(3, Trigger::Conversion(sale("200"))), &seasonal, &host).expect("actions");
    assert!(actions.is_empty(), "{actions:?}");
}

#[test]
fn an_affiliate_in_a_group_off_the_ladder_is_left_alone() {
    let seasonal = config(SEASONAL);
    let host = host(Metric::SalesTotal, "900", "9000");
    let actions =
        PerformanceRewards::evaluate(&input(77, Trigger::Conversion(sale("8100"))), &seasonal, &host).expect("actions");
    assert!(actions.is_empty(), "{actions:?}");
}

#[test]
fn outside_its_season_the_ladder_moves_nobody_up() {
    let seasonal = config(SEASONAL);
    let host = host(Metric::SalesTotal, "900", "1200");
    let mut october = input(1, Trigger::Conversion(sale("300")));
    october.now = Timestamp::from_millis(JULY + 92 * 86_400_000);
    assert!(PerformanceRewards::evaluate(&october, &seasonal, &host).expect("actions").is_empty());
}

#[test]
fn in_re_rate_mode_reaching_a_level_re_rates_the_period_from_its_start() {
    let five = config(FIVE_OR_MORE);
    let host = host(Metric::SalesCount, "4", "5");
    let actions =
        PerformanceRewards::evaluate(&input(1, Trigger::Conversion(sale("50"))), &five, &host).expect("actions");
    assert_eq!(moves(&actions), [(2, Some(JULY_START))]);
}

#[test]
fn a_period_end_measures_the_new_period_and_moves_back_down() {
    let five = config(FIVE_OR_MORE);
    let host = TestHost::new().with_stat(this_month(Metric::SalesCount), d("0"));
    let june =
        Period { start: Timestamp::from_millis(JULY_START - 30 * 86_400_000), end: Timestamp::from_millis(JULY_START) };
    let actions = PerformanceRewards::evaluate(&input(2, Trigger::PeriodEnd(june)), &five, &host).expect("actions");
    assert_eq!(moves(&actions), [(1, None)]);
    let at_bottom = PerformanceRewards::evaluate(&input(1, Trigger::PeriodEnd(june)), &five, &host).expect("actions");
    assert!(at_bottom.is_empty(), "{at_bottom:?}");
}

#[test]
fn a_rule_fires_on_the_conversion_that_makes_its_condition_true_only() {
    let rules = config(REVENUE_BONUS);
    let crossing = host(Metric::SalesTotal, "4800", "5200");
    let actions =
        PerformanceRewards::evaluate(&input(1, Trigger::Conversion(sale("400"))), &rules, &crossing).expect("actions");
    assert_eq!(bonuses(&actions), [d("104.00")], "2 % of 5,200: {actions:?}");
    let after = host(Metric::SalesTotal, "5200", "5600");
    let actions =
        PerformanceRewards::evaluate(&input(1, Trigger::Conversion(sale("400"))), &rules, &after).expect("actions");
    assert!(actions.is_empty(), "{actions:?}");
}

#[test]
fn a_period_end_rule_measures_the_period_that_ended() {
    let rules = config(REVENUE_BONUS);
    let june =
        Period { start: Timestamp::from_millis(JULY_START - 30 * 86_400_000), end: Timestamp::from_millis(JULY_START) };
    let quiet = query(Metric::SalesCount, StatusFilter::ApprovedOrPending, PeriodSpec::Span(june));
    let host = TestHost::new().with_stat(quiet, d("0"));
    let actions = PerformanceRewards::evaluate(&input(1, Trigger::PeriodEnd(june)), &rules, &host).expect("actions");
    assert!(
        matches!(actions.as_slice(), [Action::Notify { message, .. }] if message.contains("No sales")),
        "{actions:?}"
    );
    let busy = TestHost::new().with_stat(quiet, d("3"));
    assert!(PerformanceRewards::evaluate(&input(1, Trigger::PeriodEnd(june)), &rules, &busy).expect("ok").is_empty());
}

#[test]
fn progress_says_what_is_missing_to_the_next_level() {
    let progress_input = |group: u64| ProgressInput {
        now: Timestamp::from_millis(JULY),
        campaign: 1.into(),
        affiliate: 4.into(),
        group: group.into(),
        groups: vec![],
    };
    let seasonal = config(SEASONAL);
    let host = TestHost::new().with_stat(this_month(Metric::SalesTotal), d("2800"));
    let progress = PerformanceRewards::progress(&progress_input(2), &seasonal, &host).expect("ok").expect("a ladder");
    assert_eq!(progress.level.as_deref(), Some("Silver"));
    assert_eq!(progress.next_level.as_deref(), Some("Gold"));
    assert_eq!(progress.summary, "more than 200.00 EUR of sales to Gold");
    assert_eq!(progress.missing, [Shortfall { metric: Metric::SalesTotal, amount: d("200.00") }]);

    let five = config(FIVE_OR_MORE);
    let host = TestHost::new().with_stat(this_month(Metric::SalesCount), d("3"));
    let progress = PerformanceRewards::progress(&progress_input(1), &five, &host).expect("ok").expect("a ladder");
    assert_eq!(progress.summary, "2 more sales to 30 %");
}

#[test]
fn configurations_that_cannot_work_are_refused_saying_where() {
    let ladder = |levels: serde_json::Value| serde_json::json!({ "currency": "EUR", "ladder": { "measure": { "metric": "sales-count" }, "levels": levels } });
    let err = refused(ladder(
        serde_json::json!([{ "name": "A", "group": 1, "when": { "at-least": "1" } }, { "name": "B", "group": 2, "when": { "at-least": "2" } }]),
    ));
    assert!(err.contains("ladder.levels[0].when"), "{err}");
    let err = refused(ladder(
        serde_json::json!([{ "name": "A", "group": 1 }, { "name": "B", "group": 1, "when": { "at-least": "2" } }]),
    ));
    assert!(err.contains("ladder.levels[1].group"), "{err}");
    let err = refused(ladder(
        serde_json::json!([{ "name": "A", "group": 1 }, { "name": "B", "group": 2, "when": { "at-least": "2" }, "then": [{ "bonus": { "percent": "5" } }] }]),
    ));
    assert!(err.contains("bonus.percent") && err.contains("count"), "{err}");
    let err = refused(
        serde_json::json!({ "currency": "EUR", "rules": [{ "name": "x", "measure": { "metric": "sales-total" }, "when": { "at-least": "1" }, "then": [], "season": { "valid-from": "June" } }] }),
    );
    assert!(err.contains("RFC 3339"), "{err}");
}

#[test]
fn the_readme_shows_the_example_configurations_as_they_are_tested() {
    let readme = include_str!("../README.md");
    for example in [SEASONAL, FIVE_OR_MORE, REVENUE_BONUS] {
        assert!(readme.contains(example.trim()), "README.md lacks {example}");
    }
}
