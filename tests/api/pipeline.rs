//! The commission pipeline's shape: plans made with no transaction open (a slow
//! plugin holds neither the writer nor other campaigns' sales), plugin failures that
//! flag a conversion for reprocessing, and the campaign's approval setting.

use reqwest::Method;
use serde_json::{Value, json};
use upline_tests::*;

async fn campaign(app: &TestApp, settings: Value) -> i64 {
    let (status, created) = send(app.operator(Method::POST, "/api/v1/campaigns").json(&settings)).await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_i64().expect("id")
}

async fn bind(app: &TestApp, campaign: i64, plugin: &str, config: Value) {
    let url = format!("/api/v1/campaigns/{campaign}/plugins/{plugin}");
    let (status, bound) = send(app.operator(Method::PUT, &url).json(&json!({"enabled": true, "config": config}))).await;
    assert_eq!(status, 200, "{bound}");
}

fn sale(campaign: i64, affiliate: i64, order: &str) -> Value {
    json!({"campaign": campaign, "affiliate": affiliate, "order-id": order, "total": "100.00"})
}

/// A campaign whose plugin runs until its deadline (ten seconds, the most a plugin
/// may be given) or its fuel (the most a plugin may be given: a second or two on a
/// 2-core machine), before it fails.
async fn slow_campaign(app: &TestApp) -> i64 {
    app.install(hostile()).await;
    let limits = json!({"fuel": 10_000_000_000u64, "timeout-ms": 10_000});
    assert_eq!(send(app.operator(Method::PUT, "/api/v1/plugins/hostile/limits").json(&limits)).await.0, 204);
    let slow = campaign(app, json!({"name": "Slow", "currency": "EUR"})).await;
    bind(app, slow, "hostile", json!({"mode": "infinite-loop"})).await;
    slow
}

#[tokio::test]
async fn a_plugin_at_its_deadline_holds_up_no_other_campaign() {
    let app = spawn_app().await;
    let (fast, affiliate) = app.campaign_with("multi-tier", "10").await;
    let slow = slow_campaign(&app).await;

    for (what, path) in [("a sale", "/api/v1/conversions"), ("a simulation", "/api/v1/simulate")] {
        let stuck = tokio::spawn(send(app.operator(Method::POST, path).json(&sale(slow, affiliate, what))));
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;

        // Five: the slow plugin's fuel (the most the host allows) lasts a second or two.
        for n in 0..5 {
            let (status, recorded) = send(app.operator(Method::POST, "/api/v1/conversions").json(&sale(
                fast,
                affiliate,
                &format!("{what}-{n}"),
            )))
            .await;
            assert_eq!((status, recorded["conversion"]["status"].as_str()), (201, Some("processed")), "{recorded}");
        }

        assert!(!stuck.is_finished(), "the other campaign's sales were stored while {what} waited on its plugin");
        let (status, flagged) = stuck.await.expect("task");
        assert!(status == 201 || status == 200, "{flagged}");
        assert_eq!(flagged["conversion"]["status"], "failed", "{flagged}");
        // Stopped by its deadline or its fuel, whichever this machine reaches first.
        let error = flagged["conversion"]["error"].as_str().unwrap_or("");
        assert!(error.contains("limit of"), "{flagged}");
        // And says where the limit is raised.
        assert!(error.contains("under [limits] in plugin.toml") && error.contains("/limits"), "{flagged}");
    }
}

#[tokio::test]
async fn more_plugin_calls_than_instance_slots_wait_their_turn() {
    let app = spawn_app().await;
    let (campaign, affiliate) = app.campaign_with("multi-tier", "10").await;
    let url = format!("{}/api/v1/simulate", app.address);
    let calls: Vec<_> = (0..1_100)
        .map(|n| {
            let body = sale(campaign, affiliate, &format!("s-{n}"));
            tokio::spawn(send(app.client.post(&url).bearer_auth(&app.operator_key).json(&body)))
        })
        .collect();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for call in calls {
        *statuses.entry(call.await.expect("task").0).or_default() += 1;
    }
    assert_eq!(statuses, [(200, 1_100)].into(), "the engine has 1,000 instance slots; the 1,001st call waits");
}

