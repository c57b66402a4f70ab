//! Per-plugin limit overrides, kept with the active package so every host of a
//! deployment applies them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let add = Table::alter().table("plugin_packages").add_column(json_null("limits")).to_owned();
        manager.alter_table(add).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let drop = Table::alter().table("plugin_packages").drop_column("limits").to_owned();
        manager.alter_table(drop).await
    }
}
