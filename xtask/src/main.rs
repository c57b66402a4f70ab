//! `cargo xtask <command>`: the project's build tooling.
//!
//! Every command first makes sure plugins can be compiled to wasm (rustup's
//! `wasm32-unknown-unknown` target, added if missing, or Debian's Rust as a fallback)
//! and builds the built-in plugins under `plugins/` into `target/plugins/packages/`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use upline_package::build::{self, SameVersion, Toolchain};

/// Where the PostgreSQL test databases are created (`upline-tests` reads it too).
const POSTGRES_ENV: &str = "UPLINE_TEST_POSTGRES";
const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";
/// The plugins built against contract 0.1.0, run again on the current host.
const V0_1_PACKAGES: &str = "tests/fixtures/packages-v0.1.0";

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
    /// Runs the whole test suite: everything on SQLite, then the database tests again
    /// on PostgreSQL (UPLINE_TEST_POSTGRES, default postgres://postgres@127.0.0.1:5432/test),
    /// then the HTTP tests on SQLite with the plugin packages built against contract 0.1.0.
    Test {
        /// Skip the PostgreSQL run.
        #[arg(long)]
        sqlite_only: bool,
        /// Extra arguments for `cargo test`.
        #[arg(trailing_var_arg = true)]
        args: Vec<String>,
    },
    /// Runs the plugin-call benchmark (release build, backtraces off).
    Bench,
    /// Runs the end-to-end load benchmark (clicks/s and sales/s over HTTP) on SQLite,
    /// then on PostgreSQL (UPLINE_TEST_POSTGRES), release builds.
    Load {
        /// Skip the PostgreSQL run.
        #[arg(long)]
        sqlite_only: bool,
        /// Extra arguments for `upline-load` (e.g. `--seconds 20 --connections 128`).
        #[arg(trailing_var_arg = true)]
        args: Vec<String>,
    },
    /// Kills the server (SIGKILL) during a load of sales and checks that every sale
    /// answered 201 is stored once with all its commissions, on SQLite then on
    /// PostgreSQL (release builds).
    Crash {
        /// Skip the PostgreSQL run.
        #[arg(long)]
        sqlite_only: bool,
        /// Extra arguments for `upline-load --crash` (e.g. `--kill-after 5`).
        #[arg(trailing_var_arg = true)]
        args: Vec<String>,
    },
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
            eprintln!("xtask: building and starting the server (release build; the first one takes minutes)");
            let mut serve = cargo(&root, &["run", "--release", "--package", "upline-host", "--bin", "upline", "--"]);
            serve.arg("serve").arg("--demo");
            for package in packages {
                serve.arg("--install").arg(package);
            }
            run(serve.args(args))?;
        }
        Task::Test { sqlite_only, args } => {
            build_plugins(&root)?;
            browser()?;
            eprintln!(
                "xtask: cargo test --workspace on SQLite (the first run compiles the server and the tests: minutes)"
            );
            let mut totals = test(cargo(&root, &["test", "--workspace"]).args(&args));
            if !sqlite_only && totals.is_ok() {
                let url = std::env::var(POSTGRES_ENV).unwrap_or_else(|_| DEFAULT_POSTGRES.into());
                eprintln!("xtask: the database tests again, on PostgreSQL ({url})");
                let mut postgres = cargo(&root, &["test", "--package", "upline-tests", "--test", "api"]);
                postgres.env(POSTGRES_ENV, url).args(&args);
                totals = totals.and_then(|sqlite| Ok(sqlite + test(&mut postgres)?));
            }
            if totals.is_ok() {
                eprintln!("xtask: the HTTP tests again on SQLite, with the plugins built against contract 0.1.0");
                let mut old = cargo(&root, &["test", "--package", "upline-tests", "--test", "api"]);
                old.env("UPLINE_TEST_PACKAGES", V0_1_PACKAGES).env_remove(POSTGRES_ENV).args(&args);
                totals = totals.and_then(|sum| Ok(sum + test(&mut old)?));
            }
            let totals = totals?;
            println!("{} passed, {} failed, {} skipped", totals.passed, totals.failed, totals.skipped);
        }
        Task::Bench => {
            build_plugins(&root)?;
            let mut bench = cargo(&root, &["bench", "--package", "upline-tests", "--bench", "plugin_call"]);
            bench.env("RUST_LIB_BACKTRACE", "0").env("RUST_BACKTRACE", "0");
            run(&mut bench)?;
        }
        Task::Load { sqlite_only, args } => load(&root, sqlite_only, &args)?,
        Task::Crash { sqlite_only, mut args } => {
            args.insert(0, "--crash".into());
            load(&root, sqlite_only, &args)?;
        }
    }
    Ok(())
}

