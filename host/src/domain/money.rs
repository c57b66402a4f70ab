//! Amounts as clients send them: exact, in the currency's minor unit, and bounded.

use rust_decimal::Decimal;
use upline_types::{Currency, Money};

use super::campaign::invalid;
use crate::error::Result;

/// The largest amount the host accepts anywhere: a conversion's total, shipping, tax
/// or discount, a fixed tier rate, a refund, a payout minimum, or an amount a plugin
/// returns. One trillion (10^12) in the currency's major unit: even with four decimals
/// that is 10^16 minor units, inside the contract's 64-bit decimal mantissa and the
/// database's 64-bit integers, with room for every sum of a conversion's amounts.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(0xD4A5_1000, 0xE8, 0, false, 0);

/// Parses a client's amount for `field`: not negative, at most [`MAX_AMOUNT`], and with
/// at most the currency's decimals. Written with exactly the currency's decimals.
pub fn parse_amount(field: &str, amount: Decimal, currency: Currency) -> Result<Money> {
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err(invalid(field, "must not be negative"));
    }
    if amount > MAX_AMOUNT {
        return Err(invalid(field, format!("must be at most {MAX_AMOUNT} (the largest amount the host accepts)")));
    }
    if amount.normalize().scale() > u32::from(currency.exponent()) {
        return Err(invalid(field, format!("{currency} has at most {} decimals", currency.exponent())));
    }
    Ok(Money::new(amount, currency).round())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_maximum_is_one_trillion() {
        assert_eq!(MAX_AMOUNT, Decimal::from(1_000_000_000_000i64));
    }

    #[test]
    fn amounts_are_bounded_exact_and_not_negative() {
        let eur = Currency::from_code("EUR").expect("currency");
        let parse = |text: &str| parse_amount("total", text.parse().expect("decimal"), eur);
        assert_eq!(parse("1000000000000").expect("the maximum").amount().to_string(), "1000000000000.00");
        for refused in
            ["1000000000000.01", "79228162514264337593543950335", "7922816251426433759354395033", "-1", "0.001"]
        {
            let err = parse(refused).expect_err(refused);
            assert!(matches!(err, crate::Error::InvalidInput { ref field, .. } if field == "total"), "{err}");
        }
    }
}
