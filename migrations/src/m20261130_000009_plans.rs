//! Plans made before the write: a conversion whose plan failed names the plugin and
//! version that failed (`failed_plugin`, `failed_version`, the reason in `error`), so
//! it can be reprocessed once the plugin or its configuration is fixed; and campaigns
//! get an approval setting for when no approval plugin is enabled (`automatic`: when
//! the hold ends, at once without one; `manual`: an operator decides).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for alter in [
            Table::alter().table("conversions").add_column(string_null("failed_plugin")).to_owned(),
            Table::alter().table("conversions").add_column(string_null("failed_version")).to_owned(),
            Table::alter().table("campaigns").add_column(string("approval").default("automatic")).to_owned(),
        ] {
            manager.alter_table(alter).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in
            [("conversions", "failed_plugin"), ("conversions", "failed_version"), ("campaigns", "approval")]
        {
            manager.alter_table(Table::alter().table(table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
