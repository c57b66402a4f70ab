//! `affiliate_stats`: per campaign, affiliate, day (of the campaign's calendar) and
//! commission status, the sums plugins query. Written only by the database's trigger
//! on `commissions` (migration `m20261202_000013_stats`). The sums are whole numbers
//! (counts, minor units), exact beyond 64 bits on PostgreSQL; the host only reads
//! them summed, as text (`service/stats.rs`), so this is a table of names, not a model.

use sea_orm::DeriveIden;

/// The table and its columns.
#[derive(Debug, Clone, Copy, DeriveIden)]
pub enum AffiliateStats {
    /// The table.
    Table,
    /// The campaign.
    CampaignId,
    /// The affiliate.
    AffiliateId,
    /// Days since 1970-01-01 of the date in the campaign's time zone.
    Day,
    /// The commissions' status.
    Status,
    /// Sales the affiliate referred (counted on their tier-1 commission).
    SalesCount,
    /// Their commissionable totals, in minor units.
    SalesMinor,
    /// Actions the affiliate referred.
    ActionsCount,
    /// Commission amounts (reversals, bonuses and adjustments included).
    CommissionsMinor,
    /// Tier-1 commission amounts.
    FirstTierMinor,
    /// Commissionable totals of conversions the affiliate earned tier 2 on.
    SecondTierRevenueMinor,
    /// Subscription payments the affiliate referred.
    RecurringCount,
    /// Their commissionable totals.
    RecurringMinor,
}
