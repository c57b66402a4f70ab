//! Building and running the server: bind, open the plugin registry, serve.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::error::{Error, Result};
use crate::http::{AppState, hash_key, router};
use crate::plugin::Registry;
use crate::service::packages;

/// Server settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where plugins, artifacts and the default SQLite database live.
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
}

/// A bound, ready-to-run server.
pub struct Application {
    listener: TcpListener,
    state: AppState,
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
        for path in package_files(&settings.install)? {
            let bytes = std::fs::read(&path).map_err(Error::io(&path))?;
            let info = registry.install(bytes)?;
            packages::publish(&db, &registry, &info, true).await?;
            tracing::info!(plugin = %info.id, version = %info.version, path = %path.display(), "installed at start");
        }
        // The packages other hosts installed, and ours for them.
        packages::sync(&db, &registry).await?;
        if settings.demo && crate::service::demo::seed(&db, &registry).await? {
            tracing::info!(
                password = crate::service::demo::PASSWORD,
                "demo data seeded: campaign `Demo shop`, affiliates ann@, ben@, cle@, dan@demo.example"
            );
        }
        let listener = TcpListener::bind(settings.listen).await.map_err(Error::io(settings.listen.to_string()))?;
        let registry = Arc::new(registry);
        let state = AppState {
            registry: registry.clone(),
            db: db.clone(),
            cache: Arc::default(),
            clicks: crate::service::tracking::ClickWriter::start(db.clone()),
            conversions: crate::service::engine::ConversionWriter::start(db.clone(), registry.clone()),
            operator_key_hash: hash_key(&settings.operator_key),
        };
        Ok(Self { listener, state })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|addr| addr.port()).unwrap_or(0)
    }

    /// Serves until the process is stopped.
    pub async fn run(self) -> Result<()> {
        tokio::spawn(release_held_commissions(self.state.db.clone()));
        axum::serve(self.listener, router(self.state))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(Error::io("server"))
    }
}

/// Approves held commissions once their hold period is over, every minute.
async fn release_held_commissions(db: sea_orm::DatabaseConnection) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        match crate::service::lifecycle::release_due(&db, chrono::Utc::now()).await {
            Ok(0) => {}
            Ok(released) => tracing::info!(released, "held commissions approved"),
            Err(err) => tracing::error!(error = %err, "releasing held commissions"),
        }
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
