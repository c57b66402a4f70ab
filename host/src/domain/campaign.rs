//! Campaigns and their commission settings, parsed from requests into valid values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use upline_types::{CommissionType, Currency, TierRule, TierSetting};

use super::schedule::{PeriodKind, Recurrence, Zone};
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

/// How a campaign's commissions are approved when no approval plugin is enabled for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Approval {
    /// Approved when the hold period ends (at once without one).
    Automatic,
    /// Pending until an operator approves or declines it.
    Manual,
}

impl Approval {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Approval::Automatic => "automatic",
            Approval::Manual => "manual",
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
    /// Days new commissions are held before approval, 0 to 3650. With an approval
    /// plugin enabled, its decision replaces the hold for a conversion's commissions
    /// (the plugin gets the days as `hold-days`).
    pub hold_days: u32,
    /// How commissions are approved without an approval plugin.
    pub approval: Approval,
    /// Where referral links may send visitors.
    pub destinations: Destinations,
    /// Browser-reported conversions accepted per day (UTC), 0 to 1,000,000; 0 turns
    /// them off.
    pub browser_conversions_per_day: u32,
    /// The time zone its periods and schedules are computed in.
    pub time_zone: Zone,
    /// Day of the month (1 to 28) the previous month is closed.
    pub period_close_day: u8,
    /// When its `bonus-rules` plugins evaluate every affiliate.
    pub reward_period: PeriodKind,
    /// How often a subscription started by a conversion of each commission type pays
    /// (types without one start none).
    pub recurrences: BTreeMap<String, Recurrence>,
    /// Lifetime commissions: off, or the days a customer stays bound (none: for ever).
    pub lifetime: Option<Option<u32>>,
}

/// Where a campaign's referral links may send a visitor: the landing URL, and the
/// hosts a link's `to` may name. Anything else goes to the landing URL, so a link
/// under the merchant's name cannot be turned into an open redirect.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Destinations {
    landing_url: Option<url::Url>,
    allowed_hosts: Vec<String>,
}

impl Destinations {
    /// Checks a landing URL (http or https, at most 2000 characters) and host
    /// patterns (`shop.example`, or `*.shop.example` for its subdomains; at most 100).
    pub fn parse(landing_url: Option<&str>, allowed_hosts: &[String]) -> Result<Self> {
        let landing_url = landing_url.map(|text| parse_url("landing-url", text)).transpose()?;
        if allowed_hosts.len() > 100 {
            return Err(invalid("allowed-hosts", "at most 100 hosts"));
        }
        let allowed_hosts = allowed_hosts
            .iter()
            .enumerate()
            .map(|(i, pattern)| {
                let pattern = pattern.trim().to_lowercase();
                let host = pattern.strip_prefix("*.").unwrap_or(&pattern);
                match url::Host::parse(host) {
                    Ok(url::Host::Domain(_)) if host.contains('.') && !host.contains('*') => Ok(pattern),
                    Ok(url::Host::Ipv4(_) | url::Host::Ipv6(_)) if host == pattern => Ok(pattern),
                    _ => Err(invalid(&format!("allowed-hosts[{i}]"), format!("`{pattern}` is not a host name"))),
                }
            })
            .collect::<Result<_>>()?;
        Ok(Self { landing_url, allowed_hosts })
    }

    /// The landing URL.
    pub fn landing_url(&self) -> Option<&url::Url> {
        self.landing_url.as_ref()
    }

    /// The allowed host patterns.
    pub fn allowed_hosts(&self) -> &[String] {
        &self.allowed_hosts
    }

