//! Webhooks out: the endpoints operators register, and one delivery per endpoint and
//! event (unique, so an event is never queued twice for an endpoint), each sent by a
//! durable job of its own.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261123_000001_init::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let endpoints = Table::create()
            .table("webhook_endpoints")
            .col(big_pk_auto("id"))
            .col(text("url"))
            .col(string("secret"))
            .col(json_null("events"))
            .col(boolean("active"))
            .col(timestamp_with_time_zone("created_at"))
            .to_owned();
        manager.create_table(endpoints).await?;
        let deliveries = Table::create()
            .table("webhook_deliveries")
            .col(big_pk_auto("id"))
            .col(big_integer("endpoint_id"))
            .col(string("event_id"))
            .col(string("event"))
            .col(text("body"))
            .col(string("state"))
            .col(integer("attempts"))
            .col(integer_null("last_status"))
            .col(text_null("last_error"))
            .col(timestamp_with_time_zone_null("delivered_at"))
            .col(timestamp_with_time_zone("created_at"))
            .foreign_key(ForeignKey::create().from("webhook_deliveries", "endpoint_id").to("webhook_endpoints", "id"))
            .to_owned();
        manager.create_table(deliveries).await?;
        let mut once = index("ux_webhook_deliveries_event", "webhook_deliveries", &["endpoint_id", "event_id"]);
        manager.create_index(once.unique().to_owned()).await?;
        manager
            .create_index(index("ix_webhook_deliveries_endpoint", "webhook_deliveries", &["endpoint_id", "id"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("webhook_deliveries").to_owned()).await?;
        manager.drop_table(Table::drop().table("webhook_endpoints").to_owned()).await
    }
}
