//! What rule plugins do beyond bonuses, through the host: a retroactive move to
//! another group re-rates the period's unpaid commissions exactly, each with a
//! reversal and a new line naming the rule, and never touches a paid one.

use reqwest::Method;
use serde_json::{Value, json};
use upline_tests::*;

async fn sale(app: &TestApp, campaign: i64, affiliate: i64, order: &str) {
    let body = json!({"campaign": campaign, "affiliate": affiliate, "order-id": order, "total": "100.00"});
    let (status, recorded) = send(app.operator(Method::POST, "/api/v1/conversions").json(&body)).await;
    assert_eq!(status, 201, "{recorded}");
}

/// (conversion, amount, explanation) of each of the affiliate's commissions, in order.
async fn ledger(app: &TestApp, affiliate: i64) -> Vec<(i64, String, String)> {
    let (_, lines) = send(app.operator(Method::GET, &format!("/api/v1/commissions?affiliate={affiliate}"))).await;
    let text = |line: &Value, key: &str| line[key].as_str().unwrap_or_default().to_owned();
    let lines = lines.as_array().cloned().unwrap_or_default();
    lines
        .iter()
        .map(|l| (l["conversion"].as_i64().unwrap_or(0), text(&l["amount"], "amount"), text(l, "explanation")))
        .collect()
}

#[tokio::test]
async fn a_retroactive_move_re_rates_the_unpaid_commissions_and_leaves_paid_ones() {
    let app = spawn_app().await;
    let (campaign, affiliate) = app.campaign_with("multi-tier", "10").await;
    let (status, gold) = send(
        app.operator(Method::POST, &format!("/api/v1/campaigns/{campaign}/groups")).json(&json!({"name": "Gold"})),
    )
    .await;
    assert_eq!(status, 201, "{gold}");
    let gold = gold["id"].as_i64().expect("gold");
    let rates = json!({"commission-type": "sale", "tiers": [{"tier": 1, "rule": {"percent": "20"}}]});
    assert_eq!(send(app.operator(Method::PUT, &format!("/api/v1/groups/{gold}/rates")).json(&rates)).await.0, 200);
    app.install(fresh_package("tests/fixtures/sales-ladder")).await;
    let config = json!({"threshold": 3, "bonus": "1.00", "level": "Gold",
        "move-to": {"group": gold, "retroactive-from": 0}});
    let body = json!({"enabled": true, "config": config, "grants": ["stats"]});
    let url = format!("/api/v1/campaigns/{campaign}/plugins/sales-ladder");
    let (status, bound) = send(app.operator(Method::PUT, &url).json(&body)).await;
    assert_eq!(status, 200, "{bound}");

    // The first sale's commission is paid before the threshold: it stays as it was.
    sale(&app, campaign, affiliate, "o-1").await;
    let payout = json!({"currency": "EUR", "minimum": "0"});
    assert_eq!(send(app.operator(Method::POST, "/api/v1/payouts").json(&payout)).await.0, 201);
    sale(&app, campaign, affiliate, "o-2").await;
    // The third sale reaches Gold: the move re-rates the second and third sales.
    sale(&app, campaign, affiliate, "o-3").await;
    sale(&app, campaign, affiliate, "o-4").await;

    let lines = ledger(&app, affiliate).await;
    let amounts: Vec<&str> = lines.iter().map(|(_, amount, _)| amount.as_str()).collect();
    // By id: o-1 10 (paid), o-2 10, o-3 10 + bonus 1, o-4 at Gold's 20 % (the
    // host hands out conversions' commission ids in blocks), then the re-rating of
    // o-2 and o-3: a reversal and a new line each.
    assert_eq!(
        amounts,
        ["10.00", "10.00", "10.00", "1.00", "20.00", "-10.00", "20.00", "-10.00", "20.00"],
        "{lines:#?}"
    );
    let rule = format!("re-rated with group {gold} by {}: Gold reached", plugin_ref("tests/fixtures/sales-ladder"));
    assert!(lines[5..].iter().all(|(_, _, why)| why.starts_with(&rule)), "{lines:#?}");
    let conversions: Vec<i64> = lines.iter().map(|(conversion, ..)| *conversion).collect();
    assert_eq!((conversions[5], conversions[6]), (conversions[1], conversions[1]), "o-2's reversal and new line");
    assert_eq!((conversions[7], conversions[8]), (conversions[2], conversions[2]), "o-3's reversal and new line");
    // What the affiliate is owed now: o-2 and o-3 at 20, the bonus, o-4.
    let url = format!("/api/v1/commissions?affiliate={affiliate}&status=approved");
    let (_, owed) = send(app.operator(Method::GET, &url)).await;
    let owed: rust_decimal::Decimal = owed
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|line| line["amount"]["amount"].as_str()?.parse::<rust_decimal::Decimal>().ok())
        .sum();
    assert_eq!(owed, "61.00".parse().expect("decimal"));
}

#[tokio::test]
async fn a_lifetime_customer_s_later_sales_are_credited_to_their_first_affiliate_until_the_binding_ends() {
    let app = spawn_app_at("2027-03-01T10:00:00Z".parse().expect("time")).await;
    let (campaign, first) = app.campaign_with("multi-tier", "10").await;
    let url = format!("/api/v1/campaigns/{campaign}");
    let (status, error) = send(app.operator(Method::PATCH, &url).json(&json!({"lifetime-days": 30}))).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("lifetime-days")), "{error}");
    let lifetime = json!({"lifetime-commissions": true, "lifetime-days": 365});
    let (status, updated) = send(app.operator(Method::PATCH, &url).json(&lifetime)).await;
    assert_eq!((status, updated["lifetime-days"].as_i64()), (200, Some(365)), "{updated}");
    let body = json!({"name": "B", "email": "b@shop.example", "password": "a long password"});
    let other = send(app.operator(Method::POST, "/api/v1/affiliates").json(&body)).await.1["id"].as_i64().expect("id");

    let sale = |order: &str, customer: &str, affiliate: Option<i64>| {
        let mut body = json!({"campaign": campaign, "order-id": order, "total": "100.00", "customer": customer});
        if let Some(affiliate) = affiliate {
            body["affiliate"] = json!(affiliate);
        }
        send(app.operator(Method::POST, "/api/v1/conversions").json(&body))
    };
    // The first sale binds the customer to its affiliate; a later one with no
    // affiliate, click or coupon is credited to it; one naming another affiliate is not.
    assert_eq!(sale("o-1", "sha256:c1", Some(first)).await.0, 201);
    let (status, later) = sale("o-2", "sha256:c1", None).await;
    assert_eq!((status, later["conversion"]["affiliate"].as_i64()), (201, Some(first)), "{later}");
    assert_eq!(paid(&later), [(first, "10.00".to_owned())]);
    let (_, named) = sale("o-3", "sha256:c1", Some(other)).await;
    assert_eq!(named["conversion"]["affiliate"].as_i64(), Some(other), "{named}");
    // A customer bound to nobody still needs a referrer.
    let (status, error) = sale("o-4", "sha256:c2", None).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("affiliate")), "{error}");
    // The binding ends 365 days after the first sale.
    app.advance(chrono::TimeDelta::days(366));
    let (status, error) = sale("o-5", "sha256:c1", None).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("affiliate")), "{error}");
}