    /// Whether `host` is the landing URL's or matches an allowed pattern.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.to_lowercase();
        self.landing_url.as_ref().and_then(url::Url::host_str).is_some_and(|landing| landing == host)
            || self.allowed_hosts.iter().any(|pattern| match pattern.strip_prefix("*.") {
                Some(domain) => host.strip_suffix(domain).is_some_and(|sub| sub.ends_with('.') && sub.len() > 1),
                None => *pattern == host,
            })
    }

    /// Where a referral link with `to` sends the visitor: `to` if its host is allowed,
    /// else the landing URL; `None` when neither is possible.
    pub fn target(&self, to: Option<&str>) -> Option<url::Url> {
        let wanted = to.and_then(|to| parse_url("to", to).ok());
        match wanted {
            Some(url) if url.host_str().is_some_and(|host| self.allows(host)) => Some(url),
            _ => self.landing_url.clone(),
        }
    }
}

/// An http(s) URL of at most 2000 characters, with a host.
pub fn parse_url(field: &str, text: &str) -> Result<url::Url> {
    let refused = || invalid(field, "must be an http(s) URL of at most 2000 characters");
    if text.len() > 2000 {
        return Err(refused());
    }
    let url = url::Url::parse(text.trim()).map_err(|_| refused())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(refused());
    }
    Ok(url)
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
    /// Days new commissions are held before approval, 0 to 3650. With an approval
    /// plugin enabled, its decision replaces the hold for a conversion's commissions
    /// (the plugin gets the days as `hold-days`).
    #[serde(default)]
    hold_days: u32,
    /// With no approval plugin enabled: `automatic`, approved when the hold ends (at
    /// once without a hold), or `manual`, pending until an operator decides.
    #[serde(default = "defaults::approval")]
    #[schema(default = "automatic")]
    approval: Approval,
    /// Where referral links send visitors by default, and whenever a link's `to` is not
    /// allowed: an http(s) URL. Without it, a link's `to` must be an allowed host.
    #[serde(default)]
    landing_url: Option<String>,
    /// Hosts a referral link's `to` may lead to besides the landing URL's own:
    /// `shop.example`, or `*.shop.example` for its subdomains (at most 100).
    #[serde(default)]
    allowed_hosts: Option<Vec<String>>,
    /// Browser-reported conversions (the snippet's) accepted per day (UTC), 0 to
    /// 1000000; 0 turns them off. They are never approved automatically.
    #[serde(default = "defaults::browser_conversions_per_day")]
    #[schema(default = 1000)]
    browser_conversions_per_day: u32,
    /// IANA time zone (e.g. `Europe/Amsterdam`) its months, weeks and schedules are
    /// computed in.
    #[serde(default = "defaults::time_zone")]
    #[schema(default = "UTC")]
    time_zone: String,
    /// Day of the month, 1 to 28, on which the previous month is closed (its
    /// `carryover` plugins book their adjustments), at midnight in the time zone.
    #[serde(default = "defaults::period_close_day")]
    #[schema(default = 1)]
    period_close_day: u8,
    /// When its `bonus-rules` plugins evaluate every affiliate with the `period-end`
    /// trigger: at the end of each `day`, `week`, `month`, `quarter` or `year`.
    #[serde(default = "defaults::reward_period")]
    #[schema(default = "month")]
    reward_period: PeriodKind,
    /// Per commission type that starts subscriptions (`sale`, `action:<code>`), how
    /// often they pay: `none`, `every-15-minutes`, `every-4-hours`, `daily`, `weekly`,
    /// `every-<n>-days` (1 to 3650), `monthly`, `quarterly`, `semi-annual`, `yearly`,
    /// or `varied` (the merchant reports each payment). Each payment pays the
    /// `recurring` commission type's tiers.
    #[serde(default)]
    recurrences: Option<BTreeMap<String, String>>,
    /// Lifetime commissions: a customer (the conversion's `customer` reference) stays
    /// bound to the affiliate of their first conversion in the campaign, and later
    /// conversions without an affiliate, click or coupon are credited to that
    /// affiliate.
    #[serde(default)]
    lifetime_commissions: bool,
    /// With `lifetime-commissions`: how many days after the first conversion the
    /// binding lasts, 1 to 36500; left out: for ever.
    #[serde(default)]
    lifetime_days: Option<u32>,
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
    pub fn browser_conversions_per_day() -> u32 {
        1000
    }
    pub fn approval() -> super::Approval {
        super::Approval::Automatic
    }
    pub fn time_zone() -> String {
        "UTC".into()
    }
    pub fn period_close_day() -> u8 {
        1
    }
    pub fn reward_period() -> super::PeriodKind {
        super::PeriodKind::Month
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
        if self.browser_conversions_per_day > 1_000_000 {
            return Err(invalid("browser-conversions-per-day", "must be between 0 and 1000000"));
        }
        let destinations =
            Destinations::parse(self.landing_url.as_deref(), self.allowed_hosts.as_deref().unwrap_or_default())?;
        if !(1..=28).contains(&self.period_close_day) {
            return Err(invalid("period-close-day", "must be between 1 and 28 (every month has it)"));
        }
        let mut recurrences = BTreeMap::new();
        for (kind, recurrence) in self.recurrences.unwrap_or_default() {
            let field = format!("recurrences.{kind}");
            if parse_commission_type(&field, &kind)? == CommissionType::Recurring {
                return Err(invalid(&field, "a recurring payment starts no subscription of its own"));
            }
            let recurrence: Recurrence = recurrence.parse().map_err(|err: String| invalid(&field, err))?;
            if recurrence != Recurrence::None {
                recurrences.insert(kind, recurrence);
            }
        }
        let lifetime = match (self.lifetime_commissions, self.lifetime_days) {
            (false, None) => None,
            (false, Some(_)) => return Err(invalid("lifetime-days", "needs `lifetime-commissions: true`")),
            (true, Some(days)) if !(1..=36_500).contains(&days) => {
                return Err(invalid("lifetime-days", "must be between 1 and 36500"));
            }
            (true, days) => Some(days),
        };
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
            approval: self.approval,
            destinations,
            browser_conversions_per_day: self.browser_conversions_per_day,
            time_zone: Zone::parse("time-zone", &self.time_zone)?,
            period_close_day: self.period_close_day,
            reward_period: self.reward_period,
            recurrences,
            lifetime,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_lead_only_to_allowed_hosts_else_to_the_landing_page() {
        let hosts = ["www.shop.example".to_owned(), "*.shop-cdn.example".to_owned()];
        let destinations = Destinations::parse(Some("https://shop.example/welcome"), &hosts).expect("valid");
        let target = |to: &str| destinations.target(Some(to)).map(|url| url.to_string());
        let landing = Some("https://shop.example/welcome".to_owned());

        assert_eq!(target("https://shop.example/a?b=1"), Some("https://shop.example/a?b=1".into()));
        assert_eq!(target("https://WWW.shop.example/x"), Some("https://www.shop.example/x".into()));
        assert_eq!(target("https://img.shop-cdn.example/x"), Some("https://img.shop-cdn.example/x".into()));
        for elsewhere in [
            "https://any-site.example/",
            "https://shop-cdn.example/",
            "https://evilshop-cdn.example/",
            "https://shop.example.evil.example/",
            "https://shop.example@evil.example/",
            "javascript:alert(1)",
            "//evil.example/",
        ] {
            assert_eq!(target(elsewhere), landing, "{elsewhere}");
        }
        assert_eq!(destinations.target(None).map(|url| url.to_string()), landing);
        assert_eq!(Destinations::default().target(Some("https://shop.example/")), None);
    }

    #[test]
    fn bad_destinations_name_the_field() {
        let field = |result: Result<Destinations>| match result {
            Err(Error::InvalidInput { field, .. }) => field,
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert_eq!(field(Destinations::parse(Some("ftp://shop.example/"), &[])), "landing-url");
        assert_eq!(field(Destinations::parse(None, &["shop example".into()])), "allowed-hosts[0]");
        assert_eq!(field(Destinations::parse(None, &["ok.example".into(), "*.*.example".into()])), "allowed-hosts[1]");
        assert_eq!(field(Destinations::parse(None, &["*".into()])), "allowed-hosts[0]");
    }
}
