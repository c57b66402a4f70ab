//! Shared test support: plugins built from source once per test process, fresh
//! registries, and the DOMAIN.md example data.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use upline_host::clock::{Clock, FakeClock};
use upline_host::plugin::{Package, PluginToml, Registry, pack};
use upline_package::build::{self, Built};
use upline_plugin_sdk::{
    CommissionGroup, Conversion, Currency, DistributeInput, Money, Rate, TierRule, TierSetting, Timestamp, UplineMember,
};

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Where test builds of plugins go.
pub fn plugin_target_dir() -> PathBuf {
    workspace_root().join("target").join("plugins")
}

/// Builds the plugin crate at `dir` (relative to the workspace root) once per test
/// process with the project's own build, and returns the package.
pub fn built(dir: &str) -> Built {
    static BUILT: Mutex<Option<HashMap<String, Built>>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let built = built.get_or_insert_with(HashMap::new);
    if let Some(found) = built.get(dir) {
        return found.clone();
    }
    let result = build::build(&workspace_root().join(dir), &plugin_target_dir(), build::SameVersion::Replace)
        .unwrap_or_else(|err| panic!("building the plugin in {dir}: {err}"));
    built.insert(dir.to_owned(), result.clone());
    result
}

/// Names a folder of prebuilt packages (`<id>-<version>.wasm`) that replace the
/// fresh builds of the plugins they hold (the 0.1.0 packages, in CI).
pub const PACKAGES_ENV: &str = "UPLINE_TEST_PACKAGES";

/// The package bytes of the plugin crate at `dir`: its prebuilt package from the
/// folder [`PACKAGES_ENV`] names when that holds one, else a fresh build.
pub fn package(dir: &str) -> Vec<u8> {
    prebuilt(dir).unwrap_or_else(|| fresh_package(dir))
}

/// The package of a fresh build of the plugin crate at `dir`, also under
/// [`PACKAGES_ENV`]: for tests of what only the current SDK builds.
pub fn fresh_package(dir: &str) -> Vec<u8> {
    let built = built(dir);
    std::fs::read(&built.path).unwrap_or_else(|err| panic!("reading {}: {err}", built.path.display()))
}

fn prebuilt(dir: &str) -> Option<Vec<u8>> {
    let folder = workspace_root().join(std::env::var_os(PACKAGES_ENV)?);
    let about = build::read_plugin_toml(&workspace_root().join(dir))
        .unwrap_or_else(|err| panic!("reading the plugin.toml in {dir}: {err}"));
    let prefix = format!("{}-", about.id);
    let entries = std::fs::read_dir(&folder).unwrap_or_else(|err| panic!("reading {}: {err}", folder.display()));
    let path = entries.filter_map(|entry| entry.ok().map(|entry| entry.path())).find(|path| {
        path.file_name()
            .and_then(|name| name.to_str()?.strip_prefix(&prefix))
            .is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit()))
    })?;
    std::fs::read(path).ok()
}

/// `id@version` of the package [`package`] gives for the crate at `dir`, as the
/// API names the plugin that made a commission.
pub fn plugin_ref(dir: &str) -> String {
    let manifest =
        Package::parse(package(dir)).unwrap_or_else(|err| panic!("reading the package of {dir}: {err}")).manifest;
    format!("{}@{}", manifest.id, manifest.version)
}

/// The hostile fixture plugin's package.
pub fn hostile() -> Vec<u8> {
    package("tests/fixtures/hostile-plugin")
}

/// The hostile fixture's core module (before packing), to package it differently.
pub fn hostile_module() -> Vec<u8> {
    built("tests/fixtures/hostile-plugin");
    let path = plugin_target_dir().join("wasm32-unknown-unknown/release/hostile_plugin.wasm");
    std::fs::read(&path).unwrap_or_else(|err| panic!("reading {}: {err}", path.display()))
}

/// The hostile fixture's manifest, to attach to hand-made components.
pub fn hostile_manifest() -> upline_host::plugin::Manifest {
    built("tests/fixtures/hostile-plugin").manifest
}

/// The hostile fixture's `plugin.toml`, for variations.
pub fn hostile_toml() -> PluginToml {
    build::read_plugin_toml(&workspace_root().join("tests/fixtures/hostile-plugin"))
        .unwrap_or_else(|err| panic!("reading the hostile plugin.toml: {err}"))
}

