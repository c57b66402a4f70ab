//! Upline plugin packages, without the server: what a plugin is (its [`Manifest`]
//! and [`Limits`]), which contract versions exist ([`versions`]), how a package is
//! read and made ([`Package`], [`pack`]), and how a plugin crate is built into one
//! ([`build`]). The host loads packages with it; `cargo xtask` and `upline plugin
//! build` build them with it, so building plugins does not compile the server.

pub mod build;
mod error;
mod limits;
mod manifest;
mod package;
pub mod versions;

pub use error::{Error, Result};
pub use limits::{Limit, Limits};
pub use manifest::{Capability, Hook, Manifest, PluginId, PluginToml, check_config_schema};
pub use package::{API_VERSION_SECTION, Digest, HOOKS_SECTION, MANIFEST_SECTION, Package, pack};
