//! Live statistics through the host: a rule plugin granted `stats` sees every stored
//! conversion and the one it is evaluated for; refunds and decisions move the sums
//! by status; of concurrent sales (on two hosts sharing PostgreSQL) exactly one
//! crosses a threshold; the affiliate panel shows the rule's progress from them, and
//! the award and notification it gives at the threshold.

use reqwest::Method;
use serde_json::{Value, json};
use upline_tests::*;

/// A campaign paying 10 % at tier 1 through `multi-tier`, `approval` as given, with
/// `sales-ladder` granted `stats` and paying 5.00 EUR at the `threshold`th sale of
/// the month. Returns (campaign, affiliate).
async fn ladder(app: &TestApp, threshold: u32, approval: &str) -> (i64, i64) {
    for dir in ["plugins/multi-tier", "tests/fixtures/sales-ladder"] {
        app.install(package(dir)).await;
    }
    let body =
        json!({"name": "Ladder", "currency": "EUR", "landing-url": "https://shop.example/", "approval": approval});
    let (status, campaign) = send(app.operator(Method::POST, "/api/v1/campaigns").json(&body)).await;
    assert_eq!(status, 201, "{campaign}");
    let id = campaign["id"].as_i64().expect("id");
    let group = campaign["groups"][0]["id"].as_i64().expect("group");
    let rates = json!({"commission-type": "sale", "tiers": [{"tier": 1, "rule": {"percent": "10"}}]});
    assert_eq!(send(app.operator(Method::PUT, &format!("/api/v1/groups/{group}/rates")).json(&rates)).await.0, 200);
    let plugin = |name: &str| format!("/api/v1/campaigns/{id}/plugins/{name}");
    assert_eq!(send(app.operator(Method::PUT, &plugin("multi-tier")).json(&json!({"enabled": true}))).await.0, 200);
    let config = json!({"threshold": threshold, "bonus": "5.00", "level": "Silver"});
    let body = json!({"enabled": true, "config": config, "grants": ["stats"]});
    let (status, bound) = send(app.operator(Method::PUT, &plugin("sales-ladder")).json(&body)).await;
    assert_eq!(status, 200, "{bound}");
    let body = json!({"name": "A", "email": "a@shop.example", "password": "a long password"});
    let (_, affiliate) = send(app.operator(Method::POST, "/api/v1/affiliates").json(&body)).await;
    (id, affiliate["id"].as_i64().expect("affiliate"))
}

async fn sale(app: &TestApp, campaign: i64, affiliate: i64, order: &str) -> Value {
    let body = json!({"campaign": campaign, "affiliate": affiliate, "order-id": order, "total": "100.00"});
    let (status, recorded) = send(app.operator(Method::POST, "/api/v1/conversions").json(&body)).await;
    assert_eq!(status, 201, "{recorded}");
    recorded
}

fn bonuses(recorded: &Value) -> usize {
    let lines = recorded["commissions"].as_array().expect("commissions");
    lines.iter().filter(|line| line["commission-type"] == "bonus").count()
}

/// The affiliate's statistics this month, by status.
async fn stats(app: &TestApp, campaign: i64, affiliate: i64) -> Value {
    let url = format!("/api/v1/campaigns/{campaign}/affiliates/{affiliate}/stats?period=this-month");
    let (status, report) = send(app.operator(Method::GET, &url)).await;
    assert_eq!(status, 200, "{report}");
    report["statuses"].clone()
}

