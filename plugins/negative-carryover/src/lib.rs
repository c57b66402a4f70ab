//! Negative carryover (DOMAIN.md): at each month's close, an affiliate whose balance
//! of approved, unpaid commissions for the closed month is negative gets a
//! compensating commission that brings that month to zero, and an equal negative
//! commission opens the next month. The debt is not forgiven: it is carried into the
//! next statement, where later commissions pay it off before anything is paid out.
//!
//! Both adjustments have product id `carryover`. A positive or zero balance is left
//! alone. The configuration may limit it to some affiliates.

use schemars::JsonSchema;
use serde::Deserialize;
use upline_plugin_sdk::prelude::*;
use upline_plugin_sdk::{Adjustment, Booking, CarryoverInput};

/// The plugin.
pub struct NegativeCarryover;

/// Per-campaign configuration (the host shows operators the JSON Schema derived from it).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Negative carryover")]
pub struct Config {
    /// Only these affiliates' balances are carried over; empty or absent: every affiliate's.
    #[serde(default)]
    #[schemars(length(max = 10000), inner(range(min = 1)), extend("uniqueItems" = true))]
    pub affiliates: Vec<u64>,
}

impl Plugin for NegativeCarryover {
    type Config = Config;
}

/// The product id of both adjustments.
pub const PRODUCT: &str = "carryover";

impl Carryover for NegativeCarryover {
    fn close_period(input: &CarryoverInput, config: &Config, host: &impl Host) -> Result<Vec<Adjustment>> {
        let mut adjustments = Vec::new();
        for balance in &input.balances {
            let chosen = config.affiliates.is_empty() || config.affiliates.contains(&balance.affiliate.get());
            if !chosen || !balance.amount.is_negative() {
                continue;
            }
            let debt = balance.amount;
            host.info(&format!("affiliate {} closes the month at {debt}: carried over", balance.affiliate));
            adjustments.push(Adjustment {
                affiliate: balance.affiliate,
                campaign: balance.campaign,
                amount: debt.with_amount(-debt.amount()),
                product_id: PRODUCT.into(),
                booking: Booking::ClosingPeriod,
                explanation: format!("negative balance of {debt} carried into the next month"),
            });
            adjustments.push(Adjustment {
                affiliate: balance.affiliate,
                campaign: balance.campaign,
                amount: debt,
                product_id: PRODUCT.into(),
                booking: Booking::NextPeriod,
                explanation: format!("negative balance of {debt} carried over from the previous month"),
            });
        }
        Ok(adjustments)
    }
}

upline_plugin_sdk::export_plugin!(NegativeCarryover: Carryover);

#[cfg(test)]
mod tests {
    use upline_plugin_sdk::testing::{TestHost, run_file_input};

    use super::*;

    fn example() -> CarryoverInput {
        run_file_input(include_str!("../examples/negative-month.json")).expect("a carryover input")
    }

    #[test]
    fn a_negative_month_is_zeroed_and_its_debt_opens_the_next() {
        let host = TestHost::new();
        let adjustments = NegativeCarryover::close_period(&example(), &Config::default(), &host).expect("adjustments");
        let [zeroed, carried] = adjustments.as_slice() else { panic!("two adjustments: {adjustments:?}") };
        assert_eq!((zeroed.affiliate.get(), zeroed.amount.amount().to_string()), (4, "35.50".to_owned()));
        assert_eq!(zeroed.booking, Booking::ClosingPeriod);
        assert_eq!((carried.amount.amount().to_string(), carried.booking), ("-35.50".to_owned(), Booking::NextPeriod));
        assert!(adjustments.iter().all(|a| a.product_id == PRODUCT));
        assert_eq!(host.logs().len(), 1);
    }

    #[test]
    fn only_the_chosen_affiliates_are_carried_over() {
        let config = Config { affiliates: vec![5] };
        let adjustments = NegativeCarryover::close_period(&example(), &config, &TestHost::new()).expect("adjustments");
        assert!(adjustments.is_empty(), "affiliate 5 is positive, 4 not chosen");
    }
}
