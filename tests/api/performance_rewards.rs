//! The performance-rewards plugin through the server, with the fake clock: the
//! seasonal ladder of its README in both modes (the right rates, the one-off bonus
//! once, also when the crossing sale comes as 20 concurrent requests, the next month
//! at the bottom) and the "5 or more sales" rule.

use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use upline_tests::*;

const PLUGIN: &str = "plugins/performance-rewards";

/// A campaign in Amsterdam time whose default group pays `rates[0]` percent and one
/// group more per other rate, with performance-rewards enabled with the README
/// example `example`, its group ids replaced by the campaign's (in order), and
/// `change` applied to the ladder. Returns (campaign, affiliate).
async fn shop(app: &TestApp, rates: &[&str], example: &str, change: impl FnOnce(&mut Value)) -> (i64, i64) {
    let zone = json!({"time-zone": "Europe/Amsterdam"});
    let (campaign, affiliate) = app.campaign_with_settings("multi-tier", rates[0], zone).await;
    let (_, shown) = send(app.operator(Method::GET, &format!("/api/v1/campaigns/{campaign}"))).await;
    let mut groups = vec![shown["groups"][0]["id"].as_i64().expect("default group")];
    for (i, rate) in rates.iter().enumerate().skip(1) {
        let url = format!("/api/v1/campaigns/{campaign}/groups");
        let (status, group) = send(app.operator(Method::POST, &url).json(&json!({"name": format!("level {i}")}))).await;
        assert_eq!(status, 201, "{group}");
        let id = group["id"].as_i64().expect("group id");
        let tiers = json!({"commission-type": "sale", "tiers": [{"tier": 1, "rule": {"percent": rate}}]});
        assert_eq!(send(app.operator(Method::PUT, &format!("/api/v1/groups/{id}/rates")).json(&tiers)).await.0, 200);
        groups.push(id);
    }
    let path = workspace_root().join(PLUGIN).join("examples").join(example);
    let mut config: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("example")).expect("json");
    for (level, group) in config["ladder"]["levels"].as_array_mut().expect("levels").iter_mut().zip(&groups) {
        level["group"] = json!(group);
    }
    change(&mut config["ladder"]);
    assert_eq!(app.install(fresh_package(PLUGIN)).await.status(), 201);
    let url = format!("/api/v1/campaigns/{campaign}/plugins/performance-rewards");
    let body = json!({"enabled": true, "grants": ["stats"], "config": config});
    let (status, bound) = send(app.operator(Method::PUT, &url).json(&body)).await;
    assert_eq!(status, 200, "{bound}");
    (campaign, affiliate)
}

/// Posts a sale of `total`; returns the amount of its tier-1 commission.
async fn sale(app: &TestApp, campaign: i64, affiliate: i64, order: &str, total: &str) -> String {
    let body = json!({"campaign": campaign, "affiliate": affiliate, "order-id": order, "total": total});
    let (status, recorded) = send(app.operator(Method::POST, "/api/v1/conversions").json(&body)).await;
    assert_eq!(status, 201, "{recorded}");
    recorded["commissions"][0]["amount"]["amount"].as_str().expect("a commission").to_owned()
}

/// The affiliate's commission lines: (commission type, amount).
async fn ledger(app: &TestApp, affiliate: i64) -> Vec<(String, Decimal)> {
    let (_, lines) = send(app.operator(Method::GET, &format!("/api/v1/commissions?affiliate={affiliate}"))).await;
    lines
        .as_array()
        .expect("lines")
        .iter()
        .map(|line| {
            let amount = line["amount"]["amount"].as_str().and_then(|a| a.parse().ok()).expect("amount");
            (line["commission-type"].as_str().unwrap_or_default().to_owned(), amount)
        })
        .collect()
}

/// What the affiliate is owed for sales (reversals included) and the bonuses.
async fn owed(app: &TestApp, affiliate: i64) -> (Decimal, Vec<Decimal>) {
    let lines = ledger(app, affiliate).await;
    let sales = lines.iter().filter(|(kind, _)| kind != "bonus").map(|(_, amount)| *amount).sum();
    (sales, lines.into_iter().filter(|(kind, _)| kind == "bonus").map(|(_, amount)| amount).collect())
}

fn d(text: &str) -> Decimal {
    text.parse().expect("decimal")
}

/// The affiliate's progress on the campaign's ladder, as the affiliate panel shows it.
async fn progress(app: &TestApp) -> Value {
    let login = json!({"email": "affiliate@shop.example", "password": "a long password"});
    let (_, session) = send(app.client.post(format!("{}/api/v1/affiliate/login", app.address)).json(&login)).await;
    let token = session["token"].as_str().expect("token");
    let (status, answer) =
        send(app.client.get(format!("{}/api/v1/affiliate/progress", app.address)).bearer_auth(token)).await;
    assert_eq!(status, 200, "{answer}");
    answer[0].clone()
}

/// Ends July in Amsterdam and runs the period-end job.
async fn next_month(app: &TestApp) {
    let now = app.now();
    let august: chrono::DateTime<chrono::Utc> = "2026-07-31T22:30:00Z".parse().expect("time");
    app.advance(august - now);
    app.run_jobs().await;
}

const SEASONAL_RATES: [&str; 4] = ["10", "12.5", "15", "18"];

