//! The plugin contract versions this host loads. Each released WIT version has a
//! module (`v0_1`, ...); a plugin's version is read from its package before it is
//! compiled, and picks the module that calls it.

use crate::error::{Error, Result};
use crate::manifest::Hook;

/// The versions this host loads, for error messages.
pub const SUPPORTED: &str = "0.1.x, 0.2.x";

/// A supported contract version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    /// `upline:plugin@0.1.*`
    V0_1,
    /// `upline:plugin@0.2.*`: adds `screen`, the customer reference, named periods
    /// and `progress`.
    V0_2,
}

impl ApiVersion {
    /// The hooks a plugin of this version may implement.
    pub fn hooks(self) -> &'static [Hook] {
        match self {
            ApiVersion::V0_1 => &Hook::ALL[1..],
            ApiVersion::V0_2 => &Hook::ALL,
        }
    }

    /// True when plugins of this version carry their configuration schema in their
    /// manifest; later ones describe and check their configuration in code (the
    /// `config` export).
    pub fn config_in_manifest(self) -> bool {
        self == ApiVersion::V0_1
    }
}

/// The supported version `version` belongs to.
pub fn check(version: &semver::Version) -> Result<ApiVersion> {
    match (version.major, version.minor) {
        (0, 1) => Ok(ApiVersion::V0_1),
        (0, 2) => Ok(ApiVersion::V0_2),
        _ => Err(Error::UnsupportedApiVersion { found: version.to_string(), supported: SUPPORTED.into() }),
    }
}
