//! `webhook_endpoints`: where operators want events delivered.

use sea_orm::entity::prelude::*;

/// A webhook endpoint.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Where events are POSTed.
    pub url: String,
    /// The HMAC-SHA256 key deliveries are signed with (hex).
    pub secret: String,
    /// The event types it wants (a JSON list); none: every event.
    pub events: Option<Json>,
    /// False once removed (its deliveries stay visible).
    pub active: bool,
    /// When it was registered.
    pub created_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
