//! The host's database schema, as sea-orm migrations that run on SQLite and
//! PostgreSQL alike.
//!
//! Money is stored as integer minor units (`*_minor`, `i64`) beside its ISO 4217
//! currency code: exact on both backends, and summable in SQL. Rates are stored as
//! decimal text (e.g. `12.5`), parsed into exact decimals.

pub use sea_orm_migration::MigratorTrait;
use sea_orm_migration::prelude::*;

mod m20261123_000001_init;
mod m20261123_000002_affiliate_sessions;
mod m20261123_000003_config_version;
mod m20261123_000004_package_limits;
mod m20261129_000005_binding_grants;
mod m20261129_000006_browser_conversions;
mod m20261129_000007_report_indexes;
mod m20261129_000008_reversals_follow_originals;
mod m20261130_000009_plans;
mod m20261130_000010_plugin_limits;
mod m20261201_000011_time;
mod m20261202_000012_customers;
mod m20261202_000013_stats;
mod m20261203_000014_plugin_calls;
mod m20261203_000015_awards;
mod m20261203_000016_webhooks;
mod m20261203_000017_lifetime;
mod m20261204_000018_affiliate_customer;
mod m20261205_000019_operators;

/// Runs the migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_init::Migration),
            Box::new(m20261123_000002_affiliate_sessions::Migration),
            Box::new(m20261123_000003_config_version::Migration),
            Box::new(m20261123_000004_package_limits::Migration),
            Box::new(m20261129_000005_binding_grants::Migration),
            Box::new(m20261129_000006_browser_conversions::Migration),
            Box::new(m20261129_000007_report_indexes::Migration),
            Box::new(m20261129_000008_reversals_follow_originals::Migration),
            Box::new(m20261130_000009_plans::Migration),
            Box::new(m20261130_000010_plugin_limits::Migration),
            Box::new(m20261201_000011_time::Migration),
            Box::new(m20261202_000012_customers::Migration),
            Box::new(m20261202_000013_stats::Migration),
            Box::new(m20261203_000014_plugin_calls::Migration),
            Box::new(m20261203_000015_awards::Migration),
            Box::new(m20261203_000016_webhooks::Migration),
            Box::new(m20261203_000017_lifetime::Migration),
            Box::new(m20261204_000018_affiliate_customer::Migration),
            Box::new(m20261205_000019_operators::Migration),
        ]
    }
}
