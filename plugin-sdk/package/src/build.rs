//! Builds a plugin crate into a package: compiles it to `wasm32-unknown-unknown`,
//! turns the module into a component and embeds the manifest from `plugin.toml`.
//!
//! The wasm toolchain: rustup's `wasm32-unknown-unknown` target when rustup is there
//! (added on first use); otherwise Debian's Rust with its standard library sources,
//! building std for wasm with `-Z build-std`. When neither is available, the error
//! says what to install.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};
use crate::manifest::{Manifest, PluginToml};
use crate::package::pack;

const TARGET: &str = "wasm32-unknown-unknown";

/// The stack plugins get.
pub const PLUGIN_STACK_BYTES: usize = 64 * 1024;

/// A freshly built package.
#[derive(Debug, Clone)]
pub struct Built {
    /// Where the package was written.
    pub path: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
}

/// How plugins are compiled to wasm on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Toolchain {
    /// rustup's toolchain with its `wasm32-unknown-unknown` target.
    Rustup,
    /// Debian's `cargo`/`rustc` building std from source, linking with this `wasm-ld`.
    Debian {
        /// The `wasm-ld` binary, e.g. `wasm-ld-22`.
        linker: PathBuf,
    },
}

impl Toolchain {
    /// Finds a working wasm toolchain, adding rustup's target if it is missing.
    pub fn detect() -> Result<Self> {
        if rustup_has_target() || rustup_add_target() {
            return Ok(Toolchain::Rustup);
        }
        if let Some(linker) = debian_wasm_toolchain() {
            return Ok(Toolchain::Debian { linker });
        }
        Err(Error::Build(format!(
            "no Rust toolchain for {TARGET}: run `rustup target add {TARGET}`, or on Debian \
             `apt-get install rustc-web cargo-web rust-web-src lld-22`"
        )))
    }

    fn cargo(&self) -> Command {
        match self {
            Toolchain::Rustup => Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())),
            Toolchain::Debian { linker } => {
                let mut cargo = Command::new("/usr/bin/cargo");
                let path = std::env::var_os("PATH").unwrap_or_default();
                let mut dirs = vec![PathBuf::from("/usr/bin")];
                dirs.extend(std::env::split_paths(&path));
                cargo
                    .env("PATH", std::env::join_paths(dirs).unwrap_or(path))
                    .env("RUSTC_BOOTSTRAP", "1")
                    .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER", linker)
                    .env_remove("RUSTC")
                    .env_remove("RUSTUP_TOOLCHAIN")
                    .args(["-Z", "build-std=std,panic_abort"]);
                cargo
            }
        }
    }
}

fn rustup_has_target() -> bool {
    Command::new("rustup").args(["target", "list", "--installed"]).output().is_ok_and(|out| {
        out.status.success() && String::from_utf8_lossy(&out.stdout).lines().any(|l| l.trim() == TARGET)
    })
}

fn rustup_add_target() -> bool {
    Command::new("rustup").args(["target", "add", TARGET]).status().is_ok_and(|status| status.success())
}

fn debian_wasm_toolchain() -> Option<PathBuf> {
    let sysroot = Command::new("/usr/bin/rustc").args(["--print", "sysroot"]).output().ok()?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if !sysroot.join("lib/rustlib/src/rust/library").exists() {
        return None;
    }
    (14..=30).rev().map(|v| PathBuf::from(format!("/usr/bin/wasm-ld-{v}"))).find(|p| p.exists())
}

/// What [`build`] does when the package it writes exists with other contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameVersion {
    /// Refuse, unless the version is a development build (`upline plugin build`):
    /// a changed plugin needs a new version.
    Refuse,
    /// Replace it (`cargo xtask`, which rebuilds this repository's plugins as they change).
    Replace,
}

