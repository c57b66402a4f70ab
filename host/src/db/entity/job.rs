//! `jobs`: the durable schedule. One row per recurring task (hold release, a
//! campaign's period close and period end, a subscription's payments), due at
//! `due_at`, held by at most one host at a time through its lease.

use sea_orm::entity::prelude::*;

/// A job row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Unique: `hold-release`, `period-close:<campaign>`, `period-end:<campaign>`,
    /// `subscription:<id>`.
    pub key: String,
    /// `hold-release`, `period-close`, `period-end` or `subscription`.
    pub kind: String,
    /// The campaign it works for, if one.
    pub campaign_id: Option<i64>,
    /// The subscription it pays, if one.
    pub subscription_id: Option<i64>,
    /// When its next run falls due: the run covers what was due then (a period
    /// before it, a payment at it), however late it happens.
    pub due_at: DateTimeUtc,
    /// After a failed attempt, not before this time.
    pub retry_at: Option<DateTimeUtc>,
    /// `scheduled`, `failed` (gave up after its attempts; an operator re-runs it) or
    /// `done` (nothing more to run).
    pub state: String,
    /// The claim of the host running it: the fencing token its writes check.
    pub lease_owner: Option<String>,
    /// Until when that claim holds; past it another host may take the job over.
    pub lease_until: Option<DateTimeUtc>,
    /// Failed attempts at the current run.
    pub attempts: i32,
    /// Runs completed.
    pub runs: i64,
    /// When it last ran.
    pub last_run_at: Option<DateTimeUtc>,
    /// `ok` or `failed`.
    pub last_outcome: Option<String>,
    /// The last failure's reason.
    pub last_error: Option<String>,
    /// When it was scheduled first.
    pub created_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
