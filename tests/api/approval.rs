//! The `approval` built-in plugin through the host: each waiting policy's whole path
//! over HTTP (pending until the event, approved by it in the transaction that
//! records it), and the plugin on one campaign and not on another.

use reqwest::Method;
use serde_json::{Value, json};
use upline_tests::*;

/// A campaign paying 10 % at tier 1 and 5 % at tier 2 through `multi-tier`, with the
/// `approval` plugin on `config` (none when `None`). Returns its id.
async fn campaign(app: &TestApp, name: &str, config: Option<Value>) -> i64 {
    for dir in ["plugins/multi-tier", "plugins/approval"] {
        app.install(package(dir)).await;
    }
    let body = json!({"name": name, "currency": "EUR", "landing-url": "https://shop.example/"});
    let (_, campaign) = send(app.operator(Method::POST, "/api/v1/campaigns").json(&body)).await;
    let id = campaign["id"].as_i64().expect("id");
    let group = campaign["groups"][0]["id"].as_i64().expect("group");
    let tiers = json!([{"tier": 1, "rule": {"percent": "10"}}, {"tier": 2, "rule": {"percent": "5"}}]);
    for kind in ["sale", "action:signup"] {
        let rates = json!({"commission-type": kind, "tiers": tiers});
        assert_eq!(send(app.operator(Method::PUT, &format!("/api/v1/groups/{group}/rates")).json(&rates)).await.0, 200);
    }
    let plugin = |name: &str| format!("/api/v1/campaigns/{id}/plugins/{name}");
    assert_eq!(send(app.operator(Method::PUT, &plugin("multi-tier")).json(&json!({"enabled": true}))).await.0, 200);
    if let Some(config) = config {
        let (status, bound) =
            send(app.operator(Method::PUT, &plugin("approval")).json(&json!({"enabled": true, "config": config})))
                .await;
        assert_eq!(status, 200, "{bound}");
    }
    id
}

async fn affiliate(app: &TestApp, email: &str, parent: Option<i64>) -> i64 {
    let body = json!({"name": email, "email": email, "password": "a long password", "parent": parent});
    let (status, created) = send(app.operator(Method::POST, "/api/v1/affiliates").json(&body)).await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_i64().expect("id")
}

/// Records a conversion; returns its commissions' (affiliate, status, waiting-for).
async fn convert(app: &TestApp, campaign: i64, affiliate: i64, kind: &str, order: &str) -> Vec<(i64, String, Value)> {
    let body = json!({"campaign": campaign, "affiliate": affiliate, "commission-type": kind, "order-id": order,
        "total": "100.00"});
    let (status, recorded) = send(app.operator(Method::POST, "/api/v1/conversions").json(&body)).await;
    assert_eq!(status, 201, "{recorded}");
    lines(&recorded["commissions"])
}

fn lines(commissions: &Value) -> Vec<(i64, String, Value)> {
    commissions
        .as_array()
        .expect("commissions")
        .iter()
        .map(|c| {
            (
                c["affiliate"].as_i64().expect("affiliate"),
                c["status"].as_str().expect("status").to_owned(),
                c["waiting-for"].clone(),
            )
        })
        .collect()
}

/// The statuses of `affiliate`'s commissions in the campaign, oldest first.
async fn ledger(app: &TestApp, campaign: i64, affiliate: i64) -> Vec<(i64, String, Value)> {
    let url = format!("/api/v1/commissions?campaign={campaign}&affiliate={affiliate}");
    lines(&send(app.operator(Method::GET, &url)).await.1)
}

fn line(affiliate: i64, status: &str, waiting: Value) -> (i64, String, Value) {
    (affiliate, status.to_owned(), waiting)
}

