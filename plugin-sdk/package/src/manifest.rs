//! The plugin manifest: what a plugin is, which hooks it implements, what it asks
//! for, and the JSON Schema of its per-campaign configuration.
//!
//! Each fact has one home: authors write in `plugin.toml` ([`PluginToml`]) only what
//! has no other (id, name, description, capabilities, limits, the configuration
//! schema, which may be a path to a JSON file); the version comes from `Cargo.toml`,
//! the contract version and the hooks from `export_plugin!` in the code. `upline
//! plugin build` joins them into a [`Manifest`] and embeds it in the component as
//! JSON, with the schema inlined, in the `upline:manifest` custom section.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::limits::Limits;

/// A plugin's id: 2 to 64 characters of lower-case letters, digits and `-`,
/// starting with a letter (e.g. `variable-tier`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PluginId(String);

impl PluginId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for PluginId {
    type Err = String;
    fn from_str(id: &str) -> Result<Self, String> {
        let valid = (2..=64).contains(&id.len())
            && id.starts_with(|c: char| c.is_ascii_lowercase())
            && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if valid {
            Ok(Self(id.to_owned()))
        } else {
            Err(format!(
                "`{id}` is not a plugin id (2 to 64 lower-case letters, digits and `-`, starting with a letter)"
            ))
        }
    }
}

impl TryFrom<String> for PluginId {
    type Error = String;
    fn try_from(id: String) -> Result<Self, String> {
        id.parse()
    }
}

impl From<PluginId> for String {
    fn from(id: PluginId) -> String {
        id.0
    }
}

impl fmt::Display for PluginId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A hook a plugin can implement; each is one interface of the WIT world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Hook {
    /// Screening before distribution (contract 0.2).
    Screen,
    /// Tier distribution.
    Distribute,
    /// Approval policy.
    Approve,
    /// Period close (negative carryover and other adjustments).
    Carryover,
    /// Performance rewards.
    BonusRules,
}

impl Hook {
    /// Every hook.
    pub const ALL: [Hook; 5] = [Hook::Screen, Hook::Distribute, Hook::Approve, Hook::Carryover, Hook::BonusRules];

    /// The SDK trait that implements it, as `export_plugin!` lists it.
    pub fn sdk_trait(self) -> &'static str {
        match self {
            Hook::Screen => "Screen",
            Hook::Distribute => "Distribute",
            Hook::Approve => "Approve",
            Hook::Carryover => "Carryover",
            Hook::BonusRules => "BonusRules",
        }
    }

    /// The hook's WIT interface name.
    pub fn interface(self) -> &'static str {
        match self {
            Hook::Screen => "screen",
            Hook::Distribute => "distribute",
            Hook::Approve => "approve",
            Hook::Carryover => "carryover",
            Hook::BonusRules => "bonus-rules",
        }
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.interface())
    }
}

impl FromStr for Hook {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Hook::ALL.into_iter().find(|hook| hook.interface() == s).ok_or_else(|| {
            format!("unknown hook `{s}` (expected screen, distribute, approve, carryover or bonus-rules)")
        })
    }
}

/// Something beyond the always-granted logging that a plugin asks for. The manifest
/// asks; the operator grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// Read-only aggregate statistics (the `stats` import).
    Stats,
    /// Distribute more than the conversion's commissionable total in total.
    ExceedTotal,
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Capability::Stats => "stats",
            Capability::ExceedTotal => "exceed-total",
        })
    }
}

/// What a plugin's author writes in `plugin.toml`: what has no other home.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PluginToml {
    /// Unique id.
    pub id: PluginId,
    /// Display name.
    pub name: String,
    /// What it does, for operators.
    #[serde(default)]
    pub description: String,
    /// What it asks for beyond logging.
    #[serde(default)]
    pub capabilities: Vec<Capability>,
    /// Its default limits per call; the host caps them.
    #[serde(default)]
    pub limits: Limits,
}

/// Keys of earlier `plugin.toml` files whose facts now live elsewhere, and where.
const MOVED: [(&str, &str); 4] = [
    ("version", "the version is the crate's, in Cargo.toml"),
    ("api-version", "the contract version is the SDK's the plugin is built with"),
    ("hooks", "the hooks are the ones `export_plugin!` lists in the code"),
    ("config-schema", "the configuration schema is derived from the plugin's `Config` type (`#[derive(JsonSchema)]`)"),
];