#[tokio::test]
async fn the_seasonal_ladder_pays_each_sale_at_the_level_held_and_gold_s_bonus_once() {
    let app = spawn_app_at("2026-07-01T08:00:00Z".parse().expect("time")).await;
    let (campaign, affiliate) = shop(&app, &SEASONAL_RATES, "seasonal-ladder.json", |_| {}).await;
    let mut paid = Vec::new();
    for (order, total) in [("o-1", "600.00"), ("o-2", "600.00"), ("o-3", "1000.00"), ("o-4", "1000.00")] {
        paid.push(sale(&app, campaign, affiliate, order, total).await);
    }
    // o-2 passes 1,000 (Silver) and o-4 3,000 (Gold): each at the level held when it came in.
    assert_eq!(paid, ["60.00", "60.00", "125.00", "125.00"]);
    let shown = progress(&app).await;
    assert_eq!((shown["level"].as_str(), shown["next-level"].as_str()), (Some("Gold"), Some("Platinum")), "{shown}");
    assert_eq!(shown["summary"], "more than 4300.00 EUR of sales to Platinum");
    assert_eq!(sale(&app, campaign, affiliate, "o-5", "5000.00").await, "750.00");
    assert_eq!(sale(&app, campaign, affiliate, "o-6", "100.00").await, "18.00", "Platinum");
    let (sales, bonuses) = owed(&app, affiliate).await;
    assert_eq!((sales, bonuses), (d("1138.00"), vec![d("100.00")]), "Gold's one-off bonus");
    let (_, awards) = send(app.operator(Method::GET, &format!("/api/v1/awards?campaign={campaign}"))).await;
    let names: Vec<&str> = awards.as_array().expect("awards").iter().filter_map(|a| a["name"].as_str()).collect();
    assert_eq!(names.len(), 2, "{awards}");
    assert!(names.contains(&"Performance badge") && names.contains(&"Dedicated account manager"), "{awards}");
    let (_, told) = send(app.operator(Method::GET, &format!("/api/v1/notifications?campaign={campaign}"))).await;
    assert_eq!(told.as_array().expect("notifications").len(), 3, "Silver, Gold, Platinum: {told}");

    // August starts at the bottom again.
    next_month(&app).await;
    assert_eq!(progress(&app).await["level"], "Standard");
    assert_eq!(sale(&app, campaign, affiliate, "o-7", "100.00").await, "10.00");
}

#[tokio::test]
async fn the_seasonal_ladder_in_re_rate_mode_pays_the_month_at_the_level_finally_reached() {
    let app = spawn_app_at("2026-07-01T08:00:00Z".parse().expect("time")).await;
    let rerate = |ladder: &mut Value| ladder["mode"] = json!("re-rate-period");
    let (campaign, affiliate) = shop(&app, &SEASONAL_RATES, "seasonal-ladder.json", rerate).await;
    assert_eq!(sale(&app, campaign, affiliate, "o-1", "600.00").await, "60.00");
    // Reaching Silver re-rates both sales at 12.5 %.
    assert_eq!(sale(&app, campaign, affiliate, "o-2", "600.00").await, "60.00");
    assert_eq!(owed(&app, affiliate).await, (d("150.00"), vec![]));
    // Reaching Gold re-rates the whole month at 15 %, with Gold's bonus.
    assert_eq!(sale(&app, campaign, affiliate, "o-3", "2000.00").await, "250.00");
    assert_eq!(owed(&app, affiliate).await, (d("480.00"), vec![d("100.00")]));
    let lines = ledger(&app, affiliate).await;
    assert!(lines.iter().any(|(_, amount)| amount.is_sign_negative()), "reversals: {lines:?}");
    assert_eq!(sale(&app, campaign, affiliate, "o-4", "100.00").await, "15.00");

    next_month(&app).await;
    assert_eq!(sale(&app, campaign, affiliate, "o-5", "100.00").await, "10.00", "August at Standard");
    assert_eq!(owed(&app, affiliate).await, (d("505.00"), vec![d("100.00")]), "July's lines stay");
}

#[tokio::test]
async fn gold_s_bonus_is_paid_once_when_the_crossing_sales_arrive_as_20_concurrent_requests() {
    let app = spawn_app_at("2026-07-01T08:00:00Z".parse().expect("time")).await;
    let (campaign, affiliate) = shop(&app, &SEASONAL_RATES, "seasonal-ladder.json", |_| {}).await;
    sale(&app, campaign, affiliate, "o-0", "2900.00").await;
    let requests: Vec<_> = (1..=20)
        .map(|i| {
            let body =
                json!({"campaign": campaign, "affiliate": affiliate, "order-id": format!("c-{i}"), "total": "200.00"});
            tokio::spawn(send(app.operator(Method::POST, "/api/v1/conversions").json(&body)))
        })
        .collect();
    for request in requests {
        let (status, answer) = request.await.expect("the request");
        assert_eq!(status, 201, "{answer}");
    }
    let (_, bonuses) = owed(&app, affiliate).await;
    assert_eq!(bonuses, [d("100.00")], "one Gold bonus for 20 sales that each could have crossed");
    assert_eq!(progress(&app).await["level"], "Gold");
}

#[tokio::test]
async fn five_or_more_sales_a_month_pay_30_percent_for_the_whole_month() {
    let app = spawn_app_at("2026-07-01T08:00:00Z".parse().expect("time")).await;
    let (campaign, affiliate) = shop(&app, &["20", "30"], "five-or-more.json", |_| {}).await;
    for i in 1..=4 {
        assert_eq!(sale(&app, campaign, affiliate, &format!("o-{i}"), "100.00").await, "20.00");
    }
    assert_eq!(progress(&app).await["summary"], "1 more sale to 30 %");
    sale(&app, campaign, affiliate, "o-5", "100.00").await;
    assert_eq!(owed(&app, affiliate).await.0, d("150.00"), "five sales at 30 %");
    assert_eq!(sale(&app, campaign, affiliate, "o-6", "100.00").await, "30.00");
    next_month(&app).await;
    assert_eq!(sale(&app, campaign, affiliate, "o-7", "100.00").await, "20.00", "a new month, fewer than 5 sales");
}