/// Chromium and chromedriver for the browser tests (Debian's packages, installed
/// with apt-get when missing and this runs as root).
fn browser() -> anyhow::Result<()> {
    const NEEDED: [&str; 2] = ["/usr/bin/chromium", "/usr/bin/chromedriver"];
    if NEEDED.iter().all(|path| Path::new(path).exists()) {
        return Ok(());
    }
    let root = Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.trim_ascii() == b"0");
    anyhow::ensure!(
        root && Path::new("/usr/bin/apt-get").exists(),
        "the browser tests need Chromium and chromedriver: apt-get install chromium chromium-driver"
    );
    eprintln!("xtask: installing Debian's chromium and chromium-driver for the browser tests");
    run(Command::new("apt-get").arg("update"))?;
    run(Command::new("apt-get").args(["install", "-y", "chromium", "chromium-driver"]))
}

/// Builds the release server and `upline-load` and runs it with `args` on SQLite,
/// then on PostgreSQL unless `sqlite_only`.
fn load(root: &Path, sqlite_only: bool, args: &[String]) -> anyhow::Result<()> {
    build_plugins(root)?;
    // The rule of `--stats` runs, a test fixture.
    build::build(
        &root.join("tests/fixtures/sales-ladder"),
        &root.join("target").join("plugins"),
        SameVersion::Replace,
    )?;
    eprintln!("xtask: building the release server and upline-load (the first build takes minutes)");
    let build = ["build", "--release", "--package", "upline-host", "--bin", "upline"];
    run(cargo(root, &build).args(["--package", "upline-tests", "--bin", "upline-load"]))?;
    let load = || {
        let mut load = Command::new(root.join("target/release/upline-load"));
        load.current_dir(root).args(args);
        load
    };
    run(&mut load())?;
    if !sqlite_only {
        let url = std::env::var(POSTGRES_ENV).unwrap_or_else(|_| DEFAULT_POSTGRES.into());
        run(load().arg("--postgres").arg(url))?;
    }
    Ok(())
}

/// Builds every crate under `plugins/` that has a `plugin.toml`; returns the packages.
fn build_plugins(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let target_dir = root.join("target").join("plugins");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("plugins"))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|dir| dir.join("plugin.toml").exists())
        .collect();
    dirs.sort();
    let mut packages = Vec::new();
    for dir in dirs {
        eprintln!("xtask: building the plugin in {} to wasm", dir.display());
        let built = build::build(&dir, &target_dir, SameVersion::Replace)?;
        eprintln!("xtask: built {} {} -> {}", built.manifest.id, built.manifest.version, built.path.display());
        packages.push(built.path);
    }
    Ok(packages)
}

fn cargo(root: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root).args(args);
    command
}

/// Test counts over one or more `cargo test` runs.
#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    passed: u64,
    failed: u64,
    skipped: u64,
}

impl std::ops::Add for Totals {
    type Output = Totals;
    fn add(self, other: Totals) -> Totals {
        Totals {
            passed: self.passed + other.passed,
            failed: self.failed + other.failed,
            skipped: self.skipped + other.skipped,
        }
    }
}

/// Runs `cargo test`, echoing its output, and adds up every test binary's summary.
fn test(command: &mut Command) -> anyhow::Result<Totals> {
    let mut child = command.stdout(Stdio::piped()).spawn().with_context(|| format!("running {command:?}"))?;
    let mut totals = Totals::default();
    for line in BufReader::new(child.stdout.take().context("test output")?).lines() {
        let line = line?;
        println!("{line}");
        if let Some(summary) = line.strip_prefix("test result: ") {
            let count = |word: &str| {
                summary
                    .split(';')
                    .find_map(|part| part.trim().strip_suffix(word)?.trim().rsplit(' ').next()?.parse::<u64>().ok())
            };
            totals = totals
                + Totals {
                    passed: count(" passed").unwrap_or(0),
                    failed: count(" failed").unwrap_or(0),
                    skipped: count(" ignored").unwrap_or(0),
                };
        }
    }
    let status = child.wait()?;
    if !status.success() {
        println!("{} passed, {} failed, {} skipped", totals.passed, totals.failed.max(1), totals.skipped);
        bail!("cargo test failed: {status}");
    }
    Ok(totals)
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let status = command.status().with_context(|| format!("running {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed: {status}");
    }
    Ok(())
}
