//! One counter, `config_version.version`, that every change to what the commission
//! engine reads (campaigns, groups, rates, memberships, plugin bindings) increments
//! in its own transaction. Hosts cache that configuration and drop the cache when
//! the counter moves, so several hosts on one database stay in step.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("config_version")
                    .col(integer("id").primary_key())
                    .col(big_integer("version"))
                    .to_owned(),
            )
            .await?;
        let seed = Query::insert()
            .into_table("config_version")
            .columns(["id", "version"])
            .values_panic([1.into(), 0.into()])
            .to_owned();
        manager.exec_stmt(seed).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("config_version").to_owned()).await
    }
}
