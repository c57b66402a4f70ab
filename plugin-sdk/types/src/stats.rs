//! What a plugin may ask the host: log levels and aggregate statistics queries.

use serde::{Deserialize, Serialize};

use crate::hooks::{AffiliateId, CampaignId, Period};

/// Severity of a log record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// Very detailed tracing.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected that the plugin handled.
    Warn,
    /// A failure.
    Error,
}

/// What a statistics query aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Metric {
    /// Number of sale conversions.
    SalesCount,
    /// Sum of sale totals (revenue).
    SalesTotal,
    /// Number of action conversions.
    ActionsCount,
    /// Sum of commission amounts.
    CommissionsTotal,
    /// Sum of tier-1 commission amounts.
    FirstTierCommissions,
    /// Revenue of conversions where the affiliate earned a tier-2 commission.
    SecondTierRevenue,
    /// Number of recurring conversions.
    RecurringCount,
    /// Sum of recurring conversion totals.
    RecurringTotal,
}

impl Metric {
    /// Every metric.
    pub const ALL: [Metric; 8] = [
        Metric::SalesCount,
        Metric::SalesTotal,
        Metric::ActionsCount,
        Metric::CommissionsTotal,
        Metric::FirstTierCommissions,
        Metric::SecondTierRevenue,
        Metric::RecurringCount,
        Metric::RecurringTotal,
    ];
}

/// Which commissions a statistics query counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum StatusFilter {
    /// Approved only.
    Approved,
    /// Pending only.
    Pending,
    /// Declined only.
    Declined,
    /// Approved or pending.
    ApprovedOrPending,
    /// Paid only.
    Paid,
    /// All.
    Any,
}

/// A period of the campaign's calendar, in its time zone, relative to the hook's
/// `now` (contract 0.2). Weeks start on Monday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum NamedPeriod {
    /// The current day.
    Today,
    /// The day before.
    Yesterday,
    /// The current week.
    ThisWeek,
    /// The week before.
    LastWeek,
    /// The current calendar month.
    ThisMonth,
    /// The month before.
    LastMonth,
    /// The current quarter.
    ThisQuarter,
    /// The quarter before.
    LastQuarter,
    /// The current calendar year.
    ThisYear,
    /// The year before.
    LastYear,
    /// Everything.
    AllTime,
}

/// Over which time a statistics query aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PeriodSpec {
    /// A named period of the campaign's calendar (contract 0.2).
    Named(NamedPeriod),
    /// Whole days: `start` and `end` are midnights in the campaign's time zone.
    Span(Period),
}

/// An aggregate statistics query, e.g. "sum of approved sales this month for
/// affiliate X in campaign Y".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct StatsQuery {
    /// The affiliate.
    pub affiliate: AffiliateId,
    /// The campaign.
    pub campaign: CampaignId,
    /// What to aggregate.
    pub metric: Metric,
    /// Which commissions count.
    pub statuses: StatusFilter,
    /// Over which period.
    pub period: PeriodSpec,
}

/// An aggregate query over a whole campaign (every affiliate's commissions in it),
/// e.g. "commissions this month, approved or pending" for a budget cap (contract 0.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct CampaignQuery {
    /// The campaign.
    pub campaign: CampaignId,
    /// What to aggregate.
    pub metric: Metric,
    /// Which commissions count.
    pub statuses: StatusFilter,
    /// Over which period.
    pub period: PeriodSpec,
}
