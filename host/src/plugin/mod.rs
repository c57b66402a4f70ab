//! The sandboxed plugin runtime.
//!
//! A call's path: [`Registry::get`] hands out the active [`LoadedPlugin`]; a hook
//! method of [`PluginEngine`] (e.g. [`PluginEngine::distribute`]) runs it through
//! `call::call`, which makes a fresh store with the plugin's [`Limits`], instantiates
//! from the plugin's `InstancePre`, calls the export through the contract version's
//! module (`v0_1`), maps traps to a typed [`CallError`](crate::error::CallError), and
//! checks the result with `validate` before returning it.

pub mod build;
mod call;
mod engine;
mod limits;
mod manifest;
mod package;
mod registry;
mod store;
mod v0_1;
mod validate;
mod versions;

pub use call::{Grants, Invocation, LogRecord, Outcome, StatsSource, Usage};
pub use engine::{LoadedPlugin, PluginEngine};
pub use limits::{Limit, Limits};
pub use manifest::{Capability, Hook, Manifest, PluginId};
pub use package::{API_VERSION_SECTION, Digest, MANIFEST_SECTION, Package, pack};
pub use registry::{PluginInfo, Registry};
pub use validate::OVER_TOTAL;
pub use versions::SUPPORTED as SUPPORTED_API_VERSIONS;
