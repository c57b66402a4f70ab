//! The bonuses plugin through the server: a signup bonus for each new affiliate (the
//! `signup` job), a first-sale bonus and the parent's sub-affiliate first-sale bonus
//! once, and a bonus for sales above a minimum value.

use reqwest::Method;
use serde_json::json;
use upline_tests::*;

/// The affiliate's bonus lines: (amount, explanation).
async fn bonuses(app: &TestApp, affiliate: i64) -> Vec<(String, String)> {
    let (_, lines) = send(app.operator(Method::GET, &format!("/api/v1/commissions?affiliate={affiliate}"))).await;
    let text = |value: &serde_json::Value| value.as_str().unwrap_or_default().to_owned();
    lines
        .as_array()
        .expect("lines")
        .iter()
        .filter(|line| line["commission-type"] == "bonus")
        .map(|line| (text(&line["amount"]["amount"]), text(&line["explanation"])))
        .collect()
}

#[tokio::test]
async fn each_bonus_is_paid_once_to_the_affiliate_it_is_for() {
    // On a fake clock, the signup jobs run only when the test runs them: with the
    // server's own scheduler running too, the test's run could find a job taken and
    // not yet done.
    let app = spawn_app_at("2026-07-01T08:00:00Z".parse().expect("time")).await;
    let (campaign, _) = app.campaign_with("multi-tier", "10").await;
    assert_eq!(app.install(fresh_package("plugins/bonuses")).await.status(), 201);
    let config = json!({"currency": "EUR", "signup": "5", "first-sale": {"fixed": "10"},
        "sub-affiliate-first-sale": {"percent": "3"}, "big-sale": {"minimum": "500", "bonus": {"fixed": "25"}}});
    let url = format!("/api/v1/campaigns/{campaign}/plugins/bonuses");
    let body = json!({"enabled": true, "grants": ["stats"], "config": config});
    let (status, bound) = send(app.operator(Method::PUT, &url).json(&body)).await;
    assert_eq!(status, 200, "{bound}");

    let join = |name: &str, parent: Option<i64>| {
        let body = json!({"name": name, "email": format!("{name}@shop.example"), "password": "a long password",
            "parent": parent});
        send(app.operator(Method::POST, "/api/v1/affiliates").json(&body))
    };
    let parent = join("parent", None).await.1["id"].as_i64().expect("id");
    let child = join("child", Some(parent)).await.1["id"].as_i64().expect("id");
    app.run_jobs().await;
    let welcome = ("5.00".to_owned(), "welcome: signup bonus".to_owned());
    for affiliate in [parent, child] {
        assert_eq!(bonuses(&app, affiliate).await, std::slice::from_ref(&welcome), "affiliate {affiliate}");
    }
    app.run_jobs().await;
    assert_eq!(bonuses(&app, child).await.len(), 1, "a signup is welcomed once");

    let sale = |order: &str, total: &str| {
        let body = json!({"campaign": campaign, "affiliate": child, "order-id": order, "total": total});
        send(app.operator(Method::POST, "/api/v1/conversions").json(&body))
    };
    assert_eq!(sale("o-1", "100.00").await.0, 201);
    assert_eq!(sale("o-2", "100.00").await.0, 201);
    let (status, big) = sale("o-3", "600.00").await;
    assert_eq!(status, 201, "{big}");
    assert_eq!(
        bonuses(&app, child).await,
        [
            welcome.clone(),
            ("10.00".to_owned(), "first-sale bonus".to_owned()),
            ("25.00".to_owned(), "bonus for a sale of at least 500 EUR".to_owned()),
        ]
    );
    assert_eq!(
        bonuses(&app, parent).await,
        [welcome, ("3.00".to_owned(), format!("bonus for sub-affiliate {child}'s first sale"))]
    );
}
