//! Installing packages: every kind of bad package gets a precise error; good ones
//! are content-addressed, cached, and swapped in atomically.

use std::sync::Arc;

use upline_host::Error;
use upline_host::plugin::{
    API_VERSION_SECTION, Capability, Distribute, Hook, Invocation, MANIFEST_SECTION, Manifest, PluginToml, Registry,
    pack,
};
use upline_package::Error as PackageError;
use upline_tests::*;
use wasm_encoder::{CustomSection, Section};

fn install_err(bytes: Vec<u8>) -> Error {
    let (_dir, registry) = registry();
    registry.install(bytes).expect_err("the package must be refused")
}

fn with_section(mut component: Vec<u8>, name: &str, data: &[u8]) -> Vec<u8> {
    CustomSection { name: name.into(), data: data.into() }.append_to(&mut component);
    component
}

/// `component` with `manifest` attached, as a package.
fn packed(component: Vec<u8>, manifest: &Manifest) -> Vec<u8> {
    with_section(component, MANIFEST_SECTION, &manifest.to_json())
}

/// A component written in WAT, with an API version section.
fn wat_component(text: &str) -> Vec<u8> {
    with_section(wat::parse_str(text).expect("wat"), API_VERSION_SECTION, upline_plugin_sdk::API_VERSION.as_bytes())
}

#[test]
fn garbage_bytes_are_not_wasm() {
    assert!(matches!(install_err(b"this is not wasm".to_vec()), Error::Package(PackageError::InvalidWasm(_))));
}

#[test]
fn a_core_module_is_not_a_component() {
    assert!(matches!(install_err(hostile_module()), Error::Package(PackageError::NotAComponent)));
}

/// `bytes` with the API version section's text replaced by 9.0.0.
fn api_version_9(mut bytes: Vec<u8>) -> Vec<u8> {
    let marker = [API_VERSION_SECTION.as_bytes(), upline_plugin_sdk::API_VERSION.as_bytes()].concat();
    let at = bytes.windows(marker.len()).position(|w| w == marker.as_slice()).expect("api version section");
    bytes[at + API_VERSION_SECTION.len()..at + marker.len()].copy_from_slice(b"9.0.0");
    bytes
}

#[test]
fn an_unsupported_api_version_is_refused_before_compiling() {
    let unsupported = |err| match err {
        Error::Package(PackageError::UnsupportedApiVersion { found, supported }) => {
            assert_eq!((found.as_str(), supported.as_str()), ("9.0.0", "0.1.x, 0.2.x"))
        }
        other => panic!("expected an unsupported API version, got {other}"),
    };
    unsupported(install_err(api_version_9(hostile())));
    let packing = pack(&api_version_9(hostile_module()), hostile_toml(), "1.0.0".parse().expect("version"));
    unsupported(Error::Package(packing.expect_err("packing a module of contract 9")));
}

#[test]
fn a_component_without_a_manifest_is_refused() {
    let err = install_err(wat_component("(component)"));
    assert!(matches!(err, Error::Package(PackageError::MissingSection(MANIFEST_SECTION))), "{err}");
}

#[test]
fn an_invalid_manifest_names_the_field() {
    let mut manifest = serde_json::to_value(hostile_manifest()).expect("json");
    manifest["limits"]["memory-mib"] = serde_json::json!(100_000);
    let bytes = with_section(wat_component("(component)"), MANIFEST_SECTION, manifest.to_string().as_bytes());
    match install_err(bytes) {
        Error::Package(PackageError::InvalidManifest { field, .. }) => assert_eq!(field, "limits.memory-mib"),
        other => panic!("expected an invalid manifest, got {other}"),
    }
}

#[test]
fn a_declared_hook_without_its_export_is_refused() {
    let err = install_err(packed(wat_component("(component)"), &hostile_manifest()));
    match err {
        Error::MissingExport { hook, export } => {
            assert_eq!(hook, Hook::Distribute);
            assert_eq!(export, "upline:plugin/distribute@0.2.0");
        }
        other => panic!("expected a missing export, got {other}"),
    }
}

