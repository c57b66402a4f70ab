//! Lifetime commissions, a campaign setting: a customer (the conversion's `customer`
//! reference) stays bound to the affiliate of their first conversion, for ever or for
//! `lifetime_days`, and later conversions without a click or coupon are credited to
//! that affiliate. The binding is that first conversion itself (found by the
//! `(campaign_id, customer)` index), so no table of its own.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        let enabled = boolean("lifetime_commissions").default(false).to_owned();
        for column in [enabled, integer_null("lifetime_days")] {
            manager.alter_table(Table::alter().table("campaigns").add_column(column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let drop = Table::alter()
            .table("campaigns")
            .drop_column("lifetime_commissions")
            .drop_column("lifetime_days")
            .to_owned();
        manager.alter_table(drop).await
    }
}
