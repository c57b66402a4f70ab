//! Contract 0.2's customer reference: `conversions.customer`, the customer as the
//! merchant identifies them (a hashed id or e-mail address), and an index to count a
//! campaign's conversions of one customer (what a `screen` plugin is told).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261123_000001_init::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("conversions").add_column(text_null("customer")).to_owned()).await?;
        manager.create_index(index("ix_conversions_customer", "conversions", &["campaign_id", "customer"])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("ix_conversions_customer").table("conversions").to_owned()).await?;
        manager.alter_table(Table::alter().table("conversions").drop_column("customer").to_owned()).await
    }
}
