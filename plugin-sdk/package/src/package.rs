//! Plugin packages: one WebAssembly component carrying its manifest and API version
//! in custom sections, so a package is one self-describing, content-addressed file.

use std::fmt;

use sha2::{Digest as _, Sha256};
use wasm_encoder::{CustomSection, Section};
use wasmparser::{Parser, Payload};

use crate::error::{Error, Result};
use crate::manifest::Manifest;
use crate::versions;

/// The custom section holding the manifest (JSON), added by [`pack`].
pub const MANIFEST_SECTION: &str = "upline:manifest";
/// The custom section holding the API version, written by the SDK's export macro.
pub const API_VERSION_SECTION: &str = "upline:api-version";

/// The SHA-256 of a package's bytes, its identity (the database's key for it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Digest(String);

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(hex::encode(Sha256::digest(bytes)))
    }

    /// The hex digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.0)
    }
}

/// A package whose sections have been read and checked, not yet compiled.
#[derive(Debug, Clone)]
pub struct Package {
    /// The component bytes.
    pub bytes: Vec<u8>,
    /// Their digest.
    pub digest: Digest,
    /// The embedded manifest.
    pub manifest: Manifest,
}

impl Package {
    /// Reads and checks a package without compiling it: WebAssembly validity, that it
    /// is a component, the API version (before anything is compiled) and the manifest.
    pub fn parse(bytes: Vec<u8>) -> Result<Self> {
        if !Parser::is_component(&bytes) {
            return Err(if Parser::is_core_wasm(&bytes) {
                Error::NotAComponent
            } else {
                Error::InvalidWasm("the file does not start with the WebAssembly component header".into())
            });
        }
        let sections = Sections::read(&bytes)?;
        let api_version = sections.api_version.ok_or(Error::MissingSection(API_VERSION_SECTION))?;
        let api_version = std::str::from_utf8(&api_version)
            .ok()
            .and_then(|text| semver::Version::parse(text.trim()).ok())
            .ok_or_else(|| Error::UnsupportedApiVersion {
                found: String::from_utf8_lossy(&api_version).into_owned(),
                supported: versions::SUPPORTED.into(),
            })?;
        versions::check(&api_version)?;
        let manifest = Manifest::from_json(&sections.manifest.ok_or(Error::MissingSection(MANIFEST_SECTION))?)?;
        if manifest.api_version != api_version {
            return Err(Error::InvalidManifest {
                field: "api-version".into(),
                message: format!("says {} but the component was built against {api_version}", manifest.api_version),
            });
        }
        wasmparser::Validator::new().validate_all(&bytes).map_err(|err| Error::InvalidWasm(err.to_string()))?;
        Ok(Self { digest: Digest::of(&bytes), bytes, manifest })
    }
}

/// The custom sections the host reads before compiling.
#[derive(Default)]
struct Sections {
    manifest: Option<Vec<u8>>,
    api_version: Option<Vec<u8>>,
}

impl Sections {
    /// Reads the sections anywhere in the component: the SDK puts the API version in
    /// the core module, [`pack`] puts the manifest at the top level.
    fn read(bytes: &[u8]) -> Result<Self> {
        let mut sections = Sections::default();
        for payload in Parser::new(0).parse_all(bytes) {
            let payload = payload.map_err(|err| Error::InvalidWasm(err.to_string()))?;
            if let Payload::CustomSection(section) = payload {
                let slot = match section.name() {
                    MANIFEST_SECTION => &mut sections.manifest,
                    API_VERSION_SECTION => &mut sections.api_version,
                    _ => continue,
                };
                if slot.replace(section.data().to_vec()).is_some() {
                    return Err(Error::InvalidWasm(format!("the `{}` custom section appears twice", section.name())));
                }
            }
        }
        Ok(sections)
    }
}

/// Makes a package: turns a core module built with the SDK into a component (a
/// component is taken as it is) and embeds `manifest`.
pub fn pack(wasm: &[u8], manifest: &Manifest) -> Result<Vec<u8>> {
    let mut component = if Parser::is_core_wasm(wasm) {
        wit_component::ComponentEncoder::default()
            .module(wasm)
            .and_then(|encoder| encoder.validate(true).encode())
            .map_err(|err| Error::Build(format!("cannot make a component of the module: {err:#}")))?
    } else if Parser::is_component(wasm) {
        wasm.to_vec()
    } else {
        return Err(Error::InvalidWasm("neither a core module nor a component".into()));
    };
    if Sections::read(&component)?.manifest.is_some() {
        return Err(Error::Build("the component already carries a manifest".into()));
    }
    let manifest = manifest.to_json();
    CustomSection { name: MANIFEST_SECTION.into(), data: manifest.as_slice().into() }.append_to(&mut component);
    Ok(component)
}