/// The hostile module packed with another `plugin.toml` as `version`.
pub fn hostile_with(about: PluginToml, version: &str) -> Vec<u8> {
    let version = version.parse().unwrap_or_else(|err| panic!("version {version}: {err}"));
    pack(&hostile_module(), about, version).unwrap_or_else(|err| panic!("packing: {err}")).bytes
}

/// A registry over a fresh data directory (kept alive by the returned guard).
pub fn registry() -> (tempfile::TempDir, Registry) {
    let dir = tempfile::tempdir().expect("temp dir");
    let registry = Registry::open(dir.path()).unwrap_or_else(|err| panic!("opening a registry: {err}"));
    (dir, registry)
}

/// `amount` in `currency`.
pub fn money(amount: &str, currency: &str) -> Money {
    Money::new(amount.parse().expect("decimal"), Currency::from_code(currency).expect("currency"))
}

/// A group whose tiers follow `rules` (tier 1 first).
pub fn group(id: u64, name: &str, rules: Vec<TierRule>) -> CommissionGroup {
    CommissionGroup {
        id: id.into(),
        name: name.into(),
        tiers: rules.into_iter().enumerate().map(|(i, rule)| TierSetting { tier: i as u32 + 1, rule }).collect(),
    }
}

/// `value` percent.
pub fn pct(value: &str) -> Rate {
    Rate::percent(value.parse().expect("decimal"))
}

/// A sale of `total` referred by the first of `upline` (affiliate id, group id),
/// with `groups` as the campaign's groups.
pub fn sale(total: Money, upline: &[(u64, u64)], groups: Vec<CommissionGroup>) -> DistributeInput {
    DistributeInput {
        now: Timestamp::from_millis(1_767_225_600_000),
        conversion: Conversion {
            order_id: Some("order-1".into()),
            occurred_at: Timestamp::from_millis(1_767_225_600_000),
            ..upline_plugin_sdk::testing::sale(total)
        },
        upline: upline
            .iter()
            .enumerate()
            .map(|(i, (affiliate, group))| UplineMember {
                affiliate: (*affiliate).into(),
                tier: i as u32 + 1,
                group: (*group).into(),
                customer: None,
            })
            .collect(),
        groups,
    }
}

/// The DOMAIN.md variable-tier example: tree A(1) -> B(2) -> C(3) -> D(4), groups
/// Basic 10 %, Standard 10 %, Premium 20 %, VIP 50 %, and D referring a sale of `total` EUR.
pub fn domain_example(total: &str) -> DistributeInput {
    let groups = vec![
        group(1, "Basic", vec![TierRule::Percent(pct("10"))]),
        group(2, "Standard", vec![TierRule::Percent(pct("10"))]),
        group(3, "Premium", vec![TierRule::Percent(pct("20"))]),
        group(4, "VIP", vec![TierRule::Percent(pct("50"))]),
    ];
    // D is Basic, C Premium, B Standard, A VIP.
    sale(money(total, "EUR"), &[(4, 1), (3, 3), (2, 2), (1, 4)], groups)
}

/// A server started for one test on a random port, with its own data directory.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// The operator API key.
    pub operator_key: String,
    /// An HTTP client.
    pub client: reqwest::Client,
    /// The server's database.
    pub database_url: String,
    /// The port of `/metrics`' own address, when it has one.
    pub metrics_port: Option<u16>,
    /// Its job scheduler.
    pub scheduler: std::sync::Arc<upline_host::service::jobs::Scheduler>,
    /// Its clock, when the test moves time itself.
    pub clock: Option<FakeClock>,
    _data_dir: tempfile::TempDir,
}

