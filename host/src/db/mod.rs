//! The database: SQLite by default (a file under the data directory, WAL mode),
//! PostgreSQL by URL. Migrated on connect.

pub mod entity;
mod money;

use std::path::Path;
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use upline_migrations::{Migrator, MigratorTrait};

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
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|sqlite| {
            sqlite
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
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
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|sqlite| sqlite.read_only(true).busy_timeout(Duration::from_secs(10)));
    Database::connect(options).await.map_err(|err| Error::Database(format!("connecting the readers: {err}")))
}

/// Read-only SQLite connections.
const READERS: u32 = 4;

impl From<DbErr> for Error {
    fn from(err: DbErr) -> Self {
        Error::Database(err.to_string())
    }
}
