//! The invariants every plugin result must keep before the host applies it.
//! Each function returns the first violation, in words for the operator.

use std::collections::HashSet;

use upline_plugin_sdk::{
    Action, Adjustment, ApprovalInput, BonusInput, CarryoverInput, CommissionLine, Currency, Decision, DistributeInput,
    Money, PendingUntil,
};

use crate::domain::money::MAX_AMOUNT;

const MAX_TEXT: usize = 2_000;

/// Lines only for upline affiliates at their own tier, once each, in the
/// conversion's currency, non-negative, rounded to the minor unit, and (unless
/// `exceed_total` is granted) adding up to at most the commissionable total.
pub fn distribution(input: &DistributeInput, lines: &[CommissionLine], exceed_total: bool) -> Result<(), String> {
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
        check_amount(&line.amount, total.currency(), &format!("the line for affiliate {}", line.affiliate))?;
        check_text(&line.explanation, "explanation")?;
        sum = sum + line.amount;
    }
    if !exceed_total && sum.amount() > total.amount() {
        return Err(format!("the lines add up to {sum}, more than the commissionable total {total} {OVER_TOTAL}"));
    }
    Ok(())
}

/// A decline has a reason; a pending-until time is not in the past.
pub fn decision(input: &ApprovalInput, decision: &Decision) -> Result<(), String> {
    match decision {
        Decision::Decline(reason) if reason.trim().is_empty() => Err("a decline must give a reason".into()),
        Decision::Decline(reason) => check_text(reason, "decline reason"),
        Decision::Pending(PendingUntil::Time(at)) if *at < input.now => {
            Err(format!("pending until {} ms, which is before now ({} ms)", at.millis(), input.now.millis()))
        }
        _ => Ok(()),
    }
}

/// Adjustments only for balances given, in their currency, rounded, once per
/// affiliate, campaign and booking.
pub fn adjustments(input: &CarryoverInput, adjustments: &[Adjustment]) -> Result<(), String> {
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

/// Actions only for the evaluated affiliate, bonuses in the campaign's `currency`,
/// non-negative and rounded, group moves to groups of the campaign.
pub fn actions(input: &BonusInput, actions: &[Action], currency: Currency) -> Result<(), String> {
    for action in actions {
        let affiliate = match action {
            Action::Bonus { affiliate, amount, explanation } => {
                check_amount(amount, currency, "a bonus")?;
                check_text(explanation, "explanation")?;
                affiliate
            }
            Action::MoveToGroup { affiliate, group, explanation, .. } => {
                if !input.groups.iter().any(|g| g.id == *group) {
                    return Err(format!("a move to group {group}, which is not a group of the campaign"));
                }
                check_text(explanation, "explanation")?;
                affiliate
            }
            Action::Award { affiliate, name, description } => {
                if name.trim().is_empty() {
                    return Err("an award has no name".into());
                }
                check_text(description, "award description")?;
                affiliate
            }
            Action::Notify { affiliate, message } => {
                check_text(message, "notification")?;
                affiliate
            }
        };
        if *affiliate != input.affiliate {
            return Err(format!(
                "an action for affiliate {affiliate}, but the rule evaluated affiliate {}",
                input.affiliate
            ));
        }
    }
    Ok(())
}

/// How a plugin gets past the commissionable total, for the errors that refuse it.
pub const OVER_TOTAL: &str = "(the plugin needs the `exceed-total` capability in its manifest, granted for the \
     campaign by the operator)";

fn check_amount(amount: &Money, currency: Currency, what: &str) -> Result<(), String> {
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
