//! `plugin_limits`: the limits an operator set for a plugin, whichever version of it
//! is active.

use sea_orm::entity::prelude::*;

/// One plugin's limits.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "plugin_limits")]
pub struct Model {
    /// Plugin id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub plugin_id: String,
    /// Its `Limits`, as JSON.
    pub limits: Json,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
