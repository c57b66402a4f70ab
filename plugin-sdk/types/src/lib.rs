//! The types Upline plugins and the Upline host share: exact [`Money`] with its
//! [`Currency`] and [`Rate`], ids ([`AffiliateId`], [`CampaignId`], ...), every
//! hook's input and output, and the statistics queries. The plugin SDK re-exports
//! all of it; the host converts each contract version's bindings to and from these
//! types, so both sides compute with the same code.
#![deny(missing_docs)]

mod error;
mod hooks;
mod money;
mod stats;

pub use error::{Error, Result};
pub use hooks::*;
pub use money::{Currency, Money, Rate, round_running};
pub use rust_decimal::Decimal;
pub use stats::{CampaignQuery, Level, Metric, NamedPeriod, PeriodSpec, StatsQuery, StatusFilter};
