//! An affiliate's own customer reference in the merchant's shop (a hashed customer
//! id or e-mail address, as the merchant sends a conversion's `customer`), so screen
//! plugins can tell when the affiliate is the buyer.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let column = string_null("customer").to_owned();
        manager.alter_table(Table::alter().table("affiliates").add_column(column).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("affiliates").drop_column("customer").to_owned()).await
    }
}
