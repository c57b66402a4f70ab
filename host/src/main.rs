//! The `upline` command: the server and the plugin tools.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use upline_host::app::{Application, Settings};
use upline_host::plugin::{Hook, PluginEngine, Registry, pack};
use upline_host::service::packages::{self, Existing};
use upline_host::service::throttle::ThrottleSettings;
use upline_package::build;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "upline", version, about = "Affiliate commission platform with sandboxed WebAssembly plugins")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the server.
    Serve {
        /// Where the default SQLite database and the compiled-plugin cache live.
        #[arg(long, env = "UPLINE_DATA_DIR", default_value = "data")]
        data_dir: PathBuf,
        /// Address to listen on.
        #[arg(long, env = "UPLINE_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// `sqlite://...` or `postgres://...` (default: upline.db in the data directory).
        #[arg(long, env = "UPLINE_DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
        /// The operator API key; when unset a random one is generated and printed.
        #[arg(long, env = "UPLINE_OPERATOR_KEY", hide_env_values = true)]
        operator_key: Option<String>,
        /// Packages, or directories of packages, to install at start (e.g. the built-ins).
        #[arg(long)]
        install: Vec<PathBuf>,
        /// Seed demo data (a campaign, a four-level affiliate tree, a few sales) into an empty database.
        #[arg(long)]
        demo: bool,
        /// Requests a minute each client may make to the tracking endpoints (referral
        /// links, clicks, the snippet).
        #[arg(long, env = "UPLINE_TRACKING_PER_MINUTE", default_value_t = 600)]
        tracking_per_minute: u32,
        /// Address ranges exempt from the per-client rate limits (e.g. 127.0.0.1/32 for
        /// a local load generator); comma-separated in the environment.
        #[arg(long, env = "UPLINE_RATE_LIMIT_EXEMPT", value_delimiter = ',')]
        rate_limit_exempt: Vec<ipnet::IpNet>,
        /// Take clients' addresses from `X-Forwarded-For`: only behind a proxy that sets it.
        #[arg(long, env = "UPLINE_TRUST_FORWARDED_FOR")]
        trust_forwarded_for: bool,
        /// Serve `/metrics` on the main address to requests bearing this token.
        #[arg(long, env = "UPLINE_METRICS_TOKEN", hide_env_values = true)]
        metrics_token: Option<String>,
        /// Serve `/metrics` (without a token) on this address of its own, e.g. 127.0.0.1:9090.
        #[arg(long, env = "UPLINE_METRICS_LISTEN")]
        metrics_listen: Option<SocketAddr>,
        /// Seconds a host's claim on a job lasts without renewal: after a host dies, its
        /// job waits this long before another host takes it over.
        #[arg(long, env = "UPLINE_JOB_LEASE_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
        job_lease_secs: u64,
    },
    /// Creates or upgrades the database schema.
    Migrate {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Creates an operator API key (printed once; only its hash is stored).
    OperatorKey {
        /// What the key is for, e.g. `shop backend`.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Plugin tools.
    #[command(subcommand)]
    Plugin(PluginCommand),
}

/// Which database a command works on.
#[derive(clap::Args)]
struct DatabaseArgs {
    /// Where the default SQLite database (and the compiled-plugin cache) lives.
    #[arg(long, env = "UPLINE_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...` (default: upline.db in the data directory).
    #[arg(long, env = "UPLINE_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
}

impl DatabaseArgs {
    /// Connects to (and migrates) the database.
    async fn connect(&self) -> anyhow::Result<sea_orm::DatabaseConnection> {
        std::fs::create_dir_all(&self.data_dir).with_context(|| self.data_dir.display().to_string())?;
        let url = self.database_url.clone().unwrap_or_else(|| upline_host::db::default_url(&self.data_dir));
        Ok(upline_host::db::connect(&url).await?)
    }

    /// The database and a registry holding every plugin installed in it.
    async fn plugins(&self) -> anyhow::Result<(sea_orm::DatabaseConnection, Arc<Registry>)> {
        let db = self.connect().await?;
        let registry = Arc::new(Registry::open(&self.data_dir)?);
        packages::sync(&db, &registry).await?;
        Ok((db, registry))
    }
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Builds a plugin crate (with its plugin.toml) into a package, written to
    /// TARGET_DIR/packages/ID-VERSION.wasm (the path is printed). A changed plugin
    /// needs a new version, unless it is a development version (e.g. 0.2.0-dev).
    Build {
        /// The plugin crate's directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Cargo target directory for the wasm build (default: DIR/target).
        #[arg(long)]
        target_dir: Option<PathBuf>,
    },
    /// Packs a core module built with the SDK (by your own `cargo build --target
    /// wasm32-unknown-unknown`) with the plugin.toml and version of the crate in DIR.
    Pack {
        /// The core module.
        wasm: PathBuf,
        /// The plugin crate's directory (its plugin.toml and Cargo.toml).
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Where to write the package.
        #[arg(long, short)]
        output: PathBuf,
    },
    /// Installs a package into the database as its plugin's active version (servers
    /// on that database load it when they next look); an installed version is refused.
    Install {
        /// The package.
        package: PathBuf,
        /// A development install: a rebuilt development version (`x.y.z-dev`)
        /// replaces the installed one of the same version.
        #[arg(long)]
        dev: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Lists the plugins installed in the database.
    List {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Runs one hook of a package on a JSON run file and prints the result, the
    /// plugin's logs, the fuel used, the peak memory and the time.
    Run {
        /// The package.
        package: PathBuf,
        /// The hook (default: the file's "hook", or the plugin's only hook).
        #[arg(long)]
        hook: Option<Hook>,
        /// The run file (`upline plugin example-input HOOK` prints one).
        #[arg(long)]
        input: PathBuf,
        /// Print the whole report as JSON, for machines.
        #[arg(long)]
        json: bool,
        /// Run again whenever the package or the input file changes (Ctrl-C stops).
        #[arg(long)]
        watch: bool,
    },
    /// Writes a new plugin crate in NAME/ (a directory; its last component is the
    /// plugin id) that builds, tests and runs as it is.
    New {
        /// The new crate's directory, e.g. `my-bonus`.
        name: PathBuf,
        /// The hook it implements.
        #[arg(long)]
        hook: Hook,
        /// The SDK's source (plugin-sdk/ of an Upline checkout), until the SDK is on
        /// crates.io (default: the one this binary was built from).
        #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../plugin-sdk"))]
        sdk_path: PathBuf,
    },
    /// Prints a complete, valid run file for HOOK.
    ExampleInput {
        /// The hook.
        hook: Hook,
    },
    /// Runs every X.json in DIR on the package and compares the result with
    /// X.expected.json.
    Test {
        /// The package.
        package: PathBuf,
        /// The folder of example run files.
        dir: PathBuf,
        /// Record the current results as the expected ones.
        #[arg(long)]
        bless: bool,
    },
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", message(&err));
            std::process::ExitCode::FAILURE
        }
    }
}

/// The error and its causes, each said once: a cause whose text the message already
/// holds is left out.
fn message(err: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if !message.contains(&text) {
            if !message.is_empty() {
                message.push_str(": ");
            }
            message.push_str(&text);
        }
    }
    message
}

fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,wasmtime=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve {
            data_dir,
            listen,
            database_url,
            operator_key,
            install,
            demo,
            tracking_per_minute,
            rate_limit_exempt,
            trust_forwarded_for,
            metrics_token,
            metrics_listen,
            job_lease_secs,
        } => serve(Settings {
            job_lease: std::time::Duration::from_secs(job_lease_secs),
            database_url,
            install,
            demo,
            throttles: ThrottleSettings { tracking_per_minute, exempt: rate_limit_exempt },
            trust_forwarded_for,
            metrics_token,
            metrics_listen,
            ..Settings::new(data_dir, listen, operator_key.unwrap_or_else(generated_key))
        }),
        Command::Migrate { database } => {
            tokio::runtime::Runtime::new()?.block_on(database.connect())?;
            println!("database is up to date");
            Ok(())
        }
        Command::OperatorKey { name, database } => {
            let key = tokio::runtime::Runtime::new()?.block_on(async {
                let db = database.connect().await?;
                anyhow::Ok(
                    upline_host::service::operator_keys::create(
                        &db,
                        &name,
                        "cli",
                        upline_host::clock::Clock::System.now(),
                    )
                    .await?
                    .key,
                )
            })?;
            println!("{key}");
            eprintln!("operator API key `{name}` created; it is shown only this once");
            Ok(())
        }
        Command::Plugin(command) => plugin(command),
    }
}

/// Prints a runner report for people: the result, the plugin's logs, the usage.
fn print_report(report: &serde_json::Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(&report["value"])?);
    print_logs_and_usage(&report["logs"], &report["usage"]);
    Ok(())
}

/// Prints what a plugin logged and what its call cost (a report's or a failed call's).
fn print_logs_and_usage(logs: &serde_json::Value, usage: &serde_json::Value) {
    for log in logs.as_array().into_iter().flatten() {
        eprintln!("[{}] {}", log["level"].as_str().unwrap_or("?"), log["message"].as_str().unwrap_or(""));
    }
    if usage.is_object() {
        eprintln!(
            "fuel used: {}  peak memory: {} KiB  time: {} us",
            usage["fuel"],
            usage["peak_memory"].as_u64().unwrap_or(0) / 1024,
            usage["elapsed_us"]
        );
    }
}

fn generated_key() -> String {
    let key = hex::encode(rand::random::<[u8; 24]>());
    eprintln!("operator API key (set UPLINE_OPERATOR_KEY to choose one): {key}");
    key
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    let listen = settings.listen;
    tokio::runtime::Runtime::new()?.block_on(async {
        let app = Application::build(settings).await?;
        tracing::info!("listening on http://{}:{}", listen.ip(), app.port());
        app.run().await
    })?;
    Ok(())
}

