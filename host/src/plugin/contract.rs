//! The contract versions a plugin can be built against, as one enum with one impl:
//! each hook call goes to the module of the plugin's version (`v0_1`), which
//! converts between that version's generated bindings and the host's types. A new
//! contract version is a new module, a variant and an arm per hook here.

use upline_package::Hook;
use upline_package::versions::ApiVersion;
use upline_types as sdk;
use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre, Linker};

use super::call::CallState;
use super::v0_1;
use crate::error::Result;

/// The hook exports of a loaded plugin, by contract version.
pub enum Exports {
    /// `upline:plugin@0.1.*`
    V0_1(v0_1::Exports),
}

/// Adds every version's imports to `linker`.
pub fn add_to_linker(linker: &mut Linker<CallState>) -> Result<()> {
    v0_1::add_to_linker(linker)
}

impl Exports {
    /// Looks up the exports of `hooks` in the bindings of version `api`.
    pub fn new(api: ApiVersion, pre: &InstancePre<CallState>, hooks: &[Hook]) -> Result<Self> {
        Ok(match api {
            ApiVersion::V0_1 => Exports::V0_1(v0_1::Exports::new(pre, hooks)?),
        })
    }

    /// Calls `distribute`.
    pub fn distribute(
        &self,
        store: &mut Store<CallState>,
        instance: &Instance,
        input: &sdk::DistributeInput,
        config: &str,
    ) -> wasmtime::Result<Result<Vec<sdk::CommissionLine>, String>> {
        match self {
            Exports::V0_1(exports) => exports.distribute(store, instance, input, config),
        }
    }

    /// Calls `approve`.
    pub fn approve(
        &self,
        store: &mut Store<CallState>,
        instance: &Instance,
        input: &sdk::ApprovalInput,
        config: &str,
    ) -> wasmtime::Result<Result<sdk::Decision, String>> {
        match self {
            Exports::V0_1(exports) => exports.approve(store, instance, input, config),
        }
    }

    /// Calls `close-period`.
    pub fn close_period(
        &self,
        store: &mut Store<CallState>,
        instance: &Instance,
        input: &sdk::CarryoverInput,
        config: &str,
    ) -> wasmtime::Result<Result<Vec<sdk::Adjustment>, String>> {
        match self {
            Exports::V0_1(exports) => exports.close_period(store, instance, input, config),
        }
    }

    /// Calls `evaluate` (bonus rules).
    pub fn evaluate(
        &self,
        store: &mut Store<CallState>,
        instance: &Instance,
        input: &sdk::BonusInput,
        config: &str,
    ) -> wasmtime::Result<Result<Vec<sdk::Action>, String>> {
        match self {
            Exports::V0_1(exports) => exports.evaluate(store, instance, input, config),
        }
    }
}
