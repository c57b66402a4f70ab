//! Bonus for big sales: the example plugin of `docs/plugin-guide.md`.
//!
//! On every sale whose commissionable total is at least `minimum`, the referring
//! affiliate earns a one-off bonus commission of `bonus` (in the sale's currency).

use schemars::JsonSchema;
use serde::Deserialize;
use upline_plugin_sdk::prelude::*;
use upline_plugin_sdk::{Action, BonusInput, CommissionType, Trigger};

/// The plugin.
pub struct SaleBonus;

/// Per-campaign configuration (the host shows operators the JSON Schema derived from it).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Bonus for big sales")]
pub struct Config {
    /// Smallest sale total (in the sale's currency) that earns the bonus.
    pub minimum: Decimal,
    /// The bonus, in the sale's currency.
    pub bonus: Decimal,
}

impl Plugin for SaleBonus {
    type Config = Config;
}

impl BonusRules for SaleBonus {
    fn evaluate(input: &BonusInput, config: &Config, host: &impl Host) -> Result<Vec<Action>> {
        let Trigger::Conversion(conversion) = &input.trigger else {
            return Ok(vec![]);
        };
        if conversion.commission_type != CommissionType::Sale || conversion.total.amount() < config.minimum {
            return Ok(vec![]);
        }
        let bonus = conversion.total.with_amount(config.bonus).round();
        host.info(&format!("sale of {} reaches {}: bonus {bonus}", conversion.total, config.minimum));
        Ok(vec![Action::Bonus {
            affiliate: input.affiliate,
            amount: bonus,
            explanation: format!("bonus for a sale of at least {} {}", config.minimum, conversion.currency()),
        }])
    }
}

upline_plugin_sdk::export_plugin!(SaleBonus: BonusRules);

#[cfg(test)]
mod tests {
    use upline_plugin_sdk::testing::{TestHost, run_file_input};

    use super::*;

    /// The input in `examples/big-sale.json`, the one the guide runs.
    fn example() -> BonusInput {
        run_file_input(include_str!("../examples/big-sale.json")).expect("a bonus-rules input")
    }

    fn config(minimum: &str) -> Config {
        Config { minimum: minimum.parse().expect("decimal"), bonus: "25".parse().expect("decimal") }
    }

    #[test]
    fn a_big_sale_earns_the_bonus() {
        let host = TestHost::new();
        let actions = SaleBonus::evaluate(&example(), &config("500"), &host).expect("actions");
        let [Action::Bonus { affiliate, amount, .. }] = actions.as_slice() else { panic!("one bonus: {actions:?}") };
        assert_eq!(affiliate.get(), 4);
        assert_eq!(amount.amount(), "25.00".parse::<Decimal>().expect("decimal"));
        assert_eq!(host.logs().len(), 1);
    }

    #[test]
    fn a_small_sale_earns_nothing() {
        let actions = SaleBonus::evaluate(&example(), &config("1000"), &TestHost::new()).expect("actions");
        assert!(actions.is_empty());
    }
}
