//! Live statistics for plugins: per-affiliate daily aggregates kept by the database
//! itself, in the transaction of every change to the ledger.
//!
//! - `commissions.stats_day`: the commission's day on its campaign's calendar (days
//!   since 1970-01-01 of the date in the campaign's time zone), written by the host
//!   with the row. Rows older than this migration get their UTC day.
//! - `affiliate_stats`: per campaign, affiliate, day and commission status, the sums
//!   (whole numbers: counts and minor units) plugins query (`stats` of contract 0.1 and 0.2). A trigger on `commissions` adds
//!   each new row to its status's sums and moves a row's sums when its status
//!   changes, so every path that writes the ledger (conversions, decisions, hold
//!   releases, refunds, payouts, period closes) keeps them right.
//! - `stats_versions`: per campaign and affiliate, a counter the conversion writer
//!   moves on for every conversion it stores with commissions of the affiliate in a
//!   campaign whose plugins read statistics. A conversion computed with an
//!   affiliate's statistics is written only if the counter is still the one it read
//!   (see `service/stats.rs`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The aggregated columns and what one commission row `c`, of the conversion `v`
/// (absent for bonuses and adjustments booked without one), adds to each. A
/// conversion counts once per affiliate: on its tier-1 commission (its referrer's),
/// or for second-tier revenue on the tier-2 one; reversals, bonuses and adjustments
/// add only their amounts.
const METRICS: [(&str, &str); 8] = [
    ("sales_count", "CASE WHEN {counted} AND c.tier = 1 AND v.kind = 'sale' THEN 1 ELSE 0 END"),
    ("sales_minor", "CASE WHEN {counted} AND c.tier = 1 AND v.kind = 'sale' THEN v.commissionable_minor ELSE 0 END"),
    ("actions_count", "CASE WHEN {counted} AND c.tier = 1 AND v.kind = 'action' THEN 1 ELSE 0 END"),
    ("commissions_minor", "c.amount_minor"),
    ("first_tier_minor", "CASE WHEN c.tier = 1 THEN c.amount_minor ELSE 0 END"),
    ("second_tier_revenue_minor", "CASE WHEN {counted} AND c.tier = 2 THEN v.commissionable_minor ELSE 0 END"),
    ("recurring_count", "CASE WHEN {counted} AND c.tier = 1 AND v.kind = 'recurring' THEN 1 ELSE 0 END"),
    (
        "recurring_minor",
        "CASE WHEN {counted} AND c.tier = 1 AND v.kind = 'recurring' THEN v.commissionable_minor ELSE 0 END",
    ),
];

/// A commission that stands for its conversion (not a reversal, bonus or adjustment).
const COUNTED: &str = "(c.reverses_id IS NULL AND c.conversion_id IS NOT NULL \
    AND c.commission_type NOT IN ('bonus', 'adjustment'))";

/// The columns of a commission the metrics read.
const ROW: [&str; 9] = [
    "campaign_id",
    "affiliate_id",
    "stats_day",
    "status",
    "tier",
    "commission_type",
    "amount_minor",
    "reverses_id",
    "conversion_id",
];

fn metric(expression: &str) -> String {
    expression.replace("{counted}", COUNTED)
}

/// Adds `sign` times the metrics of commission `row` (`NEW` or `OLD` in a trigger)
/// to its sums.
fn add(row: &str, sign: i32) -> String {
    let columns: Vec<&str> = METRICS.iter().map(|(column, _)| *column).collect();
    let values: Vec<String> = METRICS.iter().map(|(_, expr)| format!("{sign} * ({})", metric(expr))).collect();
    let fields: Vec<String> = ROW.iter().map(|column| format!("{row}.{column} AS {column}")).collect();
    let sums: Vec<String> =
        columns.iter().map(|column| format!("{column} = affiliate_stats.{column} + excluded.{column}")).collect();
    format!(
        "INSERT INTO affiliate_stats (campaign_id, affiliate_id, day, status, {columns}) \
         SELECT c.campaign_id, c.affiliate_id, c.stats_day, c.status, {values} \
         FROM (SELECT {fields}) c LEFT JOIN conversions v ON v.id = c.conversion_id WHERE true \
         ON CONFLICT (campaign_id, affiliate_id, day, status) DO UPDATE SET {sums};",
        columns = columns.join(", "),
        values = values.join(", "),
        fields = fields.join(", "),
        sums = sums.join(", "),
    )
}