/// Builds the plugin crate at `crate_dir` (with its `plugin.toml`) and writes the
/// package to `<target_dir>/packages/<id>-<version>.wasm`.
pub fn build(crate_dir: &Path, target_dir: &Path, same_version: SameVersion) -> Result<Built> {
    let about = read_plugin_toml(crate_dir)?;
    let krate = CrateInfo::read(crate_dir)?;
    let toolchain = Toolchain::detect()?;
    let mut cargo = toolchain.cargo();
    cargo
        .arg("build")
        .arg("--lib")
        .arg("--release")
        .args(["--target", TARGET])
        .arg("--manifest-path")
        .arg(crate_dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir)
        // Small, fast plugins whatever the crate's own release profile says.
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "s")
        .env("CARGO_PROFILE_RELEASE_LTO", "true")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        .env("CARGO_PROFILE_RELEASE_PANIC", "abort")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        // A 64 KiB stack (Rust's default is 1 MiB) keeps the memory a call touches low,
        // where the host resets it cheaply; a deeper stack traps, it never overflows
        // into data.
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS", format!("-C link-arg=-zstack-size={PLUGIN_STACK_BYTES}"));
    let status = cargo.status().map_err(|err| Error::Build(format!("running cargo: {err}")))?;
    if !status.success() {
        return Err(Error::Build(format!("cargo build of {} failed ({status})", crate_dir.display())));
    }
    let module_path = target_dir.join(TARGET).join("release").join(format!("{}.wasm", krate.lib_name));
    let module = std::fs::read(&module_path).map_err(Error::io(&module_path))?;
    let package = pack(&module, about, krate.version)?;
    let manifest = package.manifest;
    let out_dir = target_dir.join("packages");
    std::fs::create_dir_all(&out_dir).map_err(Error::io(&out_dir))?;
    let path = out_dir.join(format!("{}-{}.wasm", manifest.id, manifest.version));
    let differs = std::fs::read(&path).is_ok_and(|old| old != package.bytes);
    if differs && same_version == SameVersion::Refuse && !manifest.is_development() {
        return Err(Error::Build(format!(
            "{} holds {} {} with other contents: a changed plugin needs a new version (bump `version` in \
             Cargo.toml), or use a development version such as {}.{}.{}-dev while you work on it",
            path.display(),
            manifest.id,
            manifest.version,
            manifest.version.major,
            manifest.version.minor,
            manifest.version.patch + 1
        )));
    }
    std::fs::write(&path, package.bytes).map_err(Error::io(&path))?;
    Ok(Built { path, manifest })
}

/// Reads `plugin.toml` in `crate_dir`.
pub fn read_plugin_toml(crate_dir: &Path) -> Result<PluginToml> {
    let path = crate_dir.join("plugin.toml");
    let text = std::fs::read_to_string(&path).map_err(Error::io(&path))?;
    PluginToml::parse(&text)
}

/// What cargo says of the plugin crate: its version and its library's file name.
pub struct CrateInfo {
    /// `version` in Cargo.toml (or the workspace's, when inherited).
    pub version: semver::Version,
    /// The library target's name with `-` as `_`, as the `.wasm` file is named.
    pub lib_name: String,
}

impl CrateInfo {
    /// Asks `cargo metadata` about the crate at `crate_dir`.
    pub fn read(crate_dir: &Path) -> Result<Self> {
        #[derive(serde::Deserialize)]
        struct Metadata {
            packages: Vec<CargoPackage>,
        }
        #[derive(serde::Deserialize)]
        struct CargoPackage {
            version: semver::Version,
            manifest_path: PathBuf,
            targets: Vec<Target>,
        }
        #[derive(serde::Deserialize)]
        struct Target {
            name: String,
            kind: Vec<String>,
        }
        let manifest_path = crate_dir.join("Cargo.toml");
        let wanted = manifest_path.canonicalize().map_err(Error::io(&manifest_path))?;
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = Command::new(cargo)
            .args(["metadata", "--no-deps", "--format-version", "1", "--manifest-path"])
            .arg(&wanted)
            .output()
            .map_err(|err| Error::Build(format!("running cargo metadata: {err}")))?;
        if !output.status.success() {
            return Err(Error::Build(format!(
                "cargo metadata of {} failed: {}",
                manifest_path.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        let metadata: Metadata = serde_json::from_slice(&output.stdout)
            .map_err(|err| Error::Build(format!("reading cargo metadata: {err}")))?;
        let package = metadata
            .packages
            .into_iter()
            .find(|package| package.manifest_path == wanted)
            .ok_or_else(|| Error::Build(format!("cargo metadata does not list {}", manifest_path.display())))?;
        let lib =
            package.targets.iter().find(|target| target.kind.iter().any(|kind| kind == "cdylib")).ok_or_else(|| {
                Error::Build(format!("{} has no `crate-type = [\"cdylib\"]` library", manifest_path.display()))
            })?;
        Ok(Self { version: package.version, lib_name: lib.name.replace('-', "_") })
    }
}
