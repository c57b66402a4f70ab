//! Conversions as merchants report them, checked and turned into exact money.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;
use upline_types::{CommissionType, Currency, Money};

use super::campaign::{invalid, parse_commission_type};
use super::money::parse_amount;
use crate::error::Result;

/// A conversion as a merchant's server sends it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConversionRequest {
    /// The campaign.
    campaign: i64,
    /// The referring affiliate, when the merchant knows it.
    #[serde(default)]
    affiliate: Option<i64>,
    /// The click token the visitor's cookie kept (attributes the conversion).
    #[serde(default)]
    click: Option<String>,
    /// `sale` (default), `recurring` or `action:<code>`.
    #[serde(default = "sale")]
    #[schema(default = "sale")]
    commission_type: String,
    /// The merchant's order id (1 to 200 characters), unique per campaign.
    #[serde(default)]
    order_id: Option<String>,
    /// The product (1 to 200 characters).
    #[serde(default)]
    product_id: Option<String>,
    /// The coupon used (1 to 200 characters).
    #[serde(default)]
    coupon: Option<String>,
    /// The customer (1 to 200 characters): a hashed customer id or e-mail address,
    /// never personal data in clear. Plugins count a customer's conversions by it.
    #[serde(default)]
    customer: Option<String>,
    /// ISO 4217 code; defaults to the campaign's currency, and must be it.
    #[serde(default)]
    currency: Option<String>,
    /// Product value before discount, without shipping and tax. Every amount is a
    /// non-negative decimal string with at most the currency's decimals, at most
    /// 1000000000000 (10^12).
    #[serde(default)]
    total: Decimal,
    /// Shipping.
    #[serde(default)]
    shipping: Decimal,
    /// Tax.
    #[serde(default)]
    tax: Decimal,
    /// Discount.
    #[serde(default)]
    discount: Decimal,
    /// Free-form fields: at most 50, names up to 100 and values up to 1000 bytes.
    #[serde(default)]
    custom_fields: BTreeMap<String, String>,
    /// Starts a subscription: each later payment pays the campaign's `recurring`
    /// commissions, as often as the campaign's `recurrences` says for this
    /// conversion's commission type.
    #[serde(default)]
    subscription: Option<SubscriptionRequest>,
}

/// A subscription a conversion starts.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SubscriptionRequest {
    /// The merchant's id for it (1 to 200 characters), unique per campaign: its
    /// payments, cancellation and reported payments are addressed by it.
    id: String,
    /// When it began, if before this conversion (a subscription moved from another
    /// system): payments fall due from then, and those already due are paid at once.
    #[serde(default)]
    started_at: Option<chrono::DateTime<chrono::Utc>>,
    /// No scheduled payment falls due after this time (a `varied` subscription's
    /// reported payments are not checked against it).
    #[serde(default)]
    ends_at: Option<chrono::DateTime<chrono::Utc>>,
    /// At most this many scheduled payments after the start (1 to 100000; a
    /// `varied` subscription's reported payments are not counted against it).
    #[serde(default)]
    max_payments: Option<u32>,
}

/// A checked subscription request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionTerms {
    /// The merchant's id.
    pub id: String,
    /// When payments count from (the conversion's time unless given).
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
    /// No payment after this time.
    pub ends_at: Option<chrono::DateTime<chrono::Utc>>,
    /// At most this many payments.
    pub max_payments: Option<u32>,
}

impl SubscriptionRequest {
    fn parse(self) -> Result<SubscriptionTerms> {
        let id = self.id.trim().to_owned();
        if id.is_empty() || id.len() > 200 {
            return Err(invalid("subscription.id", "must be 1 to 200 characters"));
        }
        if self.max_payments.is_some_and(|n| !(1..=100_000).contains(&n)) {
            return Err(invalid("subscription.max-payments", "must be between 1 and 100000"));
        }
        if let (Some(start), Some(end)) = (self.started_at, self.ends_at)
            && end <= start
        {
            return Err(invalid("subscription.ends-at", "must be after `started-at`"));
        }
        Ok(SubscriptionTerms {
            id,
            started_at: self.started_at,
            ends_at: self.ends_at,
            max_payments: self.max_payments,
        })
    }
}