fn triggers(backend: DatabaseBackend) -> Vec<String> {
    match backend {
        DatabaseBackend::Postgres => vec![
            format!(
                "CREATE FUNCTION commissions_stats() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF TG_OP = 'UPDATE' THEN {old} END IF; {new} RETURN NULL; END $$",
                old = add("OLD", -1),
                new = add("NEW", 1),
            ),
            "CREATE TRIGGER commissions_stats_insert AFTER INSERT ON commissions \
             FOR EACH ROW EXECUTE FUNCTION commissions_stats()"
                .into(),
            "CREATE TRIGGER commissions_stats_status AFTER UPDATE OF status ON commissions \
             FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION commissions_stats()"
                .into(),
        ],
        _ => vec![
            format!(
                "CREATE TRIGGER commissions_stats_insert AFTER INSERT ON commissions BEGIN {new} END",
                new = add("NEW", 1)
            ),
            format!(
                "CREATE TRIGGER commissions_stats_status AFTER UPDATE OF status ON commissions \
                 WHEN OLD.status <> NEW.status BEGIN {old} {new} END",
                old = add("OLD", -1),
                new = add("NEW", 1),
            ),
        ],
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let db = manager.get_connection();
        manager
            .alter_table(Table::alter().table("commissions").add_column(integer("stats_day").default(0)).to_owned())
            .await?;
        db.execute_unprepared(match backend {
            DatabaseBackend::Postgres => {
                "UPDATE commissions SET stats_day = (created_at AT TIME ZONE 'UTC')::date - DATE '1970-01-01'"
            }
            _ => "UPDATE commissions SET stats_day = CAST(julianday(substr(created_at, 1, 10)) - 2440587.5 AS INTEGER)",
        })
        .await?;
        let mut stats = Table::create();
        stats
            .table("affiliate_stats")
            .col(big_integer("campaign_id"))
            .col(big_integer("affiliate_id"))
            .col(integer("day"))
            .col(string("status"));
        // Exact beyond 64 bits on PostgreSQL (a numeric), so no sum can fail a write
        // to the ledger; SQLite keeps 64-bit integers (its decimal is a float).
        for (column, _) in METRICS {
            let mut sum = match backend {
                DatabaseBackend::Postgres => decimal_len(column, 38, 0),
                _ => big_integer(column),
            };
            stats.col(sum.default(0));
        }
        stats.primary_key(Index::create().col("campaign_id").col("affiliate_id").col("day").col("status"));
        manager.create_table(stats.to_owned()).await?;
        let versions = Table::create()
            .table("stats_versions")
            .col(big_integer("campaign_id"))
            .col(big_integer("affiliate_id"))
            .col(big_integer("version"))
            .primary_key(Index::create().col("campaign_id").col("affiliate_id"))
            .to_owned();
        manager.create_table(versions).await?;
        // The ledger so far, then the triggers that keep it summed.
        let columns: Vec<&str> = METRICS.iter().map(|(column, _)| *column).collect();
        let sums: Vec<String> = METRICS.iter().map(|(_, expr)| format!("SUM({})", metric(expr))).collect();
        db.execute_unprepared(&format!(
            "INSERT INTO affiliate_stats (campaign_id, affiliate_id, day, status, {}) \
             SELECT c.campaign_id, c.affiliate_id, c.stats_day, c.status, {} \
             FROM commissions c LEFT JOIN conversions v ON v.id = c.conversion_id \
             GROUP BY c.campaign_id, c.affiliate_id, c.stats_day, c.status",
            columns.join(", "),
            sums.join(", ")
        ))
        .await?;
        for trigger in triggers(backend) {
            db.execute_unprepared(&trigger).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for trigger in ["commissions_stats_insert", "commissions_stats_status"] {
            let on = if manager.get_database_backend() == DatabaseBackend::Postgres { " ON commissions" } else { "" };
            db.execute_unprepared(&format!("DROP TRIGGER {trigger}{on}")).await?;
        }
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared("DROP FUNCTION commissions_stats()").await?;
        }
        manager.drop_table(Table::drop().table("stats_versions").to_owned()).await?;
        manager.drop_table(Table::drop().table("affiliate_stats").to_owned()).await?;
        manager.alter_table(Table::alter().table("commissions").drop_column("stats_day").to_owned()).await
    }
}
