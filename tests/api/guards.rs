//! The guards plugin through the server: no commission when the affiliate is the
//! buyer (by the customer reference the operator records for it), at most N
//! commissions per referred customer, and a sale filter on the order total that pays
//! with an alternative group.

use reqwest::Method;
use serde_json::{Value, json};
use upline_tests::*;

async fn sale(app: &TestApp, campaign: i64, affiliate: i64, order: &str, total: &str, customer: &str) -> Value {
    let body = json!({"campaign": campaign, "affiliate": affiliate, "order-id": order, "total": total,
        "customer": customer});
    let (status, recorded) = send(app.operator(Method::POST, "/api/v1/conversions").json(&body)).await;
    assert_eq!(status, 201, "{recorded}");
    recorded
}

#[tokio::test]
async fn each_guard_stops_or_re_groups_the_conversions_it_is_configured_for() {
    let app = spawn_app().await;
    let (campaign, affiliate) = app.campaign_with("multi-tier", "10").await;
    let url = format!("/api/v1/campaigns/{campaign}/groups");
    let (_, small) = send(app.operator(Method::POST, &url).json(&json!({"name": "Small orders"}))).await;
    let small = small["id"].as_i64().expect("group");
    let rates = json!({"commission-type": "sale", "tiers": [{"tier": 1, "rule": {"percent": "2"}}]});
    assert_eq!(send(app.operator(Method::PUT, &format!("/api/v1/groups/{small}/rates")).json(&rates)).await.0, 200);

    // The affiliate's own customer reference in the shop: a bad one names the field.
    let url = format!("/api/v1/affiliates/{affiliate}/customer");
    let (status, error) = send(app.operator(Method::PUT, &url).json(&json!({"customer": " "}))).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("customer")), "{error}");
    let (status, shown) = send(app.operator(Method::PUT, &url).json(&json!({"customer": "sha256:self"}))).await;
    assert_eq!((status, shown["customer"].as_str()), (200, Some("sha256:self")), "{shown}");

    assert_eq!(app.install(fresh_package("plugins/guards")).await.status(), 201);
    let config = json!({"no-self-purchase": true, "max-per-customer": 2,
        "order-total": {"minimum": "20", "maximum": "1000", "otherwise": {"use-group": small}}});
    let url = format!("/api/v1/campaigns/{campaign}/plugins/guards");
    let (status, bound) = send(app.operator(Method::PUT, &url).json(&json!({"enabled": true, "config": config}))).await;
    assert_eq!(status, 200, "{bound}");

    let own = sale(&app, campaign, affiliate, "o-1", "100.00", "sha256:self").await;
    assert_eq!(own["conversion"]["status"], "rejected", "{own}");
    assert_eq!(own["conversion"]["error"], format!("affiliate {affiliate} is the buyer"));
    assert_eq!(own["commissions"], json!([]));

    for order in ["c-1", "c-2"] {
        let paid = sale(&app, campaign, affiliate, order, "100.00", "sha256:c").await;
        assert_eq!(paid["commissions"][0]["amount"]["amount"], "10.00", "{paid}");
    }
    let third = sale(&app, campaign, affiliate, "c-3", "100.00", "sha256:c").await;
    assert_eq!(third["conversion"]["status"], "rejected", "{third}");
    assert!(third["conversion"]["error"].as_str().expect("reason").contains("at most 2"), "{third}");

    let tiny = sale(&app, campaign, affiliate, "t-1", "10.00", "sha256:t").await;
    assert_eq!(tiny["commissions"][0]["amount"]["amount"], "0.20", "the small-orders group's 2 %: {tiny}");
    let huge = sale(&app, campaign, affiliate, "h-1", "2000.00", "sha256:h").await;
    assert_eq!(huge["commissions"][0]["amount"]["amount"], "40.00", "{huge}");
    let usual = sale(&app, campaign, affiliate, "u-1", "500.00", "sha256:u").await;
    assert_eq!(usual["commissions"][0]["amount"]["amount"], "50.00", "{usual}");
}
