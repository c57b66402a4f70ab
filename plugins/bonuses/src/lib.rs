//! One-off bonus commissions (DOMAIN.md, "Performance rewards" and "Other commission
//! plugins"), each switched on by configuring it:
//!
//! - `signup`: when an affiliate joins the program (the host's `signup` trigger);
//! - `first-sale`: on an affiliate's first sale in the campaign;
//! - `sub-affiliate-first-sale`: to the parent, on its direct sub-affiliate's first
//!   sale in the campaign;
//! - `big-sale`: on every sale of at least a minimum total.
//!
//! A first sale is the conversion that takes the affiliate's number of sales in the
//! campaign (all time, any status) from 0 to 1: the host answers `stats_before` and
//! `stats` for it, and of two first sales arriving together it stores only one with
//! what it read, so the bonus is paid once.

use schemars::JsonSchema;
use serde::Deserialize;
use upline_plugin_sdk::prelude::*;
use upline_plugin_sdk::{
    Action, BonusInput, CommissionType, Metric, NamedPeriod, PeriodSpec, StatsQuery, StatusFilter, Trigger,
};

/// The plugin.
pub struct Bonuses;

/// Per-campaign configuration: each bonus is paid only when configured.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "Bonuses")]
pub struct Config {
    /// The campaign's currency (ISO 4217, e.g. `EUR`): a signup bonus is paid in it.
    #[schemars(extend("pattern" = "^[A-Z]{3}$"))]
    pub currency: String,
    /// Paid to an affiliate when it joins the program.
    #[serde(default)]
    pub signup: Option<Decimal>,
    /// Paid on an affiliate's first sale in the campaign.
    #[serde(default)]
    pub first_sale: Option<Amount>,
    /// Paid to the parent on its direct sub-affiliate's first sale in the campaign.
    #[serde(default)]
    pub sub_affiliate_first_sale: Option<Amount>,
    /// Paid on every sale of at least a minimum total.
    #[serde(default)]
    pub big_sale: Option<BigSale>,
}

/// How much a bonus on a sale is.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub enum Amount {
    /// This amount, in the sale's currency.
    Fixed(Decimal),
    /// This percentage of the sale's commissionable total.
    Percent(Decimal),
}

impl Amount {
    fn of(self, sale: Money) -> Money {
        match self {
            Amount::Fixed(amount) => sale.with_amount(amount),
            Amount::Percent(percent) => sale.percent(Rate::percent(percent)),
        }
        .round()
    }
}

/// A bonus for big sales.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BigSale {
    /// The smallest commissionable total that earns it.
    pub minimum: Decimal,
    /// The bonus.
    pub bonus: Amount,
}

impl Plugin for Bonuses {
    type Config = Config;
}

impl BonusRules for Bonuses {
    fn evaluate(input: &BonusInput, config: &Config, host: &impl Host) -> Result<Vec<Action>> {
        let referrer = input.affiliate;
        let conversion = match &input.trigger {
            Trigger::Signup => {
                let Some(amount) = config.signup else { return Ok(vec![]) };
                let amount = Money::new(amount, Currency::from_code(&config.currency)?).round();
                return Ok(vec![bonus(referrer, amount, "welcome: signup bonus".into())]);
            }
            Trigger::PeriodEnd(_) => return Ok(vec![]),
            Trigger::Conversion(conversion) if conversion.commission_type == CommissionType::Sale => conversion,
            Trigger::Conversion(_) => return Ok(vec![]),
        };
        let total = conversion.total;
        let mut actions = Vec::new();
        if let Some(big) = config.big_sale.filter(|big| total.amount() >= big.minimum) {
            let why = format!("bonus for a sale of at least {} {}", big.minimum, total.currency());
            actions.push(bonus(referrer, big.bonus.of(total), why));
        }
        if config.first_sale.is_some() || config.sub_affiliate_first_sale.is_some() {
            let sales = StatsQuery {
                affiliate: referrer,
                campaign: input.campaign,
                metric: Metric::SalesCount,
                statuses: StatusFilter::Any,
                period: PeriodSpec::Named(NamedPeriod::AllTime),
            };
            let first = host.stats_before(&sales)?.is_zero() && !host.stats(&sales)?.is_zero();
            if first && let Some(amount) = config.first_sale {
                actions.push(bonus(referrer, amount.of(total), "first-sale bonus".into()));
            }
            let parent = input.upline.iter().find(|member| member.tier == 2);
            if first && let (Some(amount), Some(parent)) = (config.sub_affiliate_first_sale, parent) {
                let why = format!("bonus for sub-affiliate {referrer}'s first sale");
                actions.push(bonus(parent.affiliate, amount.of(total), why));
            }
        }
        Ok(actions)
    }
}

