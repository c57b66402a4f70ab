//! Tools for plugin authors: a new plugin crate that builds, tests and runs as it is
//! (`upline plugin new`), a complete example input for every hook (`upline plugin
//! example-input`), and golden tests of a package against example files (`upline
//! plugin test`).

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::plugin::{Hook, PluginEngine, PluginId};
use crate::runner;

/// A complete, valid run file for `hook` (`{"config": {}, "input": ...}`): the
/// input of `upline plugin run` and of the SDK's `run_file_input`.
pub fn example_input(hook: Hook) -> &'static str {
    match hook {
        Hook::Screen => include_str!("examples/screen.json"),
        Hook::Distribute => include_str!("examples/distribute.json"),
        Hook::Approve => include_str!("examples/approve.json"),
        Hook::Carryover => include_str!("examples/carryover.json"),
        Hook::BonusRules => include_str!("examples/bonus-rules.json"),
    }
}

/// What a new plugin of each hook does, and the configuration its example uses (each
/// field a decimal, described in the template's `Config`).
struct Template {
    description: &'static str,
    source: &'static str,
    config: &'static [(&'static str, &'static str)],
    expected: &'static str,
}

fn template(hook: Hook) -> Template {
    match hook {
        Hook::Screen => Template {
            description: "Rejects sales below a minimum total.",
            source: include_str!("template/screen.rs.tmpl"),
            config: &[("minimum", "50")],
            expected: r#""accept""#,
        },
        Hook::Distribute => Template {
            description: "Pays the referring affiliate a percentage of each sale.",
            source: include_str!("template/distribute.rs.tmpl"),
            config: &[("percent", "12.5")],
            expected: r#"[{"affiliate": 4, "tier": 1, "amount": {"amount": "12.50", "currency": "EUR"},
                          "explanation": "12.5 % of the sale"}]"#,
        },
        Hook::Approve => Template {
            description: "Approves small commissions at once and leaves larger ones to an operator.",
            source: include_str!("template/approve.rs.tmpl"),
            config: &[("automatic-up-to", "25")],
            expected: r#""approve""#,
        },
        Hook::Carryover => Template {
            description: "Carries negative balances into the next period, forgiving small ones.",
            source: include_str!("template/carryover.rs.tmpl"),
            config: &[("forgive-below", "10")],
            expected: r#"[{"affiliate": 4, "campaign": 1, "amount": {"amount": "35.50", "currency": "EUR"},
                          "product-id": "carryover", "booking": "closing-period", "explanation": "-35.50 EUR closed"},
                         {"affiliate": 4, "campaign": 1, "amount": {"amount": "-35.50", "currency": "EUR"},
                          "product-id": "carryover", "booking": "next-period", "explanation": "-35.50 EUR carried over"}]"#,
        },
        Hook::BonusRules => Template {
            description: "Pays a one-off bonus for each sale of at least a minimum total.",
            source: include_str!("template/bonus-rules.rs.tmpl"),
            config: &[("minimum", "50"), ("bonus", "5")],
            expected: r#"[{"bonus": {"affiliate": 4, "amount": {"amount": "5.00", "currency": "EUR"},
                          "explanation": "bonus for a sale of at least 50"}}]"#,
        },
    }
}

