//! One trait per hook. A plugin type implements [`Plugin`] and the hooks it offers.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::{
    Action, Adjustment, ApprovalInput, BonusInput, CarryoverInput, CommissionLine, Decision, DistributeInput, Progress,
    ProgressInput, ScreenInput, Verdict,
};
use crate::{Host, Result};

/// What every plugin declares: the type of its per-campaign configuration.
///
/// The type is the one source of the configuration's shape: the host shows
/// operators the JSON Schema derived from it (`#[derive(JsonSchema)]`, doc comments
/// become descriptions), and before it stores an operator's configuration it asks
/// the plugin to deserialize it, so a configuration the plugin cannot read is
/// refused when it is saved. The SDK deserializes it into `Config` before each hook.
pub trait Plugin {
    /// The per-campaign configuration. Use [`NoConfig`] when there is none.
    type Config: DeserializeOwned + JsonSchema;
}

/// The configuration of a plugin that takes none: accepts only `{}`.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoConfig {}

/// Screening before distribution: accept a conversion, reject it with a reason, pay
/// it with another commission group, send its commissions to manual approval, or
/// hold them until a time.
pub trait Screen: Plugin {
    /// Decides about one conversion.
    fn screen(input: &ScreenInput, config: &Self::Config, host: &impl Host) -> Result<Verdict>;
}

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

/// Period close: balance adjustments such as negative carryover. The server calls it
/// at each campaign's period close (monthly, at midnight on the campaign's
/// `period-close-day` in its time zone) with the closed calendar month's balances of
/// approved, unpaid commissions per affiliate, at most 1000 balances per call;
/// `upline plugin run` runs it on a file.
pub trait Carryover: Plugin {
    /// Returns the adjustments to book for the closed period.
    fn close_period(input: &CarryoverInput, config: &Self::Config, host: &impl Host) -> Result<Vec<Adjustment>>;
}

/// Performance rewards: bonus commissions, group moves, awards and notifications.
/// The server calls it after each conversion (trigger `Conversion`) and, at the end
/// of each of the campaign's reward periods, once for every active affiliate
/// (trigger `PeriodEnd`).
pub trait BonusRules: Plugin {
    /// Returns the actions the affiliate's performance calls for.
    fn evaluate(input: &BonusInput, config: &Self::Config, host: &impl Host) -> Result<Vec<Action>>;

    /// Where the affiliate stands on the rule's levels, shown in the affiliate panel
    /// (`GET /api/v1/affiliate/progress`). None (the default) when the rule has no levels.
    fn progress(input: &ProgressInput, config: &Self::Config, host: &impl Host) -> Result<Option<Progress>> {
        let _ = (input, config, host);
        Ok(None)
    }
}