impl TestApp {
    /// A request to `path` (under the server) with the operator key.
    pub fn operator(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.address)).bearer_auth(&self.operator_key)
    }

    /// `POST`s a package to `/api/v1/plugins` with the operator key.
    pub async fn install(&self, package: Vec<u8>) -> reqwest::Response {
        self.install_request(package).send().await.expect("request")
    }

    /// Moves the fake clock forward by `by` (the test's server must be on one).
    pub fn advance(&self, by: chrono::TimeDelta) {
        self.clock.as_ref().expect("a server on a fake clock").advance(by);
    }

    /// The fake clock's time.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.as_ref().expect("a server on a fake clock").now()
    }

    /// Runs the server's due jobs until none is due; returns how many runs it made.
    pub async fn run_jobs(&self) -> u64 {
        self.scheduler.run_due().await.expect("jobs run")
    }

    /// The request that installs a package.
    pub fn install_request(&self, package: Vec<u8>) -> reqwest::RequestBuilder {
        self.operator(reqwest::Method::POST, "/api/v1/plugins").header("content-type", "application/wasm").body(package)
    }
}

/// The environment variable that switches the database tests to PostgreSQL: an
/// admin URL (e.g. `postgres://postgres@127.0.0.1:5432/test`) under which every
/// test gets a database of its own.
pub const POSTGRES_ENV: &str = "UPLINE_TEST_POSTGRES";

/// A fresh, empty database for one test: a SQLite file in `data_dir`, or a new
/// PostgreSQL database when [`POSTGRES_ENV`] is set.
pub async fn fresh_database_url(data_dir: &Path) -> String {
    use sea_orm::ConnectionTrait;
    let Ok(admin_url) = std::env::var(POSTGRES_ENV) else {
        return upline_host::db::default_url(data_dir);
    };
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let name = format!(
        "upline_test_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        chrono::Utc::now().timestamp_micros()
    );
    let admin = sea_orm::Database::connect(admin_url.as_str()).await.expect("PostgreSQL reachable");
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create a test database");
    admin.close().await.ok();
    let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(base, _)| base);
    format!("{base}/{name}")
}

/// Starts the real server on a random port with a fresh data directory and database.
pub async fn spawn_app() -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_database_url(data_dir.path()).await;
    spawn_app_with(data_dir, database_url).await
}

/// Starts another host of `app`'s deployment: its own data directory, the same database.
pub async fn spawn_host_of(app: &TestApp) -> TestApp {
    spawn_app_with(tempfile::tempdir().expect("temp dir"), app.database_url.clone()).await
}

/// The token test servers serve `/metrics` to.
pub const METRICS_TOKEN: &str = "test-metrics-token";

/// The user agent of test clients: a browser's (clicks without one are a bot's).
pub const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

/// An HTTP client that identifies as a browser.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder().user_agent(BROWSER).build().expect("a client")
}

async fn spawn_app_with(data_dir: tempfile::TempDir, database_url: String) -> TestApp {
    spawn_with(test_settings(&data_dir, database_url), data_dir).await
}

fn test_settings(data_dir: &tempfile::TempDir, database_url: String) -> upline_host::app::Settings {
    let listen = "127.0.0.1:0".parse().expect("address");
    upline_host::app::Settings {
        database_url: Some(database_url),
        metrics_token: Some(METRICS_TOKEN.into()),
        ..upline_host::app::Settings::new(data_dir.path().to_path_buf(), listen, "test-operator-key".into())
    }
}

/// Starts the real server on a fake clock standing at `start`, with a fresh data
/// directory and database; its jobs run only when the test calls
/// [`TestApp::run_jobs`].
pub async fn spawn_app_at(start: chrono::DateTime<chrono::Utc>) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_database_url(data_dir.path()).await;
    spawn_on_clock(data_dir, database_url, FakeClock::at(start)).await
}

/// Starts another host of `app`'s deployment on `app`'s fake clock (as after a restart).
pub async fn spawn_host_on_clock_of(app: &TestApp) -> TestApp {
    let clock = app.clock.clone().expect("a server on a fake clock");
    spawn_on_clock(tempfile::tempdir().expect("temp dir"), app.database_url.clone(), clock).await
}

async fn spawn_on_clock(data_dir: tempfile::TempDir, database_url: String, clock: FakeClock) -> TestApp {
    let settings = upline_host::app::Settings {
        clock: Clock::Fake(clock),
        jobs_every: None,
        ..test_settings(&data_dir, database_url)
    };
    spawn_with(settings, data_dir).await
}

