//! The affiliate portal's languages (English, German, Dutch): Fluent messages in
//! `host/locales`, compiled into the binary; the language is the one chosen with the
//! portal's switch (a cookie), else the best of the browser's Accept-Language.

use std::borrow::Cow;
use std::collections::HashMap;
use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::header::ACCEPT_LANGUAGE;
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid, static_loader};
use rust_decimal::Decimal;
use upline_types::Currency;

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks around arguments: they would show in copied text.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The languages the portal speaks, the first the default.
static LANGUAGES: [LanguageIdentifier; 3] = [langid!("en"), langid!("de"), langid!("nl")];

/// The cookie the language switch sets.
const COOKIE: &str = "upline_lang";

/// A request's language.
#[derive(Debug, Clone, Copy)]
pub struct Tr(&'static LanguageIdentifier);

impl Tr {
    /// The language `code` names, if the portal speaks it.
    pub fn named(code: &str) -> Option<Self> {
        LANGUAGES.iter().find(|l| l.language.as_str() == code).map(Tr)
    }

    /// Its code, e.g. `de` (for `<html lang>`).
    pub fn code(&self) -> &'static str {
        self.0.language.as_str()
    }

    /// The message `id`.
    pub fn t(&self, id: &str) -> String {
        LOCALES.lookup(self.0, id)
    }

    /// The message `id` with the argument `name` set to `value`.
    pub fn with(&self, id: &str, name: &'static str, value: &str) -> String {
        let args = HashMap::from([(Cow::Borrowed(name), FluentValue::from(value.to_owned()))]);
        LOCALES.lookup_with_args(self.0, id, &args)
    }

    /// `amount` in `currency`, to its minor unit, as this language writes it:
    /// `1,234.56 EUR` in English, `1.234,56 EUR` in German and Dutch.
    pub fn money(&self, amount: Decimal, currency: Currency) -> String {
        let (group, decimal) = if self.code() == "en" { (',', '.') } else { ('.', ',') };
        let mut amount = amount;
        amount.rescale(currency.exponent().into());
        let currency = currency.code();
        let text = amount.abs().to_string();
        let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
        let mut grouped = String::new();
        for (i, digit) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                grouped.push(group);
            }
            grouped.push(digit);
        }
        let sign = if amount.is_sign_negative() && !amount.is_zero() { "-" } else { "" };
        match fraction {
            "" => format!("{sign}{grouped} {currency}"),
            fraction => format!("{sign}{grouped}{decimal}{fraction} {currency}"),
        }
    }

    /// The cookie that keeps this language.
    pub fn cookie(&self) -> Cookie<'static> {
        Cookie::build((COOKIE, self.code())).path("/").same_site(SameSite::Lax).permanent().build()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Tr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        if let Some(chosen) = CookieJar::from_headers(&parts.headers).get(COOKIE).and_then(|c| Tr::named(c.value())) {
            return Ok(chosen);
        }
        let header = parts.headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let requested = fluent_langneg::accepted_languages::parse(header);
        let chosen = fluent_langneg::negotiate_languages(
            &requested,
            &LANGUAGES,
            Some(&LANGUAGES[0]),
            fluent_langneg::NegotiationStrategy::Filtering,
        );
        Ok(Tr(chosen.first().copied().unwrap_or(&LANGUAGES[0])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_written_the_way_each_language_writes_it() {
        let amount: Decimal = "1234567.5".parse().expect("decimal");
        let [en, de, nl] = ["en", "de", "nl"].map(|code| Tr::named(code).expect("spoken"));
        let (eur, jpy) = (Currency::from_code("EUR").expect("EUR"), Currency::from_code("JPY").expect("JPY"));
        assert_eq!(en.money(amount, eur), "1,234,567.50 EUR");
        assert_eq!(de.money(amount, eur), "1.234.567,50 EUR");
        assert_eq!(nl.money("-12.3".parse().expect("decimal"), eur), "-12,30 EUR");
        assert_eq!(de.money(Decimal::ZERO, eur), "0,00 EUR", "a sum of nothing, to the cent");
        assert_eq!(en.money("1500".parse().expect("decimal"), jpy), "1,500 JPY");
        assert_eq!(de.t("dashboard"), "Übersicht");
        assert!(nl.with("chart-description", "currency", "EUR").ends_with("in EUR."));
    }
}
