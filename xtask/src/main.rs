//! `cargo xtask <command>`: the project's build tooling.
//!
//! Every command first makes sure plugins can be compiled to wasm (rustup's
//! `wasm32-unknown-unknown` target, added if missing, or Debian's Rust as a fallback)
//! and builds the built-in plugins under `plugins/` into `target/plugins/packages/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use upline_host::plugin::build::{self, Toolchain};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Builds the built-in plugins into target/plugins/packages.
    Plugins,
    /// Builds the built-in plugins and runs the server with them (release build).
    Run {
        /// Extra arguments for `upline serve`.
        #[arg(trailing_var_arg = true)]
        args: Vec<String>,
    },
    /// Runs the whole test suite.
    Test {
        /// Extra arguments for `cargo test`.
        #[arg(trailing_var_arg = true)]
        args: Vec<String>,
    },
    /// Runs the plugin-call benchmark (release build, backtraces off).
    Bench,
}

fn main() -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().context("workspace root")?.to_path_buf();
    let toolchain = Toolchain::detect()?;
    eprintln!("xtask: wasm toolchain: {toolchain:?}");
    match Cli::parse().command {
        Task::Plugins => {
            build_plugins(&root)?;
        }
        Task::Run { args } => {
            let packages = build_plugins(&root)?;
            let mut serve = cargo(&root, &["run", "--release", "--package", "upline-host", "--bin", "upline", "--"]);
            serve.arg("serve").arg("--install").arg(packages).args(args);
            run(&mut serve)?;
        }
        Task::Test { args } => {
            build_plugins(&root)?;
            run(cargo(&root, &["test", "--workspace"]).args(args))?;
        }
        Task::Bench => {
            build_plugins(&root)?;
            let mut bench = cargo(&root, &["bench", "--package", "upline-tests", "--bench", "plugin_call"]);
            bench.env("RUST_LIB_BACKTRACE", "0").env("RUST_BACKTRACE", "0");
            run(&mut bench)?;
        }
    }
    Ok(())
}

/// Builds every crate under `plugins/` that has a `plugin.toml`; returns the package directory.
fn build_plugins(root: &Path) -> anyhow::Result<PathBuf> {
    let target_dir = root.join("target").join("plugins");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("plugins"))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|dir| dir.join("plugin.toml").exists())
        .collect();
    dirs.sort();
    for dir in dirs {
        let built = build::build(&dir, &target_dir)?;
        eprintln!("xtask: built {} {} -> {}", built.manifest.id, built.manifest.version, built.path.display());
    }
    Ok(target_dir.join("packages"))
}

fn cargo(root: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root).args(args);
    command
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let status = command.status().with_context(|| format!("running {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed: {status}");
    }
    Ok(())
}
