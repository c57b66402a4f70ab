//! The Upline host: tracking, the commission lifecycle, and the sandboxed plugin
//! runtime that runs the business rules.

pub mod error;
pub mod plugin;

pub use error::{Error, Result};
