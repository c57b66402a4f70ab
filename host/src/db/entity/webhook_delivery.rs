//! `webhook_deliveries`: one event for one endpoint, sent by a job of its own.

use sea_orm::entity::prelude::*;

/// A delivery.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The endpoint.
    pub endpoint_id: i64,
    /// The event's id (unique per endpoint): receivers deduplicate by it.
    pub event_id: String,
    /// The event type, e.g. `commission.approved`.
    pub event: String,
    /// The JSON body sent, exactly as signed.
    pub body: String,
    /// `pending`, `delivered` or `failed` (its job gave up; an operator may re-run it).
    pub state: String,
    /// Attempts made.
    pub attempts: i32,
    /// The HTTP status of the last attempt, if one came back.
    pub last_status: Option<i32>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When an attempt got a 2xx.
    pub delivered_at: Option<DateTimeUtc>,
    /// When the event happened.
    pub created_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
