//! A campaign's settings as a form: every field of the API's `CampaignRequest`, for
//! a new campaign and for changing one, read back into the request the API parses
//! (so the console and `POST`/`PATCH /api/v1/campaigns` check the same way).

use serde_json::{Map, Value};

use crate::domain::campaign::CampaignRequest;
use crate::service::campaigns::Campaign;

/// How a field is entered.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A line of text.
    Text,
    /// An http(s) URL.
    Url,
    /// A whole number.
    Number,
    /// One of `options`.
    Select(&'static [&'static str]),
    /// On or off.
    Checkbox,
    /// One value a line (a list).
    Lines,
    /// One `key = value` a line (a map).
    Pairs,
}

/// A field: its API name (also the form's), label, kind, default and hint.
struct Spec(&'static str, &'static str, Kind, &'static str, &'static str);

/// Every setting, in the order the form shows them.
const SPECS: &[Spec] = &[
    Spec("name", "Name", Kind::Text, "", ""),
    Spec("currency", "Currency", Kind::Text, "EUR", "ISO 4217 code, e.g. EUR; it cannot change later"),
    Spec("landing-url", "Landing URL", Kind::Url, "", "Where referral links send visitors"),
    Spec(
        "allowed-hosts",
        "Allowed hosts",
        Kind::Lines,
        "",
        "Other hosts a link may lead to, one a line: shop.example or *.shop.example",
    ),
    Spec("cookie-days", "Cookie days", Kind::Number, "30", "How long a referral cookie lasts, 1 to 3650"),
    Spec(
        "attribution",
        "Attribution",
        Kind::Select(&["last-click", "first-click"]),
        "last-click",
        "Which click a sale is credited to",
    ),
    Spec("time-zone", "Time zone", Kind::Text, "UTC", "IANA name, e.g. Europe/Amsterdam"),
    Spec(
        "period-close-day",
        "Period close day",
        Kind::Number,
        "1",
        "Day of the month (1 to 28) the previous month is closed",
    ),
    Spec(
        "reward-period",
        "Reward period",
        Kind::Select(&["day", "week", "month", "quarter", "year"]),
        "month",
        "When period-end rules evaluate every affiliate",
    ),
    Spec("hold-days", "Hold days", Kind::Number, "0", "Days new commissions wait before approval"),
    Spec("approval", "Approval", Kind::Select(&["automatic", "manual"]), "automatic", "Without an approval plugin"),
    Spec("include-shipping", "Shipping counts toward the commissionable total", Kind::Checkbox, "", ""),
    Spec("include-tax", "Tax counts toward the commissionable total", Kind::Checkbox, "", ""),
    Spec("subtract-discount", "Discounts are taken off the commissionable total", Kind::Checkbox, "true", ""),
    Spec("store-zero-orders", "Store commissions for orders of total 0", Kind::Checkbox, "", ""),
    Spec("store-zero-commissions", "Store commissions of amount 0", Kind::Checkbox, "", ""),
    Spec(
        "browser-conversions-per-day",
        "Browser conversions per day",
        Kind::Number,
        "1000",
        "Sales the tracking snippet may report a day; 0 turns them off",
    ),
    Spec(
        "recurrences",
        "Recurrences",
        Kind::Pairs,
        "",
        "Subscriptions a commission type starts, one a line: sale = monthly",
    ),
    Spec(
        "lifetime-commissions",
        "Lifetime commissions: a customer stays with their first affiliate",
        Kind::Checkbox,
        "",
        "",
    ),
    Spec("lifetime-days", "Lifetime days", Kind::Number, "", "How long a customer stays bound; empty: for ever"),
];

/// One field of the form: what it shows, and what is wrong with it.
pub struct Field {
    /// The API's name of the field, also the form's.
    pub name: &'static str,
    /// What the label says.
    pub label: &'static str,
    /// How it is entered.
    pub kind: Kind,
    /// What it shows (`true` or empty for a checkbox).
    pub value: String,
    /// What it means.
    pub hint: &'static str,
    /// Shown but not changeable (the currency of a stored campaign).
    pub readonly: bool,
    /// What the API says is wrong with it.
    pub error: Option<String>,
}

impl Field {
    /// The input's `type` attribute.
    pub fn input_type(&self) -> &'static str {
        match self.kind {
            Kind::Url => "url",
            Kind::Number => "number",
            _ => "text",
        }
    }

    /// A select's options and whether each is the value (none for other kinds).
    pub fn options(&self) -> Vec<(&'static str, bool)> {
        match self.kind {
            Kind::Select(options) => options.iter().map(|option| (*option, *option == self.value)).collect(),
            _ => vec![],
        }
    }

    /// Entered as a multi-line text.
    pub fn multiline(&self) -> bool {
        matches!(self.kind, Kind::Lines | Kind::Pairs)
    }

    /// A checkbox.
    pub fn checkbox(&self) -> bool {
        self.kind == Kind::Checkbox
    }

    /// A checkbox that is ticked.
    pub fn checked(&self) -> bool {
        self.value == "true"
    }

    /// The ids of its hint and error, for `aria-describedby`.
    pub fn described_by(&self) -> String {
        let hint = (!self.hint.is_empty()).then(|| format!("{}-hint", self.name));
        let error = self.error.is_some().then(|| format!("{}-error", self.name));
        hint.into_iter().chain(error).collect::<Vec<_>>().join(" ")
    }

    /// Must not be empty.
    pub fn required(&self) -> bool {
        matches!(self.name, "name" | "currency")
    }
}

/// A campaign's settings form.
pub struct SettingsForm {
    /// Its fields, in order.
    pub fields: Vec<Field>,
    /// An error that names no field of the form.
    pub general: Option<String>,
}

