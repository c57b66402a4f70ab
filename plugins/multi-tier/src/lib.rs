//! Standard multi-tier distribution.
//!
//! Every affiliate of the upline, tier by tier, earns what a commission group's
//! setting for that tier says: a percentage of the commissionable total, a fixed
//! amount, or a percentage of the previous tier's commission. By default each
//! affiliate's own group sets its rate (`rates-from = "own-group"`); with
//! `"referring-group"` the referring affiliate's group sets every tier. A tier with
//! no setting pays nothing (and a percent-of-previous tier above it pays nothing).
//!
//! Rounding: amounts are computed exactly, then rounded to the currency's minor unit
//! half away from zero with [`round_running`], so the lines add up to the rounded
//! exact sum and no line is more than one minor unit off its exact amount.

use schemars::JsonSchema;
use serde::Deserialize;
use upline_plugin_sdk::prelude::*;
use upline_plugin_sdk::round_running;

/// The plugin.
pub struct MultiTier;

/// Whose commission group sets each tier's rate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RatesFrom {
    /// Each paid affiliate's own group.
    #[default]
    OwnGroup,
    /// The referring affiliate's group, for every tier.
    ReferringGroup,
}

/// Per-campaign configuration (the host shows operators the JSON Schema derived from it).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "Multi-tier commissions")]
pub struct Config {
    /// Pay at most this many tiers of the upline.
    #[serde(default = "Config::default_max_tiers")]
    #[schemars(range(min = 1, max = 100))]
    pub max_tiers: u32,
    /// Whose commission group sets each tier's rate: each paid affiliate's own group,
    /// or the referring affiliate's group for every tier.
    #[serde(default)]
    pub rates_from: RatesFrom,
}

impl Config {
    fn default_max_tiers() -> u32 {
        100
    }
}

impl Default for Config {
    fn default() -> Self {
        Self { max_tiers: Self::default_max_tiers(), rates_from: RatesFrom::default() }
    }
}

impl Plugin for MultiTier {
    type Config = Config;
}

impl Distribute for MultiTier {
    fn distribute(input: &DistributeInput, config: &Config, _host: &impl Host) -> Result<Vec<CommissionLine>> {
        let total = input.conversion.total;
        let referring_group = input.upline.first().map(|member| member.group);
        let mut previous = Money::zero(total.currency());
        let mut exact = Vec::new();
        for member in input.upline.iter().take(config.max_tiers as usize) {
            let group_id = match config.rates_from {
                RatesFrom::OwnGroup => member.group,
                RatesFrom::ReferringGroup => referring_group.unwrap_or(member.group),
            };
            let group = input
                .group(group_id)
                .ok_or_else(|| Error::new(format!("affiliate {} is in unknown group {group_id}", member.affiliate)))?;
            let Some(setting) = group.tier(member.tier) else {
                previous = Money::zero(total.currency());
                continue;
            };
            let (amount, why) = match setting.rule {
                TierRule::Percent(rate) => (total.percent(rate), format!("{rate} of {total}")),
                TierRule::Fixed(amount) => (total.with_amount(amount), format!("fixed {}", total.with_amount(amount))),
                TierRule::PercentOfPrevious(rate) => {
                    (previous.percent(rate), format!("{rate} of tier {} commission", member.tier - 1))
                }
            };
            previous = amount;
            exact.push((member, amount, format!("tier {} ({}): {why}", member.tier, group.name)));
        }
        let amounts: Vec<Money> = exact.iter().map(|(_, amount, _)| *amount).collect();
        Ok(exact
            .into_iter()
            .zip(round_running(&amounts))
            .map(|((member, _, why), amount)| CommissionLine::new(member.affiliate, member.tier, amount, why))
            .collect())
    }
}

upline_plugin_sdk::export_plugin!(MultiTier: Distribute);

#[cfg(test)]
mod tests {
    use upline_plugin_sdk::testing::TestHost;
    use upline_plugin_sdk::*;

