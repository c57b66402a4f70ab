//! `awards`: badges and perks rule plugins gave affiliates (recorded and shown, not paid).

use sea_orm::entity::prelude::*;

/// An award.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "awards")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The campaign whose rule gave it.
    pub campaign_id: i64,
    /// Who got it.
    pub affiliate_id: i64,
    /// Its name, e.g. `Gold badge`.
    pub name: String,
    /// What it is.
    pub description: String,
    /// The rule plugin that gave it, `id@version`.
    pub plugin: String,
    /// The conversion that earned it; none at a period end.
    pub conversion_id: Option<i64>,
    /// When.
    pub created_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
