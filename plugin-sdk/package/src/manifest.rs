//! The plugin manifest: what a plugin is, which hooks it implements, what it asks
//! for, and the JSON Schema of its per-campaign configuration.
//!
//! Authors write `plugin.toml` beside their crate (the schema may be a path to a JSON
//! file); `upline plugin build` embeds it in the component as JSON, with the schema
//! inlined, in the `upline:manifest` custom section.

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
    /// JSON Schema of its per-campaign configuration. In `plugin.toml` this may be a
    /// path (relative to the file) to a JSON file.
    pub config_schema: serde_json::Value,
    /// Its default limits per call; the host caps them.
    #[serde(default)]
    pub limits: Limits,
}

impl Manifest {
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

    /// Parses an author's `plugin.toml`, reading `config-schema` from `read_schema`
    /// when it is a path, and checks it.
    pub fn from_toml(text: &str, read_schema: impl FnOnce(&str) -> Result<Vec<u8>>) -> Result<Self> {
        let de = toml::Deserializer::parse(text)
            .map_err(|err| Error::InvalidManifest { field: String::new(), message: err.to_string() })?;
        let mut manifest: Manifest = serde_path_to_error::deserialize(de).map_err(|err| Error::InvalidManifest {
            field: err.path().to_string(),
            message: err.inner().to_string(),
        })?;
        if let serde_json::Value::String(path) = &manifest.config_schema {
            let bytes = read_schema(path)?;
            manifest.config_schema = serde_json::from_slice(&bytes).map_err(|err| Error::InvalidManifest {
                field: "config-schema".into(),
                message: format!("{path}: {err}"),
            })?;
        }
        manifest.check()?;
        Ok(manifest)
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
        if let Ok(api) = crate::versions::check(&self.api_version)
            && let Some(hook) = self.hooks.iter().find(|hook| !api.hooks().contains(hook))
        {
            let message = format!("`{hook}` is a hook of a later contract than {}", self.api_version);
            return Err(invalid("hooks", message));
        }
        if !self.config_schema.is_object() {
            return Err(invalid("config-schema", "must be a JSON Schema object".into()));
        }
        jsonschema::meta::validate(&self.config_schema)
            .map_err(|err| invalid("config-schema", format!("not a valid JSON Schema: {err}")))?;
        jsonschema::validator_for(&self.config_schema)
            .map_err(|err| invalid("config-schema", format!("not a usable JSON Schema: {err}")))?;
        self.limits.check().map_err(|(field, message)| invalid(&format!("limits.{field}"), message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
        id = "flat-fee"
        name = "Flat fee"
        version = "1.2.3"
        api-version = "0.1.0"
        hooks = ["distribute"]
        config-schema = "schema.json"
    "#;

    fn schema(_: &str) -> Result<Vec<u8>> {
        Ok(br#"{"type":"object"}"#.to_vec())
    }

    #[test]
    fn reads_toml_and_inlines_the_schema() {
        let manifest = Manifest::from_toml(GOOD, schema).expect("valid manifest");
        assert_eq!(manifest.id.as_str(), "flat-fee");
        assert_eq!(manifest.config_schema, serde_json::json!({"type": "object"}));
        let round_trip = Manifest::from_json(&manifest.to_json()).expect("round trip");
        assert_eq!(round_trip, manifest);
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (GOOD.replace("flat-fee", "Flat Fee"), "id"),
            (GOOD.replace("1.2.3", "one"), "version"),
            (GOOD.replace(r#"["distribute"]"#, r#"["distribute", "pay-everyone"]"#), "hooks[1]"),
            (GOOD.replace(r#"["distribute"]"#, "[]"), "hooks"),
            // `screen` came with contract 0.2.
            (GOOD.replace(r#"["distribute"]"#, r#"["screen"]"#), "hooks"),
            (format!("{GOOD}\ncolour = \"red\""), "colour"),
            (format!("{GOOD}\n[limits]\nfuel = 0"), "limits.fuel"),
        ];
        for (text, field) in cases {
            match Manifest::from_toml(&text, schema) {
                Err(Error::InvalidManifest { field: got, message }) => assert_eq!(got, field, "{message}"),
                other => panic!("expected an invalid manifest for `{field}`, got {other:?}"),
            }
        }
    }

    #[test]
    fn rejects_a_schema_that_is_not_one() {
        let bad = |_: &str| Ok(br#"{"type": 12}"#.to_vec());
        let err = Manifest::from_toml(GOOD, bad).expect_err("bad schema");
        assert!(matches!(err, Error::InvalidManifest { ref field, .. } if field == "config-schema"), "{err}");
    }
}
