//! Operator accounts for the merchant console: an e-mail and an Argon2id password
//! hash, and their browser sessions (a random token per login, stored as its
//! SHA-256, as affiliates' are). API keys stay for machines.

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
                    .table("operators")
                    .col(big_pk_auto("id"))
                    .col(string("email").unique_key())
                    .col(string("password_hash"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("operator_sessions")
                    .col(string("token_hash").primary_key())
                    .col(big_integer("operator_id"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_operator_sessions_operator")
                            .from("operator_sessions", "operator_id")
                            .to("operators", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("operator_sessions").to_owned()).await?;
        manager.drop_table(Table::drop().table("operators").to_owned()).await
    }
}
