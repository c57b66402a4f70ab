//! Recording changes in the audit log, inside the transaction that makes them, and
//! reading it back, newest first.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use crate::db::entity::audit;
use crate::error::Result;

/// Records that `actor` did `action` at `at` to `entity` `id`, with the record before and after.
pub async fn record(
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    target: (&str, impl std::fmt::Display),
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
    (entity, id): (&str, impl std::fmt::Display),
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

/// Which audit records to list, newest first, a page at a time: all (up to `limit`)
/// when empty.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// Only changes to this kind of record (`campaign`, `commission`, `plugin`, ...).
    pub entity: Option<String>,
    /// With `entity`: only changes to the record of this id.
    pub entity_id: Option<String>,
    /// Only changes by this actor (`operator`, `system`, `affiliate:7`, ...).
    pub actor: Option<String>,
    /// Only records with a smaller id: the last id of the previous page.
    pub before: Option<i64>,
    /// At most this many (1 to 1000; default 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
}

/// An audit record as the API shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct AuditView {
    /// Id.
    pub id: i64,
    /// Who: `operator`, `affiliate:<id>`, `plugin:<id>@<version>`, `system`.
    pub actor: String,
    /// What, e.g. `campaign.update`.
    pub action: String,
    /// The kind of record changed, e.g. `campaign`.
    pub entity: String,
    /// Its id.
    pub entity_id: String,
    /// The record before (none on create).
    pub before: Option<serde_json::Value>,
    /// The record after (none on delete).
    pub after: Option<serde_json::Value>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The audit records `filter` selects, newest first.
pub async fn list(db: &impl ConnectionTrait, filter: &AuditFilter) -> Result<Vec<AuditView>> {
    let mut query = audit::Entity::find().order_by_desc(audit::Column::Id);
    if let Some(entity) = &filter.entity {
        query = query.filter(audit::Column::Entity.eq(entity.as_str()));
    }
    if let Some(id) = &filter.entity_id {
        query = query.filter(audit::Column::EntityId.eq(id.as_str()));
    }
    if let Some(actor) = &filter.actor {
        query = query.filter(audit::Column::Actor.eq(actor.as_str()));
    }
    if let Some(before) = filter.before {
        query = query.filter(audit::Column::Id.lt(before));
    }
    let rows = query.limit(crate::domain::page_limit(filter.limit)?).all(db).await?;
    Ok(rows
        .into_iter()
        .map(|row| AuditView {
            id: row.id,
            actor: row.actor,
            action: row.action,
            entity: row.entity,
            entity_id: row.entity_id,
            before: row.before,
            after: row.after,
            at: row.at,
        })
        .collect())
}
