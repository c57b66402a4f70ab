//! What contract 0.2 adds, through the host: a screen plugin rejects, re-groups or
//! holds conversions (and counts a customer's conversions by the reference the
//! merchant sends), on the campaign where it is enabled and not on another; a
//! config that breaks its schema is refused with the field named; the affiliate
//! panel shows a rule plugin's progress.

use reqwest::Method;
use serde_json::{Value, json};
use upline_tests::*;

/// A campaign paying 10 % at tier 1 through `multi-tier`, with a second group `Gold`
/// paying 20 %; `screening` enabled with `config` when given. Returns (campaign, gold).
async fn campaign(app: &TestApp, name: &str, screening: Option<Value>) -> (i64, i64) {
    let body = json!({"name": name, "currency": "EUR", "landing-url": "https://shop.example/"});
    let (_, campaign) = send(app.operator(Method::POST, "/api/v1/campaigns").json(&body)).await;
    let id = campaign["id"].as_i64().expect("id");
    let default = campaign["groups"][0]["id"].as_i64().expect("group");
    let url = format!("/api/v1/campaigns/{id}/groups");
    let (status, gold) = send(app.operator(Method::POST, &url).json(&json!({"name": "Gold"}))).await;
    assert_eq!(status, 201, "{gold}");
    let gold = gold["id"].as_i64().expect("gold");
    for (group, percent) in [(default, "10"), (gold, "20")] {
        let rates = json!({"commission-type": "sale", "tiers": [{"tier": 1, "rule": {"percent": percent}}]});
        assert_eq!(send(app.operator(Method::PUT, &format!("/api/v1/groups/{group}/rates")).json(&rates)).await.0, 200);
    }
    let plugin = |name: &str| format!("/api/v1/campaigns/{id}/plugins/{name}");
    assert_eq!(send(app.operator(Method::PUT, &plugin("multi-tier")).json(&json!({"enabled": true}))).await.0, 200);
    if let Some(mut config) = screening {
        if config.get("product-group").is_some() {
            config["product-group"]["group"] = json!(gold);
        }
        let body = json!({"enabled": true, "config": config});
        let (status, bound) = send(app.operator(Method::PUT, &plugin("screening")).json(&body)).await;
        assert_eq!(status, 200, "{bound}");
    }
    (id, gold)
}

async fn install(app: &TestApp) {
    for dir in ["plugins/multi-tier", "tests/fixtures/screening"] {
        let response = app.install(package(dir)).await;
        assert_eq!(response.status(), 201, "{dir}: {}", response.text().await.unwrap_or_default());
    }
}

async fn sale(app: &TestApp, campaign: i64, affiliate: i64, extra: Value) -> Value {
    let mut body = json!({"campaign": campaign, "affiliate": affiliate, "total": "100.00"});
    body.as_object_mut().expect("object").extend(extra.as_object().expect("object").clone());
    let (status, recorded) = send(app.operator(Method::POST, "/api/v1/conversions").json(&body)).await;
    assert_eq!(status, 201, "{recorded}");
    recorded
}

