//! Browser-reported conversions and where referral links may lead.
//!
//! - `conversions.source`: `server` (the merchant's server, with an API key) or
//!   `browser` (the snippet: never approved automatically, superseded by the
//!   server's report of the same order); `superseded_by` links a superseded browser
//!   conversion to the server's.
//! - `campaigns.browser_conversions_per_day`: the cap on browser-reported
//!   conversions per campaign and day (0 turns them off); `landing_url` and
//!   `allowed_hosts`: where the referral link may send a visitor.
//! - `browser_report_days`: how many browser reports each campaign took each day
//!   (UTC), counted with a conditional upsert so that concurrent reports, on one host
//!   or several, cannot pass the cap.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conversions = [
            Table::alter().table("conversions").add_column(string("source").default("server")).to_owned(),
            Table::alter().table("conversions").add_column(big_integer_null("superseded_by")).to_owned(),
        ];
        let campaigns = [
            Table::alter()
                .table("campaigns")
                .add_column(integer("browser_conversions_per_day").default(1000))
                .to_owned(),
            Table::alter().table("campaigns").add_column(text_null("landing_url")).to_owned(),
            Table::alter().table("campaigns").add_column(json_null("allowed_hosts")).to_owned(),
        ];
        // SQLite adds one column per ALTER TABLE.
        for alter in conversions.into_iter().chain(campaigns) {
            manager.alter_table(alter).await?;
        }
        let days = Table::create()
            .table("browser_report_days")
            .col(big_integer("campaign_id"))
            .col(string_len("day", 10))
            .col(integer("count"))
            .primary_key(Index::create().col("campaign_id").col("day"))
            .to_owned();
        manager.create_table(days).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("browser_report_days").to_owned()).await?;
        for (table, column) in [
            ("conversions", "source"),
            ("conversions", "superseded_by"),
            ("campaigns", "browser_conversions_per_day"),
            ("campaigns", "landing_url"),
            ("campaigns", "allowed_hosts"),
        ] {
            manager.alter_table(Table::alter().table(table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