    use super::*;

    fn eur(amount: &str) -> Money {
        Money::new(amount.parse().expect("decimal"), Currency::new("EUR", 2).expect("currency"))
    }

    fn pct(value: &str) -> Rate {
        Rate::percent(value.parse().expect("decimal"))
    }

    fn input(total: &str, upline_groups: &[u64], groups: Vec<CommissionGroup>) -> DistributeInput {
        DistributeInput {
            now: Timestamp::from_millis(0),
            conversion: upline_plugin_sdk::testing::sale(eur(total)),
            upline: upline_groups
                .iter()
                .enumerate()
                .map(|(i, group)| UplineMember {
                    affiliate: (100 + i as u64).into(),
                    tier: i as u32 + 1,
                    group: (*group).into(),
                    customer: None,
                })
                .collect(),
            groups,
        }
    }

    fn group(id: u64, tiers: Vec<TierRule>) -> CommissionGroup {
        CommissionGroup {
            id: id.into(),
            name: format!("group {id}"),
            tiers: tiers.into_iter().enumerate().map(|(i, rule)| TierSetting { tier: i as u32 + 1, rule }).collect(),
        }
    }

    fn amounts(lines: &[CommissionLine]) -> Vec<String> {
        lines.iter().map(|line| line.amount.amount().to_string()).collect()
    }

    #[test]
    fn percent_fixed_and_percent_of_previous() {
        let rules = vec![
            TierRule::Percent(pct("20")),
            TierRule::Fixed("5".parse().expect("decimal")),
            TierRule::PercentOfPrevious(pct("50")),
        ];
        let input = input("100.00", &[1, 1, 1, 1], vec![group(1, rules)]);
        let lines = MultiTier::distribute(&input, &Config::default(), &TestHost::new()).expect("lines");
        assert_eq!(amounts(&lines), ["20.00", "5.00", "2.50"]);
        assert_eq!(lines[2].tier, 3);
    }

    #[test]
    fn empty_upline_pays_nobody() {
        let input = input("100", &[], vec![group(1, vec![TierRule::Percent(pct("10"))])]);
        assert!(MultiTier::distribute(&input, &Config::default(), &TestHost::new()).expect("lines").is_empty());
    }

    #[test]
    fn rates_from_the_referring_group() {
        let groups = vec![
            group(1, vec![TierRule::Percent(pct("10")), TierRule::Percent(pct("5"))]),
            group(2, vec![TierRule::Percent(pct("30")), TierRule::Percent(pct("15"))]),
        ];
        let input = input("100", &[1, 2], groups);
        let own = MultiTier::distribute(&input, &Config::default(), &TestHost::new()).expect("lines");
        assert_eq!(amounts(&own), ["10.00", "15.00"]);
        let config = Config { rates_from: RatesFrom::ReferringGroup, ..Config::default() };
        let referring = MultiTier::distribute(&input, &config, &TestHost::new()).expect("lines");
        assert_eq!(amounts(&referring), ["10.00", "5.00"]);
    }

    #[test]
    fn rounds_to_cents_without_exceeding_the_exact_sum() {
        let rules = vec![TierRule::Percent(pct("33.333")); 3];
        let input = input("0.10", &[1, 1, 1], vec![group(1, rules)]);
        let lines = MultiTier::distribute(&input, &Config::default(), &TestHost::new()).expect("lines");
        // Exact: 0.033333 each; running totals 0.03, 0.07, 0.10 -> 0.03, 0.04, 0.03.
        assert_eq!(amounts(&lines), ["0.03", "0.04", "0.03"]);
    }

    #[test]
    fn unknown_group_is_an_error() {
        let input = input("100", &[7], vec![group(1, vec![TierRule::Percent(pct("10"))])]);
        let err = MultiTier::distribute(&input, &Config::default(), &TestHost::new()).expect_err("unknown group");
        assert!(err.message().contains("unknown group 7"), "{err}");
    }
}
