//! `distribute`: the commission lines of a conversion for its upline.

use std::collections::HashSet;

use upline_types::{CommissionLine, DistributeInput, Money};
use wasmtime::Store;
use wasmtime::component::Instance;

use super::{CallState, Exports, Hook, HookKind, check_amount, check_text};

/// The `distribute` hook.
pub struct Distribute;

impl HookKind for Distribute {
    const HOOK: Hook = Hook::Distribute;
    type Input = DistributeInput;
    type Output = Vec<CommissionLine>;
    type Context = ();

    fn run(
        exports: &Exports,
        store: &mut Store<CallState>,
        instance: &Instance,
        input: &DistributeInput,
        config: &str,
    ) -> wasmtime::Result<Result<Vec<CommissionLine>, String>> {
        match exports {
            Exports::V0_1(exports) => exports.distribute(store, instance, input, config),
            Exports::V0_2(exports) => exports.distribute(store, instance, input, config),
        }
    }

    /// Lines only for upline affiliates at their own tier, once each, in the
    /// conversion's currency, non-negative, rounded to the minor unit, and (unless
    /// `exceed_total` is granted) adding up to at most the commissionable total.
    fn check(input: &DistributeInput, lines: &Vec<CommissionLine>, _: &(), exceed_total: bool) -> Result<(), String> {
        let total = input.conversion.total;
        let mut seen = HashSet::new();
        let mut sum = Money::zero(total.currency());
        for line in lines {
            let member = input
                .upline
                .iter()
                .find(|member| member.affiliate == line.affiliate)
                .ok_or_else(|| format!("a line pays affiliate {}, who is not in the upline", line.affiliate))?;
            if member.tier != line.tier {
                return Err(format!(
                    "a line puts affiliate {} at tier {}, but it is at tier {}",
                    line.affiliate, line.tier, member.tier
                ));
            }
            if !seen.insert(line.affiliate) {
                return Err(format!("affiliate {} has more than one line", line.affiliate));
            }
            check_amount(&line.amount, total.currency(), &format_args!("the line for affiliate {}", line.affiliate))?;
            check_text(&line.explanation, "explanation")?;
            sum = sum + line.amount;
        }
        if !exceed_total && sum.amount() > total.amount() {
            return Err(format!("the lines add up to {sum}, more than the commissionable total {total} {OVER_TOTAL}"));
        }
        Ok(())
    }
}

/// How a plugin gets past the commissionable total, for the errors that refuse it.
pub const OVER_TOTAL: &str = "(the plugin needs the `exceed-total` capability in its manifest, granted for the \
     campaign by the operator)";
