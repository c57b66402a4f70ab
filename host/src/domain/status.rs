//! The commission lifecycle:
//!
//! ```text
//! pending -> approved -> paid
//!        \-> declined
//! ```
//!
//! The methods of [`CommissionStatus`] are the only legal transitions.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a commission is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CommissionStatus {
    /// Waiting for approval (by a policy, an event, a hold period, or a merchant).
    Pending,
    /// Approved, not yet paid.
    Approved,
    /// Declined; never paid.
    Declined,
    /// Paid in a payout; locked.
    Paid,
}

/// A transition the lifecycle does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from} commission cannot be {action}")]
pub struct IllegalTransition {
    /// The status the commission is in.
    pub from: CommissionStatus,
    /// What was attempted (`approved`, `declined`, `paid`).
    pub action: &'static str,
}

impl CommissionStatus {
    /// pending -> approved.
    pub fn approve(self) -> Result<Self, IllegalTransition> {
        self.step(CommissionStatus::Pending, CommissionStatus::Approved, "approved")
    }

    /// pending -> declined.
    pub fn decline(self) -> Result<Self, IllegalTransition> {
        self.step(CommissionStatus::Pending, CommissionStatus::Declined, "declined")
    }

    /// approved -> paid.
    pub fn pay(self) -> Result<Self, IllegalTransition> {
        self.step(CommissionStatus::Approved, CommissionStatus::Paid, "paid")
    }

    /// The status as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            CommissionStatus::Pending => "pending",
            CommissionStatus::Approved => "approved",
            CommissionStatus::Declined => "declined",
            CommissionStatus::Paid => "paid",
        }
    }

    fn step(self, from: Self, to: Self, action: &'static str) -> Result<Self, IllegalTransition> {
        if self == from { Ok(to) } else { Err(IllegalTransition { from: self, action }) }
    }
}

impl fmt::Display for CommissionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CommissionStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [CommissionStatus::Pending, CommissionStatus::Approved, CommissionStatus::Declined, CommissionStatus::Paid]
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown commission status `{s}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::CommissionStatus::*;
    use super::*;

    #[test]
    fn only_the_lifecycle_transitions_are_legal() {
        assert_eq!(Pending.approve(), Ok(Approved));
        assert_eq!(Pending.decline(), Ok(Declined));
        assert_eq!(Approved.pay(), Ok(Paid));
        for (status, attempt) in [
            (Approved, Approved.approve()),
            (Declined, Declined.approve()),
            (Paid, Paid.approve()),
            (Approved, Approved.decline()),
            (Paid, Paid.decline()),
            (Declined, Declined.decline()),
            (Pending, Pending.pay()),
            (Declined, Declined.pay()),
            (Paid, Paid.pay()),
        ] {
            assert_eq!(attempt.map_err(|err| err.from), Err(status));
        }
        assert_eq!(Paid.pay().expect_err("paid twice").to_string(), "a paid commission cannot be paid");
    }

    #[test]
    fn statuses_round_trip_through_text() {
        for status in [Pending, Approved, Declined, Paid] {
            assert_eq!(status.as_str().parse(), Ok(status));
        }
        assert!("tracked".parse::<CommissionStatus>().is_err());
    }
}
