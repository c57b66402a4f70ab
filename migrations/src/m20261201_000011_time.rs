//! Time in the lifecycle: each campaign's time zone, period-close day, reward period
//! and recurrences; subscriptions, and the recurring payments (conversions) they
//! make; indexes for period closes, for carrying reversals and for commissions waiting
//! for an event; and `jobs`, the durable schedule every host runs from (leases with
//! fencing: see `host/src/service/jobs.rs`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261123_000001_init::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            string("time_zone").default("UTC").to_owned(),
            integer("period_close_day").default(1).to_owned(),
            string("reward_period").default("month").to_owned(),
            json_null("recurrences"),
        ] {
            manager.alter_table(Table::alter().table("campaigns").add_column(column).to_owned()).await?;
        }
        for column in [big_integer_null("subscription_id"), integer_null("payment_number")] {
            manager.alter_table(Table::alter().table("conversions").add_column(column).to_owned()).await?;
        }
        let subscriptions = Table::create()
            .table("subscriptions")
            .col(big_pk_auto("id"))
            .col(big_integer("campaign_id"))
            .col(big_integer("affiliate_id"))
            .col(big_integer("conversion_id"))
            .col(string("external_id"))
            .col(string("recurrence"))
            .col(string_len("currency", 3))
            .col(big_integer("amount_minor"))
            .col(timestamp_with_time_zone("started_at"))
            .col(timestamp_with_time_zone_null("ends_at"))
            .col(integer_null("max_payments"))
            .col(integer("payments"))
            .col(string("status"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .to_owned();
        manager.create_table(subscriptions).await?;
        manager
            .create_index(
                index("ux_subscriptions_external", "subscriptions", &["campaign_id", "external_id"])
                    .unique()
                    .to_owned(),
            )
            .await?;
        let jobs = Table::create()
            .table("jobs")
            .col(big_pk_auto("id"))
            .col(string_uniq("key"))
            .col(string("kind"))
            .col(big_integer_null("campaign_id"))
            .col(big_integer_null("subscription_id"))
            .col(timestamp_with_time_zone("due_at"))
            .col(timestamp_with_time_zone_null("retry_at"))
            .col(string("state"))
            .col(string_null("lease_owner"))
            .col(timestamp_with_time_zone_null("lease_until"))
            .col(integer("attempts"))
            .col(big_integer("runs"))
            .col(timestamp_with_time_zone_null("last_run_at"))
            .col(string_null("last_outcome"))
            .col(text_null("last_error"))
            .col(timestamp_with_time_zone("created_at"))
            .to_owned();
        manager.create_table(jobs).await?;
        manager.create_index(index("ix_jobs_due", "jobs", &["state", "due_at"])).await?;
        // Period closes read a campaign's month; hold release carries each released
        // commission's reversals (without this index every chunk of 500 scans the ledger).
        let indexes: [(&str, &[&'static str]); 2] = [
            ("ix_commissions_campaign_created", &["campaign_id", "created_at"]),
            ("ix_commissions_reverses", &["reverses_id"]),
        ];
        for (name, columns) in indexes {
            manager.create_index(index(name, "commissions", columns)).await?;
        }
        // Every stored conversion looks for its affiliate's parent's commissions waiting
        // for a sub-affiliate's conversion: only waiting ones are in this index, so the
        // look-up does not read the parent's whole ledger.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_commissions_waiting ON commissions (affiliate_id, waiting_for) \
                 WHERE status = 'pending' AND waiting_for IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["ix_commissions_campaign_created", "ix_commissions_reverses", "ix_commissions_waiting"] {
            manager.drop_index(Index::drop().name(name).table("commissions").to_owned()).await?;
        }
        manager.drop_table(Table::drop().table("jobs").to_owned()).await?;
        manager.drop_table(Table::drop().table("subscriptions").to_owned()).await?;
        for column in ["subscription_id", "payment_number"] {
            manager.alter_table(Table::alter().table("conversions").drop_column(column).to_owned()).await?;
        }
        for column in ["time_zone", "period_close_day", "reward_period", "recurrences"] {
            manager.alter_table(Table::alter().table("campaigns").drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
