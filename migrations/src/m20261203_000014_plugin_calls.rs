//! A flagged conversion keeps what its plugins logged and what their calls cost
//! (`plugin_calls`, JSON), so an operator sees why it failed without the server log.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let add = Table::alter().table("conversions").add_column(json_null("plugin_calls")).to_owned();
        manager.alter_table(add).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("conversions").drop_column("plugin_calls").to_owned()).await
    }
}