#[tokio::test]
async fn a_flagged_conversion_is_reprocessed_once_its_plugin_is_fixed() {
    let app = spawn_app().await;
    let (_, affiliate) = app.campaign_with("multi-tier", "10").await;
    app.install(hostile()).await;
    let shop = campaign(&app, json!({"name": "Flaky", "currency": "EUR"})).await;
    bind(&app, shop, "hostile", json!({"mode": "panic"})).await;

    let (status, recorded) =
        send(app.operator(Method::POST, "/api/v1/conversions").json(&sale(shop, affiliate, "o-1"))).await;
    assert_eq!(status, 201, "{recorded}");
    let conversion = &recorded["conversion"];
    assert_eq!(
        (conversion["status"].as_str(), conversion["failed-plugin"].as_str()),
        (Some("failed"), Some("hostile@0.1.0"))
    );
    assert!(conversion["error"].as_str().unwrap_or("").contains("panicked"), "{conversion}");
    let id = conversion["id"].as_i64().expect("id");
    let url = format!("/api/v1/conversions/{id}/reprocess");

    // Still broken: flagged again, with the reason.
    let (status, again) = send(app.operator(Method::POST, &url)).await;
    assert_eq!((status, again["conversion"]["status"].as_str()), (200, Some("failed")), "{again}");
    bind(&app, shop, "hostile", json!({"mode": "decline"})).await;
    let (status, fixed) = send(app.operator(Method::POST, &url)).await;

    assert_eq!(status, 200, "{fixed}");
    assert_eq!(
        (fixed["conversion"]["status"].as_str(), fixed["conversion"]["order-id"].as_str()),
        (Some("processed"), Some("o-1"))
    );
    assert_eq!(fixed["conversion"]["id"].as_i64(), Some(id));
    assert_eq!(fixed["commissions"].as_array().map(Vec::len), Some(1), "{fixed}");
    let (status, error) = send(app.operator(Method::POST, &url)).await;
    assert_eq!((status, error["error"]["field"].as_str()), (409, Some("status")), "once: {error}");
    let (_, listed) = send(app.operator(Method::GET, &format!("/api/v1/commissions?conversion={id}"))).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "stored once: {listed}");
    assert_eq!(send(app.operator(Method::POST, "/api/v1/conversions/999999/reprocess")).await.0, 404);
}

#[tokio::test]
async fn commissions_are_approved_as_the_campaign_says_bonuses_too() {
    let app = spawn_app().await;
    let (automatic, affiliate) = app.campaign_with("multi-tier", "10").await;
    app.install(package("plugins/sale-bonus")).await;
    bind(&app, automatic, "sale-bonus", json!({"minimum": "50", "bonus": "5"})).await;
    let url = format!("/api/v1/campaigns/{automatic}");
    let statuses = |recorded: &Value| -> Vec<(String, String, Value)> {
        recorded["commissions"]
            .as_array()
            .expect("commissions")
            .iter()
            .map(|c| {
                let what = c["commission-type"].as_str().unwrap_or("").to_owned();
                (what, c["status"].as_str().unwrap_or("").to_owned(), c["waiting-for"].clone())
            })
            .collect()
    };
    let record =
        |order: &str| send(app.operator(Method::POST, "/api/v1/conversions").json(&sale(automatic, affiliate, order)));

    let (_, at_once) = record("automatic").await;
    assert_eq!(
        statuses(&at_once),
        [("sale".into(), "approved".into(), Value::Null), ("bonus".into(), "approved".into(), Value::Null)]
    );

    send(app.operator(Method::PATCH, &url).json(&json!({"hold-days": 30}))).await;
    let (_, held) = record("held").await;
    assert!(
        held["commissions"]
            .as_array()
            .expect("list")
            .iter()
            .all(|c| c["status"] == "pending" && c["hold-until"].is_string()),
        "{held}"
    );

    send(app.operator(Method::PATCH, &url).json(&json!({"approval": "manual"}))).await;
    let (_, manual) = record("manual").await;
    let waiting = json!("manual");
    assert_eq!(
        statuses(&manual),
        [("sale".into(), "pending".into(), waiting.clone()), ("bonus".into(), "pending".into(), waiting)]
    );

    // An approval plugin decides every commission, the bonus included.
    app.install(hostile()).await;
    bind(&app, automatic, "hostile", json!({"mode": "decline"})).await;
    let (_, declined) = record("declined").await;
    assert_eq!(
        statuses(&declined),
        [("sale".into(), "declined".into(), Value::Null), ("bonus".into(), "declined".into(), Value::Null)]
    );
    assert!(
        declined["commissions"][1]["explanation"].as_str().unwrap_or("").contains("hostile declines"),
        "{declined}"
    );
}

