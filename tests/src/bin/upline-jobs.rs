//! Benchmark of the scheduler's heavy jobs on the real server, in process, on a fake
//! clock: hold release over `--commissions` pending commissions, then a month-end
//! close (the `negative-carryover` plugin over every affiliate's balance, and a
//! `bonus-rules` plugin called with `period-end` for each of `--affiliates`
//! affiliates). Prints the times, the rates and the peak memory (VmHWM).
//!
//! `cargo run --release -p upline-tests --bin upline-jobs -- --affiliates 100000 --commissions 1000000`

use std::time::Instant;

use anyhow::{Context, ensure};
use clap::Parser;
use reqwest::Method;
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use serde_json::json;
use upline_host::clock::{Clock, FakeClock};
use upline_tests::{fresh_database_url, package, send};

#[derive(Parser)]
#[command(about = "Times hold release and a month-end close on the real server")]
struct Args {
    /// Affiliates (every one is evaluated at the period end).
    #[arg(long, default_value_t = 100_000)]
    affiliates: u64,
    /// Pending commissions, spread over January and the affiliates.
    #[arg(long, default_value_t = 1_000_000)]
    commissions: u64,
    /// Also enable `performance-rewards` (granted `stats`): a two-level ladder on the
    /// month's approved commissions and a period-end rule giving an award to every
    /// affiliate that earned 5.00 or more in the month.
    #[arg(long)]
    rewards: bool,
}

/// Rows per seeding statement.
const ROWS: u64 = 500;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(args.affiliates > 0 && args.commissions >= args.affiliates, "give at least one commission per affiliate");
    let dir = tempfile::tempdir()?;
    let database_url = fresh_database_url(dir.path()).await;
    let clock = FakeClock::at("2028-01-01T00:00:00Z".parse()?);
    let settings = upline_host::app::Settings {
        database_url: Some(database_url.clone()),
        clock: Clock::Fake(clock.clone()),
        jobs_every: None,
        ..upline_host::app::Settings::new(dir.path().to_path_buf(), "127.0.0.1:0".parse()?, "bench-key".into())
    };
    let app = upline_host::app::Application::build(settings).await?;
    let (address, scheduler) = (format!("http://127.0.0.1:{}", app.port()), app.scheduler());
    tokio::spawn(app.run());
    let campaign = set_up(&address, args.rewards).await?;
    let db = upline_host::db::connect(&database_url).await?;
    eprintln!("seeding {} affiliates and {} pending commissions ...", args.affiliates, args.commissions);
    let first = seed(&db, campaign, &args).await?;

    clock.set("2028-01-31T23:00:00Z".parse()?);
    let started = Instant::now();
    scheduler.run_due().await?;
    let release = started.elapsed().as_secs_f64();
    let approved = count(&db, "status = 'approved'").await?;
    ensure!(approved == args.commissions as i64, "{approved} of {} commissions approved", args.commissions);
    println!(
        "hold release: {approved} commissions approved in {release:.1} s ({:.0} commissions/s)",
        approved as f64 / release
    );

    clock.set("2028-02-01T00:00:00Z".parse()?);
    let started = Instant::now();
    scheduler.run_due().await?;
    let close = started.elapsed().as_secs_f64();
    let adjustments = count(&db, "commission_type = 'adjustment'").await?;
    let bonuses = count(&db, "commission_type = 'bonus'").await?;
    let negative = args.affiliates.div_ceil(10);
    ensure!(adjustments == 2 * negative as i64, "{adjustments} adjustments for {negative} negative balances");
    ensure!(bonuses >= args.affiliates as i64, "{bonuses} period-end bonuses for {} affiliates", args.affiliates);
    let awards = match args.rewards {
        true => {
            let sql = "SELECT COUNT(*) AS n FROM awards".to_owned();
            let row = db.query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql)).await?;
            let awards: i64 = row.context("a count")?.try_get("", "n")?;
            let earned = args.affiliates - args.affiliates.div_ceil(10);
            ensure!(awards == earned as i64, "{awards} awards for {earned} affiliates that earned 5.00");
            format!(", performance-rewards on each ({awards} awards)")
        }
        false => String::new(),
    };
    println!(
        "month-end close: {} balances ({negative} negative: {adjustments} carryover adjustments) and {} affiliates \
         evaluated at the period end ({bonuses} bonuses{awards}) in {close:.1} s",
        args.affiliates, args.affiliates
    );
    println!("peak memory (VmHWM) of the whole process: {} MiB", peak_mib()?);
    println!("(affiliate ids from {first})");
    Ok(())
}

