//! `upline-load`: the end-to-end load benchmark.
//!
//! Starts the real `upline` server as a child process on loopback (SQLite in a temp
//! directory, or PostgreSQL by URL), sets up a campaign whose sales pay a 5-tier
//! upline through the multi-tier plugin and a sale-bonus plugin, then drives it with
//! keep-alive HTTP/1.1 connections:
//!
//! - clicks: `GET /r/{campaign}/{affiliate}?to=...` (records a click, redirects), each
//!   from a visitor of its own (a unique click), through the server's rate limiter
//!   with the generator's address exempt (`--rate-limit-exempt`);
//! - sales: `POST /api/v1/conversions` with a unique order id each.
//!
//! It prints requests/s and p50/p99 latency per phase and checks every response (a
//! sale may also be refused with 503 and `Retry-After` when the server's queue is
//! full, counted apart), and for the sales the cores the server kept busy and its
//! writer's batches (size, time, share of the phase, from `/metrics`); then it
//! stops the server and writes the same rows straight to the database for
//! comparison (`raw.rs`: as stored, then with the two rules run natively and as wasm
//! plugins, alternating), and prints the server's peak memory.
//! `--crash` kills the server during the sales instead and checks what it stored
//! (`crash.rs`). `cargo xtask load` builds everything in release mode and runs it on
//! both backends; `cargo xtask crash` runs the crash check.

mod crash;
mod raw;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use bytes::Bytes;
use clap::Parser;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

/// The operator key the server is started with.
const OPERATOR_KEY: &str = "load-test-operator-key";

/// The token the server's `/metrics` is read with.
const METRICS_TOKEN: &str = "load-test-metrics-token";

/// The generator's address, exempt from the server's per-client rate limits.
const GENERATOR: &str = "127.0.0.1/32";

#[derive(Parser)]
struct Args {
    /// The `upline` binary to start.
    #[arg(long, default_value = "target/release/upline")]
    server: PathBuf,
    /// Plugin packages to install (the built-ins).
    #[arg(long, default_value = "target/plugins/packages")]
    plugins: PathBuf,
    /// A PostgreSQL admin URL: the run gets a new database under it. SQLite when unset.
    #[arg(long)]
    postgres: Option<String>,
    /// Seconds per phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Affiliates at the bottom of the 5-level tree (they refer the clicks and sales).
    #[arg(long, default_value_t = 20)]
    leaves: usize,
    /// Kill the server (SIGKILL) during the sales and check what it stored.
    #[arg(long)]
    crash: bool,
    /// Also enable a rule plugin granted `stats` that queries the referrer's
    /// statistics three times per sale (the `sales-ladder` test fixture, whose
    /// package must be among `--plugins`).
    #[arg(long)]
    stats: bool,
    /// Also enable `performance-rewards` (granted `stats`) with this many rules (at
    /// most 10), each measuring another metric or period of the referrer on every
    /// sale, none within reach.
    #[arg(long, default_value_t = 0)]
    rules: usize,
    /// With `--crash`: seconds of sales before the kill.
    #[arg(long, default_value_t = 5)]
    kill_after: u64,
}

/// The server child process, killed (SIGKILL) on drop.
struct Server {
    child: Child,
    address: String,
}

impl Server {
    /// The most memory the server has used (its peak resident set), in MiB.
    fn peak_memory_mib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024)
    }

    /// Where the server stands now: the CPU time it has used, and its writer's
    /// batches so far (from `/metrics`).
    async fn gauge(&self) -> anyhow::Result<Gauge> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))?;
        // The fields after the command's closing parenthesis; utime and stime are
        // the stat file's 14th and 15th, in clock ticks.
        let fields: Vec<&str> = stat.rsplit_once(')').context("/proc stat")?.1.split_whitespace().collect();
        let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
        // SAFETY: sysconf reads a constant of the system and has no preconditions.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        let metrics = reqwest::Client::new()
            .get(format!("{}/metrics", self.address))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        let value = |name: &str| {
            let line = metrics.lines().find(|line| line.starts_with(name) && line[name.len()..].starts_with(' '));
            line.and_then(|line| line[name.len()..].trim().parse::<f64>().ok()).unwrap_or(0.0)
        };
        Ok(Gauge {
            at: Instant::now(),
            cpu_seconds: ticks / per_second,
            batches: value("upline_writer_batch_conversions_count"),
            conversions: value("upline_writer_batch_conversions_sum"),
            writing_seconds: value("upline_writer_batch_seconds_sum"),
        })
    }
}

