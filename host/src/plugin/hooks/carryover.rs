//! `carryover` (`close-period`): balance adjustments at a period's close. The server
//! calls it from each campaign's `period-close` job (`service/periods.rs`), at most
//! 1000 balances per call; `upline plugin run` calls it on a file.

use std::collections::HashSet;

use upline_types::{Adjustment, CarryoverInput};
use wasmtime::Store;
use wasmtime::component::Instance;

use super::{CallState, Exports, Hook, HookKind, check_text};

/// The `carryover` hook.
pub struct Carryover;

impl HookKind for Carryover {
    const HOOK: Hook = Hook::Carryover;
    type Input = CarryoverInput;
    type Output = Vec<Adjustment>;
    type Context = ();

    fn run(
        exports: &Exports,
        store: &mut Store<CallState>,
        instance: &Instance,
        input: &CarryoverInput,
        config: &str,
    ) -> wasmtime::Result<Result<Vec<Adjustment>, String>> {
        match exports {
            Exports::V0_1(exports) => exports.close_period(store, instance, input, config),
            Exports::V0_2(exports) => exports.close_period(store, instance, input, config),
        }
    }

    /// Adjustments only for balances given, in their currency, rounded, once per
    /// affiliate, campaign and booking.
    fn check(input: &CarryoverInput, adjustments: &Vec<Adjustment>, _: &(), _: bool) -> Result<(), String> {
        let mut seen = HashSet::new();
        for adjustment in adjustments {
            let balance = input
                .balances
                .iter()
                .find(|b| b.affiliate == adjustment.affiliate && b.campaign == adjustment.campaign)
                .ok_or_else(|| {
                    format!(
                        "an adjustment for affiliate {} in campaign {} has no balance in the input",
                        adjustment.affiliate, adjustment.campaign
                    )
                })?;
            let what = format!("the adjustment for affiliate {}", adjustment.affiliate);
            if adjustment.amount.currency() != balance.amount.currency() {
                return Err(format!(
                    "{what} is in {}, the balance in {}",
                    adjustment.amount.currency(),
                    balance.amount.currency()
                ));
            }
            if adjustment.amount.round() != adjustment.amount {
                return Err(format!("{what} ({}) is not rounded to the currency's minor unit", adjustment.amount));
            }
            if adjustment.product_id.trim().is_empty() {
                return Err(format!("{what} has no product id"));
            }
            check_text(&adjustment.explanation, "explanation")?;
            if !seen.insert((adjustment.affiliate, adjustment.campaign, adjustment.booking)) {
                return Err(format!("{what} is booked twice in the same period"));
            }
        }
        Ok(())
    }
}
