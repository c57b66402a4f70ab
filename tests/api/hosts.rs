//! Several server processes on one database: a host killed with SIGKILL while it
//! holds a job leaves nothing half-written, another host takes the job over when its
//! lease runs out, and every job run happens exactly once (counted in the database).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use reqwest::Method;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use upline_host::db::entity::{commission, conversion, job, subscription};
use upline_tests::*;

/// A server process.
struct Host {
    child: Child,
    address: String,
}

impl Host {
    /// Starts `upline-test-server` on `database_url` with leases of `lease_secs`.
    fn start(database_url: &str, lease_secs: u32) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_upline-test-server"))
            .args([database_url, &lease_secs.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("its port");
        let port = line.trim().strip_prefix("port ").expect("`port <n>`").to_owned();
        Self { child, address: format!("http://127.0.0.1:{port}") }
    }

    fn operator(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        reqwest::Client::new().request(method, format!("{}{path}", self.address)).bearer_auth("test-operator-key")
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill").args([signal, &self.child.id().to_string()]).status().expect("kill");
        assert!(status.success());
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A lease the host with process id `pid` holds now.
async fn lease_of(db: &DatabaseConnection, pid: u32) -> Option<job::Model> {
    job::Entity::find()
        .filter(job::Column::LeaseOwner.starts_with(format!("{pid}-")))
        .filter(job::Column::LeaseUntil.gt(Utc::now()))
        .one(db)
        .await
        .expect("query")
}

#[tokio::test]
async fn a_host_killed_while_it_holds_a_job_leaves_it_to_another_host_which_runs_it_once() {
    const SUBSCRIPTIONS: i64 = 12;
    const PAYMENTS: i64 = 24;
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fresh_database_url(dir.path()).await;
    let first = Host::start(&url, 2);
    let db = upline_host::db::connect(&url).await.expect("database");

    // A campaign whose subscriptions pay every 15 minutes, 12 of them started six
    // hours ago: 24 payments each are due at once.
    let installed = first
        .operator(Method::POST, "/api/v1/plugins")
        .header("content-type", "application/wasm")
        .body(package("plugins/multi-tier"))
        .send()
        .await
        .expect("install");
    assert_eq!(installed.status(), 201);
    let body = json!({"name": "Streams", "currency": "EUR", "recurrences": {"sale": "every-15-minutes"}});
    let (status, campaign) = send(first.operator(Method::POST, "/api/v1/campaigns").json(&body)).await;
    assert_eq!(status, 201, "{campaign}");
    let (id, group) = (campaign["id"].as_i64().expect("id"), campaign["groups"][0]["id"].as_i64().expect("group"));
    let rates = json!({"commission-type": "recurring", "tiers": [{"tier": 1, "rule": {"percent": "10"}}]});
    assert_eq!(send(first.operator(Method::PUT, &format!("/api/v1/groups/{group}/rates")).json(&rates)).await.0, 200);
    let enable = first.operator(Method::PUT, &format!("/api/v1/campaigns/{id}/plugins/multi-tier"));
    assert_eq!(send(enable.json(&json!({"enabled": true}))).await.0, 200);
    let affiliate = json!({"name": "Streamer", "email": "streamer@shop.example", "password": "a long password"});
    let (_, affiliate) = send(first.operator(Method::POST, "/api/v1/affiliates").json(&affiliate)).await;
    let started = Utc::now() - TimeDelta::hours(6);
    for n in 0..SUBSCRIPTIONS {
        let body = json!({"campaign": id, "affiliate": affiliate["id"], "order-id": format!("start-{n}"), "total": "20.00",
            "subscription": {"id": format!("stream-{n}"), "started-at": started, "max-payments": PAYMENTS}});
        let (status, recorded) = send(first.operator(Method::POST, "/api/v1/conversions").json(&body)).await;
        assert_eq!(status, 201, "{recorded}");
    }
    let second = Host::start(&url, 2);

    // Freeze the first host until it is caught holding a job, then kill it.
    let pid = first.child.id();
    let held = loop {
        first.signal("-STOP");
        if let Some(held) = lease_of(&db, pid).await {
            break held;
        }
        first.signal("-CONT");
        tokio::time::sleep(Duration::from_millis(3)).await;
    };
    first.signal("-KILL");
    drop(first);

    // The second host pays everything that is left, the killed host's job included
    // once its lease runs out.
    let deadline = Instant::now() + Duration::from_secs(240);
    let paid = || conversion::Entity::find().filter(conversion::Column::PaymentNumber.gt(0)).count(&db);
    while paid().await.expect("count") < (SUBSCRIPTIONS * PAYMENTS) as u64 {
        assert!(Instant::now() < deadline, "only {} payments after 4 minutes", paid().await.expect("count"));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(paid().await.expect("count"), (SUBSCRIPTIONS * PAYMENTS) as u64, "no payment twice");

    for row in subscription::Entity::find().all(&db).await.expect("subscriptions") {
        assert_eq!(row.payments as i64, PAYMENTS, "{}", row.external_id);
        let numbers: Vec<i32> = conversion::Entity::find()
            .filter(conversion::Column::SubscriptionId.eq(row.id))
            .filter(conversion::Column::PaymentNumber.gt(0))
            .all(&db)
            .await
            .expect("payments")
            .into_iter()
            .filter_map(|payment| payment.payment_number)
            .collect();
        let mut sorted = numbers.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (1..=PAYMENTS as i32).collect::<Vec<_>>(), "{}: each payment once", row.external_id);
    }
    let jobs = job::Entity::find().filter(job::Column::Kind.eq("subscription")).all(&db).await.expect("jobs");
    assert_eq!(jobs.len() as i64, SUBSCRIPTIONS);
    assert!(jobs.iter().all(|job| job.runs == PAYMENTS && job.attempts == 0), "every run once: {jobs:?}");
    let taken_over = jobs.iter().find(|job| job.id == held.id).expect("the killed host's job");
    assert!(!taken_over.lease_owner.as_deref().is_some_and(|owner| owner.starts_with(&format!("{pid}-"))));
    // Nothing half-written: every payment has its commission, and only one.
    let payment_commissions = commission::Entity::find()
        .filter(commission::Column::CommissionType.eq("recurring"))
        .count(&db)
        .await
        .expect("count");
    assert_eq!(payment_commissions, (SUBSCRIPTIONS * PAYMENTS) as u64);
    drop(second);
}
