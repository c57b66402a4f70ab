//! Reversals now follow their original commission (`service::lifecycle`). Before,
//! a reversal of a pending commission stayed pending with no hold of its own, so one
//! whose original has since been decided could never be decided: it takes its
//! original's status now (approved for an approved or paid original, declined for a
//! declined one), and one whose original still waits takes the original's hold and
//! event.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for statement in [
            "UPDATE commissions SET status = 'approved' WHERE status = 'pending' AND reverses_id IN \
             (SELECT id FROM commissions WHERE status IN ('approved', 'paid'))",
            "UPDATE commissions SET status = 'declined' WHERE status = 'pending' AND reverses_id IN \
             (SELECT id FROM commissions WHERE status = 'declined')",
            "UPDATE commissions SET \
             hold_until = (SELECT original.hold_until FROM commissions original WHERE original.id = commissions.reverses_id), \
             waiting_for = (SELECT original.waiting_for FROM commissions original WHERE original.id = commissions.reverses_id) \
             WHERE status = 'pending' AND reverses_id IS NOT NULL",
        ] {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // The statuses it set are the ones the lifecycle gives reversals now.
        Ok(())
    }
}
