//! Variable tier distribution.
//!
//! 1. The highest possible commission is the highest tier-1 percentage among the
//!    campaign's commission groups.
//! 2. The referring affiliate earns its own group's tier-1 percentage.
//! 3. Walking up the upline, each parent earns its own tier-1 percentage minus what
//!    the tiers below it already received, or nothing when that is not positive.
//! 4. The walk stops once the highest percentage is distributed, at the top of the
//!    tree, or after `max-tiers` tiers (100 by default).
//!
//! A group whose tier 1 is not a percentage counts as 0 %. Every walked affiliate gets
//! a line, a zero one when its share is used up; the host's zero-commission setting
//! decides whether zero lines are stored.
//!
//! Rounding: shares are computed exactly, then rounded to the currency's minor unit
//! half away from zero with [`round_running`], so the lines add up to exactly the
//! highest percentage of the total, rounded once.

use schemars::JsonSchema;
use serde::Deserialize;
use upline_plugin_sdk::prelude::*;
use upline_plugin_sdk::round_running;

/// The plugin.
pub struct VariableTier;

/// Per-campaign configuration (the host shows operators the JSON Schema derived from it).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "Variable tier commissions")]
pub struct Config {
    /// Walk at most this many tiers (the referring affiliate is tier 1).
    #[serde(default = "Config::default_max_tiers")]
    #[schemars(range(min = 1, max = 100))]
    pub max_tiers: u32,
}

impl Config {
    fn default_max_tiers() -> u32 {
        100
    }
}

impl Default for Config {
    fn default() -> Self {
        Self { max_tiers: Self::default_max_tiers() }
    }
}

impl Plugin for VariableTier {
    type Config = Config;
}

impl Distribute for VariableTier {
    fn distribute(input: &DistributeInput, config: &Config, _host: &impl Host) -> Result<Vec<CommissionLine>> {
        let highest = input.groups.iter().filter_map(CommissionGroup::tier1_rate).max().unwrap_or(Rate::ZERO);
        let total = input.conversion.total;
        let mut distributed = Rate::ZERO;
        let mut shares = Vec::new();
        for member in input.upline.iter().take(config.max_tiers as usize) {
            if distributed >= highest {
                break;
            }
            let group = input.group(member.group).ok_or_else(|| {
                Error::new(format!("affiliate {} is in unknown group {}", member.affiliate, member.group))
            })?;
            let own = group.tier1_rate().unwrap_or(Rate::ZERO);
            let share = own.saturating_sub(distributed);
            let why = format!(
                "tier {} ({} {own}): {own} - {distributed} already distributed = {share} of {total}",
                member.tier, group.name
            );
            shares.push((member.affiliate, member.tier, total.percent(share), why));
            distributed = distributed + share;
        }
        let amounts: Vec<Money> = shares.iter().map(|(_, _, amount, _)| *amount).collect();
        Ok(shares
            .into_iter()
            .zip(round_running(&amounts))
            .map(|((affiliate, tier, _, why), amount)| CommissionLine::new(affiliate, tier, amount, why))
            .collect())
    }
}

upline_plugin_sdk::export_plugin!(VariableTier: Distribute);

#[cfg(test)]
mod tests {
    use upline_plugin_sdk::testing::TestHost;
    use upline_plugin_sdk::*;

    use super::*;

    fn group(id: u64, name: &str, tier1: &str) -> CommissionGroup {
        CommissionGroup {
            id: id.into(),
            name: name.into(),
            tiers: vec![TierSetting {
                tier: 1,
                rule: TierRule::Percent(Rate::percent(tier1.parse().expect("decimal"))),
            }],
        }
    }

    /// The DOMAIN.md tree A -> B -> C -> D, with D referring a sale of `total` EUR.
    fn domain_example(total: &str) -> DistributeInput {
        let groups =
            vec![group(1, "Basic", "10"), group(2, "Standard", "10"), group(3, "Premium", "20"), group(4, "VIP", "50")];
        // D (Basic), C (Premium), B (Standard), A (VIP).
        let upline = [(4, 1), (3, 3), (2, 2), (1, 4)]
            .iter()
            .enumerate()
            .map(|(i, (affiliate, group))| UplineMember {
                affiliate: (*affiliate).into(),
                tier: i as u32 + 1,
                group: (*group).into(),
                customer: None,
            })
            .collect();
        DistributeInput {
            now: Timestamp::from_millis(0),
            conversion: Conversion {
                order_id: Some("order-1".into()),
                ..upline_plugin_sdk::testing::sale(Money::new(
                    total.parse().expect("decimal"),
                    Currency::new("EUR", 2).expect("currency"),
                ))
            },
            upline,
            groups,
        }
    }

    fn paid(lines: &[CommissionLine]) -> Vec<(u64, String)> {
        lines.iter().map(|line| (line.affiliate.get(), line.amount.amount().normalize().to_string())).collect()
    }

    #[test]
    fn domain_example_pays_10_10_0_30() {
        let lines =
            VariableTier::distribute(&domain_example("100"), &Config::default(), &TestHost::new()).expect("lines");
        assert_eq!(paid(&lines), [(4, "10".into()), (3, "10".into()), (2, "0".into()), (1, "30".into())]);
    }

    #[test]
    fn stops_when_the_highest_rate_is_distributed() {
        let mut input = domain_example("100");
        // Give D the VIP group: it takes all 50 %, nobody above gets a line.
        input.upline[0].group = 4.into();
        let lines = VariableTier::distribute(&input, &Config::default(), &TestHost::new()).expect("lines");
        assert_eq!(paid(&lines), [(4, "50".into())]);
    }

    #[test]
    fn rounding_keeps_the_total_at_the_highest_rate() {
        let lines =
            VariableTier::distribute(&domain_example("0.33"), &Config::default(), &TestHost::new()).expect("lines");
        let total: Decimal = lines.iter().map(|line| line.amount.amount()).sum();
        assert_eq!(total, "0.17".parse::<Decimal>().expect("decimal"), "50% of 0.33 = 0.165 rounds to 0.17");
        assert_eq!(paid(&lines), [(4, "0.03".into()), (3, "0.04".into()), (2, "0".into()), (1, "0.1".into())]);
    }

    #[test]
    fn max_tiers_limits_the_walk() {
        let config = Config { max_tiers: 2 };
        let lines = VariableTier::distribute(&domain_example("100"), &config, &TestHost::new()).expect("lines");
        assert_eq!(paid(&lines), [(4, "10".into()), (3, "10".into())]);
    }
}