/// The server's CPU time and its writer's totals, at one time.
struct Gauge {
    at: Instant,
    cpu_seconds: f64,
    batches: f64,
    conversions: f64,
    writing_seconds: f64,
}

impl Gauge {
    /// What the server did between `self` and `later`: the cores it kept busy, its
    /// writer's batches, their mean size and time, and how much of the time it wrote.
    fn print_until(&self, later: &Gauge) {
        let seconds = (later.at - self.at).as_secs_f64();
        let batches = later.batches - self.batches;
        let per_batch = |total: f64| total / batches.max(1.0);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        println!(
            "         server: {:.2} of {cores} cores busy; writer: {:.0} batches of {:.1} conversions, {:.2} ms each, \
             writing {:.0} % of the time",
            (later.cpu_seconds - self.cpu_seconds) / seconds,
            batches,
            per_batch(later.conversions - self.conversions),
            1000.0 * per_batch(later.writing_seconds - self.writing_seconds),
            100.0 * (later.writing_seconds - self.writing_seconds) / seconds,
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Thousands of connections need as many file descriptors, here and in the server.
    rlimit::increase_nofile_limit(u64::MAX)?;
    let database = match &args.postgres {
        Some(admin) => Some(postgres_database(admin).await?),
        None => None,
    };
    if args.crash {
        return crash::run(&args, database).await;
    }
    let data_dir = tempfile::tempdir()?;
    let url = database.clone().unwrap_or_else(|| upline_host::db::default_url(data_dir.path()));
    let server = start(&args, database.as_deref(), data_dir.path()).await?;
    let backend = if database.is_some() { "PostgreSQL" } else { "SQLite" };
    let setup = setup(&server.address, &args).await?;
    let mut rules = "multi-tier + sale-bonus".to_owned();
    if args.stats {
        rules += " + sales-ladder, 3 stats queries";
    }
    if args.rules > 0 {
        rules += &format!(" + performance-rewards with {} rules", args.rules);
    }
    println!(
        "upline-load: {backend}, {} connections, {} s per phase, {} leaves, sales pay a 5-tier upline ({rules})",
        args.connections, args.seconds, args.leaves
    );
    println!(
        "upline-load: rate limiter on, the generator ({GENERATOR}) exempt by --rate-limit-exempt; every click from \
         a visitor of its own (a browser user agent with a number), so each is a unique click"
    );
    println!("{:<8} {:>10} {:>8} {:>10} {:>10} {:>10}", "phase", "requests", "errors", "per sec", "p50", "p99");
    let duration = Duration::from_secs(args.seconds);
    let clicks = run_phase(&server.address, args.connections, duration, |n| {
        let leaf = setup.leaves[n as usize % setup.leaves.len()];
        let uri = format!("/r/{}/{leaf}?to=https://shop.example/landing", setup.campaign);
        let visitor = format!("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0 visitor/{n}");
        Request::get(uri).header("user-agent", visitor).body(Full::new(Bytes::new()))
    })
    .await?;
    let mut errors = clicks.print("clicks", 303);
    let order = AtomicU64::new(0);
    let before = server.gauge().await?;
    let sales = run_phase(&server.address, args.connections, duration, |n| {
        let leaf = setup.leaves[n as usize % setup.leaves.len()];
        let id = order.fetch_add(1, Ordering::Relaxed);
        let body = json!({"campaign": setup.campaign, "affiliate": leaf, "order-id": format!("load-{id}"),
            "currency": "EUR", "total": "120.00"});
        Request::post("/api/v1/conversions")
            .header("authorization", format!("Bearer {OPERATOR_KEY}"))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
    })
    .await?;
    let after = server.gauge().await?;
    errors += sales.print("sales", 201);
    before.print_until(&after);
    check_a_sale(&server.address, &setup).await?;
    let peak = server.peak_memory_mib();
    drop(server);
    // The same rows, straight to the database, with the server stopped: as stored,
    // then computed by the same rules compiled natively and by their wasm plugins,
    // in the order native, wasm, wasm, native, so that neither always runs on the
    // larger database (each phase adds its rows).
    upline_host::db::checkpoints(&url).await?;
    let raw = raw::run(&url, "load-0", args.connections, duration, Arc::new(raw::Rules::None)).await?;
    raw.print("raw db", 201);
    let (native, wasm) = (Arc::new(raw::Rules::Native), Arc::new(raw::Rules::wasm(&args.plugins)?));
    let mut rates = [0.0; 2];
    for (name, rules, slot) in
        [("+native", &native, 0), ("+wasm", &wasm, 1), ("+wasm", &wasm, 1), ("+native", &native, 0)]
    {
        let phase = raw::run(&url, "load-0", args.connections, duration, rules.clone()).await?;
        phase.print(name, 201);
        rates[slot] += rate(&phase) / 2.0;
    }
    println!(
        "sales/s over HTTP with plugins: {:.0} % of the database's own (raw db); rules as wasm / native: {:.2} \
         (means of two phases each)",
        100.0 * rate(&sales) / rate(&raw),
        rates[1] / rates[0]
    );
    if let Some(peak) = peak {
        println!("server peak memory (VmHWM): {peak} MiB");
    }
    ensure!(errors == 0, "some requests failed (see the errors column)");
    Ok(())
}

/// A new, empty PostgreSQL database under `admin`; returns its URL.
async fn postgres_database(admin: &str) -> anyhow::Result<String> {
    use sea_orm::ConnectionTrait;
    let name = format!("upline_load_{}", chrono::Utc::now().timestamp_micros());
    let db = sea_orm::Database::connect(admin).await.context("connecting to PostgreSQL")?;
    db.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
    db.close().await?;
    let base = admin.rsplit_once('/').map_or(admin, |(base, _)| base);
    Ok(format!("{base}/{name}"))
}

/// Starts the server on a free port with `data_dir` and waits for `/health`.
async fn start(args: &Args, database: Option<&str>, data_dir: &std::path::Path) -> anyhow::Result<Server> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut command = Command::new(&args.server);
    command
        .arg("serve")
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--install")
        .arg(&args.plugins)
        // The rate limiter stays on; the generator's own address is exempt from it.
        .arg("--rate-limit-exempt")
        .arg(GENERATOR)
        .env("UPLINE_OPERATOR_KEY", OPERATOR_KEY)
        .env("UPLINE_METRICS_TOKEN", METRICS_TOKEN)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null());
    if let Some(url) = database {
        command.env("UPLINE_DATABASE_URL", url);
    }
    let child = command.spawn().with_context(|| format!("starting {}", args.server.display()))?;
    let server = Server { child, address: format!("http://127.0.0.1:{port}") };
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if client.get(format!("{}/health", server.address)).send().await.is_ok() {
            return Ok(server);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the server did not answer /health within a minute")
}

/// What the benchmark set up.
#[derive(Clone)]
struct Setup {
    campaign: i64,
    leaves: Vec<i64>,
}

/// A campaign paying 10/5/3/2/1 % over five tiers (multi-tier) and a 5 EUR bonus on
/// sales of 100 EUR or more (sale-bonus), with `stats` also a rule that asks for the
/// referrer's sales count, sales total and commissions this month on every sale
/// (sales-ladder, its threshold out of reach); a chain of four affiliates with
/// `leaves` affiliates under the last, so every sale has a 5-tier upline.
async fn setup(address: &str, args: &Args) -> anyhow::Result<Setup> {
    let client = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str, body: Value| {
        let request = client.request(method, format!("{address}/api/v1{path}")).bearer_auth(OPERATOR_KEY).json(&body);
        async move {
            let response = request.send().await?;
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            ensure!(status.is_success(), "{status}: {body}");
            Ok(body)
        }
    };
    use reqwest::Method;
    let shop = json!({"name": "Load", "currency": "EUR", "landing-url": "https://shop.example/"});
    let campaign = call(Method::POST, "/campaigns", shop).await?;
    let id = campaign["id"].as_i64().context("campaign id")?;
    let group = campaign["groups"][0]["id"].as_i64().context("group id")?;
    let tiers: Vec<Value> = ["10", "5", "3", "2", "1"]
        .iter()
        .enumerate()
        .map(|(i, rate)| json!({"tier": i + 1, "rule": {"percent": rate}}))
        .collect();
    call(Method::PUT, &format!("/groups/{group}/rates"), json!({"commission-type": "sale", "tiers": tiers})).await?;
    call(Method::PUT, &format!("/campaigns/{id}/plugins/multi-tier"), json!({"enabled": true})).await?;
    let bonus = json!({"enabled": true, "config": {"minimum": "100", "bonus": "5"}});
    call(Method::PUT, &format!("/campaigns/{id}/plugins/sale-bonus"), bonus).await?;
    if args.stats {
        let config = json!({"threshold": u32::MAX, "bonus": "1.00", "level": "Out of reach"});
        let ladder = json!({"enabled": true, "config": config, "grants": ["stats"]});
        call(Method::PUT, &format!("/campaigns/{id}/plugins/sales-ladder"), ladder).await?;
    }
    if args.rules > 0 {
        ensure!(args.rules <= 10, "at most 10 rules");
        let metrics =
            ["sales-count", "sales-total", "commissions-total", "first-tier-commissions", "second-tier-revenue"];
        let rules: Vec<Value> = ["this-month", "this-year"]
            .iter()
            .flat_map(|period| metrics.iter().map(move |metric| (metric, period)))
            .take(args.rules)
            .map(|(metric, period)| {
                json!({"name": format!("{metric} {period}"), "measure": {"metric": metric, "period": period},
                    "when": {"at-least": "1000000000"}, "then": [{"bonus": {"fixed": "1"}}]})
            })
            .collect();
        let rewards = json!({"enabled": true, "grants": ["stats"], "config": {"currency": "EUR", "rules": rules}});
        call(Method::PUT, &format!("/campaigns/{id}/plugins/performance-rewards"), rewards).await?;
    }
    let leaves = args.leaves;
    let mut parent = Value::Null;
    let mut affiliates = Vec::new();
    for n in 0..4 + leaves {
        let body = json!({"name": format!("Affiliate {n}"), "email": format!("a{n}@load.example"),
            "password": "a long password", "parent": parent});
        let created = call(Method::POST, "/affiliates", body).await?;
        affiliates.push(created["id"].as_i64().context("affiliate id")?);
        if n < 4 {
            parent = created["id"].clone();
        }
    }
    Ok(Setup { campaign: id, leaves: affiliates.split_off(4) })
}

/// One sale checked in full: five tier lines and the bonus, as configured.
async fn check_a_sale(address: &str, setup: &Setup) -> anyhow::Result<()> {
    let body = json!({"campaign": setup.campaign, "affiliate": setup.leaves[0], "order-id": "load-check",
        "currency": "EUR", "total": "200.00"});
    let response = reqwest::Client::new()
        .post(format!("{address}/api/v1/conversions"))
        .bearer_auth(OPERATOR_KEY)
        .json(&body)
        .send()
        .await?;
    let recorded: Value = response.json().await?;
    let amounts: Vec<&str> = recorded["commissions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["amount"]["amount"].as_str())
        .collect();
    ensure!(amounts == ["20.00", "10.00", "6.00", "4.00", "2.00", "5.00"], "unexpected commissions: {recorded}");
    Ok(())
}

/// The requests answered `201` per second in `phase`.
fn rate(phase: &Phase) -> f64 {
    phase.served(201) as f64 / phase.elapsed.as_secs_f64()
}

/// Latencies and outcomes of one phase.
struct Phase {
    latencies: Histogram<u64>,
    statuses: Vec<(u16, u64)>,
    elapsed: Duration,
}

impl Phase {
    /// Responses with status `status`.
    fn served(&self, status: u16) -> u64 {
        self.statuses.iter().filter(|(s, _)| *s == status).map(|(_, count)| count).sum()
    }

    /// Responses whose status is neither `expected` nor a 503 with `Retry-After` (the
    /// server's queue full: the client is told when to retry, nothing is stored).
    fn errors(&self, expected: u16) -> u64 {
        self.statuses.iter().filter(|(status, _)| ![expected, BUSY].contains(status)).map(|(_, count)| count).sum()
    }

    /// Prints one row of the results table (requests/s counts the `expected` ones);
    /// returns the number of errors.
    fn print(&self, name: &str, expected: u16) -> u64 {
        let us = |q: f64| format!("{:.2} ms", self.latencies.value_at_quantile(q) as f64 / 1000.0);
        println!(
            "{name:<8} {:>10} {:>8} {:>10.0} {:>10} {:>10}",
            self.served(expected),
            self.errors(expected),
            self.served(expected) as f64 / self.elapsed.as_secs_f64(),
            us(0.5),
            us(0.99)
        );
        for (status, count) in self.statuses.iter().filter(|(status, _)| *status != expected) {
            let shown = if *status == BUSY { "503 with Retry-After (queue full)".into() } else { status.to_string() };
            println!("         {count} responses with status {shown}");
        }
        self.errors(expected)
    }
}

/// The status a 503 with `Retry-After` is counted under; a 503 without it is
/// counted as 503.
const BUSY: u16 = 1503;

/// Runs `connections` keep-alive connections for `duration`, each sending the
/// requests `make` builds (given a global sequence number) one after another.
async fn run_phase<F>(address: &str, connections: usize, duration: Duration, make: F) -> anyhow::Result<Phase>
where
    F: Fn(u64) -> Result<Request<Full<Bytes>>, hyper::http::Error> + Send + Sync,
{
    let host = address.trim_start_matches("http://").to_owned();
    let sequence = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let make = &make;
    let workers = (0..connections).map(|_| {
        let (host, sequence) = (host.clone(), sequence.clone());
        async move {
            let stream = tokio::net::TcpStream::connect(&host).await?;
            stream.set_nodelay(true)?;
            let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(connection);
            let mut latencies = Histogram::<u64>::new(3)?;
            let mut statuses = std::collections::BTreeMap::<u16, u64>::new();
            while Instant::now() < deadline {
                let mut request = make(sequence.fetch_add(1, Ordering::Relaxed))?;
                request.headers_mut().insert("host", host.parse()?);
                let sent = Instant::now();
                let response = sender.send_request(request).await?;
                let status = match response.status().as_u16() {
                    503 if response.headers().contains_key("retry-after") => BUSY,
                    status => status,
                };
                response.into_body().collect().await?;
                latencies.record(sent.elapsed().as_micros() as u64)?;
                *statuses.entry(status).or_default() += 1;
            }
            anyhow::Ok((latencies, statuses))
        }
    });
    let results = futures_util::future::join_all(workers).await;
    let elapsed = started.elapsed();
    let mut latencies = Histogram::<u64>::new(3)?;
    let mut statuses = std::collections::BTreeMap::<u16, u64>::new();
    for result in results {
        let (worker, counts) = result?;
        latencies.add(worker)?;
        for (status, count) in counts {
            *statuses.entry(status).or_default() += count;
        }
    }
    Ok(Phase { latencies, statuses: statuses.into_iter().collect(), elapsed })
}