/// Writes a new plugin crate named after `dir`'s last component, implementing `hook`,
/// into `dir` (which must not exist or be empty). It depends on the SDK by version
/// and, until the SDK is on crates.io, by the path `sdk` to its source.
pub fn new_plugin(dir: &Path, hook: Hook, sdk: &Path) -> Result<Vec<PathBuf>> {
    let invalid = |message: String| Error::InvalidInput { field: "name".into(), message };
    let name = dir.file_name().and_then(|name| name.to_str()).unwrap_or_default();
    let id: PluginId = name.parse().map_err(invalid)?;
    if std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(invalid(format!("{} exists and is not empty", dir.display())));
    }
    let sdk = sdk.join("Cargo.toml").canonicalize().ok().and_then(|toml| toml.parent().map(Path::to_path_buf));
    let sdk = sdk.ok_or_else(|| Error::InvalidInput {
        field: "sdk-path".into(),
        message: "no SDK crate there: pass --sdk-path with the plugin-sdk/ folder of an Upline checkout".into(),
    })?;
    let template = template(hook);
    let title = id.as_str().split('-').map(capitalized).collect::<Vec<_>>().join(" ");
    let render = |text: &str| {
        text.replace("{{name}}", id.as_str())
            .replace("{{title}}", &title)
            .replace("{{Type}}", &title.replace(' ', ""))
            .replace("{{description}}", template.description)
            .replace("{{hook}}", hook.interface())
            .replace(
                "{{sdk}}",
                &format!("{{ version = \"{}\", path = {:?} }}", env!("CARGO_PKG_VERSION"), sdk.display().to_string()),
            )
    };
    let mut example: Value = serde_json::from_str(example_input(hook)).map_err(internal)?;
    example["config"] = template.config.iter().map(|(key, value)| (key.to_string(), json!(value))).collect();
    let expected: Value = serde_json::from_str(template.expected).map_err(internal)?;
    let files = [
        ("Cargo.toml", render(include_str!("template/Cargo.toml.tmpl"))),
        ("plugin.toml", render(include_str!("template/plugin.toml.tmpl"))),
        ("README.md", render(include_str!("template/README.md.tmpl"))),
        ("src/lib.rs", render(template.source)),
        ("examples/example.json", pretty(&example)?),
        ("examples/example.expected.json", pretty(&expected)?),
        (".gitignore", "/target\n".into()),
    ];
    let mut written = Vec::new();
    for (path, text) in files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|err| Error::Internal(format!("{}: {err}", parent.display())))?;
        }
        std::fs::write(&path, text).map_err(|err| Error::Internal(format!("{}: {err}", path.display())))?;
        written.push(path);
    }
    Ok(written)
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn pretty(value: &Value) -> Result<String> {
    serde_json::to_string_pretty(value).map(|text| text + "\n").map_err(internal)
}

fn internal(err: serde_json::Error) -> Error {
    Error::Internal(err.to_string())
}

/// One example file's outcome in [`golden`].
#[derive(Debug)]
pub struct GoldenCase {
    /// The example (run) file.
    pub input: PathBuf,
    /// What went wrong; none when the result was the expected one (or was recorded).
    pub failure: Option<String>,
}

/// Runs every `X.json` in `dir` (its hook: the file's `"hook"`, or the package's
/// only one) and compares the result with `X.expected.json`; with `bless`, records
/// the results as the expected ones instead.
pub fn golden(engine: &PluginEngine, package: &[u8], dir: &Path, bless: bool) -> Result<Vec<GoldenCase>> {
    let unreadable = |path: &Path, err: std::io::Error| Error::Internal(format!("{}: {err}", path.display()));
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|err| unreadable(dir, err))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
            name.ends_with(".json") && !name.ends_with(".expected.json")
        })
        .collect();
    inputs.sort();
    if inputs.is_empty() {
        return Err(Error::InvalidInput {
            field: "dir".into(),
            message: format!("{} holds no example files (X.json, with X.expected.json beside it)", dir.display()),
        });
    }
    let mut cases = Vec::new();
    for input in inputs {
        let expected_path = input.with_extension("expected.json");
        let text = std::fs::read_to_string(&input).map_err(|err| unreadable(&input, err))?;
        let failure = match runner::run(engine, package.to_vec(), None, &text) {
            Err(err) => Some(err.to_string()),
            Ok(report) if bless => {
                std::fs::write(&expected_path, pretty(&report["value"])?)
                    .map_err(|err| unreadable(&expected_path, err))?;
                None
            }
            Ok(report) => match std::fs::read_to_string(&expected_path) {
                Err(_) => Some(format!("no {} (record it with --bless)", expected_path.display())),
                Ok(expected) => {
                    let expected: Value = serde_json::from_str(&expected)
                        .map_err(|err| Error::Internal(format!("{}: {err}", expected_path.display())))?;
                    (expected != report["value"]).then(|| {
                        format!(
                            "expected (from {}):\n{}\ngot:\n{}",
                            expected_path.display(),
                            serde_json::to_string_pretty(&expected).unwrap_or_default(),
                            serde_json::to_string_pretty(&report["value"]).unwrap_or_default()
                        )
                    })
                }
            },
        };
        cases.push(GoldenCase { input, failure });
    }
    Ok(cases)
}
