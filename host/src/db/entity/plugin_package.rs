//! `plugin_packages`: every installed package, the one source of what is installed
//! and active, so all hosts on one database run the same plugins and versions.

use sea_orm::entity::prelude::*;

/// A package row.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "plugin_packages")]
pub struct Model {
    /// Hex SHA-256 of the package.
    #[sea_orm(primary_key, auto_increment = false)]
    pub digest: String,
    /// Plugin id.
    pub plugin_id: String,
    /// Version.
    pub version: String,
    /// The manifest, for reading without the bytes.
    pub manifest: Json,
    /// The package.
    pub bytes: Vec<u8>,
    /// The version calls use.
    pub active: bool,
    /// When it was installed.
    pub installed_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
