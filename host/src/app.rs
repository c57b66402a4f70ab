//! Building and running the server: bind, open the plugin registry, serve.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket};

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::http::serve::serve;
use crate::http::{AppState, hash_key, router};
use crate::plugin::Registry;
use crate::service::config::ConfigCache;
use crate::service::engine::Engine;
use crate::service::jobs::Scheduler;
use crate::service::packages::{self, Existing};
use crate::service::throttle::{ThrottleSettings, Throttles};
use crate::service::tracking::Tracker;

/// Server settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the default SQLite database and the compiled-plugin cache live.
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; `None` for `upline.db` in the data directory.
    pub database_url: Option<String>,
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The operator API key.
    pub operator_key: String,
    /// Packages (files, or directories of `.wasm` files) to install at start.
    pub install: Vec<PathBuf>,
    /// Seed the demo data into an empty database.
    pub demo: bool,
    /// Rate limits on public traffic, and the clients exempt from them.
    pub throttles: ThrottleSettings,
    /// Take clients' addresses from `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_forwarded_for: bool,
    /// Serve `/metrics` on the main address to requests bearing this token.
    pub metrics_token: Option<String>,
    /// Serve `/metrics` (without a token) on this address of its own.
    pub metrics_listen: Option<SocketAddr>,
    /// Where "now" comes from: the system clock, or a test's fake one.
    pub clock: Clock,
    /// How often due jobs are looked for; `None` runs them only when
    /// [`Scheduler::run_due`] is called (tests on a fake clock).
    pub jobs_every: Option<Duration>,
    /// How long a claim on a job lasts without renewal.
    pub job_lease: Duration,
}

impl Settings {
    /// Settings for a server on `listen` with `data_dir` and the bootstrap
    /// `operator_key`; everything else at its default.
    pub fn new(data_dir: PathBuf, listen: SocketAddr, operator_key: String) -> Self {
        Self {
            data_dir,
            database_url: None,
            listen,
            operator_key,
            install: vec![],
            demo: false,
            throttles: ThrottleSettings::default(),
            trust_forwarded_for: false,
            metrics_token: None,
            metrics_listen: None,
            clock: Clock::System,
            jobs_every: Some(Duration::from_secs(1)),
            job_lease: Duration::from_secs(60),
        }
    }
}

/// A bound, ready-to-run server.
pub struct Application {
    listener: TcpListener,
    metrics: Option<TcpListener>,
    state: AppState,
    scheduler: Arc<Scheduler>,
    jobs_every: Option<Duration>,
}