upline_plugin_sdk::export_plugin!(Bonuses: BonusRules);

fn bonus(affiliate: AffiliateId, amount: Money, explanation: String) -> Action {
    Action::Bonus { affiliate, amount, explanation }
}

#[cfg(test)]
mod tests {
    use upline_plugin_sdk::UplineMember;
    use upline_plugin_sdk::testing::{self, TestHost};

    use super::*;

    fn config(json: serde_json::Value) -> Config {
        serde_json::from_value(json).expect("a valid configuration")
    }

    fn d(text: &str) -> Decimal {
        text.parse().expect("decimal")
    }

    fn input(trigger: Trigger) -> BonusInput {
        let member =
            |affiliate: u64, tier| UplineMember { affiliate: affiliate.into(), tier, group: 1.into(), customer: None };
        BonusInput {
            now: Timestamp::from_millis(0),
            campaign: 1.into(),
            affiliate: 4.into(),
            group: 1.into(),
            groups: vec![],
            trigger,
            upline: vec![member(4, 1), member(3, 2)],
        }
    }

    fn sale(total: &str) -> Trigger {
        Trigger::Conversion(testing::sale(Money::new(d(total), Currency::from_code("EUR").expect("EUR"))))
    }

    /// A host where the referrer's sales went from `before` to `after`.
    fn sales(before: &str, after: &str) -> TestHost {
        let query = StatsQuery {
            affiliate: 4.into(),
            campaign: 1.into(),
            metric: Metric::SalesCount,
            statuses: StatusFilter::Any,
            period: PeriodSpec::Named(NamedPeriod::AllTime),
        };
        TestHost::new().with_stat(query, d(after)).with_stat_before(query, d(before))
    }

    fn paid(actions: &[Action]) -> Vec<(u64, Decimal)> {
        actions
            .iter()
            .map(|action| match action {
                Action::Bonus { affiliate, amount, .. } => (affiliate.get(), amount.amount()),
                other => panic!("not a bonus: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_new_affiliate_gets_the_signup_bonus() {
        let config = config(serde_json::json!({"currency": "EUR", "signup": "5"}));
        let actions = Bonuses::evaluate(&input(Trigger::Signup), &config, &TestHost::new()).expect("actions");
        assert_eq!(paid(&actions), [(4, d("5.00"))]);
    }

    #[test]
    fn the_first_sale_pays_the_affiliate_and_its_parent_once() {
        let config = config(serde_json::json!({"currency": "EUR", "first-sale": {"fixed": "10"},
            "sub-affiliate-first-sale": {"percent": "5"}}));
        let actions = Bonuses::evaluate(&input(sale("80")), &config, &sales("0", "1")).expect("actions");
        assert_eq!(paid(&actions), [(4, d("10.00")), (3, d("4.00"))]);
        let second = Bonuses::evaluate(&input(sale("80")), &config, &sales("1", "2")).expect("actions");
        assert!(second.is_empty(), "{second:?}");
    }

    #[test]
    fn a_sale_of_at_least_the_minimum_earns_the_big_sale_bonus() {
        let config =
            config(serde_json::json!({"currency": "EUR", "big-sale": {"minimum": "500", "bonus": {"fixed": "25"}}}));
        let host = TestHost::new();
        assert_eq!(paid(&Bonuses::evaluate(&input(sale("500")), &config, &host).expect("ok")), [(4, d("25.00"))]);
        assert!(Bonuses::evaluate(&input(sale("499.99")), &config, &host).expect("ok").is_empty());
    }
}
