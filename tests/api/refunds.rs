//! Refunds and chargebacks: reversals follow their original through the hold,
//! approval and payout, and concurrent refunds cannot refund more than the sale.

use reqwest::Method;
use serde_json::{Value, json};
use upline_tests::*;

/// A campaign holding commissions for 30 days, paying 10 % at tier 1; one affiliate.
async fn held_campaign(app: &TestApp) -> (i64, i64) {
    let (campaign, affiliate) = app.campaign_with("multi-tier", "10").await;
    let (status, _) =
        send(app.operator(Method::PATCH, &format!("/api/v1/campaigns/{campaign}")).json(&json!({"hold-days": 30})))
            .await;
    assert_eq!(status, 200);
    (campaign, affiliate)
}

async fn sale(app: &TestApp, campaign: i64, affiliate: i64, order: &str) -> (i64, i64) {
    let body =
        json!({"campaign": campaign, "affiliate": affiliate, "order-id": order, "currency": "EUR", "total": "100.00"});
    let (status, recorded) = send(app.operator(Method::POST, "/api/v1/conversions").json(&body)).await;
    assert_eq!(status, 201, "{recorded}");
    (recorded["conversion"]["id"].as_i64().expect("id"), recorded["commissions"][0]["id"].as_i64().expect("id"))
}

async fn refund(app: &TestApp, conversion: i64, amount: &str) -> (u16, Value) {
    let url = format!("/api/v1/conversions/{conversion}/refund");
    send(app.operator(Method::POST, &url).json(&json!({"amount": amount, "currency": "EUR"}))).await
}

async fn pay_everyone(app: &TestApp) -> Value {
    let (status, payouts) =
        send(app.operator(Method::POST, "/api/v1/payouts").json(&json!({"currency": "EUR", "minimum": "0.01"}))).await;
    assert_eq!(status, 201, "{payouts}");
    payouts
}

#[tokio::test]
async fn a_sale_refunded_during_its_hold_never_pays() {
    let app = spawn_app().await;
    let (campaign, affiliate) = held_campaign(&app).await;
    let (full, _) = sale(&app, campaign, affiliate, "refunded").await;
    let (part, _) = sale(&app, campaign, affiliate, "partly").await;

    let (status, reversals) = refund(&app, full, "100.00").await;
    assert_eq!(status, 201, "{reversals}");
    let reversal = &reversals[0];
    assert_eq!((reversal["status"].as_str(), &reversal["amount"]["amount"]), (Some("pending"), &json!("-10.00")));
    assert!(reversal["hold-until"].is_string(), "the reversal waits with its original: {reversal}");
    assert_eq!(refund(&app, part, "40.00").await.0, 201);

    // The hold ends for the originals and their reversals together.
    let db = upline_host::db::connect(&app.database_url).await.expect("database");
    let later = chrono::Utc::now() + chrono::Duration::days(31);
    assert_eq!(upline_host::service::lifecycle::release_due(&db, later).await.expect("release"), 2);
    let (_, ledger) = send(app.operator(Method::GET, &format!("/api/v1/commissions?affiliate={affiliate}"))).await;
    assert!(ledger.as_array().expect("list").iter().all(|c| c["status"] == "approved"), "{ledger}");

    // 10.00 - 10.00 + 10.00 - 4.00: only the unrefunded 60 % of the second sale pays.
    let payouts = pay_everyone(&app).await;
    assert_eq!(payouts[0]["amount"]["amount"], "6.00", "{payouts}");
}

#[tokio::test]
async fn a_reversal_follows_its_original_and_cannot_be_decided_alone() {
    let app = spawn_app().await;
    let (campaign, affiliate) = held_campaign(&app).await;
    let (declined, declined_commission) = sale(&app, campaign, affiliate, "declined").await;
    let (approved, approved_commission) = sale(&app, campaign, affiliate, "approved").await;
    let (_, reversals) = refund(&app, declined, "100.00").await;
    let reversal = reversals[0]["id"].as_i64().expect("id");
    refund(&app, approved, "50.00").await;

    let (status, error) = send(
        app.operator(Method::POST, &format!("/api/v1/commissions/{reversal}/decline"))
            .json(&json!({"reason": "keep the original"})),
    )
    .await;
    assert_eq!((status, error["error"]["field"].as_str()), (409, Some("ids")), "{error}");
    assert!(error["error"]["message"].as_str().unwrap_or("").contains(&declined_commission.to_string()), "{error}");
    let (status, _) = send(
        app.operator(Method::POST, &format!("/api/v1/commissions/{declined_commission}/decline"))
            .json(&json!({"reason": "refunded"})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) =
        send(app.operator(Method::POST, &format!("/api/v1/commissions/{approved_commission}/approve"))).await;
    assert_eq!(status, 200);

    let (_, ledger) = send(app.operator(Method::GET, &format!("/api/v1/commissions?affiliate={affiliate}"))).await;
    let statuses: Vec<(&str, &str)> = ledger
        .as_array()
        .expect("list")
        .iter()
        .map(|c| (c["amount"]["amount"].as_str().unwrap_or(""), c["status"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(statuses, [("10.00", "declined"), ("10.00", "approved"), ("-10.00", "declined"), ("-5.00", "approved")]);
    let payouts = pay_everyone(&app).await;
    assert_eq!(payouts[0]["amount"]["amount"], "5.00", "{payouts}");
}

#[tokio::test]
async fn concurrent_refunds_cannot_refund_more_than_the_sale() {
    let app = spawn_app().await;
    let (campaign, affiliate) = app.campaign_with("multi-tier", "10").await;
    let (conversion, _) = sale(&app, campaign, affiliate, "raced").await;

    let url = format!("{}/api/v1/conversions/{conversion}/refund", app.address);
    let attempts: Vec<_> = (0..10)
        .map(|_| {
            let request = app.client.post(&url).bearer_auth(&app.operator_key).json(&json!({"amount": "60.00",
                "currency": "EUR"}));
            tokio::spawn(send(request))
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.expect("task").0);
    }

    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 400), "{statuses:?}");
    let (_, ledger) = send(app.operator(Method::GET, &format!("/api/v1/commissions?conversion={conversion}"))).await;
    let amounts: Vec<&str> =
        ledger.as_array().expect("list").iter().filter_map(|c| c["amount"]["amount"].as_str()).collect();
    assert_eq!(amounts, ["10.00", "-6.00"], "one refund of 60 %");
    let (status, error) = refund(&app, conversion, "40.01").await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("amount")), "{error}");
    assert!(error["error"]["message"].as_str().unwrap_or("").contains("40.00"), "{error}");
}

#[tokio::test]
async fn concurrent_payout_runs_pay_each_commission_once() {
    let app = spawn_app().await;
    let (campaign, affiliate) = app.campaign_with("multi-tier", "10").await;
    for order in 0..20 {
        sale(&app, campaign, affiliate, &format!("p-{order}")).await;
    }

    let url = format!("{}/api/v1/payouts", app.address);
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let run = app.client.post(&url).bearer_auth(&app.operator_key);
            tokio::spawn(send(run.json(&json!({"currency": "EUR", "minimum": "1"}))))
        })
        .collect();
    let mut paid = Vec::new();
    for run in runs {
        let (status, payouts) = run.await.expect("task");
        assert_eq!(status, 201, "{payouts}");
        paid.extend(payouts.as_array().expect("payouts").iter().map(|p| p["amount"]["amount"].clone()));
    }

    assert_eq!(paid, [json!("200.00")], "one payout of 20 x 10.00");
}
