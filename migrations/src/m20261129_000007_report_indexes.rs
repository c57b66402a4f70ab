//! Indexes for reports per affiliate and period (an affiliate's ten-year report reads
//! its own rows, not every row), for revoking an affiliate's sessions, and one unused
//! index less on clicks (nothing looks clicks up by campaign and visitor).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn index(name: &str, table: &'static str, columns: [&'static str; 2]) -> IndexCreateStatement {
    Index::create().name(name).table(table).col(columns[0]).col(columns[1]).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in
            [("ix_clicks_campaign_visitor", "clicks"), ("ix_commissions_affiliate_status", "commissions")]
        {
            manager.drop_index(Index::drop().name(name).table(table).to_owned()).await?;
        }
        for (name, table, columns) in [
            ("ix_clicks_affiliate_created", "clicks", ["affiliate_id", "created_at"]),
            ("ix_conversions_affiliate_created", "conversions", ["affiliate_id", "created_at"]),
            ("ix_commissions_affiliate_created", "commissions", ["affiliate_id", "created_at"]),
            ("ix_sessions_affiliate", "affiliate_sessions", ["affiliate_id", "expires_at"]),
        ] {
            manager.create_index(index(name, table, columns)).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            ("ix_clicks_affiliate_created", "clicks"),
            ("ix_conversions_affiliate_created", "conversions"),
            ("ix_commissions_affiliate_created", "commissions"),
            ("ix_sessions_affiliate", "affiliate_sessions"),
        ] {
            manager.drop_index(Index::drop().name(name).table(table).to_owned()).await?;
        }
        manager.create_index(index("ix_clicks_campaign_visitor", "clicks", ["campaign_id", "visitor"])).await?;
        manager.create_index(index("ix_commissions_affiliate_status", "commissions", ["affiliate_id", "status"])).await
    }
}