/// Starts the real server with `settings` (their data directory is `data_dir`'s).
pub async fn spawn_with(settings: upline_host::app::Settings, data_dir: tempfile::TempDir) -> TestApp {
    let (operator_key, database_url) =
        (settings.operator_key.clone(), settings.database_url.clone().unwrap_or_default());
    let clock = match &settings.clock {
        Clock::Fake(clock) => Some(clock.clone()),
        Clock::System => None,
    };
    let app = upline_host::app::Application::build(settings).await.expect("server starts");
    let (address, metrics_port) = (format!("http://127.0.0.1:{}", app.port()), app.metrics_port());
    let scheduler = app.scheduler();
    tokio::spawn(app.run());
    TestApp {
        address,
        operator_key,
        client: browser(),
        database_url,
        metrics_port,
        scheduler,
        clock,
        _data_dir: data_dir,
    }
}

/// Sends a request; returns the status and the JSON body (`null` when there is none).
pub async fn send(request: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(serde_json::Value::Null))
}

impl TestApp {
    /// Records a click on `affiliate`'s link as the snippet does; returns its token.
    pub async fn snippet_click(&self, campaign: i64, affiliate: i64) -> String {
        let click = serde_json::json!({"campaign": campaign, "affiliate": affiliate});
        let (status, click) = send(self.client.post(format!("{}/t/clicks", self.address)).json(&click)).await;
        assert_eq!(status, 201, "{click}");
        click["token"].as_str().expect("a click token").to_owned()
    }

    /// Opens `affiliate`'s referral link to `to` without following the redirect;
    /// returns where it leads (`to` with the click token added).
    pub async fn redirect_click(&self, campaign: i64, affiliate: i64, to: &str) -> String {
        let client = reqwest::Client::builder()
            .user_agent(BROWSER)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let response =
            client.get(format!("{}/r/{campaign}/{affiliate}?to={to}", self.address)).send().await.expect("request");
        assert!(response.status().is_redirection(), "{}", response.status());
        response.headers()["location"].to_str().expect("a location").to_owned()
    }

    /// An EUR campaign of the shop at `https://shop.example/` whose default group pays
    /// `tier1` percent at tier 1, with `plugin` installed and enabled, and one
    /// affiliate. Returns (campaign, affiliate).
    pub async fn campaign_with(&self, plugin: &str, tier1: &str) -> (i64, i64) {
        self.campaign_with_settings(plugin, tier1, serde_json::json!({})).await
    }

    /// [`TestApp::campaign_with`], the campaign created with `settings` too (e.g.
    /// `{"approval": "manual"}`).
    pub async fn campaign_with_settings(&self, plugin: &str, tier1: &str, settings: serde_json::Value) -> (i64, i64) {
        use reqwest::Method;
        use serde_json::json;
        self.install(package(&format!("plugins/{plugin}"))).await;
        let mut shop = json!({"name": "Shop", "currency": "EUR", "landing-url": "https://shop.example/"});
        shop.as_object_mut().expect("object").extend(settings.as_object().cloned().unwrap_or_default());
        let (_, campaign) = send(self.operator(Method::POST, "/api/v1/campaigns").json(&shop)).await;
        let id = campaign["id"].as_i64().expect("campaign id");
        let group = campaign["groups"][0]["id"].as_i64().expect("group id");
        let rates = json!({"commission-type": "sale", "tiers": [{"tier": 1, "rule": {"percent": tier1}}]});
        send(self.operator(Method::PUT, &format!("/api/v1/groups/{group}/rates")).json(&rates)).await;
        let url = format!("/api/v1/campaigns/{id}/plugins/{plugin}");
        send(self.operator(Method::PUT, &url).json(&json!({"enabled": true}))).await;
        let body = json!({"name": "Shop affiliate", "email": "affiliate@shop.example", "password": "a long password"});
        let (_, affiliate) = send(self.operator(Method::POST, "/api/v1/affiliates").json(&body)).await;
        (id, affiliate["id"].as_i64().expect("affiliate id"))
    }
}

/// (affiliate, amount) of each commission in a `POST /conversions` answer, in order.
pub fn paid(recorded: &serde_json::Value) -> Vec<(i64, String)> {
    recorded["commissions"]
        .as_array()
        .expect("commissions")
        .iter()
        .map(|c| (c["affiliate"].as_i64().unwrap_or(0), c["amount"]["amount"].as_str().unwrap_or("").to_owned()))
        .collect()
}
