//! The hooks' inputs and outputs as idiomatic Rust types.

use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money, Rate};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(u64);

        impl $name {
            /// The raw id.
            pub fn get(self) -> u64 {
                self.0
            }
        }

        impl From<u64> for $name {
            fn from(id: u64) -> Self {
                Self(id)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// An affiliate.
    AffiliateId
);
id_type!(
    /// A commission group.
    GroupId
);
id_type!(
    /// A campaign.
    CampaignId
);
id_type!(
    /// A tracked conversion (0 while simulating).
    ConversionId
);
id_type!(
    /// A commission.
    CommissionId
);

/// A point in time, milliseconds since the Unix epoch (UTC). Plugins have no clock:
/// every hook gets the current time as `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    const MILLIS_PER_DAY: i64 = 86_400_000;

    /// From milliseconds since the Unix epoch.
    pub fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the Unix epoch.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// This time plus `days` whole days.
    pub fn plus_days(self, days: u32) -> Self {
        Self(self.0.saturating_add(i64::from(days) * Self::MILLIS_PER_DAY))
    }
}

/// A span of time, `start` inclusive, `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Period {
    /// First instant in the period.
    pub start: Timestamp,
    /// First instant after the period.
    pub end: Timestamp,
}

/// What a commission is paid for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CommissionType {
    /// A sale.
    Sale,
    /// An action (lead) with its code.
    Action(String),
    /// A recurring payment.
    Recurring,
}

/// How one tier's commission is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TierRule {
    /// A percentage of the commissionable total.
    Percent(Rate),
    /// A fixed amount in the conversion's currency.
    Fixed(rust_decimal::Decimal),
    /// A percentage of the previous tier's commission.
    PercentOfPrevious(Rate),
}

/// A commission group's setting for one tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TierSetting {
    /// 1 for the referring affiliate, 2 for its parent, ...
    pub tier: u32,
    /// How the tier's amount is computed.
    pub rule: TierRule,
}

/// A commission group with its tier settings for the conversion's commission type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct CommissionGroup {
    /// The group's id.
    pub id: GroupId,
    /// Its display name, e.g. `VIP`.
    pub name: String,
    /// Its tier settings, in any order.
    pub tiers: Vec<TierSetting>,
}

impl CommissionGroup {
    /// The setting for `tier`, if the group has one.
    pub fn tier(&self, tier: u32) -> Option<&TierSetting> {
        self.tiers.iter().find(|setting| setting.tier == tier)
    }

    /// The group's tier-1 percentage, if tier 1 is a percentage.
    pub fn tier1_rate(&self) -> Option<Rate> {
        match self.tier(1)?.rule {
            TierRule::Percent(rate) => Some(rate),
            TierRule::Fixed(_) | TierRule::PercentOfPrevious(_) => None,
        }
    }
}

/// A tracked (or simulated) conversion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Conversion {
    /// Its id, 0 while simulating.
    pub id: ConversionId,
    /// The campaign it belongs to.
    pub campaign: CampaignId,
    /// What it pays commission for.
    pub commission_type: CommissionType,
    /// The commissionable total, after the campaign's shipping/tax/discount settings.
    pub total: Money,
    /// The merchant's order id.
    pub order_id: Option<String>,
    /// The product bought.
    pub product_id: Option<String>,
    /// The coupon used.
    pub coupon: Option<String>,
    /// The customer as the merchant identifies them (a hashed id or e-mail address),
    /// compared exactly. Contract 0.2; none for a plugin built against 0.1.
    #[serde(default)]
    pub customer: Option<String>,
    /// Free-form fields sent by the merchant.
    pub custom_fields: Vec<(String, String)>,
    /// When it happened.
    pub occurred_at: Timestamp,
}

impl Conversion {
    /// The currency of the conversion and of every commission it produces.
    pub fn currency(&self) -> Currency {
        self.total.currency()
    }
}

/// One affiliate of the upline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct UplineMember {
    /// The affiliate.
    pub affiliate: AffiliateId,
    /// 1 for the referring affiliate, 2 for its parent, ...
    pub tier: u32,
    /// Its commission group in the campaign.
    pub group: GroupId,
    /// Its own customer reference in the merchant's shop, when the operator recorded
    /// one, in the form of a conversion's `customer` (contract 0.2).
    #[serde(default)]
    pub customer: Option<String>,
}

/// What the `Distribute` hook gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct DistributeInput {
    /// The current time.
    pub now: Timestamp,
    /// The conversion to distribute.
    pub conversion: Conversion,
    /// The referring affiliate first, then its parent, and so on.
    pub upline: Vec<UplineMember>,
    /// Every commission group of the campaign.
    pub groups: Vec<CommissionGroup>,
}