#[tokio::test]
async fn a_screen_plugin_rejects_regroups_and_holds_conversions_where_it_is_enabled() {
    let app = spawn_app().await;
    install(&app).await;
    let rules = json!({"reject-coupon": "STAFF", "max-per-customer": 1, "manual-above": "500",
        "product-group": {"product": "vip", "group": 0}});
    let (screened, _) = campaign(&app, "Screened", Some(rules)).await;
    let (plain, _) = campaign(&app, "Plain", None).await;
    let affiliate = {
        let body = json!({"name": "A", "email": "a@shop.example", "password": "a long password"});
        send(app.operator(Method::POST, "/api/v1/affiliates").json(&body)).await.1["id"].as_i64().expect("id")
    };

    // A staff coupon: rejected with the plugin's reason, no commissions; the same
    // sale on the campaign without the plugin pays as usual.
    let staff = sale(&app, screened, affiliate, json!({"coupon": "STAFF", "order-id": "s-1"})).await;
    assert_eq!(staff["conversion"]["status"], "rejected", "{staff}");
    assert_eq!(staff["conversion"]["error"], "coupon STAFF earns no commission");
    assert_eq!(staff["conversion"]["failed-plugin"], "screening@0.1.0");
    assert_eq!(staff["commissions"], json!([]));
    let unscreened = sale(&app, plain, affiliate, json!({"coupon": "STAFF", "order-id": "s-1"})).await;
    assert_eq!(unscreened["conversion"]["status"], "processed");
    assert_eq!(unscreened["commissions"][0]["amount"]["amount"], "10.00");

    // One commissioned conversion per customer reference: the second is rejected,
    // another customer's is not.
    let first = sale(&app, screened, affiliate, json!({"customer": "sha256:c1", "order-id": "c-1"})).await;
    assert_eq!(first["commissions"][0]["amount"]["amount"], "10.00", "{first}");
    let again = sale(&app, screened, affiliate, json!({"customer": "sha256:c1", "order-id": "c-2"})).await;
    assert_eq!(again["conversion"]["status"], "rejected", "{again}");
    assert!(again["conversion"]["error"].as_str().expect("reason").contains("sha256:c1"), "{again}");
    let other = sale(&app, screened, affiliate, json!({"customer": "sha256:c2", "order-id": "c-3"})).await;
    assert_eq!(other["conversion"]["status"], "processed", "{other}");

    // The VIP product pays with Gold's rates; a large sale waits for an operator.
    let vip = sale(&app, screened, affiliate, json!({"product-id": "vip", "order-id": "v-1"})).await;
    assert_eq!(vip["commissions"][0]["amount"]["amount"], "20.00", "{vip}");
    let large = sale(&app, screened, affiliate, json!({"total": "600.00", "order-id": "l-1"})).await;
    let held = &large["commissions"][0];
    assert_eq!((held["status"].as_str(), held["waiting-for"].as_str()), (Some("pending"), Some("manual")), "{large}");
    assert!(held["explanation"].as_str().expect("explanation").contains("manual approval: a total above 500"));

    // A customer reference longer than 200 characters is refused, naming the field.
    let body = json!({"campaign": screened, "affiliate": affiliate, "total": "1.00", "customer": "x".repeat(201)});
    let (status, error) = send(app.operator(Method::POST, "/api/v1/conversions").json(&body)).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("customer")), "{error}");
}

#[tokio::test]
async fn a_config_that_breaks_the_schema_or_a_grant_not_asked_for_is_refused_with_the_field_named() {
    let app = spawn_app().await;
    install(&app).await;
    let (id, _) = campaign(&app, "Shop", None).await;
    let url = format!("/api/v1/campaigns/{id}/plugins/screening");
    let body = json!({"enabled": true, "config": {"max-per-customer": -1}});
    let (status, error) = send(app.operator(Method::PUT, &url).json(&body)).await;
    assert_eq!((status, error["error"]["field"].as_str()), (422, Some("/max-per-customer")), "{error}");
    // A grant the plugin's manifest does not ask for is refused too.
    let body = json!({"enabled": true, "config": {}, "grants": ["stats"]});
    let (status, error) = send(app.operator(Method::PUT, &url).json(&body)).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("grants")), "{error}");
}

#[tokio::test]
async fn the_affiliate_panel_shows_a_rule_plugins_progress() {
    let app = spawn_app().await;
    install(&app).await;
    let (id, _) = campaign(&app, "Ladder", Some(json!({}))).await;
    let body = json!({"name": "A", "email": "a@shop.example", "password": "a long password"});
    assert_eq!(send(app.operator(Method::POST, "/api/v1/affiliates").json(&body)).await.0, 201);
    let login = json!({"email": "a@shop.example", "password": "a long password"});
    let (_, session) = send(app.client.post(format!("{}/api/v1/affiliate/login", app.address)).json(&login)).await;
    let token = session["token"].as_str().expect("token");
    let (status, progress) =
        send(app.client.get(format!("{}/api/v1/affiliate/progress", app.address)).bearer_auth(token)).await;
    assert_eq!(status, 200, "{progress}");
    assert_eq!(
        progress,
        json!([{"campaign": id, "plugin": "screening@0.1.0", "level": "Default", "next-level": "Gold",
            "missing": [], "summary": "in Default, next: Gold", "error": null}])
    );
}
