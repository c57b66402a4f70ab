//! The sandboxed plugin runtime.
//!
//! A call's path: [`Registry::get`] hands out the active [`LoadedPlugin`];
//! [`PluginEngine::call`] runs one hook of it (a [`HookKind`], one file each under
//! `hooks/`: its input, output and checks) through `call::call`, which makes a fresh
//! store with the plugin's [`Limits`], instantiates from the plugin's `InstancePre`,
//! runs the export in the plugin's contract version (`contract.rs`, then `v0_1.rs` or `v0_2.rs`),
//! maps traps to a typed [`CallError`](crate::error::CallError), and checks the
//! result with the hook's `check` before returning it.

mod cache;
mod call;
mod contract;
mod engine;
pub mod hooks;
mod limits;
mod registry;
mod shared;
mod v0_1;
mod v0_2;

pub use call::{CallReport, CallTrace, Grants, Invocation, LogRecord, NoStatistics, Outcome, StatsSource, Usage};
pub use engine::{LoadedPlugin, PluginEngine};
pub use hooks::{Approve, BonusRules, Carryover, Distribute, HookKind, OVER_TOTAL, Progress, Screen};
pub use registry::{PluginInfo, Registry};
pub use upline_package::{
    API_VERSION_SECTION, Capability, Digest, HOOKS_SECTION, Hook, Limit, Limits, MANIFEST_SECTION, Manifest, Package,
    PluginId, PluginToml, pack,
};
