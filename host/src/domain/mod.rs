//! The commission domain: types whose constructors and methods are the only way to
//! build legal values.

pub mod affiliate;
pub mod campaign;
pub mod conversion;
pub mod money;
pub mod schedule;
mod status;

pub use status::{CommissionStatus, IllegalTransition};

/// The page size asked for, checked: 1 to 1000, 1000 when not given.
pub fn page_limit(limit: Option<u64>) -> crate::error::Result<u64> {
    match limit.unwrap_or(1000) {
        limit @ 1..=1000 => Ok(limit),
        _ => Err(campaign::invalid("limit", "must be 1 to 1000")),
    }
}