#[tokio::test]
async fn commissions_wait_for_the_first_login_and_the_login_approves_them() {
    let app = spawn_app().await;
    let held = campaign(&app, "Held", Some(json!({"policy": {"type": "first-login"}}))).await;
    let plain = campaign(&app, "Plain", None).await;
    let ann = affiliate(&app, "ann@shop.example", None).await;

    // The same sale: waiting on the campaign with the plugin, approved on the other.
    let waiting = json!("affiliate-first-login");
    assert_eq!(convert(&app, held, ann, "sale", "h-1").await, [line(ann, "pending", waiting.clone())]);
    assert_eq!(convert(&app, plain, ann, "sale", "p-1").await, [line(ann, "approved", Value::Null)]);

    let login = json!({"email": "ann@shop.example", "password": "a long password"});
    let (status, session) = send(app.client.post(format!("{}/api/v1/affiliate/login", app.address)).json(&login)).await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(ledger(&app, held, ann).await, [line(ann, "approved", Value::Null)], "approved by the login");
    // After it, new commissions are approved at once.
    assert_eq!(convert(&app, held, ann, "sale", "h-2").await, [line(ann, "approved", Value::Null)]);
}

#[tokio::test]
async fn commissions_wait_for_a_sub_affiliates_first_sale_and_it_approves_them() {
    let app = spawn_app().await;
    let config = json!({"policy": {"type": "automatic"}, "by-type": {"sale": {"type": "sub-affiliate-first-sale"}}});
    let id = campaign(&app, "Recruiters", Some(config)).await;
    let parent = affiliate(&app, "parent@shop.example", None).await;
    let child = affiliate(&app, "child@shop.example", Some(parent)).await;
    let waiting = json!("sub-affiliate-first-sale");
    assert_eq!(convert(&app, id, parent, "sale", "own").await, [line(parent, "pending", waiting.clone())]);

    // The child's action is no sale: the parent's sale commission still waits (the
    // action's own commissions are automatic).
    let action = convert(&app, id, child, "action:signup", "signup").await;
    assert_eq!(action, [line(child, "approved", Value::Null), line(parent, "approved", Value::Null)]);
    assert_eq!(ledger(&app, id, parent).await[0], line(parent, "pending", waiting.clone()));

    // The child's first sale approves the parent's waiting commission, in the same
    // transaction; the child's own sale commission waits for its own sub-affiliates.
    let sale = convert(&app, id, child, "sale", "first").await;
    assert_eq!(sale, [line(child, "pending", waiting.clone()), line(parent, "approved", Value::Null)]);
    let parents = ledger(&app, id, parent).await;
    assert!(parents.iter().all(|(_, status, _)| status == "approved"), "{parents:?}");
}

#[tokio::test]
async fn a_browser_report_is_no_sub_affiliate_conversion() {
    let app = spawn_app().await;
    let id = campaign(&app, "Guarded", Some(json!({"policy": {"type": "sub-affiliate-first-conversion"}}))).await;
    let parent = affiliate(&app, "recruiter@shop.example", None).await;
    let child = affiliate(&app, "recruit@shop.example", Some(parent)).await;
    let waiting = line(parent, "pending", json!("sub-affiliate-first-conversion"));
    assert_eq!(convert(&app, id, parent, "sale", "own-1").await, std::slice::from_ref(&waiting));

    // Anyone can send the snippet's report of a sale credited to the child.
    let token = app.snippet_click(id, child).await;
    let forged = json!({"campaign": id, "click": token, "order-id": "forged", "total": "100.00"});
    let (status, receipt) = send(app.client.post(format!("{}/t/conversions", app.address)).json(&forged)).await;
    assert_eq!(status, 201, "{receipt}");
    assert_eq!(ledger(&app, id, parent).await[0], waiting, "not released by a browser's report");
    assert_eq!(convert(&app, id, parent, "sale", "own-2").await, [waiting], "nor counted as the child's conversion");
}

