//! `campaigns`: a merchant's program, with its tracking and commission settings.

use sea_orm::entity::prelude::*;

/// A campaign row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, utoipa::ToSchema)]
#[sea_orm(table_name = "campaigns")]
#[serde(rename_all = "kebab-case")]
#[schema(as = CampaignSettings, description = "A campaign's settings.")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Display name.
    pub name: String,
    /// ISO 4217 currency of its conversions and commissions.
    pub currency: String,
    /// How long a referral cookie lasts.
    pub cookie_days: i32,
    /// `first-click` or `last-click`.
    pub attribution: String,
    /// Shipping counts toward the commissionable total.
    pub include_shipping: bool,
    /// Tax counts toward the commissionable total.
    pub include_tax: bool,
    /// Discounts are taken off the commissionable total.
    pub subtract_discount: bool,
    /// Store commissions for orders of total 0.
    pub store_zero_orders: bool,
    /// Store commissions whose computed amount is 0.
    pub store_zero_commissions: bool,
    /// Days a commission is held before it is approved.
    pub hold_days: i32,
    /// With no approval plugin: `automatic` (approved when the hold ends) or `manual`.
    pub approval: String,
    /// Browser-reported conversions accepted per day (UTC); 0 turns them off.
    pub browser_conversions_per_day: i32,
    /// Where referral links send visitors by default.
    pub landing_url: Option<String>,
    /// Hosts a referral link's `to` may lead to besides the landing URL's (a JSON list;
    /// `*.example.com` for the subdomains of example.com).
    #[schema(value_type = Option<Vec<String>>)]
    pub allowed_hosts: Option<Json>,
    /// IANA time zone its periods and schedules are computed in.
    pub time_zone: String,
    /// Day of the month (1 to 28) the previous month is closed (negative carryover).
    pub period_close_day: i32,
    /// `day`, `week`, `month`, `quarter` or `year`: when its `bonus-rules` plugins
    /// evaluate every affiliate (`period-end`).
    pub reward_period: String,
    /// Per commission type (`sale`, `action:<code>`), how often a subscription that
    /// such a conversion starts pays (`monthly`, `every-10-days`, `varied`, ...).
    #[schema(value_type = Option<std::collections::BTreeMap<String, String>>)]
    pub recurrences: Option<Json>,
    /// A customer stays bound to the affiliate of their first conversion: later
    /// conversions without a click or coupon are credited to that affiliate.
    pub lifetime_commissions: bool,
    /// How long the binding lasts after that first conversion; none: for ever.
    pub lifetime_days: Option<i32>,
    /// When it was created.
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub created_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