/// `GET` of the affiliate panel's `path`, as the affiliate.
async fn panel(app: &TestApp, path: &str) -> Value {
    let login = json!({"email": "a@shop.example", "password": "a long password"});
    let (_, session) = send(app.client.post(format!("{}/api/v1/affiliate/login", app.address)).json(&login)).await;
    let token = session["token"].as_str().expect("token");
    let (status, answer) =
        send(app.client.get(format!("{}/api/v1/affiliate/{path}", app.address)).bearer_auth(token)).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

async fn progress(app: &TestApp) -> Value {
    panel(app, "progress").await[0].clone()
}

/// The campaign's awards and notifications, as operators list them.
async fn rewards(app: &TestApp, campaign: i64) -> (Value, Value) {
    let list = |what: &str| app.operator(Method::GET, &format!("/api/v1/{what}?campaign={campaign}"));
    (send(list("awards")).await.1, send(list("notifications")).await.1)
}

#[tokio::test]
async fn a_rule_sees_every_stored_conversion_and_its_own() {
    let app = spawn_app().await;
    let (campaign, affiliate) = ladder(&app, 3, "automatic").await;
    assert_eq!(progress(&app).await["summary"], "3 more sales to Silver");

    let mut recorded = vec![];
    for order in ["o-1", "o-2", "o-3", "o-4"] {
        recorded.push(sale(&app, campaign, affiliate, order).await);
    }
    let counted: Vec<usize> = recorded.iter().map(bonuses).collect();
    // The third sale is the one that reaches three: it sees the two before and itself.
    assert_eq!(counted, [0, 0, 1, 0]);
    let approved = &stats(&app, campaign, affiliate).await["approved"];
    assert_eq!(approved["sales-count"], "4", "{approved}");
    assert_eq!(approved["sales-total"], "400.00");
    assert_eq!(approved["commissions-total"], "45.00");
    assert_eq!(approved["first-tier-commissions"], "45.00");
    assert_eq!(progress(&app).await["summary"], "Silver reached");

    // The third sale earned the badge and the notification: operators list them, and
    // the affiliate sees them in the panel.
    let third = recorded[2]["conversion"]["id"].as_i64().expect("id");
    let (awards, notifications) = rewards(&app, campaign).await;
    let award = json!([{"id": awards[0]["id"], "campaign": campaign, "affiliate": affiliate, "name": "Silver badge",
        "description": "3 sales in a month", "plugin": plugin_ref("tests/fixtures/sales-ladder"),
        "conversion": third, "created-at": awards[0]["created-at"]}]);
    assert_eq!(awards, award);
    assert_eq!(notifications[0]["message"], "You reached Silver!", "{notifications}");
    assert_eq!(notifications.as_array().map(Vec::len), Some(1), "{notifications}");
    assert_eq!(panel(&app, "awards").await, award);
    assert_eq!(panel(&app, "notifications").await, notifications);

    // A refund's reversal counts against the commissions (approved, like the original).
    let first = recorded[0]["conversion"]["id"].as_i64().expect("id");
    let refund = json!({"amount": "100.00", "currency": "EUR"});
    let (status, refunded) =
        send(app.operator(Method::POST, &format!("/api/v1/conversions/{first}/refund")).json(&refund)).await;
    assert_eq!(status, 201, "{refunded}");
    assert_eq!(stats(&app, campaign, affiliate).await["approved"]["commissions-total"], "35.00");
}

#[tokio::test]
async fn decisions_move_the_sums_between_statuses() {
    let app = spawn_app().await;
    let (campaign, affiliate) = ladder(&app, 100, "manual").await;
    let mut commissions = vec![];
    for order in ["m-1", "m-2", "m-3"] {
        commissions.push(sale(&app, campaign, affiliate, order).await["commissions"][0]["id"].as_i64().expect("id"));
    }
    let before = stats(&app, campaign, affiliate).await;
    assert_eq!(
        (before["pending"]["sales-count"].as_str(), before["approved"]["sales-count"].as_str()),
        (Some("3"), Some("0"))
    );

    let approve = format!("/api/v1/commissions/{}/approve", commissions[0]);
    assert_eq!(send(app.operator(Method::POST, &approve).json(&json!({}))).await.0, 200);
    let decline = format!("/api/v1/commissions/{}/decline", commissions[1]);
    assert_eq!(send(app.operator(Method::POST, &decline).json(&json!({"reason": "test order"}))).await.0, 200);
    let after = stats(&app, campaign, affiliate).await;
    let counts: Vec<&str> = ["pending", "approved", "declined", "paid"]
        .iter()
        .map(|status| after[status]["sales-count"].as_str().expect("count"))
        .collect();
    assert_eq!(counts, ["1", "1", "1", "0"], "{after}");
    assert_eq!(after["declined"]["commissions-total"], "10.00");

    let payout = json!({"currency": "EUR", "minimum": "0.01"});
    assert_eq!(send(app.operator(Method::POST, "/api/v1/payouts").json(&payout)).await.0, 201);
    let paid = stats(&app, campaign, affiliate).await;
    assert_eq!(
        (paid["approved"]["sales-count"].as_str(), paid["paid"]["sales-count"].as_str()),
        (Some("0"), Some("1"))
    );
}

#[tokio::test]
async fn of_concurrent_sales_exactly_one_crosses_the_threshold_also_on_two_hosts() {
    let app = spawn_app().await;
    let (campaign, affiliate) = ladder(&app, 10, "automatic").await;
    // Several hosts share PostgreSQL; SQLite is the embedded database of one host.
    let other = match std::env::var(POSTGRES_ENV) {
        Ok(_) => Some(spawn_host_of(&app).await),
        Err(_) => None,
    };
    let requests: Vec<_> = (0..20)
        .map(|i| {
            let host = match &other {
                Some(other) if i % 2 == 1 => other,
                _ => &app,
            };
            let body =
                json!({"campaign": campaign, "affiliate": affiliate, "order-id": format!("c-{i}"), "total": "100.00"});
            tokio::spawn(send(host.operator(Method::POST, "/api/v1/conversions").json(&body)))
        })
        .collect();
    let mut answers = vec![];
    for request in requests {
        answers.push(request.await.expect("request task"));
    }
    assert!(answers.iter().all(|(status, _)| *status == 201), "{answers:?}");
    let paid: usize = answers.iter().map(|(_, recorded)| bonuses(recorded)).sum();
    let explained: Vec<String> = answers
        .iter()
        .flat_map(|(_, recorded)| recorded["commissions"].as_array().cloned().unwrap_or_default())
        .filter(|line| line["commission-type"] == "bonus")
        .map(|line| format!("{} on conversion {}", line["explanation"], line["conversion"]))
        .collect();
    assert_eq!(paid, 1, "{explained:?}");
    assert_eq!(stats(&app, campaign, affiliate).await["approved"]["sales-count"], "20");
    // The badge and the notification are given once too.
    let (awards, notifications) = rewards(&app, campaign).await;
    assert_eq!((awards.as_array().map(Vec::len), notifications.as_array().map(Vec::len)), (Some(1), Some(1)));
}
