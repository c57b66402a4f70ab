//! What the operator grants a plugin per campaign (e.g. `exceed-total`), beyond the
//! logging every plugin gets: a JSON list of capability names; null for none.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let add = Table::alter().table("plugin_bindings").add_column(json_null("grants")).to_owned();
        manager.alter_table(add).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let drop = Table::alter().table("plugin_bindings").drop_column("grants").to_owned();
        manager.alter_table(drop).await
    }
}
