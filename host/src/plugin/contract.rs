//! The contract versions a plugin can be built against, as one enum: each hook's
//! `run` (in `hooks/`) sends its call to the module of the plugin's version (`v0_1`, `v0_2`),
//! which converts between that version's generated bindings and the host's types. A
//! new contract version is a new module, a variant here and an arm in each hook.

use upline_package::Hook;
use upline_package::versions::ApiVersion;
use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre, Linker};

use super::call::CallState;
use super::{v0_1, v0_2};
use crate::error::Result;

/// A plugin's answer about a configuration: it reads it, or the field (a JSON
/// Pointer) and why not.
pub type ConfigCheck = Result<(), (String, String)>;

/// The hook exports of a loaded plugin, by contract version.
pub enum Exports {
    /// `upline:plugin@0.1.*`
    V0_1(v0_1::Exports),
    /// `upline:plugin@0.2.*`
    V0_2(v0_2::Exports),
}

/// Adds every version's imports to `linker`.
pub fn add_to_linker(linker: &mut Linker<CallState>) -> Result<()> {
    v0_1::add_to_linker(linker)?;
    v0_2::add_to_linker(linker)
}

impl Exports {
    /// Looks up the exports of `hooks` in the bindings of version `api`.
    pub fn new(api: ApiVersion, pre: &InstancePre<CallState>, hooks: &[Hook]) -> Result<Self> {
        Ok(match api {
            ApiVersion::V0_1 => Exports::V0_1(v0_1::Exports::new(pre, hooks)?),
            ApiVersion::V0_2 => Exports::V0_2(v0_2::Exports::new(pre, hooks)?),
        })
    }

    /// True when the plugin describes and checks its configuration itself (the
    /// `config` export); a 0.1 plugin's schema is in its manifest.
    pub fn has_config(&self) -> bool {
        matches!(self, Exports::V0_2(_))
    }

    /// Calls `config.schema`.
    pub fn config_schema(
        &self,
        store: &mut Store<CallState>,
        instance: &Instance,
    ) -> wasmtime::Result<Result<String, String>> {
        match self {
            Exports::V0_1(_) => Ok(Err(NO_CONFIG_EXPORT.into())),
            Exports::V0_2(exports) => exports.config_schema(store, instance),
        }
    }

    /// Calls `config.check`: Ok, or the field (a JSON Pointer) and why.
    pub fn check_config(
        &self,
        store: &mut Store<CallState>,
        instance: &Instance,
        config: &str,
    ) -> wasmtime::Result<Result<ConfigCheck, String>> {
        match self {
            Exports::V0_1(_) => Ok(Err(NO_CONFIG_EXPORT.into())),
            Exports::V0_2(exports) => exports.check_config(store, instance, config),
        }
    }
}

const NO_CONFIG_EXPORT: &str = "contract 0.1 has no `config` export";
