//! Money in the database: integer minor units beside the currency code, exact on
//! SQLite and PostgreSQL alike.

use rust_decimal::Decimal;
use upline_types::{Currency, Money};

use crate::error::{Error, Result};

/// The amount in minor units (cents for EUR). The amount must already be rounded to
/// the currency's minor unit; `field` names it in the error otherwise.
pub fn to_minor(money: Money, field: &str) -> Result<i64> {
    let too_large = || Error::InvalidInput { field: field.into(), message: format!("{money} is too large") };
    let scaled = money
        .amount()
        .checked_mul(Decimal::from(10i64.pow(money.currency().exponent().into())))
        .ok_or_else(too_large)?;
    if !scaled.fract().is_zero() {
        return Err(Error::InvalidInput {
            field: field.into(),
            message: format!(
                "{money} has more decimals than {} allows ({})",
                money.currency(),
                money.currency().exponent()
            ),
        });
    }
    i64::try_from(scaled).map_err(|_| too_large())
}

/// The money `minor` minor units of `currency` stand for, written with exactly the
/// currency's decimals.
pub fn from_minor(minor: i64, currency: &str) -> Result<Money> {
    from_minor_sum(minor.into(), currency)
}

/// The money a sum of minor units stands for; sums are exact well beyond 64 bits.
pub fn from_minor_sum(minor: i128, currency: &str) -> Result<Money> {
    let currency = Currency::from_code(currency).map_err(|err| Error::Database(format!("stored currency: {err}")))?;
    let amount = Decimal::try_from_i128_with_scale(minor, currency.exponent().into())
        .map_err(|err| Error::Internal(format!("a sum of {minor} minor units: {err}")))?;
    Ok(Money::new(amount, currency))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(amount: &str, currency: &str) -> Money {
        Money::new(amount.parse().expect("decimal"), Currency::from_code(currency).expect("currency"))
    }

    #[test]
    fn converts_exactly_in_every_minor_unit() {
        for (amount, currency, minor) in
            [("12.34", "EUR", 1234), ("1234", "JPY", 1234), ("1.234", "KWD", 1234), ("-0.01", "EUR", -1)]
        {
            assert_eq!(to_minor(money(amount, currency), "total").expect("exact"), minor);
            assert_eq!(from_minor(minor, currency).expect("money"), money(amount, currency));
        }
        assert_eq!(from_minor(2500, "EUR").expect("money").amount().to_string(), "25.00");
    }

    #[test]
    fn refuses_sub_minor_amounts_naming_the_field() {
        let err = to_minor(money("0.001", "EUR"), "total").expect_err("too precise");
        assert!(matches!(err, Error::InvalidInput { ref field, .. } if field == "total"), "{err}");
    }
}
