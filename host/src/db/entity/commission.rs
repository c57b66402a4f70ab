//! `commissions`: the ledger. Amounts are integer minor units of `currency`.

use sea_orm::entity::prelude::*;

/// A commission row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "commissions")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The conversion it pays for (none for bonuses and adjustments).
    pub conversion_id: Option<i64>,
    /// The campaign.
    pub campaign_id: i64,
    /// Who earns it.
    pub affiliate_id: i64,
    /// The affiliate's tier.
    pub tier: i32,
    /// `sale`, `recurring`, `action:<code>`, `bonus` or `adjustment`.
    pub commission_type: String,
    /// Amount in minor units; negative for reversals.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// `pending`, `approved`, `declined` or `paid`.
    pub status: String,
    /// Approved automatically at this time.
    pub hold_until: Option<DateTimeUtc>,
    /// The event it waits for, if any.
    pub waiting_for: Option<String>,
    /// Product id (e.g. `carryover` for adjustments).
    pub product_id: Option<String>,
    /// The plugin that produced it.
    pub plugin_id: Option<String>,
    /// That plugin's version.
    pub plugin_version: Option<String>,
    /// Why, in words.
    pub explanation: String,
    /// The commission this one reverses (refunds, chargebacks).
    pub reverses_id: Option<i64>,
    /// The payout that paid it.
    pub payout_id: Option<i64>,
    /// When it was created.
    pub created_at: DateTimeUtc,
    /// Its day on the campaign's calendar (days since 1970-01-01 of `created_at`'s
    /// date in the campaign's time zone), where the statistics count it.
    pub stats_day: i32,
    /// When it last changed.
    pub updated_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
