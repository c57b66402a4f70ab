//! The `negative-carryover` built-in plugin over two months with a refund: January
//! ends negative, the close on the 1st zeroes it and opens February with the debt,
//! and February's payout is the net; both months' statements add up.

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use upline_tests::*;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("an RFC 3339 time")
}

async fn sale(app: &TestApp, campaign: i64, affiliate: i64, order: &str, total: &str) -> i64 {
    let body = json!({"campaign": campaign, "affiliate": affiliate, "order-id": order, "total": total});
    let (status, recorded) = send(app.operator(Method::POST, "/api/v1/conversions").json(&body)).await;
    assert_eq!(status, 201, "{recorded}");
    recorded["conversion"]["id"].as_i64().expect("id")
}

async fn pay(app: &TestApp) -> Value {
    let body = json!({"currency": "EUR", "minimum": "0.01"});
    let (status, payouts) = send(app.operator(Method::POST, "/api/v1/payouts").json(&body)).await;
    assert_eq!(status, 201, "{payouts}");
    payouts
}

/// The sum of the affiliate's commissions made in `[from, to)`, and their lines
/// (type, amount, status) in the order they were made.
async fn statement(app: &TestApp, affiliate: i64, from: &str, to: &str) -> (Decimal, Vec<(String, String, String)>) {
    let (_, ledger) = send(app.operator(Method::GET, &format!("/api/v1/commissions?affiliate={affiliate}"))).await;
    let (from, to) = (at(from), at(to));
    let mut made: Vec<&Value> = ledger
        .as_array()
        .expect("list")
        .iter()
        .filter(|c| (from..to).contains(&at(c["created-at"].as_str().expect("a time"))))
        .collect();
    made.sort_by_key(|c| at(c["created-at"].as_str().expect("a time")));
    let lines: Vec<(String, String, String)> = made
        .into_iter()
        .map(|c| {
            let text = |v: &Value| v.as_str().expect("text").to_owned();
            (text(&c["commission-type"]), text(&c["amount"]["amount"]), text(&c["status"]))
        })
        .collect();
    let sum = lines.iter().map(|(_, amount, _)| amount.parse::<Decimal>().expect("decimal")).sum();
    (sum, lines)
}

#[tokio::test]
async fn a_negative_month_is_carried_into_the_next_and_paid_out_net() {
    let app = spawn_app_at(at("2028-01-10T10:00:00Z")).await;
    let (campaign, affiliate) = app.campaign_with("multi-tier", "10").await;
    assert_eq!(app.install(package("plugins/negative-carryover")).await.status(), 201);
    let url = format!("/api/v1/campaigns/{campaign}/plugins/negative-carryover");
    assert_eq!(send(app.operator(Method::PUT, &url).json(&json!({"enabled": true}))).await.0, 200);

    // January: a sale of 100.00 pays 10.00, paid out on the 15th; refunded on the 20th.
    let first = sale(&app, campaign, affiliate, "jan", "100.00").await;
    app.advance(TimeDelta::days(5));
    assert_eq!(pay(&app).await[0]["amount"]["amount"], "10.00");
    app.advance(TimeDelta::days(5));
    let refund = json!({"amount": "100.00", "currency": "EUR"});
    assert_eq!(
        send(app.operator(Method::POST, &format!("/api/v1/conversions/{first}/refund")).json(&refund)).await.0,
        201
    );

    // 1 February: the close zeroes January and opens February with the debt.
    app.advance(at("2028-02-01T00:00:00Z") - app.now());
    app.run_jobs().await;
    let (january, lines) = statement(&app, affiliate, "2028-01-01T00:00:00Z", "2028-02-01T00:00:00Z").await;
    let line = |kind: &str, amount: &str, status: &str| (kind.to_owned(), amount.to_owned(), status.to_owned());
    assert_eq!(
        lines,
        [line("sale", "10.00", "paid"), line("sale", "-10.00", "approved"), line("adjustment", "10.00", "approved")]
    );
    assert_eq!(january, Decimal::new(1000, 2), "paid 10.00 and nothing owed: the refund is compensated");

    // February: a sale of 300.00 pays 30.00; the payout nets the carried debt.
    app.advance(TimeDelta::days(9));
    sale(&app, campaign, affiliate, "feb", "300.00").await;
    app.advance(at("2028-03-01T00:00:00Z") - app.now());
    app.run_jobs().await;
    let (february, lines) = statement(&app, affiliate, "2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z").await;
    assert_eq!(lines, [line("adjustment", "-10.00", "approved"), line("sale", "30.00", "approved")]);
    assert_eq!(february, Decimal::new(2000, 2));
    let payouts = pay(&app).await;
    assert_eq!((payouts[0]["amount"]["amount"].as_str(), payouts[0]["commissions"].as_i64()), (Some("20.00"), Some(4)));
    // Everything paid: 10.00 in January's payout and 20.00 now, 30.00 for a sale of
    // 300.00 kept and one of 100.00 refunded.
    let (total, _) = statement(&app, affiliate, "2028-01-01T00:00:00Z", "2028-03-01T00:00:00Z").await;
    assert_eq!(total, Decimal::new(3000, 2));
}