impl PluginToml {
    /// Parses an author's `plugin.toml`.
    pub fn parse(text: &str) -> Result<Self> {
        let invalid = |field: &str, message: String| Error::InvalidManifest { field: field.into(), message };
        let table: toml::Table = toml::from_str(text).map_err(|err| invalid("", err.to_string()))?;
        if let Some((key, home)) = MOVED.iter().find(|(key, _)| table.contains_key(*key)) {
            return Err(invalid(key, format!("remove it from plugin.toml: {home}")));
        }
        serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|err| invalid(&err.path().to_string(), err.inner().to_string()))
    }
}

/// A plugin's manifest, as embedded in its package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Manifest {
    /// Unique id.
    pub id: PluginId,
    /// Display name.
    pub name: String,
    /// The plugin's own version (semver).
    pub version: semver::Version,
    /// The plugin contract version it was built against.
    pub api_version: semver::Version,
    /// What it does, for operators.
    #[serde(default)]
    pub description: String,
    /// The hooks it implements.
    pub hooks: Vec<Hook>,
    /// What it asks for beyond logging.
    #[serde(default)]
    pub capabilities: Vec<Capability>,
    /// JSON Schema of its per-campaign configuration: in the manifest of a contract
    /// 0.1 plugin only; later plugins describe their configuration in code (the
    /// `config` export).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_schema: Option<serde_json::Value>,
    /// Its default limits per call; the host caps them.
    #[serde(default)]
    pub limits: Limits,
}

impl Manifest {
    /// Joins what `plugin.toml` says with the facts from the crate and the code, and
    /// checks the whole.
    pub fn new(
        about: PluginToml,
        version: semver::Version,
        api_version: semver::Version,
        hooks: Vec<Hook>,
    ) -> Result<Self> {
        let PluginToml { id, name, description, capabilities, limits } = about;
        let config_schema = None;
        let manifest =
            Manifest { id, name, version, api_version, description, hooks, capabilities, config_schema, limits };
        manifest.check()?;
        Ok(manifest)
    }

    /// Parses an embedded (JSON) manifest and checks it.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let manifest: Manifest = serde_path_to_error::deserialize(&mut de).map_err(|err| Error::InvalidManifest {
            field: err.path().to_string(),
            message: err.inner().to_string(),
        })?;
        manifest.check()?;
        Ok(manifest)
    }

    /// True when this version is a development build (a pre-release starting with
    /// `dev`, e.g. `0.3.0-dev`), which may be rebuilt and reinstalled without a bump.
    pub fn is_development(&self) -> bool {
        self.version.pre.as_str().starts_with("dev")
    }

    /// The manifest as embedded in a package.
    pub fn to_json(&self) -> Vec<u8> {
        // A Manifest is plain data: serializing it cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// True when the manifest asks for `capability`.
    pub fn requests(&self, capability: Capability) -> bool {
        self.capabilities.contains(&capability)
    }

    fn check(&self) -> Result<()> {
        let invalid = |field: &str, message: String| Error::InvalidManifest { field: field.into(), message };
        if self.name.trim().is_empty() || self.name.len() > 100 {
            return Err(invalid("name", "must be 1 to 100 characters".into()));
        }
        if self.hooks.is_empty() {
            return Err(invalid("hooks", "must list at least one hook".into()));
        }
        if let Some(hook) = self.hooks.iter().enumerate().find_map(|(i, h)| self.hooks[..i].contains(h).then_some(h)) {
            return Err(invalid("hooks", format!("lists `{hook}` twice")));
        }
        if let Ok(api) = crate::versions::check(&self.api_version) {
            if let Some(hook) = self.hooks.iter().find(|hook| !api.hooks().contains(hook)) {
                let message = format!("`{hook}` is a hook of a later contract than {}", self.api_version);
                return Err(invalid("hooks", message));
            }
            match (api.config_in_manifest(), &self.config_schema) {
                (true, Some(schema)) => check_config_schema(schema)?,
                (true, None) => return Err(invalid("config-schema", "a contract 0.1 manifest must have one".into())),
                (false, Some(_)) => {
                    let message = format!(
                        "a contract {} plugin's configuration schema comes from its code (the `config` export), \
                         not its manifest",
                        self.api_version
                    );
                    return Err(invalid("config-schema", message));
                }
                (false, None) => {}
            }
        }
        self.limits.check().map_err(|(field, message)| invalid(&format!("limits.{field}"), message))
    }
}

