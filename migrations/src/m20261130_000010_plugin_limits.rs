//! An operator's limits belong to the plugin, not to one of its versions: they move
//! from the active package row to `plugin_limits`, so activating another version
//! keeps them. A plugin without a row runs each version with its manifest's limits.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::create()
            .table("plugin_limits")
            .col(string("plugin_id").primary_key())
            .col(json("limits"))
            .to_owned();
        manager.create_table(table).await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO plugin_limits (plugin_id, limits) \
                 SELECT plugin_id, limits FROM plugin_packages WHERE active AND limits IS NOT NULL",
            )
            .await?;
        manager.alter_table(Table::alter().table("plugin_packages").drop_column("limits").to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let add = Table::alter().table("plugin_packages").add_column(json_null("limits")).to_owned();
        manager.alter_table(add).await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE plugin_packages SET limits = \
                 (SELECT limits FROM plugin_limits WHERE plugin_limits.plugin_id = plugin_packages.plugin_id) \
                 WHERE active",
            )
            .await?;
        manager.drop_table(Table::drop().table("plugin_limits").to_owned()).await
    }
}
