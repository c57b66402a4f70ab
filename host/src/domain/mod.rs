//! The commission domain: types whose constructors and methods are the only way to
//! build legal values.

pub mod affiliate;
pub mod campaign;
pub mod conversion;
pub mod money;
pub mod schedule;
mod status;

pub use status::{CommissionStatus, IllegalTransition};
