//! `upline-load --crash`: sales under load, the server killed with SIGKILL in the
//! middle, started again on the same data; then every sale that was answered 201 must
//! be stored with all its commissions, and no sale stored twice or in part.
//!
//! A SIGKILL loses the process, not the operating system's page cache, so this
//! checks the write path's atomicity and acknowledgements; surviving a power cut is
//! `synchronous=FULL` on SQLite and `synchronous_commit=on` on PostgreSQL
//! (`docs/architecture.md`).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, ensure};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::{Args, OPERATOR_KEY, Setup};

/// Commissions of one load sale: five tiers and the bonus.
const COMMISSIONS: i64 = 6;

/// Runs the crash check; `database` is the server's database URL.
pub async fn run(args: &Args, database: Option<String>) -> anyhow::Result<()> {
    let data_dir = tempfile::tempdir()?;
    let url = database.clone().unwrap_or_else(|| upline_host::db::default_url(data_dir.path()));
    let server = crate::start(args, database.as_deref(), data_dir.path()).await?;
    let setup = crate::setup(&server.address, args).await?;
    println!("upline-load --crash: {} clients post sales; SIGKILL after {} s", args.connections, args.kill_after);

    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let clients: Vec<_> = (0..args.connections)
        .map(|client| tokio::spawn(post_sales(server.address.clone(), setup.clone(), client, acknowledged.clone())))
        .collect();
    tokio::time::sleep(Duration::from_secs(args.kill_after)).await;
    drop(server); // SIGKILL
    for client in clients {
        client.await?;
    }
    let acknowledged = std::mem::take(&mut *acknowledged.lock().unwrap_or_else(|p| p.into_inner()));
    ensure!(!acknowledged.is_empty(), "no sale was acknowledged before the kill");

    let restarted = crate::start(args, database.as_deref(), data_dir.path()).await?;
    let db = upline_host::db::connect(&url).await?;
    let stored = stored_sales(&db).await?;
    let missing: Vec<&String> = acknowledged.iter().filter(|order| !stored.complete.contains(*order)).collect();
    println!(
        "acknowledged (201) before the kill: {}; stored after the restart: {} complete, {} in part, {} order ids twice",
        acknowledged.len(),
        stored.complete.len(),
        stored.partial,
        stored.repeated
    );
    ensure!(missing.is_empty(), "{} acknowledged sales are missing, e.g. {:?}", missing.len(), &missing[..1]);
    ensure!(stored.partial == 0, "{} sales are stored without all their commissions", stored.partial);
    ensure!(stored.repeated == 0, "{} order ids are stored twice", stored.repeated);

    // The restarted server takes sales again.
    let sale = json!({"campaign": setup.campaign, "affiliate": setup.leaves[0], "order-id": "after-restart",
        "currency": "EUR", "total": "120.00"});
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/conversions", restarted.address))
        .bearer_auth(OPERATOR_KEY)
        .json(&sale)
        .send()
        .await?;
    ensure!(response.status() == 201, "after the restart a sale got {}", response.status());
    println!("every acknowledged sale is stored once with its {COMMISSIONS} commissions; the server records again");
    Ok(())
}

/// Posts sales one after another until the server stops answering; records the
/// order ids answered 201.
async fn post_sales(address: String, setup: Setup, client: usize, acknowledged: Arc<Mutex<Vec<String>>>) {
    let http = reqwest::Client::new();
    for n in 0.. {
        let order = format!("crash-{client}-{n}");
        let leaf = setup.leaves[n % setup.leaves.len()];
        let sale = json!({"campaign": setup.campaign, "affiliate": leaf, "order-id": order,
            "currency": "EUR", "total": "120.00"});
        let request = http.post(format!("{address}/api/v1/conversions")).bearer_auth(OPERATOR_KEY).json(&sale);
        match request.send().await {
            Ok(response) if response.status() == 201 => {
                acknowledged.lock().unwrap_or_else(|p| p.into_inner()).push(order);
            }
            Ok(_) => {}
            Err(_) => return,
        }
    }
}

/// The load sales in the database.
struct Stored {
    /// Order ids stored with all their commissions.
    complete: HashSet<String>,
    /// Sales stored with fewer or more commissions.
    partial: usize,
    /// Order ids stored more than once.
    repeated: usize,
}

async fn stored_sales(db: &sea_orm::DatabaseConnection) -> anyhow::Result<Stored> {
    let sql = "SELECT c.order_id, COUNT(m.id) FROM conversions c LEFT JOIN commissions m ON m.conversion_id = c.id \
               WHERE c.order_id LIKE 'crash-%' GROUP BY c.id, c.order_id";
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await?;
    let mut stored = Stored { complete: HashSet::new(), partial: 0, repeated: 0 };
    for row in rows {
        let order: String = row.try_get_by_index(0).context("order id")?;
        let commissions: i64 = row.try_get_by_index(1).context("count")?;
        if commissions != COMMISSIONS {
            stored.partial += 1;
        } else if !stored.complete.insert(order) {
            stored.repeated += 1;
        }
    }
    Ok(stored)
}
