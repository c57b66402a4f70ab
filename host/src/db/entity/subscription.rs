//! `subscriptions`: recurring revenue started by a conversion, paying the campaign's
//! `recurring` commissions at each due time (or at each payment the merchant reports,
//! for `varied`). Amounts are integer minor units.

use sea_orm::entity::prelude::*;

/// A subscription row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subscriptions")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The campaign.
    pub campaign_id: i64,
    /// The affiliate its payments are credited to.
    pub affiliate_id: i64,
    /// The conversion that started it.
    pub conversion_id: i64,
    /// The merchant's id for it, unique per campaign.
    pub external_id: String,
    /// How often it pays (`monthly`, `every-10-days`, `varied`, ...).
    pub recurrence: String,
    /// ISO 4217 code.
    pub currency: String,
    /// What each scheduled payment's commissions are computed on.
    pub amount_minor: i64,
    /// Payment `n` falls due at this time plus `n` recurrences.
    pub started_at: DateTimeUtc,
    /// No payment falls due after this time.
    pub ends_at: Option<DateTimeUtc>,
    /// At most this many payments after the start.
    pub max_payments: Option<i32>,
    /// Payments made so far.
    pub payments: i32,
    /// `active`, `cancelled` or `ended`.
    pub status: String,
    /// When it was created.
    pub created_at: DateTimeUtc,
    /// When it last changed.
    pub updated_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
