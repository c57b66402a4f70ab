//! The hooks of the plugin contract, one file each: what a plugin is given (the
//! input), what it returns (the output), the invariants the output must keep before
//! the host applies it, and which export runs it. [`PluginEngine::call`] runs any of
//! them through one path (`call.rs`); each `run` matches on `contract::Exports` to
//! call the contract version the plugin was built against.
//!
//! [`PluginEngine::call`]: super::PluginEngine::call

mod approve;
mod bonus_rules;
mod carryover;
mod distribute;
mod screen;

use serde::Serialize;
use upline_types::{Currency, Money};
use wasmtime::Store;
use wasmtime::component::Instance;

pub use approve::Approve;
pub use bonus_rules::{BonusRules, Progress};
pub use carryover::Carryover;
pub use distribute::{Distribute, OVER_TOTAL};
pub use screen::Screen;

use super::Hook;
use super::call::CallState;
use super::contract::Exports;
use crate::domain::money::MAX_AMOUNT;

/// One hook of the contract.
pub trait HookKind {
    /// Which hook it is.
    const HOOK: Hook;
    /// What the plugin is given.
    type Input: Serialize;
    /// What it returns.
    type Output: Serialize;
    /// What checking the output needs besides the input (e.g. the campaign's currency).
    type Context;

    /// Runs the export on `instance`, in the plugin's contract version. The outer
    /// error is a trap, the inner one the plugin's own error.
    fn run(
        exports: &Exports,
        store: &mut Store<CallState>,
        instance: &Instance,
        input: &Self::Input,
        config: &str,
    ) -> wasmtime::Result<Result<Self::Output, String>>;

    /// The first invariant `output` breaks, in words for the operator.
    /// `exceed_total`: the operator granted the plugin `exceed-total` for the campaign.
    fn check(
        input: &Self::Input,
        output: &Self::Output,
        context: &Self::Context,
        exceed_total: bool,
    ) -> Result<(), String>;
}

/// The longest text (explanation, reason, message) a plugin may return.
const MAX_TEXT: usize = 2_000;

/// An amount in `currency`, non-negative, at most the host's maximum, rounded to
/// the currency's minor unit; `what` names it in the error (formatted only then).
fn check_amount(amount: &Money, currency: Currency, what: &dyn std::fmt::Display) -> Result<(), String> {
    if amount.currency() != currency {
        return Err(format!("{what} is in {}, not {currency}", amount.currency()));
    }
    if amount.is_negative() {
        return Err(format!("{what} is negative ({amount})"));
    }
    if amount.amount() > MAX_AMOUNT {
        return Err(format!("{what} ({amount}) is above the largest amount the host accepts ({MAX_AMOUNT})"));
    }
    if amount.round() != *amount {
        return Err(format!("{what} ({amount}) is not rounded to the currency's minor unit"));
    }
    Ok(())
}

fn check_text(text: &str, what: &str) -> Result<(), String> {
    if text.len() > MAX_TEXT { Err(format!("the {what} is longer than {MAX_TEXT} bytes")) } else { Ok(()) }
}