impl Application {
    /// Opens the registry, installs the packages in `settings.install`, and binds.
    pub async fn build(settings: Settings) -> Result<Self> {
        let data_dir = settings.data_dir.clone();
        let registry = tokio::task::spawn_blocking(move || Registry::open(&data_dir))
            .await
            .map_err(|err| Error::Internal(err.to_string()))??;
        std::fs::create_dir_all(&settings.data_dir).map_err(Error::io(&settings.data_dir))?;
        let url = settings.database_url.clone().unwrap_or_else(|| crate::db::default_url(&settings.data_dir));
        let db = crate::db::connect(&url).await?;
        crate::db::checkpoints(&url).await?;
        let registry = Arc::new(registry);
        for path in package_files(&settings.install)? {
            let bytes = std::fs::read(&path).map_err(Error::io(&path))?;
            let info = packages::install(&db, &registry, bytes, Existing::Keep, settings.clock.now()).await?;
            tracing::info!(plugin = %info.id, version = %info.version, path = %path.display(), "package given at start is installed");
        }
        // Every package installed on this database, by this host or another.
        packages::sync(&db, &registry).await?;
        let reader = crate::db::connect_reader(&url, &db).await?;
        let engine = Arc::new(Engine::start((db.clone(), reader.clone()), registry.clone(), settings.clock.clone()));
        if settings.demo {
            if crate::service::demo::seed(&db, &registry, &engine, settings.clock.now()).await? {
                tracing::info!(
                    password = crate::service::demo::PASSWORD,
                    "demo data seeded: campaign `Demo shop`, affiliates ann@, ben@, cle@, dan@demo.example"
                );
            }
            tracing::info!(
                console = format!("http://{}/console", settings.listen),
                email = crate::service::demo::OPERATOR,
                password = crate::service::demo::PASSWORD,
                "merchant console: log in as the demo operator"
            );
        }
        let listener = listen(settings.listen)?;
        let metrics = settings.metrics_listen.map(listen).transpose()?;
        let cache: Arc<ConfigCache> = Arc::default();
        let scheduler = Arc::new(Scheduler::new(
            db.clone(),
            registry.clone(),
            cache.clone(),
            engine.clone(),
            settings.clock.clone(),
            settings.job_lease,
        ));
        scheduler.ensure().await?;
        let state = AppState {
            registry: registry.clone(),
            reader,
            db: db.clone(),
            cache,
            tracker: Arc::new(Tracker::start(db.clone(), settings.clock.clone())),
            engine,
            throttles: Arc::new(Throttles::new(&settings.throttles)),
            passwords: Arc::default(),
            operator_key_hash: hash_key(&settings.operator_key),
            metrics_token_hash: settings.metrics_token.as_deref().map(hash_key),
            trust_forwarded_for: settings.trust_forwarded_for,
            clock: settings.clock.clone(),
        };
        Ok(Self { listener, metrics, state, scheduler, jobs_every: settings.jobs_every })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|addr| addr.port()).unwrap_or(0)
    }

    /// The port `/metrics` has of its own, if it has one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().and_then(|listener| listener.local_addr().ok()).map(|addr| addr.port())
    }

    /// The scheduler of this server's jobs.
    pub fn scheduler(&self) -> Arc<Scheduler> {
        self.scheduler.clone()
    }

    /// Serves until the process is stopped.
    pub async fn run(self) -> Result<()> {
        tokio::spawn(housekeeping(self.state.clone()));
        if let Some(every) = self.jobs_every {
            self.scheduler.spawn(every);
        }
        let stop = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        if let Some(metrics) = self.metrics {
            tokio::spawn(serve(metrics, crate::http::metrics_router(), std::future::pending()));
        }
        serve(self.listener, router(self.state), stop).await;
        Ok(())
    }
}

/// Every minute: removes expired sessions and lets the rate limiters forget idle
/// clients (this host's memory; what the database must do later is a job).
async fn housekeeping(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        let now = state.clock.now();
        let removed = [
            crate::service::sessions::remove_expired(&state.db, now).await,
            crate::service::operators::remove_expired(&state.db, now).await,
        ];
        for err in removed.into_iter().filter_map(std::result::Result::err) {
            tracing::error!(error = %err, "removing expired sessions");
        }
        state.throttles.forget_idle();
    }
}

/// The files named, with directories expanded to their `.wasm` files.
fn package_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(Error::io(path))?
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|file| file.extension().is_some_and(|ext| ext == "wasm"))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// Connections the kernel completes and holds for the server before it accepts them
/// (capped by `net.core.somaxconn`). At tokio's default of 1,024, 5,000 clients
/// connecting at once overflowed the queue: the kernel dropped their SYNs and each
/// retried after 1, 3, 7 s, while the server sat idle.
const BACKLOG: u32 = 4096;

/// A listener on `address` with a queue of [`BACKLOG`] connections.
fn listen(address: SocketAddr) -> Result<TcpListener> {
    let socket = if address.is_ipv4() { TcpSocket::new_v4() } else { TcpSocket::new_v6() };
    let listening = socket.and_then(|socket| {
        socket.set_reuseaddr(true)?;
        socket.bind(address)?;
        socket.listen(BACKLOG)
    });
    listening.map_err(Error::io(address.to_string()))
}
