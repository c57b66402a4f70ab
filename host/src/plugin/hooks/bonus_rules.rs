//! `bonus-rules`: `evaluate`, the actions a rule takes for one affiliate (bonuses,
//! group moves, awards, notifications), and `progress`, where the affiliate stands
//! on the rule's levels (contract 0.2).

use upline_types::{Action, BonusInput, Currency, ProgressInput};
use wasmtime::Store;
use wasmtime::component::Instance;

use super::{CallState, Exports, Hook, HookKind, check_amount, check_text};

/// The `bonus-rules` hook; its context is the campaign's currency.
pub struct BonusRules;

impl HookKind for BonusRules {
    const HOOK: Hook = Hook::BonusRules;
    type Input = BonusInput;
    type Output = Vec<Action>;
    type Context = Currency;

    fn run(
        exports: &Exports,
        store: &mut Store<CallState>,
        instance: &Instance,
        input: &BonusInput,
        config: &str,
    ) -> wasmtime::Result<Result<Vec<Action>, String>> {
        match exports {
            Exports::V0_1(exports) => exports.evaluate(store, instance, input, config),
            Exports::V0_2(exports) => exports.evaluate(store, instance, input, config),
        }
    }

    /// Bonuses, awards and notifications for an affiliate of the input's upline (the
    /// evaluated one at least), group moves for the evaluated affiliate only and to
    /// groups of the campaign; bonuses in the campaign's currency, non-negative and
    /// rounded.
    fn check(input: &BonusInput, actions: &Vec<Action>, currency: &Currency, _: bool) -> Result<(), String> {
        for action in actions {
            let (affiliate, moved) = match action {
                Action::Bonus { affiliate, amount, explanation } => {
                    check_amount(amount, *currency, &"a bonus")?;
                    check_text(explanation, "explanation")?;
                    (affiliate, false)
                }
                Action::MoveToGroup { affiliate, group, explanation, .. } => {
                    if !input.groups.iter().any(|g| g.id == *group) {
                        return Err(format!("a move to group {group}, which is not a group of the campaign"));
                    }
                    check_text(explanation, "explanation")?;
                    (affiliate, true)
                }
                Action::Award { affiliate, name, description } => {
                    if name.trim().is_empty() {
                        return Err("an award has no name".into());
                    }
                    check_text(description, "award description")?;
                    (affiliate, false)
                }
                Action::Notify { affiliate, message } => {
                    check_text(message, "notification")?;
                    (affiliate, false)
                }
            };
            let in_upline = input.upline.iter().any(|member| member.affiliate == *affiliate);
            if *affiliate != input.affiliate && (moved || !in_upline) {
                let whom = if moved { "" } else { " or an affiliate of its upline" };
                return Err(format!(
                    "an action for affiliate {affiliate}, but the rule evaluated affiliate {}{whom}",
                    input.affiliate
                ));
            }
        }
        Ok(())
    }
}

/// The `progress` function of `bonus-rules`.
pub struct Progress;

impl HookKind for Progress {
    const HOOK: Hook = Hook::BonusRules;
    type Input = ProgressInput;
    type Output = Option<upline_types::Progress>;
    type Context = ();

    fn run(
        exports: &Exports,
        store: &mut Store<CallState>,
        instance: &Instance,
        input: &ProgressInput,
        config: &str,
    ) -> wasmtime::Result<Result<Option<upline_types::Progress>, String>> {
        match exports {
            // Contract 0.1 has no `progress`: such a rule shows none.
            Exports::V0_1(_) => Ok(Ok(None)),
            Exports::V0_2(exports) => exports.progress(store, instance, input, config),
        }
    }

    /// Names and a summary of bounded length; what is missing is positive.
    fn check(_: &ProgressInput, progress: &Self::Output, _: &(), _: bool) -> Result<(), String> {
        let Some(progress) = progress else { return Ok(()) };
        for name in progress.level.iter().chain(&progress.next_level) {
            check_text(name, "level name")?;
        }
        check_text(&progress.summary, "summary")?;
        match progress.missing.iter().find(|shortfall| shortfall.amount.is_sign_negative()) {
            Some(shortfall) => Err(format!("a negative shortfall ({}) of {:?}", shortfall.amount, shortfall.metric)),
            None => Ok(()),
        }
    }
}
