//! `conversions`: tracked sales and actions. Amounts are integer minor units.

use sea_orm::entity::prelude::*;

/// A conversion row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversions")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The campaign.
    pub campaign_id: i64,
    /// The referring affiliate.
    pub affiliate_id: Option<i64>,
    /// The click it was attributed to.
    pub click_id: Option<i64>,
    /// `sale`, `action` or `recurring` (a subscription's payment).
    pub kind: String,
    /// The action code of an action.
    pub action_code: Option<String>,
    /// The merchant's order id; unique per campaign.
    pub order_id: Option<String>,
    /// The product.
    pub product_id: Option<String>,
    /// The coupon used.
    pub coupon: Option<String>,
    /// The customer as the merchant identifies them (hashed id or e-mail address).
    pub customer: Option<String>,
    /// ISO 4217 code.
    pub currency: String,
    /// Product value before discount, without shipping and tax.
    pub total_minor: i64,
    /// Shipping.
    pub shipping_minor: i64,
    /// Tax.
    pub tax_minor: i64,
    /// Discount.
    pub discount_minor: i64,
    /// What commissions are computed on.
    pub commissionable_minor: i64,
    /// Refunded so far.
    pub refunded_minor: i64,
    /// Free-form fields.
    pub custom_fields: Json,
    /// `processed`, `failed` (a plugin failed: see `error`; kept for retry or review) or
    /// `superseded` (a browser report replaced by the merchant's server report).
    pub status: String,
    /// Why processing failed.
    pub error: Option<String>,
    /// The plugin whose failure flagged it, if a plugin failed.
    pub failed_plugin: Option<String>,
    /// That plugin's version.
    pub failed_version: Option<String>,
    /// When flagged: the plan's plugin calls, with what each logged and cost
    /// (a JSON list of `CallReport`).
    pub plugin_calls: Option<Json>,
    /// `server` (the merchant's server) or `browser` (the snippet).
    pub source: String,
    /// The server-reported conversion that superseded this browser-reported one.
    pub superseded_by: Option<i64>,
    /// The subscription it is a payment of.
    pub subscription_id: Option<i64>,
    /// Which payment of it (1 for the first after the start).
    pub payment_number: Option<i32>,
    /// When it was tracked.
    pub created_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
