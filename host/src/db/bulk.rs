//! Multi-row inserts of whole rows on the conversion path: the statement text of
//! each size is built once (with sea-query) and kept, and each row's values are
//! taken straight from its model. sea-orm's `insert_many` builds an active model, an
//! expression per value and the SQL text again for every statement, which was about
//! a tenth of the server's time in the sales phase of the load benchmark.

use std::sync::{Arc, LazyLock, Mutex};

use sea_orm::sea_query::{Expr, OnConflict, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Iterable, ModelTrait, PrimaryKeyToColumn, Statement, Value};

use super::entity::{commission, conversion};
use crate::error::Result;

/// Rows per insert statement, at most. On SQLite the rest goes in one statement of
/// its size: each of the 64 sizes is prepared once and then taken from the writer's
/// statement cache (`STATEMENT_CACHE`), so a batch of n rows is ceil(n / 64)
/// statements, each a round trip to SQLite's thread. On PostgreSQL the rest goes in
/// statements of 32, 16, ... 1 rows ([`super::statements`]): it parses one statement
/// of many rows slowly (~50 ms for 400 rows of 18 values), and the seven shapes stay
/// prepared on each of the pool's connections.
pub const ROWS_PER_INSERT: usize = 64;

/// The conversions' insert: a conversion whose order id the campaign has is skipped.
pub static CONVERSIONS: LazyLock<BulkInsert<conversion::Entity>> =
    LazyLock::new(|| BulkInsert::skipping_taken([conversion::Column::CampaignId, conversion::Column::OrderId]));

/// The commissions' insert.
pub static COMMISSIONS: BulkInsert<commission::Entity> = BulkInsert::new();

/// Inserts of every column of `E`'s rows, in statements of at most
/// [`ROWS_PER_INSERT`] rows ([`super::statements`]).
pub struct BulkInsert<E: EntityTrait> {
    /// Rows whose values of these columns are taken are skipped
    /// (`ON CONFLICT (..) DO NOTHING`), and the ids of those inserted returned.
    skip_taken: Vec<E::Column>,
    texts: Mutex<Vec<(DbBackend, usize, Arc<str>)>>,
}

impl<E: EntityTrait> BulkInsert<E> {
    /// Plain inserts.
    const fn new() -> Self {
        Self { skip_taken: Vec::new(), texts: Mutex::new(Vec::new()) }
    }

    /// Inserts that skip a row whose `columns` are taken by a stored one.
    fn skipping_taken(columns: impl IntoIterator<Item = E::Column>) -> Self {
        Self { skip_taken: columns.into_iter().collect(), texts: Mutex::new(Vec::new()) }
    }

    /// Inserts `rows` in the caller's transaction; returns the ids of those inserted
    /// when it skips taken rows (else none).
    pub async fn insert(&self, db: &impl ConnectionTrait, rows: &[&E::Model]) -> Result<Vec<i64>> {
        let backend = db.get_database_backend();
        let mut inserted = Vec::new();
        let chunks: Vec<&[&E::Model]> = match backend {
            DbBackend::Sqlite => rows.chunks(ROWS_PER_INSERT).collect(),
            _ => super::statements(rows, ROWS_PER_INSERT).collect(),
        };
        for chunk in chunks {
            let values: Vec<Value> =
                chunk.iter().flat_map(|row| E::Column::iter().map(|column| row.get(column))).collect();
            let statement = Statement::from_sql_and_values(backend, &*self.text(backend, chunk.len()), values);
            if self.skip_taken.is_empty() {
                db.execute_raw(statement).await?;
            } else {
                for row in db.query_all_raw(statement).await? {
                    inserted.push(row.try_get_by_index::<i64>(0)?);
                }
            }
        }
        Ok(inserted)
    }

    /// The statement text for `rows` rows on `backend`, built at its first use.
    fn text(&self, backend: DbBackend, rows: usize) -> Arc<str> {
        let mut texts = self.texts.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, _, text)) = texts.iter().find(|(b, r, _)| *b == backend && *r == rows) {
            return text.clone();
        }
        let columns: Vec<E::Column> = E::Column::iter().collect();
        let mut insert = Query::insert();
        insert.into_table(E::default().table_ref()).columns(columns.iter().copied());
        for _ in 0..rows {
            // Placeholders: only the text is kept; each statement binds its own values.
            insert.values_panic(columns.iter().map(|_| SimpleExpr::from(Expr::val(0i64))));
        }
        if !self.skip_taken.is_empty() {
            insert.on_conflict(OnConflict::columns(self.skip_taken.iter().copied()).do_nothing().to_owned());
            if let Some(key) = E::PrimaryKey::iter().next() {
                insert.returning_col(key.into_column());
            }
        }
        let text: Arc<str> = backend.build(&insert).sql.into();
        texts.push((backend, rows, text.clone()));
        text
    }
}
