//! Services: plain async functions over a database connection or transaction.

pub mod audit;
pub mod campaigns;