impl DistributeInput {
    /// The group with this id.
    pub fn group(&self, id: GroupId) -> Option<&CommissionGroup> {
        self.groups.iter().find(|group| group.id == id)
    }
}

/// One commission the `Distribute` hook asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct CommissionLine {
    /// Who earns it: must be in the upline.
    pub affiliate: AffiliateId,
    /// The affiliate's tier.
    pub tier: u32,
    /// Non-negative, rounded to the currency's minor unit.
    pub amount: Money,
    /// Why, in words the merchant and the affiliate will see.
    pub explanation: String,
}

impl CommissionLine {
    /// A line for `affiliate` at `tier`.
    pub fn new(affiliate: AffiliateId, tier: u32, amount: Money, explanation: impl Into<String>) -> Self {
        Self { affiliate, tier, amount, explanation: explanation.into() }
    }
}

/// A pending commission, as an approval policy sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Commission {
    /// Its id.
    pub id: CommissionId,
    /// The conversion that produced it.
    pub conversion: ConversionId,
    /// The campaign.
    pub campaign: CampaignId,
    /// Who earns it.
    pub affiliate: AffiliateId,
    /// The affiliate's tier.
    pub tier: u32,
    /// What it pays for. A bonus from a bonus-rules plugin comes as `Sale` (the type
    /// has no bonus case).
    pub commission_type: CommissionType,
    /// Its amount.
    pub amount: Money,
    /// When it was created.
    pub created_at: Timestamp,
}

/// An event a pending commission can wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApprovalEvent {
    /// The affiliate's first login to the affiliate panel.
    AffiliateFirstLogin,
    /// A sub-affiliate's first conversion of any kind.
    SubAffiliateFirstConversion,
    /// A sub-affiliate's first sale.
    SubAffiliateFirstSale,
    /// A sub-affiliate's first action.
    SubAffiliateFirstAction,
}

/// Where an adjustment is booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Booking {
    /// In the period being closed.
    ClosingPeriod,
    /// In the period that follows it.
    NextPeriod,
}

/// What the `Approve` hook gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ApprovalInput {
    /// The current time.
    pub now: Timestamp,
    /// The commission to decide on.
    pub commission: Commission,
    /// The affiliate's first login to the affiliate panel, if any.
    pub affiliate_first_login: Option<Timestamp>,
    /// A sub-affiliate's first conversion of any kind, if any. Sub-affiliates are the
    /// affiliate's direct children; their conversions in every campaign count (any
    /// stored one not superseded, a browser's report included), and so does the
    /// conversion being decided on when it is a child's.
    pub sub_affiliate_first_conversion: Option<Timestamp>,
    /// A sub-affiliate's first sale, if any.
    pub sub_affiliate_first_sale: Option<Timestamp>,
    /// A sub-affiliate's first action, if any.
    pub sub_affiliate_first_action: Option<Timestamp>,
    /// When the affiliate joined.
    pub affiliate_since: Timestamp,
    /// The campaign's hold period, in days (one per campaign).
    pub hold_days: u32,
}

/// Until when a commission stays pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PendingUntil {
    /// Until the event happens. The host records the event the commission waits
    /// for (its `waiting-for`) and approves it in the transaction that records the
    /// event: the affiliate's first login, or a conversion the merchant's server
    /// reports for one of its direct sub-affiliates (any conversion, a recurring
    /// payment included; a sale; an action). A browser's report releases nothing.
    /// An operator may still approve or decline it before then.
    Event(ApprovalEvent),
    /// Until this time, then approved.
    Time(Timestamp),
    /// Until a merchant decides.
    Manual,
}

/// An approval policy's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    /// Approved now.
    Approve,
    /// Declined, with the reason.
    Decline(String),
    /// Kept pending.
    Pending(PendingUntil),
}

/// An affiliate's balance of approved, unpaid commissions in one campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Balance {
    /// The affiliate.
    pub affiliate: AffiliateId,
    /// The campaign.
    pub campaign: CampaignId,
    /// The balance; may be negative after refunds.
    pub amount: Money,
}

/// What the `Carryover` hook gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct CarryoverInput {
    /// The current time.
    pub now: Timestamp,
    /// The period being closed.
    pub period: Period,
    /// Affiliates' balances of approved, unpaid commissions created in `period`, at
    /// the close (on a server, at most 1000 per call).
    pub balances: Vec<Balance>,
}

/// A balance adjustment booked by the `Carryover` hook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Adjustment {
    /// The affiliate.
    pub affiliate: AffiliateId,
    /// The campaign.
    pub campaign: CampaignId,
    /// May be negative (a balance carried forward).
    pub amount: Money,
    /// Product id of the adjustment commission, e.g. `carryover`.
    pub product_id: String,
    /// In the closing period or the next one.
    pub booking: Booking,
    /// Why.
    pub explanation: String,
}

