//! Services: plain async functions over a database connection or transaction.

pub mod affiliates;
pub mod audit;
pub mod bindings;
pub mod blocking;
pub mod campaigns;
pub mod config;
pub mod coupons;
pub mod demo;
pub mod engine;
pub mod ids;
pub mod jobs;
pub mod lifecycle;
pub mod operator_keys;
pub mod packages;
pub mod passwords;
pub mod periods;
pub mod progress;
pub mod reports;
pub mod rerate;
pub mod rewards;
pub mod sessions;
pub mod stats;
pub mod subscriptions;
pub mod throttle;
pub mod tracking;
pub mod webhooks;
