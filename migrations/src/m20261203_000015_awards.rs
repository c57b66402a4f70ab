//! Awards (badges, perks) and notifications that rule plugins give affiliates, in
//! tables of their own (until now they went to the audit log only): operators list
//! them, and each affiliate sees theirs in the panel.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261123_000001_init::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns both tables share, then `columns`.
fn table(name: &'static str, columns: Vec<ColumnDef>) -> TableCreateStatement {
    let mut table = Table::create();
    table.table(name).col(big_pk_auto("id")).col(big_integer("campaign_id")).col(big_integer("affiliate_id"));
    for column in columns {
        table.col(column);
    }
    table
        .col(string("plugin"))
        .col(big_integer_null("conversion_id"))
        .col(timestamp_with_time_zone("created_at"))
        .foreign_key(ForeignKey::create().from(name, "campaign_id").to("campaigns", "id"))
        .foreign_key(ForeignKey::create().from(name, "affiliate_id").to("affiliates", "id"))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(table("awards", vec![string("name"), text("description")])).await?;
        manager.create_table(table("notifications", vec![text("message")])).await?;
        for name in ["awards", "notifications"] {
            let by_affiliate = format!("ix_{name}_affiliate");
            manager.create_index(index(&by_affiliate, name, &["affiliate_id", "id"])).await?;
            manager.create_index(index(&format!("ix_{name}_campaign"), name, &["campaign_id", "id"])).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("notifications").to_owned()).await?;
        manager.drop_table(Table::drop().table("awards").to_owned()).await
    }
}
