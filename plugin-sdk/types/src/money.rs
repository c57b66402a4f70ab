//! Exact money and rates. Never floats.

use std::fmt;
use std::ops::{Add, Sub};

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// ISO 4217 currencies whose minor unit is not two digits; every other is two.
const MINOR_UNITS: &[(&str, u8)] = &[
    ("BIF", 0),
    ("CLP", 0),
    ("DJF", 0),
    ("GNF", 0),
    ("ISK", 0),
    ("JPY", 0),
    ("KMF", 0),
    ("KRW", 0),
    ("PYG", 0),
    ("RWF", 0),
    ("UGX", 0),
    ("UYI", 0),
    ("VND", 0),
    ("VUV", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("XPF", 0),
    ("BHD", 3),
    ("IQD", 3),
    ("JOD", 3),
    ("KWD", 3),
    ("LYD", 3),
    ("OMR", 3),
    ("TND", 3),
    ("CLF", 4),
    ("UYW", 4),
];

/// A currency: its ISO 4217 code and the digits of its minor unit.
/// In JSON it is the code alone, e.g. `"EUR"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

impl Currency {
    /// Parses a three-letter upper-case ISO 4217 code with its minor-unit digits (0..=4).
    pub fn new(code: &str, exponent: u8) -> Result<Self> {
        let bytes: [u8; 3] = code
            .as_bytes()
            .try_into()
            .map_err(|_| Error::new(format!("currency code `{code}` is not three letters")))?;
        if !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(Error::new(format!("currency code `{code}` is not upper-case ASCII letters")));
        }
        if exponent > 4 {
            return Err(Error::new(format!(
                "currency `{code}` has {exponent} minor-unit digits, at most 4 are supported"
            )));
        }
        Ok(Self { code: bytes, exponent })
    }

    /// Parses an ISO 4217 code, with its standard minor-unit digits (2 unless the
    /// currency is one of the ISO exceptions, such as JPY with 0 or KWD with 3).
    pub fn from_code(code: &str) -> Result<Self> {
        let exponent = MINOR_UNITS.iter().find(|(known, _)| *known == code).map_or(2, |(_, digits)| *digits);
        Self::new(code, exponent)
    }

    /// The ISO 4217 code, e.g. `EUR`.
    pub fn code(&self) -> &str {
        // Built only from ASCII letters in `new`.
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// Digits of the minor unit: 2 for EUR (cents), 0 for JPY.
    pub fn exponent(&self) -> u8 {
        self.exponent
    }
}

impl TryFrom<String> for Currency {
    type Error = Error;
    fn try_from(code: String) -> Result<Self> {
        Self::from_code(&code)
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> String {
        currency.code().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An exact amount in a currency.
///
/// Arithmetic keeps full precision; [`Money::round`] rounds to the currency's minor
/// unit, half away from zero (0.005 EUR -> 0.01 EUR, -0.005 EUR -> -0.01 EUR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// `amount` of `currency`, unrounded.
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Self { amount, currency }
    }

    /// Zero in `currency`.
    pub fn zero(currency: Currency) -> Self {
        Self::new(Decimal::ZERO, currency)
    }

    /// The same currency with another amount.
    pub fn with_amount(&self, amount: Decimal) -> Self {
        Self::new(amount, self.currency)
    }

    /// The amount.
    pub fn amount(&self) -> Decimal {
        self.amount
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// `rate` percent of this amount, exact (unrounded).
    pub fn percent(&self, rate: Rate) -> Self {
        self.with_amount(rate.of(self.amount))
    }

    /// Rounded to the currency's minor unit, half away from zero, and written with
    /// exactly that many decimals (`25` EUR becomes `25.00`).
    pub fn round(&self) -> Self {
        let digits = self.currency.exponent.into();
        let mut amount = self.amount.round_dp_with_strategy(digits, RoundingStrategy::MidpointAwayFromZero);
        amount.rescale(digits);
        self.with_amount(amount)
    }

    /// True when below zero.
    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    /// True when exactly zero.
    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }
}

impl Add for Money {
    type Output = Money;
    /// Adds two amounts of the same currency (the left currency wins; hooks only
    /// ever see one currency per call).
    fn add(self, rhs: Money) -> Money {
        self.with_amount(self.amount + rhs.amount)
    }
}

impl Sub for Money {
    type Output = Money;
    /// Subtracts two amounts of the same currency.
    fn sub(self, rhs: Money) -> Money {
        self.with_amount(self.amount - rhs.amount)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

/// A percentage rate: `Rate::percent(12.5)` is 12.5 %. In JSON, the percentage as a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Rate(Decimal);

impl Rate {
    /// Zero percent.
    pub const ZERO: Rate = Rate(Decimal::ZERO);

    /// `percent` percent.
    pub fn percent(percent: Decimal) -> Self {
        Self(percent)
    }

    /// The rate in percent.
    pub fn as_percent(&self) -> Decimal {
        self.0
    }

    /// `amount x rate / 100`, exact.
    pub fn of(&self, amount: Decimal) -> Decimal {
        amount * self.0 / Decimal::ONE_HUNDRED
    }

    /// `self - other`, or zero when that is not positive.
    pub fn saturating_sub(self, other: Rate) -> Rate {
        Rate((self.0 - other.0).max(Decimal::ZERO))
    }
}

impl Add for Rate {
    type Output = Rate;
    fn add(self, rhs: Rate) -> Rate {
        Rate(self.0 + rhs.0)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0.normalize())
    }
}

/// Rounds a sequence of exact amounts to minor units so that every running total is
/// the exact running total rounded half away from zero.
///
/// Each result is within one minor unit of its exact amount, and the results add up
/// to exactly the rounded exact sum: rounding never pays more than the exact total
/// would. For non-negative inputs every result is non-negative.
pub fn round_running(amounts: &[Money]) -> Vec<Money> {
    let mut exact_sum: Option<Money> = None;
    let mut paid_sum: Option<Money> = None;
    amounts
        .iter()
        .map(|amount| {
            let exact = exact_sum.map_or(*amount, |sum| sum + *amount);
            let rounded = exact.round();
            let line = paid_sum.map_or(rounded, |paid| rounded - paid);
            exact_sum = Some(exact);
            paid_sum = Some(rounded);
            line
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(s: &str) -> Money {
        Money::new(s.parse().expect("decimal"), Currency::new("EUR", 2).expect("currency"))
    }

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(eur("0.005").round(), eur("0.01"));
        assert_eq!(eur("-0.005").round(), eur("-0.01"));
        assert_eq!(eur("0.0049").round(), eur("0.00"));
        let yen = Money::new("12.5".parse().expect("decimal"), Currency::new("JPY", 0).expect("currency"));
        assert_eq!(yen.round().amount(), Decimal::from(13));
        assert_eq!(eur("25").round().amount().to_string(), "25.00");
    }

    #[test]
    fn running_rounding_never_exceeds_the_rounded_total() {
        let thirds = [eur("0.3333333"), eur("0.3333333"), eur("0.3333334")];
        let lines = round_running(&thirds);
        assert_eq!(lines, vec![eur("0.33"), eur("0.34"), eur("0.33")]);
        let total: Decimal = lines.iter().map(Money::amount).sum();
        assert_eq!(total, Decimal::ONE);
    }

    #[test]
    fn money_json_names_the_currency_by_code() {
        let money: Money = serde_json::from_str(r#"{"amount":"1.005","currency":"KWD"}"#).expect("json");
        assert_eq!(money.currency().exponent(), 3);
        assert_eq!(serde_json::to_string(&money).expect("json"), r#"{"amount":"1.005","currency":"KWD"}"#);
        assert_eq!(Currency::from_code("JPY").expect("currency").exponent(), 0);
        assert_eq!(Currency::from_code("EUR").expect("currency").exponent(), 2);
    }

    #[test]
    fn currency_codes_are_validated() {
        assert!(Currency::new("eur", 2).is_err());
        assert!(Currency::new("EURO", 2).is_err());
        assert!(Currency::new("EUR", 9).is_err());
        assert_eq!(Currency::new("EUR", 2).expect("currency").code(), "EUR");
    }

    #[test]
    fn rate_of_amount_is_exact() {
        let rate = Rate::percent("12.5".parse().expect("decimal"));
        assert_eq!(rate.of(Decimal::from(100)), "12.5".parse::<Decimal>().expect("decimal"));
        assert_eq!(Rate::percent(10.into()).saturating_sub(Rate::percent(20.into())), Rate::ZERO);
    }
}
