//! Campaigns and their commission settings, parsed from requests into valid values.

use serde::{Deserialize, Serialize};
use upline_plugin_sdk::{CommissionType, Currency, TierRule, TierSetting};

use crate::error::{Error, Result};

/// Which click a conversion is credited to when a visitor clicked several links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Attribution {
    /// The first click keeps the visitor (the cookie is not overwritten).
    FirstClick,
    /// The latest click takes the visitor.
    LastClick,
}

impl Attribution {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Attribution::FirstClick => "first-click",
            Attribution::LastClick => "last-click",
        }
    }
}

/// A campaign's settings, valid by construction (see [`CampaignRequest::parse`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignSettings {
    /// Display name, 1 to 200 characters.
    pub name: String,
    /// Currency of its conversions and commissions.
    pub currency: Currency,
    /// Referral cookie lifetime, 1 to 3650 days.
    pub cookie_days: u32,
    /// First or last click.
    pub attribution: Attribution,
    /// Shipping counts toward the commissionable total.
    pub include_shipping: bool,
    /// Tax counts toward the commissionable total.
    pub include_tax: bool,
    /// Discounts are taken off the commissionable total.
    pub subtract_discount: bool,
    /// Store commissions for orders of total 0.
    pub store_zero_orders: bool,
    /// Store commissions whose amount is 0.
    pub store_zero_commissions: bool,
    /// Days new commissions are held before approval, 0 to 3650.
    pub hold_days: u32,
}

/// A campaign as a client sends it; [`CampaignRequest::parse`] checks it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schema(description = "A new campaign.")]
pub struct CampaignRequest {
    /// Display name, 1 to 200 characters.
    name: String,
    /// ISO 4217 code of its conversions and commissions.
    currency: String,
    /// Referral cookie lifetime, 1 to 3650 days.
    #[serde(default = "defaults::cookie_days")]
    #[schema(default = 30)]
    cookie_days: u32,
    /// Which click a conversion is credited to.
    #[serde(default = "defaults::attribution")]
    #[schema(default = "last-click")]
    attribution: Attribution,
    /// Shipping counts toward the commissionable total.
    #[serde(default)]
    include_shipping: bool,
    /// Tax counts toward the commissionable total.
    #[serde(default)]
    include_tax: bool,
    /// Discounts are taken off the commissionable total.
    #[serde(default = "defaults::yes")]
    #[schema(default = true)]
    subtract_discount: bool,
    /// Store commissions for orders of total 0.
    #[serde(default)]
    store_zero_orders: bool,
    /// Store commissions whose amount is 0.
    #[serde(default)]
    store_zero_commissions: bool,
    /// Days new commissions are held before approval, 0 to 3650.
    #[serde(default)]
    hold_days: u32,
}

mod defaults {
    pub fn cookie_days() -> u32 {
        30
    }
    pub fn attribution() -> super::Attribution {
        super::Attribution::LastClick
    }
    pub fn yes() -> bool {
        true
    }
}

/// An [`Error::InvalidInput`] for `field`.
pub fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::InvalidInput { field: field.into(), message: message.into() }
}

/// A display name: trimmed, 1 to 200 characters.
pub fn name(field: &str, name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(invalid(field, "must be 1 to 200 characters"));
    }
    Ok(name.to_owned())
}

impl CampaignRequest {
    /// Checks every field, naming the first bad one.
    pub fn parse(self) -> Result<CampaignSettings> {
        let currency = Currency::from_code(&self.currency).map_err(|err| invalid("currency", err.message()))?;
        if !(1..=3650).contains(&self.cookie_days) {
            return Err(invalid("cookie-days", "must be between 1 and 3650"));
        }
        if self.hold_days > 3650 {
            return Err(invalid("hold-days", "must be between 0 and 3650"));
        }
        Ok(CampaignSettings {
            name: name("name", &self.name)?,
            currency,
            cookie_days: self.cookie_days,
            attribution: self.attribution,
            include_shipping: self.include_shipping,
            include_tax: self.include_tax,
            subtract_discount: self.subtract_discount,
            store_zero_orders: self.store_zero_orders,
            store_zero_commissions: self.store_zero_commissions,
            hold_days: self.hold_days,
        })
    }
}

/// A commission type as stored: `sale`, `recurring` or `action:<code>`.
pub fn commission_type_key(commission_type: &CommissionType) -> String {
    match commission_type {
        CommissionType::Sale => "sale".into(),
        CommissionType::Recurring => "recurring".into(),
        CommissionType::Action(code) => format!("action:{code}"),
    }
}

/// Parses `sale`, `recurring` or `action:<code>` (code: 1 to 64 of a-z 0-9 _ -).
pub fn parse_commission_type(field: &str, text: &str) -> Result<CommissionType> {
    match text {
        "sale" => Ok(CommissionType::Sale),
        "recurring" => Ok(CommissionType::Recurring),
        _ => match text.strip_prefix("action:") {
            Some(code)
                if (1..=64).contains(&code.len())
                    && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-') =>
            {
                Ok(CommissionType::Action(code.to_owned()))
            }
            _ => Err(invalid(field, format!("`{text}` is not `sale`, `recurring` or `action:<code>`"))),
        },
    }
}

/// A group's tiers for one commission type as a client sends them.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RatesRequest {
    /// `sale`, `recurring` or `action:<code>`.
    commission_type: String,
    /// Tiers 1 to 100, each once; they replace the group's tiers for the type.
    #[schema(value_type = Vec<crate::http::openapi::sdk::TierSetting>)]
    tiers: Vec<TierSetting>,
}

/// Checked tier settings for one commission type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rates {
    /// The commission type they apply to.
    pub commission_type: CommissionType,
    /// Tiers 1 to 100, each once, sorted.
    pub tiers: Vec<TierSetting>,
}

impl RatesRequest {
    /// Checks tiers (1 to 100, each once), percentages (0 to 100) and fixed amounts
    /// (see [`super::money::parse_amount`]).
    pub fn parse(self, currency: Currency) -> Result<Rates> {
        let commission_type = parse_commission_type("commission-type", &self.commission_type)?;
        let mut tiers = self.tiers;
        tiers.sort_by_key(|setting| setting.tier);
        for (i, setting) in tiers.iter().enumerate() {
            let field = format!("tiers[{i}]");
            if !(1..=100).contains(&setting.tier) {
                return Err(invalid(&format!("{field}.tier"), "must be between 1 and 100"));
            }
            if i > 0 && tiers[i - 1].tier == setting.tier {
                return Err(invalid(&format!("{field}.tier"), format!("tier {} is given twice", setting.tier)));
            }
            match setting.rule {
                TierRule::Percent(rate) | TierRule::PercentOfPrevious(rate) => {
                    let percent = rate.as_percent();
                    if percent.is_sign_negative() || percent > rust_decimal::Decimal::ONE_HUNDRED {
                        return Err(invalid(&format!("{field}.rule"), "a percentage must be between 0 and 100"));
                    }
                }
                TierRule::Fixed(amount) => {
                    super::money::parse_amount(&format!("{field}.rule"), amount, currency)?;
                }
            }
        }
        Ok(Rates { commission_type, tiers })
    }
}