#[tokio::test]
async fn a_failed_conversion_and_a_simulation_show_what_the_plugin_logged_and_used() {
    let app = spawn_app().await;
    let (_, affiliate) = app.campaign_with("multi-tier", "10").await;
    // Freshly built: its `error` mode logs a warning first.
    app.install(fresh_package("tests/fixtures/hostile-plugin")).await;
    let shop = campaign(&app, json!({"name": "Refusing", "currency": "EUR"})).await;
    bind(&app, shop, "hostile", json!({"mode": "error"})).await;

    let check = |calls: &Value| {
        let call = &calls[0];
        assert_eq!((call["plugin"].as_str(), call["hook"].as_str()), (Some("hostile@0.1.0"), Some("distribute")));
        assert_eq!(call["logs"], json!([{"level": "warn", "message": "about to refuse this conversion"}]), "{call}");
        assert!(call["usage"]["fuel"].as_u64().is_some_and(|fuel| fuel > 0), "{call}");
        assert!(call["error"].as_str().is_some_and(|e| e.contains("hostile plugin refuses")), "{call}");
    };
    let (status, simulated) =
        send(app.operator(Method::POST, "/api/v1/simulate").json(&sale(shop, affiliate, "try"))).await;
    assert_eq!((status, simulated["conversion"]["status"].as_str()), (200, Some("failed")), "{simulated}");
    check(&simulated["plugin-calls"]);

    let (status, recorded) =
        send(app.operator(Method::POST, "/api/v1/conversions").json(&sale(shop, affiliate, "o-1"))).await;
    assert_eq!(status, 201, "{recorded}");
    check(&recorded["conversion"]["plugin-calls"]);
    let id = recorded["conversion"]["id"].as_i64().expect("id");
    let (status, shown) = send(app.operator(Method::GET, &format!("/api/v1/conversions/{id}"))).await;
    assert_eq!(status, 200, "{shown}");
    check(&shown["conversion"]["plugin-calls"]);

    // A simulation that succeeds lists its calls too; a stored processed sale does not.
    let paying = campaign(&app, json!({"name": "Paying", "currency": "EUR"})).await;
    bind(&app, paying, "multi-tier", json!({})).await;
    let (_, simulated) =
        send(app.operator(Method::POST, "/api/v1/simulate").json(&sale(paying, affiliate, "try"))).await;
    let calls = &simulated["plugin-calls"];
    assert_eq!((calls[0]["hook"].as_str(), &calls[0]["error"]), (Some("distribute"), &Value::Null), "{simulated}");
    let (_, recorded) =
        send(app.operator(Method::POST, "/api/v1/conversions").json(&sale(paying, affiliate, "o-2"))).await;
    assert!(recorded["conversion"].get("plugin-calls").is_none(), "{recorded}");
}
