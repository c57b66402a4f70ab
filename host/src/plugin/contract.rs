//! The contract versions a plugin can be built against, as one enum: each hook's
//! `run` (in `hooks/`) sends its call to the module of the plugin's version (`v0_1`, `v0_2`),
//! which converts between that version's generated bindings and the host's types. A
//! new contract version is a new module, a variant here and an arm in each hook.

use upline_package::Hook;
use upline_package::versions::ApiVersion;
use wasmtime::component::{InstancePre, Linker};

use super::call::CallState;
use super::{v0_1, v0_2};
use crate::error::Result;

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
}