#[tokio::test]
async fn a_configuration_outside_the_schema_is_refused_with_its_field() {
    let app = spawn_app().await;
    let id = campaign(&app, "Strict", None).await;
    let url = format!("/api/v1/campaigns/{id}/plugins/approval");
    let (status, error) = send(
        app.operator(Method::PUT, &url)
            .json(&json!({"enabled": true, "config": {"by-type": {"sale": {"type": "hold"}}}})),
    )
    .await;
    assert_eq!((status, error["error"]["code"].as_str()), (422, Some("invalid_config")), "{error}");
    assert_eq!(error["error"]["field"], "/by-type/sale", "{error}");
}

#[tokio::test]
async fn every_other_policy_runs_its_whole_path() {
    let app = spawn_app_at("2028-04-03T09:00:00Z".parse().expect("a time")).await;
    let config = json!({"policy": {"type": "automatic"}, "by-type": {
        "sale": {"type": "manual"},
        "action:trial": {"type": "hold", "days": 10},
        "action:signup": {"type": "sub-affiliate-first-conversion"},
        "action:lead": {"type": "sub-affiliate-first-action"},
    }});
    let id = campaign(&app, "Policies", Some(config)).await;
    for kind in ["action:trial", "action:lead", "action:visit"] {
        let group =
            send(app.operator(Method::GET, &format!("/api/v1/campaigns/{id}"))).await.1["groups"][0]["id"].clone();
        let rates = json!({"commission-type": kind, "tiers": [{"tier": 1, "rule": {"percent": "10"}}]});
        assert_eq!(send(app.operator(Method::PUT, &format!("/api/v1/groups/{group}/rates")).json(&rates)).await.0, 200);
    }
    let parent = affiliate(&app, "boss@shop.example", None).await;
    let child = affiliate(&app, "member@shop.example", Some(parent)).await;

    // automatic (no policy of its own): approved at once.
    assert_eq!(convert(&app, id, parent, "action:visit", "v").await, [line(parent, "approved", Value::Null)]);

    // manual: pending until an operator approves it.
    let (_, recorded) = send(app.operator(Method::POST, "/api/v1/conversions").json(&json!(
        {"campaign": id, "affiliate": parent, "order-id": "m", "total": "100.00"})))
    .await;
    assert_eq!(lines(&recorded["commissions"]), [line(parent, "pending", json!("manual"))]);
    let manual = recorded["commissions"][0]["id"].as_i64().expect("id");
    let (status, approved) = send(app.operator(Method::POST, &format!("/api/v1/commissions/{manual}/approve"))).await;
    assert_eq!((status, approved["status"].as_str()), (200, Some("approved")), "{approved}");

    // hold of 10 days: approved by the hold-release job on day 10, not before.
    assert_eq!(convert(&app, id, parent, "action:trial", "t").await[0].1, "pending");
    let trial = || async { ledger(&app, id, parent).await.into_iter().filter(|l| l.1 == "pending").count() };
    app.advance(chrono::TimeDelta::days(10) - chrono::TimeDelta::minutes(1));
    app.run_jobs().await;
    assert_eq!(trial().await, 1, "held on day 9");
    app.advance(chrono::TimeDelta::minutes(1));
    app.run_jobs().await;
    assert_eq!(trial().await, 0, "approved on day 10");

    // A sub-affiliate's first conversion / first action: the child's action releases both.
    let signup = json!("sub-affiliate-first-conversion");
    assert_eq!(convert(&app, id, parent, "action:signup", "s").await, [line(parent, "pending", signup)]);
    let lead = json!("sub-affiliate-first-action");
    assert_eq!(convert(&app, id, parent, "action:lead", "l").await, [line(parent, "pending", lead)]);
    convert(&app, id, child, "action:visit", "child-visit").await;
    let waiting: Vec<_> = ledger(&app, id, parent).await.into_iter().filter(|l| l.1 != "approved").collect();
    assert!(waiting.is_empty(), "released by the child's first conversion, an action: {waiting:?}");
}