impl SettingsForm {
    /// The form of a new campaign, with the API's defaults.
    pub fn new_campaign() -> Self {
        Self::build(|spec| spec.3.to_owned(), false)
    }

    /// The form showing `campaign`'s stored settings (its currency read-only).
    pub fn of(campaign: &Campaign) -> Self {
        let stored = serde_json::to_value(&campaign.settings).unwrap_or_default();
        Self::build(|spec| shown(stored.get(spec.0).unwrap_or(&Value::Null)), true)
    }

    /// The form as it was posted: an unticked checkbox is not sent, so it is off.
    pub fn posted(values: &[(String, String)], stored: bool) -> Self {
        Self::build(
            |spec| values.iter().find(|(name, _)| name == spec.0).map(|(_, value)| value.clone()).unwrap_or_default(),
            stored,
        )
    }

    fn build(value: impl Fn(&Spec) -> String, stored: bool) -> Self {
        let fields = SPECS
            .iter()
            .map(|spec| Field {
                name: spec.0,
                label: spec.1,
                kind: spec.2,
                value: value(spec),
                hint: spec.4,
                readonly: stored && spec.0 == "currency",
                error: None,
            })
            .collect();
        Self { fields, general: None }
    }

    /// Some field, or the form, shows an error.
    pub fn refused(&self) -> bool {
        self.general.is_some() || self.fields.iter().any(|field| field.error.is_some())
    }

    /// The form showing `err` beside the field it names (`allowed-hosts[2]` names
    /// `allowed-hosts`), or above the form.
    pub fn failed(mut self, err: &crate::Error) -> Self {
        let (field, message) = match err {
            crate::Error::InvalidInput { field, message } | crate::Error::Conflict { field, message } => {
                (field.as_str(), message.clone())
            }
            err => ("", err.to_string()),
        };
        let name = field.split(['[', '.']).next().unwrap_or_default();
        match self.fields.iter_mut().find(|f| f.name == name) {
            Some(f) => f.error = Some(message),
            None => self.general = Some(message),
        }
        self
    }

    /// The request the API would get: empty fields left out (the API's defaults),
    /// numbers as numbers, lines as a list, `key = value` lines as a map.
    pub fn request(&self) -> crate::Result<CampaignRequest> {
        let mut body = Map::new();
        for field in &self.fields {
            let text = field.value.trim();
            let invalid = |message: String| crate::Error::InvalidInput { field: field.name.into(), message };
            let value = match field.kind {
                Kind::Checkbox => Value::Bool(field.checked()),
                _ if text.is_empty() => continue,
                Kind::Number => text.parse::<u64>().map_err(|_| invalid("must be a whole number".into()))?.into(),
                Kind::Lines => text.lines().map(str::trim).filter(|line| !line.is_empty()).map(Value::from).collect(),
                Kind::Pairs => {
                    let mut map = Map::new();
                    for (i, line) in text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()) {
                        let (key, value) = line.split_once('=').ok_or_else(|| {
                            invalid(format!("line {}: write `type = how often`, e.g. `sale = monthly`", i + 1))
                        })?;
                        map.insert(key.trim().to_owned(), value.trim().into());
                    }
                    Value::Object(map)
                }
                Kind::Text | Kind::Url | Kind::Select(_) => text.into(),
            };
            body.insert(field.name.to_owned(), value);
        }
        crate::http::parse_json(Value::Object(body).to_string().as_bytes())
    }
}

/// A stored value as a field shows it.
fn shown(value: &Value) -> String {
    match value {
        Value::Null | Value::Bool(false) => String::new(),
        Value::Bool(true) => "true".into(),
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(shown).collect::<Vec<_>>().join("\n"),
        Value::Object(map) => {
            map.iter().map(|(key, value)| format!("{key} = {}", shown(value))).collect::<Vec<_>>().join("\n")
        }
        Value::Number(number) => number.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted(pairs: &[(&str, &str)]) -> SettingsForm {
        let values: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        SettingsForm::posted(&values, true)
    }

    #[test]
    fn every_kind_of_field_reads_back_as_the_api_takes_it() {
        let form = posted(&[
            ("name", " Shoes "),
            ("currency", "EUR"),
            ("allowed-hosts", "shop.example\n\n*.cdn.example\n"),
            ("cookie-days", "60"),
            ("subtract-discount", "true"),
            ("recurrences", "sale = monthly\n"),
            ("lifetime-days", ""),
        ]);
        let settings = form.request().and_then(CampaignRequest::parse).expect("valid");
        assert_eq!(settings.name, "Shoes");
        assert_eq!(settings.cookie_days, 60);
        assert!(settings.subtract_discount && !settings.include_tax);
        assert_eq!(settings.destinations.allowed_hosts(), ["shop.example", "*.cdn.example"]);
        assert_eq!(settings.recurrences.keys().collect::<Vec<_>>(), ["sale"]);
        assert_eq!(settings.lifetime, None);
    }

    #[test]
    fn an_error_is_shown_beside_the_field_it_names() {
        let form = posted(&[("name", "Shoes"), ("currency", "EUR"), ("recurrences", "sale monthly")]);
        let err = form.request().expect_err("refused");
        let form = form.failed(&err);
        let recurrences = form.fields.iter().find(|f| f.name == "recurrences").expect("field");
        assert!(recurrences.error.as_deref().is_some_and(|e| e.starts_with("line 1")), "{:?}", recurrences.error);

        let form = posted(&[("name", "Shoes"), ("currency", "EUR"), ("allowed-hosts", "a.example\nnot a host")]);
        let err = form.request().and_then(CampaignRequest::parse).expect_err("refused");
        let form = form.failed(&err);
        assert!(form.fields.iter().any(|f| f.name == "allowed-hosts" && f.error.is_some()));
        assert!(form.general.is_none());
    }
}
