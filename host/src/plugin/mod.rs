//! The sandboxed plugin runtime.
//!
//! A call's path: [`Registry::get`] hands out the active [`LoadedPlugin`]; a hook
//! method of [`PluginEngine`] (e.g. [`PluginEngine::distribute`]) runs it through
//! `call::call`, which makes a fresh store with the plugin's [`Limits`], instantiates
//! from the plugin's `InstancePre`, calls the export through the contract version's
//! module (`v0_1`), maps traps to a typed [`CallError`](crate::error::CallError), and
//! checks the result with `validate` before returning it.

mod cache;
mod call;
mod engine;
mod limits;
mod registry;
mod v0_1;
mod validate;

pub use call::{Grants, Invocation, LogRecord, Outcome, StatsSource, Usage};
pub use engine::{LoadedPlugin, PluginEngine};
pub use registry::{PluginInfo, Registry};
pub use upline_package::versions::SUPPORTED as SUPPORTED_API_VERSIONS;
pub use upline_package::{
    API_VERSION_SECTION, Capability, Digest, Hook, Limit, Limits, MANIFEST_SECTION, Manifest, Package, PluginId, pack,
};
pub use validate::OVER_TOTAL;
