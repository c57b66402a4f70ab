//! The database: SQLite by default (a file under the data directory, WAL mode),
//! PostgreSQL by URL. Migrated on connect.
//!
//! An answer that says a write is stored means it survives a power cut: SQLite runs
//! with `synchronous=FULL` (the WAL is synced at every commit; the writers commit
//! many conversions or clicks at once, so that is one sync per batch) and
//! PostgreSQL with its default `synchronous_commit=on`. SQLite's writer never
//! checkpoints itself (`wal_autocheckpoint=0`): [`checkpoints`] does it from a
//! connection of its own, so a checkpoint's copying and syncing never stalls a write.

mod bulk;
pub mod entity;
mod money;

use std::path::Path;
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr};
use upline_migrations::{Migrator, MigratorTrait};

pub use bulk::{BulkInsert, COMMISSIONS, CONVERSIONS, ROWS_PER_INSERT};
pub use money::{from_minor, from_minor_sum, to_minor};

use crate::error::{Error, Result};

/// The default database: `upline.db` in the data directory, created if missing.
pub fn default_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("upline.db").display())
}

/// Connects to `url` (`sqlite://...` or `postgres://...`) and runs the migrations.
pub async fn connect(url: &str) -> Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(if url.starts_with("sqlite:") { 1 } else { 16 })
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire_if_idle_for(PING_IF_IDLE_FOR)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|sqlite| {
            sqlite
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .pragma("wal_autocheckpoint", "0")
                // A multi-row insert's statement journal stays in memory: by default
                // SQLite spills it to a temporary file past 64 KiB, a write per page.
                .pragma("temp_store", "memory")
                .statement_cache_capacity(STATEMENT_CACHE)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    let db = Database::connect(options)
        .await
        .map_err(|err| Error::Database(format!("connecting to the database: {err}")))?;
    Migrator::up(&db, None).await.map_err(|err| Error::Database(format!("migrating the database: {err}")))?;
    Ok(db)
}

/// Connections for reads that may take long (reports, lists): on SQLite a pool of
/// read-only connections beside the one writer (WAL lets them read while it
/// writes), so a ten-year report never holds up a click or a sale; on PostgreSQL the
/// writer's own pool.
pub async fn connect_reader(url: &str, writer: &DatabaseConnection) -> Result<DatabaseConnection> {
    if !url.starts_with("sqlite:") {
        return Ok(writer.clone());
    }
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(READERS)
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire_if_idle_for(PING_IF_IDLE_FOR)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|sqlite| sqlite.read_only(true).busy_timeout(Duration::from_secs(10)));
    Database::connect(options).await.map_err(|err| Error::Database(format!("connecting the readers: {err}")))
}

/// On SQLite, checkpoints the WAL into the database file every [`CHECKPOINT_EVERY`]
/// from a connection of its own (`PASSIVE`: it copies what no reader still needs and
/// never blocks the writer, which starts the WAL over once it is all copied). On
/// PostgreSQL there is nothing to do.
pub async fn checkpoints(url: &str) -> Result<()> {
    if !url.starts_with("sqlite:") {
        return Ok(());
    }
    let mut options = ConnectOptions::new(url);
    options.max_connections(1).sqlx_logging(false).map_sqlx_sqlite_opts(|sqlite| {
        sqlite.synchronous(SqliteSynchronous::Full).busy_timeout(Duration::from_secs(10))
    });
    let db = Database::connect(options).await.map_err(|err| Error::Database(format!("checkpoints: {err}")))?;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
        loop {
            tick.tick().await;
            if let Err(err) = db.execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)").await {
                tracing::warn!(error = %err, "checkpointing the WAL");
            }
        }
    });
    Ok(())
}

/// Splits the rows of a multi-row insert into statements of `most` rows (a power of
/// two), then of the powers of two below it, largest first: 150 rows and 64 give 64,
/// 64, 16, 4 and 2. A statement of each size is prepared once and then taken from
/// the connection's statement cache, where any other count would be a new statement
/// to parse on every batch. (On SQLite, whose one writer connection keeps every
/// size, [`BulkInsert`] goes by 64 rows and then the rest.)
pub fn statements<T>(mut rows: &[T], most: usize) -> impl Iterator<Item = &[T]> {
    debug_assert!(most.is_power_of_two(), "{most} rows per statement");
    std::iter::from_fn(move || {
        let size = most.min(1 << rows.len().checked_ilog2()?);
        let (chunk, rest) = rows.split_at(size);
        rows = rest;
        Some(chunk)
    })
}

/// How often the WAL is checkpointed.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// A pooled connection idle this long is pinged before it is handed out (one that
/// a PostgreSQL restart, a proxy or a firewall dropped is replaced, not used). A busy
/// one is not: sqlx's default pings on every checkout, a round trip before every
/// transaction of the writer.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(10);

/// Prepared statements kept by SQLite's writer connection (sqlx keeps 100 by
/// default): the conversions' and commissions' inserts of every size from 1 to 64
/// rows ([`BulkInsert`]) and the rest of the host's statements.
const STATEMENT_CACHE: usize = 512;

/// Read-only SQLite connections.
const READERS: u32 = 4;

impl From<DbErr> for Error {
    fn from(err: DbErr) -> Self {
        Error::Database(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rows_go_in_statements_of_a_few_sizes_largest_first() {
        let sizes = |count: usize| {
            let rows: Vec<usize> = (0..count).collect();
            let chunks: Vec<&[usize]> = super::statements(&rows, 64).collect();
            assert_eq!(chunks.concat(), rows, "every row once, in order");
            chunks.iter().map(|chunk| chunk.len()).collect::<Vec<_>>()
        };
        assert_eq!(sizes(0), Vec::<usize>::new());
        assert_eq!(sizes(1), [1]);
        assert_eq!(sizes(6), [4, 2]);
        assert_eq!(sizes(64), [64]);
        assert_eq!(sizes(150), [64, 64, 16, 4, 2]);
    }
}