/// A campaign in UTC holding commissions 30 days, closing on the 1st, with
/// `negative-carryover` and a period-end bonus plugin enabled (and
/// `performance-rewards` with `rewards`); returns its id.
async fn set_up(address: &str, rewards: bool) -> anyhow::Result<i64> {
    let client = reqwest::Client::new();
    let operator =
        |method: Method, path: &str| client.request(method, format!("{address}{path}")).bearer_auth("bench-key");
    for dir in ["plugins/negative-carryover", "tests/fixtures/period-bonus"] {
        let request = operator(Method::POST, "/api/v1/plugins").header("content-type", "application/wasm");
        let (status, body) = send(request.body(package(dir))).await;
        ensure!(status == 201, "installing {dir}: {body}");
    }
    let body = json!({"name": "Bench", "currency": "EUR", "hold-days": 30, "period-close-day": 1});
    let (status, campaign) = send(operator(Method::POST, "/api/v1/campaigns").json(&body)).await;
    ensure!(status == 201, "{campaign}");
    let id = campaign["id"].as_i64().context("a campaign id")?;
    for (plugin, config) in [("negative-carryover", json!({})), ("period-bonus", json!({"bonus": "1.00"}))] {
        let url = format!("/api/v1/campaigns/{id}/plugins/{plugin}");
        let (status, body) = send(operator(Method::PUT, &url).json(&json!({"enabled": true, "config": config}))).await;
        ensure!(status == 200, "{body}");
    }
    if rewards {
        let request = operator(Method::POST, "/api/v1/plugins").header("content-type", "application/wasm");
        let (status, body) = send(request.body(package("plugins/performance-rewards"))).await;
        ensure!(status == 201, "installing performance-rewards: {body}");
        let base = campaign["groups"][0]["id"].as_i64().context("the default group")?;
        let url = format!("/api/v1/campaigns/{id}/groups");
        let (status, plus) = send(operator(Method::POST, &url).json(&json!({"name": "Plus"}))).await;
        ensure!(status == 201, "{plus}");
        let earned = json!({"metric": "commissions-total", "statuses": "approved"});
        let config = json!({"currency": "EUR",
            "ladder": {"measure": earned, "levels": [{"name": "Base", "group": base},
                {"name": "Plus", "group": plus["id"], "when": {"at-least": "50"}}]},
            "rules": [{"name": "active month", "on": "period-end", "measure": earned, "when": {"at-least": "5"},
                "then": [{"award": {"name": "Active", "description": "5.00 EUR or more earned in a month"}}]}]});
        let url = format!("/api/v1/campaigns/{id}/plugins/performance-rewards");
        let body = json!({"enabled": true, "grants": ["stats"], "config": config});
        let (status, body) = send(operator(Method::PUT, &url).json(&body)).await;
        ensure!(status == 200, "{body}");
    }
    Ok(id)
}

/// Inserts the affiliates and the pending commissions (every tenth affiliate's first
/// one a debt of 20.00, the others 1.00) directly; returns the first affiliate id.
async fn seed(db: &DatabaseConnection, campaign: i64, args: &Args) -> anyhow::Result<u64> {
    let txn = db.begin().await?;
    let first = 1_000_000;
    let at = "'2028-01-10T12:00:00+00:00'";
    // The day of `at` on the (UTC) campaign's calendar, for the statistics.
    let day = (chrono::NaiveDate::from_ymd_opt(2028, 1, 10).context("a date")?
        - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).context("a date")?)
    .num_days();
    let hold = "'2028-01-31T12:00:00+00:00'";
    for start in (0..args.affiliates).step_by(ROWS as usize) {
        let values: Vec<String> = (start..(start + ROWS).min(args.affiliates))
            .map(|n| format!("({}, 'Affiliate {n}', 'a{n}@bench.example', 'x', 'active', {at})", first + n))
            .collect();
        let sql = format!(
            "INSERT INTO affiliates (id, name, email, password_hash, status, created_at) VALUES {}",
            values.join(",")
        );
        txn.execute_unprepared(&sql).await?;
    }
    for start in (0..args.commissions).step_by(ROWS as usize) {
        let values: Vec<String> = (start..(start + ROWS).min(args.commissions))
            .map(|n| {
                let affiliate = n % args.affiliates;
                let amount = if n < args.affiliates && affiliate.is_multiple_of(10) { -2000 } else { 100 };
                format!(
                    "({campaign}, {}, 1, 'sale', {amount}, 'EUR', 'pending', {hold}, 'bench', {at}, {at}, {day})",
                    first + affiliate
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO commissions (campaign_id, affiliate_id, tier, commission_type, amount_minor, currency, \
             status, hold_until, explanation, created_at, updated_at, stats_day) VALUES {}",
            values.join(",")
        );
        txn.execute_unprepared(&sql).await?;
    }
    txn.commit().await?;
    Ok(first)
}

async fn count(db: &DatabaseConnection, condition: &str) -> anyhow::Result<i64> {
    let sql = format!("SELECT COUNT(*) AS n FROM commissions WHERE {condition}");
    let row = db.query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql)).await?;
    Ok(row.context("a count")?.try_get("", "n")?)
}

/// The process's peak resident memory, from /proc.
fn peak_mib() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:")).context("VmHWM")?;
    let kib: u64 = line.split_whitespace().nth(1).context("a number")?.parse()?;
    Ok(kib / 1024)
}