fn sale() -> String {
    "sale".into()
}

/// Who reported a conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The merchant's server, with an operator key: trusted.
    Server,
    /// The snippet in a visitor's browser: anyone can send this, so its commissions
    /// wait for the merchant's server report of the same order (or an operator).
    Browser,
}

impl Source {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Server => "server",
            Source::Browser => "browser",
        }
    }
}

/// What a browser-reported conversion's commissions wait for.
pub const MERCHANT_CONFIRMATION: &str = "merchant-confirmation";

/// A checked conversion.
#[derive(Debug, Clone)]
pub struct NewConversion {
    /// Who reported it.
    pub source: Source,
    /// The campaign.
    pub campaign: i64,
    /// The referring affiliate, if the merchant named it.
    pub affiliate: Option<i64>,
    /// The click token, if the visitor had one.
    pub click: Option<String>,
    /// What it pays commission for.
    pub commission_type: CommissionType,
    /// Order id, unique per campaign.
    pub order_id: Option<String>,
    /// Product.
    pub product_id: Option<String>,
    /// Coupon.
    pub coupon: Option<String>,
    /// The customer reference.
    pub customer: Option<String>,
    /// Product value.
    pub total: Money,
    /// Shipping.
    pub shipping: Money,
    /// Tax.
    pub tax: Money,
    /// Discount.
    pub discount: Money,
    /// Free-form fields.
    pub custom_fields: BTreeMap<String, String>,
    /// The subscription it starts, if any.
    pub subscription: Option<SubscriptionTerms>,
}

impl ConversionRequest {
    /// The campaign it names.
    pub fn campaign(&self) -> i64 {
        self.campaign
    }

    /// Whether it names the referring affiliate (only servers may).
    pub fn names_affiliate(&self) -> bool {
        self.affiliate.is_some()
    }

    /// Whether it gives an order id.
    pub fn has_order_id(&self) -> bool {
        self.order_id.is_some()
    }

    /// Checks the fields: amounts non-negative with at most the currency's decimals
    /// (the campaign's currency unless the request names one), ids of sane length.
    pub fn parse(self, campaign_currency: &str) -> Result<NewConversion> {
        let code = self.currency.as_deref().unwrap_or(campaign_currency);
        let currency = Currency::from_code(code).map_err(|err| invalid("currency", err.message()))?;
        let money = |field: &str, amount: Decimal| parse_amount(field, amount, currency);
        let text = reference;
        if self.campaign <= 0 {
            return Err(invalid("campaign", "is not an id"));
        }
        if self.custom_fields.len() > 50 || self.custom_fields.iter().any(|(k, v)| k.len() > 100 || v.len() > 1000) {
            return Err(invalid("custom-fields", "at most 50 fields, names up to 100 and values up to 1000 bytes"));
        }
        Ok(NewConversion {
            source: Source::Server,
            campaign: self.campaign,
            affiliate: self.affiliate,
            click: self.click,
            commission_type: parse_commission_type("commission-type", &self.commission_type)?,
            order_id: text("order-id", self.order_id)?,
            product_id: text("product-id", self.product_id)?,
            coupon: text("coupon", self.coupon)?,
            customer: text("customer", self.customer)?,
            total: money("total", self.total)?,
            shipping: money("shipping", self.shipping)?,
            tax: money("tax", self.tax)?,
            discount: money("discount", self.discount)?,
            custom_fields: self.custom_fields,
            subscription: self.subscription.map(SubscriptionRequest::parse).transpose()?,
        })
    }
}

/// A reference such as an order id or a customer, trimmed: 1 to 200 characters, or none.
pub fn reference(field: &str, value: Option<String>) -> Result<Option<String>> {
    match value.map(|v| v.trim().to_owned()) {
        Some(v) if v.is_empty() || v.len() > 200 => Err(invalid(field, "must be 1 to 200 characters")),
        other => Ok(other),
    }
}
