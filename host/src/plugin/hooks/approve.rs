//! `approve`: the decision on one new commission.

use upline_types::{ApprovalInput, Decision, PendingUntil};
use wasmtime::Store;
use wasmtime::component::Instance;

use super::{CallState, Exports, Hook, HookKind, check_text};

/// The `approve` hook.
pub struct Approve;

impl HookKind for Approve {
    const HOOK: Hook = Hook::Approve;
    type Input = ApprovalInput;
    type Output = Decision;
    type Context = ();

    fn run(
        exports: &Exports,
        store: &mut Store<CallState>,
        instance: &Instance,
        input: &ApprovalInput,
        config: &str,
    ) -> wasmtime::Result<Result<Decision, String>> {
        match exports {
            Exports::V0_1(exports) => exports.approve(store, instance, input, config),
            Exports::V0_2(exports) => exports.approve(store, instance, input, config),
        }
    }

    /// A decline has a reason; a pending-until time is not in the past.
    fn check(input: &ApprovalInput, decision: &Decision, _: &(), _: bool) -> Result<(), String> {
        match decision {
            Decision::Decline(reason) if reason.trim().is_empty() => Err("a decline must give a reason".into()),
            Decision::Decline(reason) => check_text(reason, "decline reason"),
            Decision::Pending(PendingUntil::Time(at)) if *at < input.now => {
                Err(format!("pending until {} ms, which is before now ({} ms)", at.millis(), input.now.millis()))
            }
            _ => Ok(()),
        }
    }
}
