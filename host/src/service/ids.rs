//! Ids for conversions, commissions and subscriptions, handed out by the host before their rows are
//! written: plugins see them while the plan is made, with no transaction open.
//!
//! Ids come in blocks from the table's own sequence, so rows inserted without an id
//! (by another path, or another host) never collide with them: on PostgreSQL the
//! column's sequence (`nextval` a block at a time), on SQLite the `AUTOINCREMENT`
//! counter in `sqlite_sequence` (moved a block ahead at a time on the writer). An
//! unused rest of a block is a gap, as a rolled-back insert leaves one.

use std::collections::VecDeque;

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement, TransactionTrait};
use tokio::sync::Mutex;

use crate::error::{Error, Result};

/// Ids taken from the database at a time.
const BLOCK: i64 = 1000;

/// The tables whose ids the host allocates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// `conversions`.
    Conversions,
    /// `commissions`.
    Commissions,
    /// `subscriptions`.
    Subscriptions,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Conversions => "conversions",
            Table::Commissions => "commissions",
            Table::Subscriptions => "subscriptions",
        }
    }
}

/// The host's id allocator.
#[derive(Default)]
pub struct Ids {
    conversions: Mutex<VecDeque<i64>>,
    commissions: Mutex<VecDeque<i64>>,
    subscriptions: Mutex<VecDeque<i64>>,
}

impl Ids {
    /// `n` new ids of `table`.
    pub async fn take(&self, db: &DatabaseConnection, table: Table, n: usize) -> Result<Vec<i64>> {
        let mut free = match table {
            Table::Conversions => self.conversions.lock().await,
            Table::Commissions => self.commissions.lock().await,
            Table::Subscriptions => self.subscriptions.lock().await,
        };
        let mut ids = Vec::with_capacity(n);
        while ids.len() < n {
            if free.is_empty() {
                let wanted = BLOCK.max(i64::try_from(n - ids.len()).unwrap_or(i64::MAX));
                free.extend(reserve(db, table, wanted).await?);
            }
            let wanted = (n - ids.len()).min(free.len());
            ids.extend(free.drain(..wanted));
        }
        Ok(ids)
    }

    /// One new id of `table`.
    pub async fn one(&self, db: &DatabaseConnection, table: Table) -> Result<i64> {
        self.take(db, table, 1).await?.pop().ok_or_else(|| Error::Internal("no id".into()))
    }
}

/// Takes `n` ids of `table` from its sequence, in order.
async fn reserve(db: &DatabaseConnection, table: Table, n: i64) -> Result<Vec<i64>> {
    let name = table.name();
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            // Other hosts draw from the sequence at the same time: the ids need not be
            // consecutive, but every one returned is ours.
            let sql = format!(
                "SELECT nextval(pg_get_serial_sequence('{name}', 'id')) AS id FROM generate_series(1, {n}) ORDER BY 1"
            );
            let rows = db.query_all_raw(Statement::from_string(DatabaseBackend::Postgres, sql)).await?;
            Ok(rows.iter().map(|row| row.try_get("", "id")).collect::<Result<_, _>>()?)
        }
        _ => {
            // One writer: move the AUTOINCREMENT counter past the block, creating it if
            // the table has had no insert yet.
            let txn = db.begin().await?;
            let backend = DatabaseBackend::Sqlite;
            let current = format!(
                "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '{name}'), 0), \
                 COALESCE((SELECT MAX(id) FROM {name}), 0)) AS seq"
            );
            let row = txn.query_one_raw(Statement::from_string(backend, current)).await?;
            let seq: i64 = row.map(|row| row.try_get("", "seq")).transpose()?.unwrap_or(0);
            let moved = format!("UPDATE sqlite_sequence SET seq = {} WHERE name = '{name}'", seq + n);
            if txn.execute_raw(Statement::from_string(backend, moved)).await?.rows_affected() == 0 {
                let created = format!("INSERT INTO sqlite_sequence (name, seq) VALUES ('{name}', {})", seq + n);
                txn.execute_raw(Statement::from_string(backend, created)).await?;
            }
            txn.commit().await?;
            Ok((seq + 1..seq + n + 1).collect())
        }
    }
}
