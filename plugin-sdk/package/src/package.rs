//! Plugin packages: one WebAssembly component carrying its manifest and API version
//! in custom sections, so a package is one self-describing, content-addressed file.

use std::fmt;

use sha2::{Digest as _, Sha256};
use wasm_encoder::{CustomSection, Section};
use wasmparser::{Parser, Payload};

use crate::error::{Error, Result};
use crate::manifest::{Hook, Manifest, PluginToml};
use crate::versions;

/// The custom section holding the manifest (JSON), added by [`pack`].
pub const MANIFEST_SECTION: &str = "upline:manifest";
/// The custom section holding the API version, written by the SDK's export macro.
pub const API_VERSION_SECTION: &str = "upline:api-version";
/// The custom section listing the hooks (as SDK trait names), written by the SDK's
/// export macro.
pub const HOOKS_SECTION: &str = "upline:hooks";

/// The interface through which a plugin describes and checks its configuration.
const CONFIG_INTERFACE: &str = "config";

/// The contract version the SDK builds plugins against, and its WIT: [`pack`] narrows
/// its world to the hooks a plugin exports.
const BUILT_CONTRACT: (&str, &str) = ("0.2.0", include_str!("../../wit/since_v0.2.0/plugin.wit"));

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
        let api_version = sections.api_version()?;
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
    hooks: Option<Vec<u8>>,
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
                    HOOKS_SECTION => &mut sections.hooks,
                    _ => continue,
                };
                if slot.replace(section.data().to_vec()).is_some() {
                    return Err(Error::InvalidWasm(format!("the `{}` custom section appears twice", section.name())));
                }
            }
        }
        Ok(sections)
    }

    /// The contract version the plugin was built against, when this host supports it.
    fn api_version(&self) -> Result<semver::Version> {
        let bytes = self.api_version.as_deref().ok_or(Error::MissingSection(API_VERSION_SECTION))?;
        let version = std::str::from_utf8(bytes).ok().and_then(|text| semver::Version::parse(text.trim()).ok());
        let version = version.ok_or_else(|| Error::UnsupportedApiVersion {
            found: String::from_utf8_lossy(bytes).into_owned(),
            supported: versions::SUPPORTED.into(),
        })?;
        versions::check(&version)?;
        Ok(version)
    }

    /// The hooks `export_plugin!` listed.
    fn hooks(&self) -> Result<Vec<Hook>> {
        let bytes = self.hooks.as_deref().ok_or(Error::MissingSection(HOOKS_SECTION))?;
        String::from_utf8_lossy(bytes)
            .split_whitespace()
            .map(|name| {
                Hook::ALL.into_iter().find(|hook| hook.sdk_trait() == name).ok_or_else(|| {
                    Error::InvalidWasm(format!("the `{HOOKS_SECTION}` section names `{name}`, which is no hook"))
                })
            })
            .collect()
    }
}

/// Makes a package of a core module built with the SDK: joins what `plugin.toml`
/// says (`about`) and the crate's `version` with the contract version and hooks that
/// `export_plugin!` recorded in the module, makes a component exporting those hooks
/// and no others, and embeds the manifest.
pub fn pack(module: &[u8], about: PluginToml, version: semver::Version) -> Result<Package> {
    if !Parser::is_core_wasm(module) {
        return Err(Error::InvalidWasm("expected the core module that cargo built for wasm32-unknown-unknown".into()));
    }
    let sections = Sections::read(module)?;
    let manifest = Manifest::new(about, version, sections.api_version()?, sections.hooks()?)?;
    let mut component = component_exporting(module, &manifest)?;
    let manifest = manifest.to_json();
    CustomSection { name: MANIFEST_SECTION.into(), data: manifest.as_slice().into() }.append_to(&mut component);
    Package::parse(component)
}

/// The component of `module` whose world exports just the manifest's hooks, and
/// `config` (which every SDK plugin exports).
fn component_exporting(module: &[u8], manifest: &Manifest) -> Result<Vec<u8>> {
    let (contract, wit) = BUILT_CONTRACT;
    if manifest.api_version.to_string() != contract {
        return Err(Error::Build(format!(
            "the module was built against contract {}; this tool packs plugins built with the SDK of contract {contract}",
            manifest.api_version
        )));
    }
    let failed = |err: anyhow::Error| Error::Build(format!("cannot make a component of the module: {err:#}"));
    let (module, _) = wit_component::metadata::decode(module).map_err(failed)?;
    let mut module = module.ok_or_else(|| {
        Error::Build("the module carries no WIT bindings: is `export_plugin!` in the crate's lib.rs?".into())
    })?;
    let mut resolve = wit_parser::Resolve::default();
    let package = resolve.push_source("plugin.wit", wit).map_err(failed)?;
    let world = resolve.select_world(&[package], Some("plugin")).map_err(failed)?;
    let exported: Vec<&str> = manifest.hooks.iter().map(|hook| hook.interface()).chain([CONFIG_INTERFACE]).collect();
    let interfaces = &resolve.interfaces;
    resolve.worlds[world].exports.retain(|key, _| match key {
        wit_parser::WorldKey::Interface(id) => interfaces[*id].name.as_deref().is_some_and(|n| exported.contains(&n)),
        wit_parser::WorldKey::Name(_) => false,
    });
    wit_component::embed_component_metadata(&mut module, &resolve, world, wit_component::StringEncoding::UTF8)
        .map_err(failed)?;
    wit_component::ComponentEncoder::default()
        .module(&module)
        .and_then(|encoder| encoder.validate(true).encode())
        .map_err(failed)
}