/// What set off a `BonusRules` evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    /// A conversion was just credited to the affiliate.
    Conversion(Conversion),
    /// One of the campaign's reward periods just ended; sent for every active
    /// affiliate, those without sales in it included.
    PeriodEnd(Period),
    /// The affiliate just joined the program; sent once per campaign the plugin is
    /// enabled for (contract 0.2).
    Signup,
}

/// What the `BonusRules` hook gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct BonusInput {
    /// The current time.
    pub now: Timestamp,
    /// The campaign.
    pub campaign: CampaignId,
    /// The affiliate whose performance is evaluated.
    pub affiliate: AffiliateId,
    /// Its current group.
    pub group: GroupId,
    /// Every commission group of the campaign.
    pub groups: Vec<CommissionGroup>,
    /// What set off the evaluation.
    pub trigger: Trigger,
    /// For a conversion, its upline (the evaluated affiliate first, then its parent,
    /// ...); else the evaluated affiliate alone. Bonuses, awards and notifications
    /// may go to any of them, a group move only to the evaluated affiliate
    /// (contract 0.2).
    #[serde(default)]
    pub upline: Vec<UplineMember>,
}

/// What a performance rule does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Adds a bonus commission (non-negative).
    Bonus {
        /// Who gets it.
        affiliate: AffiliateId,
        /// How much.
        amount: Money,
        /// Why.
        explanation: String,
    },
    /// Moves the affiliate to another group of the campaign.
    MoveToGroup {
        /// Who moves.
        affiliate: AffiliateId,
        /// The new group: must exist in the campaign.
        group: GroupId,
        /// Re-rates the affiliate's unpaid commissions in the campaign created since
        /// this time with the new group's tier settings (each changed one gets a
        /// reversal and a new line naming the rule; paid ones are never touched).
        /// None: the move applies to later conversions only.
        retroactive_from: Option<Timestamp>,
        /// Why.
        explanation: String,
    },
    /// Gives a badge, perk or other non-monetary reward: stored, listed for
    /// operators and shown to the affiliate in the panel.
    Award {
        /// Who gets it.
        affiliate: AffiliateId,
        /// Its name, e.g. `Gold badge`.
        name: String,
        /// What it is.
        description: String,
    },
    /// Notifies the affiliate: stored, listed for operators and shown to the
    /// affiliate in the panel (nothing is e-mailed).
    Notify {
        /// Who.
        affiliate: AffiliateId,
        /// What to say.
        message: String,
    },
}

/// What the `Screen` hook gets (contract 0.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ScreenInput {
    /// The current time.
    pub now: Timestamp,
    /// The conversion to screen.
    pub conversion: Conversion,
    /// The referring affiliate first (tier 1), then its parent, and so on.
    pub upline: Vec<UplineMember>,
    /// Every commission group of the campaign, with its tiers for this commission type.
    pub groups: Vec<CommissionGroup>,
    /// How many conversions of the same customer reference the campaign stored
    /// before this one (flagged and rejected ones excluded); 0 without one.
    pub customer_conversions: u32,
}

/// What a `Screen` plugin decides about a conversion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Go on as usual.
    Accept,
    /// No commissions: the conversion is stored as `rejected` with this reason.
    Reject(String),
    /// Pay the referring affiliate with this group's rates, for this conversion only.
    UseGroup(GroupId),
    /// Create the commissions waiting for an operator, with this reason.
    Manual(String),
    /// Create the commissions pending until `until` (later than `now`), then
    /// approved, with this reason; the approval plugin is not asked.
    Hold {
        /// When they are approved (or when the campaign's hold ends, if later).
        until: Timestamp,
        /// Why, in their explanation.
        reason: String,
    },
}

/// What a `BonusRules` plugin's `progress` gets (contract 0.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ProgressInput {
    /// The current time.
    pub now: Timestamp,
    /// The campaign.
    pub campaign: CampaignId,
    /// The affiliate.
    pub affiliate: AffiliateId,
    /// Its current group.
    pub group: GroupId,
    /// Every commission group of the campaign.
    pub groups: Vec<CommissionGroup>,
}

/// What is still missing to reach the next level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Shortfall {
    /// What is measured.
    pub metric: crate::Metric,
    /// How much more is needed (an amount for totals, a number for counts).
    pub amount: rust_decimal::Decimal,
}

/// Where an affiliate stands on a rule's levels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Progress {
    /// The level reached, if any.
    pub level: Option<String>,
    /// The next level, if there is one above.
    pub next_level: Option<String>,
    /// What is missing to reach it.
    pub missing: Vec<Shortfall>,
    /// In words, e.g. `200.00 EUR of sales to Gold`.
    pub summary: String,
}
