//! Conversions the snippet reports from a visitor's browser. Anyone can send them, so
//! they are marked, capped per campaign, never approved automatically, and the
//! merchant's server report of the same order supersedes them.

use reqwest::Method;
use serde_json::{Value, json};
use upline_tests::*;

async fn browser_sale(app: &TestApp, campaign: i64, token: &str, order: &str, total: &str) -> (u16, Value) {
    let sale = json!({"campaign": campaign, "click": token, "order-id": order, "total": total});
    send(app.client.post(format!("{}/t/conversions", app.address)).json(&sale)).await
}

async fn server_sale(app: &TestApp, body: Value) -> (u16, Value) {
    send(app.operator(Method::POST, "/api/v1/conversions").json(&body)).await
}

async fn ledger(app: &TestApp, query: &str) -> Vec<(String, String, Value)> {
    let (_, listed) = send(app.operator(Method::GET, &format!("/api/v1/commissions?{query}"))).await;
    listed
        .as_array()
        .expect("commissions")
        .iter()
        .map(|c| {
            let amount = c["amount"]["amount"].as_str().unwrap_or("").to_owned();
            (amount, c["status"].as_str().unwrap_or("").to_owned(), c["waiting-for"].clone())
        })
        .collect()
}

#[tokio::test]
async fn a_browser_report_waits_and_the_merchant_s_report_of_the_order_supersedes_it() {
    let app = spawn_app().await;
    let (campaign, referrer) = app.campaign_with("multi-tier", "10").await;
    let body = json!({"name": "Squatter", "email": "squatter@example.com", "password": "a long password"});
    let squatter =
        send(app.operator(Method::POST, "/api/v1/affiliates").json(&body)).await.1["id"].as_i64().expect("id");
    let visitor = app.snippet_click(campaign, referrer).await;
    let own_click = app.snippet_click(campaign, squatter).await;

    // Another affiliate guesses the next order id and reports it first, with its own
    // click and a forged total: it must neither be paid nor take the order's credit.
    let (status, receipt) = browser_sale(&app, campaign, &own_click, "A-100", "5000.00").await;
    assert_eq!(status, 201, "{receipt}");
    let forged = receipt["id"].as_i64().expect("id");
    let waiting = ("500.00".to_owned(), "pending".to_owned(), json!("merchant-confirmation"));
    assert_eq!(ledger(&app, &format!("conversion={forged}")).await, [waiting]);
    let db = upline_host::db::connect(&app.database_url).await.expect("database");
    let years_later = chrono::Utc::now() + chrono::Duration::days(3650);
    let released = upline_host::service::lifecycle::release_due(&db, years_later).await.expect("release");
    assert_eq!(released, 0, "never approved automatically");
    let (_, payouts) =
        send(app.operator(Method::POST, "/api/v1/payouts").json(&json!({"currency": "EUR", "minimum": "0"}))).await;
    assert_eq!(payouts, json!([]));
    // The real buyer's page is told the order is taken: only the merchant's report settles it.
    assert_eq!(browser_sale(&app, campaign, &visitor, "A-100", "80.00").await.0, 409);

    // The merchant's server reports the order with the click token the buyer's cookie
    // kept: its attribution and its total win.
    let real = json!({"campaign": campaign, "click": visitor, "order-id": "A-100", "total": "80.00"});
    let (status, recorded) = server_sale(&app, real.clone()).await;
    assert_eq!(status, 201, "{recorded}");
    let conversion = &recorded["conversion"];
    assert_eq!((conversion["affiliate"].as_i64(), conversion["source"].as_str()), (Some(referrer), Some("server")));
    assert_eq!(recorded["commissions"][0]["amount"]["amount"], "8.00");
    assert_ne!(conversion["id"].as_i64(), Some(forged));
    let declined = ledger(&app, &format!("conversion={forged}")).await;
    assert_eq!((declined[0].0.as_str(), declined[0].1.as_str()), ("500.00", "declined"), "{declined:?}");

    // Without attribution the server's report is refused: a browser report never lends its own.
    let unattributed = json!({"campaign": campaign, "order-id": "A-101", "total": "80.00"});
    browser_sale(&app, campaign, &own_click, "A-101", "80.00").await;
    let (status, error) = server_sale(&app, unattributed).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("affiliate")), "{error}");
    // The order is taken now, for the browser and for the server alike.
    assert_eq!(browser_sale(&app, campaign, &visitor, "A-100", "80.00").await.0, 409);
    assert_eq!(server_sale(&app, real).await.0, 409);
    let url = format!("/api/v1/conversions/{forged}/refund");
    let (status, error) = send(app.operator(Method::POST, &url).json(&json!({"amount": "1", "currency": "EUR"}))).await;
    assert_eq!((status, error["error"]["code"].as_str()), (409, Some("conflict")), "{error}");
}

