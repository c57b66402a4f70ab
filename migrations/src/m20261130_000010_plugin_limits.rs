//! An operator's limits belong to the plugin, not to one of its versions: they move
//! from the active package row to `plugin_limits`, so activating another version
//! keeps them. A plugin without a row runs each version with its manifest's limits.
//! And a plugin has at most one active version, which a partial unique index now
//! guarantees (should two be active, the one with the lowest digest stays so).

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
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE plugin_packages SET active = FALSE WHERE active AND digest NOT IN \
             (SELECT MIN(digest) FROM plugin_packages WHERE active GROUP BY plugin_id)",
        )
        .await?;
        db.execute_unprepared("CREATE UNIQUE INDEX ux_packages_active ON plugin_packages (plugin_id) WHERE active")
            .await?;
        db.execute_unprepared(
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
        manager.get_connection().execute_unprepared("DROP INDEX ux_packages_active").await?;
        manager.drop_table(Table::drop().table("plugin_limits").to_owned()).await
    }
}