fn plugin(command: PluginCommand) -> anyhow::Result<()> {
    match command {
        PluginCommand::Build { dir, target_dir } => {
            let target_dir = target_dir.unwrap_or_else(|| dir.join("target"));
            let built = build::build(&dir, &target_dir, build::SameVersion::Refuse)?;
            println!("{}", std::path::absolute(&built.path).unwrap_or(built.path).display());
        }
        PluginCommand::Pack { wasm, dir, output } => {
            let module = std::fs::read(&wasm).with_context(|| wasm.display().to_string())?;
            let version = build::CrateInfo::read(&dir)?.version;
            let package = pack(&module, build::read_plugin_toml(&dir)?, version)?;
            std::fs::write(&output, package.bytes).with_context(|| output.display().to_string())?;
            println!("{}", output.display());
        }
        PluginCommand::Install { package, dev, database } => {
            let existing = if dev { Existing::ReplaceDevelopment } else { Existing::Refuse };
            let bytes = std::fs::read(&package).with_context(|| package.display().to_string())?;
            let info = tokio::runtime::Runtime::new()?.block_on(async {
                // Only the new package is compiled: the installed ones are not needed.
                let db = database.connect().await?;
                let registry = Arc::new(Registry::open(&database.data_dir)?);
                anyhow::Ok(
                    packages::install(&db, &registry, bytes, existing, upline_host::clock::Clock::System.now()).await?,
                )
            })?;
            println!("installed {} {} ({})", info.id, info.version, info.digest);
        }
        PluginCommand::List { database } => {
            let (_, registry) = tokio::runtime::Runtime::new()?.block_on(database.plugins())?;
            for info in registry.list() {
                let hooks: Vec<String> = info.hooks.iter().map(ToString::to_string).collect();
                let active = if info.active { " (active)" } else { "" };
                println!("{} {}{active}  hooks: {}  {}", info.id, info.version, hooks.join(", "), info.digest);
            }
        }
        PluginCommand::Run { package, hook, input, json, watch } => {
            let engine = PluginEngine::new()?;
            let run_once = || -> anyhow::Result<()> {
                let bytes = std::fs::read(&package).with_context(|| package.display().to_string())?;
                let text = std::fs::read_to_string(&input).with_context(|| input.display().to_string())?;
                let report = upline_host::runner::run(&engine, bytes, hook, &text).inspect_err(|err| {
                    // A failed call still shows what the plugin logged before it failed.
                    if let upline_host::error::Error::PluginCall(call) = err
                        && let Some(trace) = &call.trace
                    {
                        let logs = serde_json::to_value(&trace.logs).unwrap_or_default();
                        print_logs_and_usage(&logs, &serde_json::to_value(trace.usage).unwrap_or_default());
                    }
                })?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&report)?);
                } else {
                    print_report(&report)?;
                }
                Ok(())
            };
            if !watch {
                return run_once();
            }
            let stamp = || [&package, &input].map(|path| std::fs::metadata(path).and_then(|m| m.modified()).ok());
            let mut seen = None;
            loop {
                let now = stamp();
                if seen != Some(now) {
                    seen = Some(now);
                    if let Err(err) = run_once() {
                        eprintln!("error: {}", message(&err));
                    }
                    eprintln!("-- watching {} and {} (Ctrl-C stops)", package.display(), input.display());
                }
                std::thread::sleep(std::time::Duration::from_millis(300));
            }
        }
        PluginCommand::New { name, hook, sdk_path } => {
            for path in upline_host::authoring::new_plugin(&name, hook, &sdk_path)? {
                println!("{}", path.display());
            }
            eprintln!("next: cd {} && cargo test && upline plugin build (see its README.md)", name.display());
        }
        PluginCommand::ExampleInput { hook } => print!("{}", upline_host::authoring::example_input(hook)),
        PluginCommand::Test { package, dir, bless } => {
            let bytes = std::fs::read(&package).with_context(|| package.display().to_string())?;
            let cases = upline_host::authoring::golden(&PluginEngine::new()?, &bytes, &dir, bless)?;
            let failed = cases.iter().filter(|case| case.failure.is_some()).count();
            for case in &cases {
                match &case.failure {
                    None if bless => println!("recorded {}", case.input.display()),
                    None => println!("ok      {}", case.input.display()),
                    Some(failure) => println!("FAILED  {}\n{failure}", case.input.display()),
                }
            }
            println!("{} passed, {failed} failed", cases.len() - failed);
            if failed > 0 {
                anyhow::bail!("{failed} of {} examples did not give their expected result", cases.len());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_printed_once_when_its_context_already_says_its_cause() {
        let cause = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let err = anyhow::Error::new(cause).context("plugin.wasm: no such file").context("running the plugin");
        assert_eq!(message(&err), "running the plugin: plugin.wasm: no such file");
        let err = anyhow::anyhow!("the cause").context("the context");
        assert_eq!(message(&err), "the context: the cause");
    }
}
