//! `audit_log`: every status and configuration change: who, when, before, after.

use sea_orm::entity::prelude::*;

/// An audit record.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Who: `operator`, `affiliate:<id>`, `plugin:<id>@<version>`, `system`.
    pub actor: String,
    /// What, e.g. `campaign.create`.
    pub action: String,
    /// The kind of record changed, e.g. `campaign`.
    pub entity: String,
    /// Its id.
    pub entity_id: String,
    /// The record before (none on create).
    pub before: Option<Json>,
    /// The record after (none on delete).
    pub after: Option<Json>,
    /// When.
    pub at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
