//! Recording changes in the audit log, inside the transaction that makes them.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};

use crate::db::entity::audit;
use crate::error::Result;

/// Records that `actor` did `action` at `at` to `entity` `id`, with the record before and after.
pub async fn record(
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    target: (&str, i64),
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<()> {
    entry(at, actor, action, target, before, after).insert(db).await?;
    Ok(())
}

/// An audit row, for [`record_all`].
pub fn entry(
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    (entity, id): (&str, i64),
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> audit::ActiveModel {
    audit::ActiveModel {
        actor: Set(actor.into()),
        action: Set(action.into()),
        entity: Set(entity.into()),
        entity_id: Set(id.to_string()),
        before: Set(before),
        after: Set(after),
        at: Set(at),
        ..Default::default()
    }
}

/// Records many audit rows, a few hundred per statement.
pub async fn record_all(db: &impl ConnectionTrait, entries: Vec<audit::ActiveModel>) -> Result<()> {
    for chunk in entries.chunks(200) {
        audit::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await?;
    }
    Ok(())
}

/// A value as audit JSON.
pub fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}