/// Checks that `schema` is a usable JSON Schema for a plugin's configuration.
pub fn check_config_schema(schema: &serde_json::Value) -> Result<()> {
    let invalid = |message: String| Error::InvalidManifest { field: "config-schema".into(), message };
    if !schema.is_object() {
        return Err(invalid("must be a JSON Schema object".into()));
    }
    jsonschema::meta::validate(schema).map_err(|err| invalid(format!("not a valid JSON Schema: {err}")))?;
    jsonschema::validator_for(schema).map_err(|err| invalid(format!("not a usable JSON Schema: {err}")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
        id = "flat-fee"
        name = "Flat fee"
    "#;

    fn version(text: &str) -> semver::Version {
        text.parse().expect("version")
    }

    fn manifest(toml: &str, hooks: Vec<Hook>) -> Result<Manifest> {
        Manifest::new(PluginToml::parse(toml)?, version("1.2.3"), version("0.2.0"), hooks)
    }

    #[test]
    fn joins_plugin_toml_with_the_code_s_facts() {
        let manifest = manifest(GOOD, vec![Hook::Distribute]).expect("valid manifest");
        assert_eq!(manifest.id.as_str(), "flat-fee");
        assert_eq!(manifest.version, version("1.2.3"));
        assert_eq!(manifest.config_schema, None, "the code describes the configuration");
        let round_trip = Manifest::from_json(&manifest.to_json()).expect("round trip");
        assert_eq!(round_trip, manifest);
        assert!(!manifest.is_development());
        assert!(Manifest { version: version("1.2.4-dev.3"), ..manifest }.is_development());
    }

    #[test]
    fn errors_name_the_field() {
        let distribute = || vec![Hook::Distribute];
        let cases = [
            (GOOD.replace("flat-fee", "Flat Fee"), distribute(), "id"),
            (format!("{GOOD}\ncolour = \"red\""), distribute(), "colour"),
            (format!("{GOOD}\n[limits]\nfuel = 0"), distribute(), "limits.fuel"),
            (GOOD.into(), vec![], "hooks"),
            (GOOD.into(), vec![Hook::Approve, Hook::Approve], "hooks"),
        ];
        for (text, hooks, field) in cases {
            match manifest(&text, hooks) {
                Err(Error::InvalidManifest { field: got, message }) => assert_eq!(got, field, "{message}"),
                other => panic!("expected an invalid manifest for `{field}`, got {other:?}"),
            }
        }
        // `screen` came with contract 0.2.
        let about = PluginToml::parse(GOOD).expect("plugin.toml");
        let err = Manifest::new(about, version("1.0.0"), version("0.1.0"), vec![Hook::Screen]).expect_err("0.1");
        assert!(err.to_string().contains("`screen` is a hook of a later contract than 0.1.0"), "{err}");
    }

    #[test]
    fn a_fact_with_another_home_is_refused_with_where_it_lives() {
        let cases = [
            ("version = \"1.0.0\"", "version", "Cargo.toml"),
            ("api-version = \"0.2.0\"", "api-version", "SDK"),
            ("hooks = [\"distribute\"]", "hooks", "export_plugin!"),
            ("config-schema = \"schema.json\"", "config-schema", "`Config` type"),
        ];
        for (line, field, home) in cases {
            let err = PluginToml::parse(&format!("{line}\n{GOOD}")).expect_err(field);
            let text = err.to_string();
            assert!(text.contains(&format!("`{field}`: remove it from plugin.toml")) && text.contains(home), "{text}");
        }
    }

    #[test]
    fn the_schema_lives_in_a_0_1_manifest_and_in_the_code_of_later_ones() {
        let about = || PluginToml::parse(GOOD).expect("plugin.toml");
        let with_schema = |api: &str, schema: serde_json::Value| {
            let manifest =
                Manifest::new(about(), version("1.0.0"), version("0.2.0"), vec![Hook::Distribute]).expect("manifest");
            let manifest = Manifest { api_version: version(api), config_schema: Some(schema), ..manifest };
            Manifest::from_json(&manifest.to_json())
        };
        with_schema("0.1.0", serde_json::json!({"type": "object"})).expect("0.1 keeps its schema in the manifest");
        let err = with_schema("0.2.0", serde_json::json!({"type": "object"})).expect_err("0.2");
        assert!(err.to_string().contains("comes from its code"), "{err}");
        let err = with_schema("0.1.0", serde_json::json!({"type": 12})).expect_err("not a schema");
        assert!(matches!(err, Error::InvalidManifest { ref field, .. } if field == "config-schema"), "{err}");
    }
}