#[test]
fn an_import_outside_the_contract_is_refused() {
    let component = wat_component(r#"(component (import "wasi:filesystem/types@0.2.0" (instance)))"#);
    match install_err(packed(component, &hostile_manifest())) {
        Error::UndeclaredImport { import, .. } => assert_eq!(import, "wasi:filesystem/types@0.2.0"),
        other => panic!("expected an undeclared import, got {other}"),
    }
}

#[test]
fn a_stats_import_needs_the_stats_capability() {
    let mut about = hostile_toml();
    about.capabilities.retain(|c| *c != Capability::Stats);
    match install_err(hostile_with(about, "0.1.0")) {
        Error::UndeclaredImport { import, reason } => {
            assert!(import.starts_with("upline:plugin/stats@"), "{import}");
            assert!(reason.contains("stats"), "{reason}");
        }
        other => panic!("expected an undeclared import, got {other}"),
    }
}

#[test]
fn compiled_packages_are_cached_by_digest() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bytes = package("plugins/variable-tier");
    let info = Registry::open(dir.path()).expect("open").install(bytes.clone()).expect("install");

    let artifacts = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir.path().join("cache"))
            .expect("cache dir")
            .flat_map(|engine_dir| std::fs::read_dir(engine_dir.expect("entry").path()).expect("engine dir"))
            .map(|entry| entry.expect("artifact").path())
            .collect()
    };
    let cached = artifacts();
    assert_eq!(cached.len(), 1, "one precompiled artifact");
    assert!(cached[0].ends_with(format!("{}.cwasm", info.digest.as_str())), "{cached:?}");
    assert!(!dir.path().join("plugins").exists(), "packages live in the database, not in files");

    // A new registry on the same data directory loads the package from the cache.
    let reopened = Registry::open(dir.path()).expect("reopen");
    assert!(reopened.list().is_empty(), "a registry holds only what it is given");
    reopened.install(bytes).expect("install from the cache");
    assert_eq!(artifacts(), cached);
    let plugin = reopened.get(&info.id).expect("loaded");
    let outcome = reopened
        .engine()
        .call::<Distribute>(&plugin, &Invocation::default(), &domain_example("100"), &())
        .expect("call");
    assert_eq!(outcome.value.len(), 4);
}

#[test]
fn a_new_version_swaps_in_while_calls_in_flight_keep_the_old_one() {
    let (_dir, registry) = registry();
    let v1 = registry.install(hostile()).expect("install v1");
    let in_flight = registry.get(&v1.id).expect("v1");

    let v2 = registry.install(hostile_with(hostile_toml(), "0.2.0")).expect("install v2");

    assert_eq!(registry.get(&v1.id).expect("active").manifest.version, v2.version);
    assert_eq!(in_flight.manifest.version, v1.version, "a call holding v1 keeps v1");
    let invocation = Invocation { config: r#"{"mode":"behave"}"#.into(), ..Invocation::default() };
    registry
        .engine()
        .call::<Distribute>(&in_flight, &invocation, &domain_example("100"), &())
        .expect("old version still runs");
    assert_eq!(registry.list().iter().filter(|p| p.active).count(), 1);
    assert_eq!(registry.list().len(), 2);

    // Calls racing an install all succeed, on one version or the other.
    let registry = Arc::new(registry);
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let (registry, invocation, id) = (registry.clone(), invocation.clone(), v1.id.clone());
            std::thread::spawn(move || {
                for _ in 0..200 {
                    let plugin = registry.get(&id).expect("installed");
                    registry
                        .engine()
                        .call::<Distribute>(&plugin, &invocation, &domain_example("100"), &())
                        .expect("call during swap");
                }
            })
        })
        .collect();
    for _ in 0..10 {
        registry.activate(&v1.id, &v1.version).expect("activate v1");
        registry.activate(&v1.id, &v2.version).expect("activate v2");
    }
    for caller in callers {
        caller.join().expect("caller");
    }
}

#[test]
fn the_same_version_with_other_contents_is_refused_and_leaves_nothing_behind() {
    let (_dir, registry) = registry();
    let installed = registry.install(hostile()).expect("install");
    let about = PluginToml { description: "changed".into(), ..hostile_toml() };
    let err = registry.install(hostile_with(about, "0.1.0")).expect_err("same version, new bytes");
    assert!(
        matches!(err, Error::Package(PackageError::InvalidManifest { ref field, .. }) if field == "version"),
        "{err}"
    );

    // The refused package left the installed one as it was.
    let listed: Vec<_> = registry.list().into_iter().map(|info| (info.version.to_string(), info.digest)).collect();
    assert_eq!(listed, [("0.1.0".to_owned(), installed.digest)]);
}

#[test]
fn a_package_exports_just_the_hooks_its_code_lists() {
    let package = hostile();
    let mut exports = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(&package) {
        if let Ok(wasmparser::Payload::ComponentExportSection(section)) = payload {
            exports.extend(section.into_iter().filter_map(Result::ok).map(|export| export.name.name.to_owned()));
        }
    }
    let hooks: Vec<&str> = exports.iter().filter_map(|name| name.strip_prefix("upline:plugin/")).collect();
    // `export_plugin!(Hostile: Distribute, Approve, BonusRules)`, and `config`, which
    // every SDK plugin exports (its schema and check).
    assert_eq!(hooks, ["config@0.2.0", "distribute@0.2.0", "approve@0.2.0", "bonus-rules@0.2.0"]);
    assert_eq!(hostile_manifest().hooks, [Hook::Distribute, Hook::Approve, Hook::BonusRules]);
}