#[tokio::test]
async fn an_approved_browser_commission_is_reversed_when_the_merchant_supersedes_it() {
    let app = spawn_app().await;
    let (campaign, affiliate) = app.campaign_with("multi-tier", "10").await;
    let token = app.snippet_click(campaign, affiliate).await;
    let (_, receipt) = browser_sale(&app, campaign, &token, "B-7", "100.00").await;
    let (_, listed) =
        send(app.operator(Method::GET, &format!("/api/v1/commissions?conversion={}", receipt["id"]))).await;
    let (status, _) =
        send(app.operator(Method::POST, &format!("/api/v1/commissions/{}/approve", listed[0]["id"]))).await;
    assert_eq!(status, 200, "an operator may approve a browser report by hand");

    let body = json!({"campaign": campaign, "affiliate": affiliate, "order-id": "B-7", "total": "60.00"});
    let (status, recorded) = server_sale(&app, body).await;
    assert_eq!(status, 201, "{recorded}");

    let amounts: Vec<(String, String)> =
        ledger(&app, &format!("affiliate={affiliate}")).await.into_iter().map(|(a, s, _)| (a, s)).collect();
    let expected = [("10.00", "approved"), ("6.00", "approved"), ("-10.00", "approved")];
    assert_eq!(amounts, expected.map(|(a, s)| (a.to_owned(), s.to_owned())), "the browser's 10.00 is reversed");
}

#[tokio::test]
async fn browser_reports_are_capped_per_campaign_per_day() {
    let app = spawn_app().await;
    let (campaign, affiliate) = app.campaign_with("multi-tier", "10").await;
    let url = format!("/api/v1/campaigns/{campaign}");
    let cap = json!({"browser-conversions-per-day": 2});
    assert_eq!(send(app.operator(Method::PATCH, &url).json(&cap)).await.0, 200);
    let token = app.snippet_click(campaign, affiliate).await;

    assert_eq!(browser_sale(&app, campaign, &token, "c-1", "10.00").await.0, 201);
    assert_eq!(browser_sale(&app, campaign, &token, "c-2", "10.00").await.0, 201);
    let sale = json!({"campaign": campaign, "click": token, "order-id": "c-3", "total": "10.00"});
    let response = app.client.post(format!("{}/t/conversions", app.address)).json(&sale).send().await.expect("sent");
    assert_eq!(response.status(), 429);
    let retry: u64 = response.headers()["retry-after"].to_str().ok().and_then(|s| s.parse().ok()).expect("seconds");
    assert!((1..=86_400).contains(&retry), "until the next day: {retry}");
    let error: Value = response.json().await.expect("json");
    assert_eq!(error["error"]["code"], "rate_limited");
    let body = json!({"campaign": campaign, "affiliate": affiliate, "order-id": "c-3", "total": "10.00"});
    assert_eq!(server_sale(&app, body).await.0, 201, "the merchant's server is not capped");

    let off = json!({"browser-conversions-per-day": 0});
    assert_eq!(send(app.operator(Method::PATCH, &url).json(&off)).await.0, 200);
    let (status, error) = browser_sale(&app, campaign, &token, "c-4", "10.00").await;
    assert_eq!((status, error["error"]["code"].as_str()), (403, Some("forbidden")), "{error}");
}

#[tokio::test]
async fn pages_of_other_sites_cannot_report_clicks_or_sales() {
    let app = spawn_app().await;
    let (campaign, affiliate) = app.campaign_with("multi-tier", "10").await;
    let token = app.snippet_click(campaign, affiliate).await;
    let from = |origin: &str, path: &str, body: Value| {
        app.client.post(format!("{}{path}", app.address)).header("origin", origin).json(&body)
    };
    let click = json!({"campaign": campaign, "affiliate": affiliate});
    let sale = |order: &str| json!({"campaign": campaign, "click": token, "order-id": order, "total": "10.00"});

    for origin in ["https://any-site.example", "null"] {
        let (status, error) = send(from(origin, "/t/clicks", click.clone())).await;
        assert_eq!((status, error["error"]["code"].as_str()), (403, Some("forbidden")), "{origin}: {error}");
        let (status, error) = send(from(origin, "/t/conversions", sale("x"))).await;
        assert_eq!((status, error["error"]["code"].as_str()), (403, Some("forbidden")), "{origin}: {error}");
    }
    assert_eq!(send(from("https://shop.example", "/t/clicks", click)).await.0, 200, "the visitor's earlier click");
    assert_eq!(send(from("https://shop.example", "/t/conversions", sale("y"))).await.0, 201);
}
