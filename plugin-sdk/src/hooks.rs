//! One trait per hook. A plugin type implements [`Plugin`] and the hooks it offers.

use serde::de::DeserializeOwned;

use crate::{Action, Adjustment, ApprovalInput, BonusInput, CarryoverInput, CommissionLine, Decision, DistributeInput};
use crate::{Host, Result};

/// What every plugin declares: the type of its per-campaign configuration.
///
/// The host validates the operator's configuration against the JSON Schema in the
/// plugin's manifest, then hands it over as JSON; the SDK deserializes it into
/// `Config` before calling a hook.
pub trait Plugin {
    /// The per-campaign configuration. Use [`NoConfig`] when there is none.
    type Config: DeserializeOwned;
}

/// The configuration of a plugin that takes none: accepts only `{}`.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoConfig {}

/// Tier distribution: who earns what from one conversion.
pub trait Distribute: Plugin {
    /// Returns the commission lines for the conversion. The host rejects lines for
    /// affiliates outside the upline, negative amounts, amounts not rounded to the
    /// currency's minor unit, and (unless granted) a sum above the conversion's total.
    fn distribute(input: &DistributeInput, config: &Self::Config, host: &impl Host) -> Result<Vec<CommissionLine>>;
}

/// Approval policy: approve, decline, or keep a new commission pending.
pub trait Approve: Plugin {
    /// Decides on one pending commission.
    fn approve(input: &ApprovalInput, config: &Self::Config, host: &impl Host) -> Result<Decision>;
}

/// Period close: balance adjustments such as negative carryover. The server does not
/// call it yet (it needs the scheduler of period closes); `upline plugin run` does.
pub trait Carryover: Plugin {
    /// Returns the adjustments to book for the closed period.
    fn close_period(input: &CarryoverInput, config: &Self::Config, host: &impl Host) -> Result<Vec<Adjustment>>;
}

/// Performance rewards: bonus commissions, group moves, awards and notifications.
pub trait BonusRules: Plugin {
    /// Returns the actions the affiliate's performance calls for.
    fn evaluate(input: &BonusInput, config: &Self::Config, host: &impl Host) -> Result<Vec<Action>>;
}
