//! `screen`: accept a conversion, reject it, pay it with another group, or send its
//! commissions to an operator (contract 0.2).

use upline_types::{ScreenInput, Verdict};
use wasmtime::Store;
use wasmtime::component::Instance;

use super::{CallState, Exports, Hook, HookKind, check_text};

/// The `screen` hook.
pub struct Screen;

impl HookKind for Screen {
    const HOOK: Hook = Hook::Screen;
    type Input = ScreenInput;
    type Output = Verdict;
    type Context = ();

    fn run(
        exports: &Exports,
        store: &mut Store<CallState>,
        instance: &Instance,
        input: &ScreenInput,
        config: &str,
    ) -> wasmtime::Result<Result<Verdict, String>> {
        match exports {
            // A 0.1 manifest cannot list `screen`: the package is refused at install.
            Exports::V0_1(_) => Ok(Err("contract 0.1 has no `screen` hook".into())),
            Exports::V0_2(exports) => exports.screen(store, instance, input, config),
        }
    }

    /// A group of the campaign; a reason in words; a hold that ends after `now`.
    fn check(input: &ScreenInput, verdict: &Verdict, _: &(), _: bool) -> Result<(), String> {
        match verdict {
            Verdict::Hold { until, .. } if *until <= input.now => {
                Err(format!("a hold until {}, which is not after now ({})", until.millis(), input.now.millis()))
            }
            Verdict::Hold { reason, .. } if reason.trim().is_empty() => Err("a verdict without a reason".into()),
            Verdict::Hold { reason, .. } => check_text(reason, "reason"),
            Verdict::Accept => Ok(()),
            Verdict::UseGroup(group) if input.groups.iter().any(|g| g.id == *group) => Ok(()),
            Verdict::UseGroup(group) => Err(format!("use-group {group}, which is not a group of the campaign")),
            Verdict::Reject(reason) | Verdict::Manual(reason) if reason.trim().is_empty() => {
                Err("a verdict without a reason".into())
            }
            Verdict::Reject(reason) | Verdict::Manual(reason) => check_text(reason, "reason"),
        }
    }
}
