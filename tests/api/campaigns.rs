//! Campaigns, commission groups and tier rates over HTTP, on SQLite or PostgreSQL.

use reqwest::Method;
use serde_json::{Value, json};
use upline_tests::*;

async fn create_campaign(app: &TestApp, body: Value) -> (u16, Value) {
    send(app.operator(Method::POST, "/api/v1/campaigns").json(&body)).await
}

#[tokio::test]
async fn a_campaign_is_created_with_a_default_group_and_defaults() {
    let app = spawn_app().await;

    let (status, campaign) = create_campaign(&app, json!({"name": "Spring sale", "currency": "EUR"})).await;

    assert_eq!(status, 201, "{campaign}");
    assert_eq!(campaign["currency"], "EUR");
    assert_eq!(campaign["cookie-days"], 30);
    assert_eq!(campaign["attribution"], "last-click");
    assert_eq!(campaign["groups"][0]["name"], "Default");
    assert_eq!(campaign["groups"][0]["is-default"], true);
    let id = campaign["id"].as_i64().expect("id");
    let (status, fetched) = send(app.operator(Method::GET, &format!("/api/v1/campaigns/{id}"))).await;
    assert_eq!((status, &fetched), (200, &campaign));
    let (_, all) = send(app.operator(Method::GET, "/api/v1/campaigns")).await;
    assert_eq!(all.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_campaign_s_settings_change_one_field_at_a_time() {
    let app = spawn_app().await;
    let (_, campaign) = create_campaign(&app, json!({"name": "Spring sale", "currency": "EUR"})).await;
    let url = format!("/api/v1/campaigns/{}", campaign["id"]);

    let (status, changed) =
        send(app.operator(Method::PATCH, &url).json(&json!({"hold-days": 30, "name": "Summer sale"}))).await;

    assert_eq!(status, 200, "{changed}");
    assert_eq!((changed["hold-days"].as_i64(), changed["name"].as_str()), (Some(30), Some("Summer sale")));
    assert_eq!(
        (changed["cookie-days"].as_i64(), &changed["groups"]),
        (Some(30), &campaign["groups"]),
        "the rest stays"
    );
    let (_, fetched) = send(app.operator(Method::GET, &url)).await;
    assert_eq!(fetched, changed);
    for (patch, status_and_field) in [
        (json!({"hold-days": 4000}), (400, Some("hold-days"))),
        (json!({"currency": "USD"}), (400, Some("currency"))),
        (json!({"colour": "red"}), (400, Some("colour"))),
        (json!({"id": 7}), (400, Some("id"))),
    ] {
        let (status, error) = send(app.operator(Method::PATCH, &url).json(&patch)).await;
        assert_eq!((status, error["error"]["field"].as_str()), status_and_field, "{patch}: {error}");
    }
    let (status, _) = send(app.operator(Method::PATCH, "/api/v1/campaigns/999999").json(&json!({}))).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn groups_and_tier_rates_round_trip_exactly() {
    let app = spawn_app().await;
    let (_, campaign) = create_campaign(&app, json!({"name": "Tiers", "currency": "KWD"})).await;
    let id = campaign["id"].as_i64().expect("id");
    let (status, vip) =
        send(app.operator(Method::POST, &format!("/api/v1/campaigns/{id}/groups")).json(&json!({"name": "VIP"}))).await;
    assert_eq!(status, 201, "{vip}");
    let tiers = json!([
        {"tier": 2, "rule": {"fixed": "1.125"}},
        {"tier": 1, "rule": {"percent": "12.345678"}},
        {"tier": 3, "rule": {"percent-of-previous": "50"}}
    ]);

    let (status, group) = send(
        app.operator(Method::PUT, &format!("/api/v1/groups/{}/rates", vip["id"]))
            .json(&json!({"commission-type": "action:signup", "tiers": tiers})),
    )
    .await;

    assert_eq!(status, 200, "{group}");
    assert_eq!(group["rates"][0]["commission-type"], "action:signup");
    assert_eq!(
        group["rates"][0]["tiers"],
        json!([
            {"tier": 1, "rule": {"percent": "12.345678"}},
            {"tier": 2, "rule": {"fixed": "1.125"}},
            {"tier": 3, "rule": {"percent-of-previous": "50"}}
        ])
    );
}

#[tokio::test]
async fn bad_campaign_input_names_the_field() {
    let app = spawn_app().await;
    let cases = [
        (json!({"currency": "EUR"}), 400, "name"),
        (json!({"name": "x", "currency": "euro"}), 400, "currency"),
        (json!({"name": " ", "currency": "EUR"}), 400, "name"),
        (json!({"name": "x", "currency": "EUR", "cookie-days": 0}), 400, "cookie-days"),
        (json!({"name": "x", "currency": "EUR", "cookie-days": "long"}), 400, "cookie-days"),
        (json!({"name": "x", "currency": "EUR", "attribution": "middle-click"}), 400, "attribution"),
        (json!({"name": "x", "currency": "EUR", "colour": "red"}), 400, "colour"),
    ];
    for (body, expected, field) in cases {
        let (status, error) = create_campaign(&app, body.clone()).await;
        assert_eq!(status, expected, "{body} -> {error}");
        assert_eq!(error["error"]["code"], "invalid_input", "{body} -> {error}");
        assert_eq!(error["error"]["field"], field, "{body} -> {error}");
    }
}

#[tokio::test]
async fn bad_rates_and_unknown_ids_are_refused() {
    let app = spawn_app().await;
    let (_, campaign) = create_campaign(&app, json!({"name": "Rates", "currency": "EUR"})).await;
    let group = campaign["groups"][0]["id"].as_i64().expect("group id");
    let rates = |body: Value| app.operator(Method::PUT, &format!("/api/v1/groups/{group}/rates")).json(&body);
    let cases = [
        (json!({"commission-type": "tip", "tiers": []}), "commission-type"),
        (json!({"commission-type": "sale", "tiers": [{"tier": 0, "rule": {"percent": "5"}}]}), "tiers[0].tier"),
        (json!({"commission-type": "sale", "tiers": [{"tier": 101, "rule": {"percent": "5"}}]}), "tiers[0].tier"),
        (
            json!({"commission-type": "sale", "tiers": [{"tier": 1, "rule": {"percent": "5"}}, {"tier": 1, "rule": {"percent": "6"}}]}),
            "tiers[1].tier",
        ),
        (json!({"commission-type": "sale", "tiers": [{"tier": 1, "rule": {"percent": "100.5"}}]}), "tiers[0].rule"),
        (json!({"commission-type": "sale", "tiers": [{"tier": 1, "rule": {"fixed": "-1"}}]}), "tiers[0].rule"),
        (json!({"commission-type": "sale", "tiers": [{"tier": 1, "rule": {"fixed": "0.001"}}]}), "tiers[0].rule"),
    ];
    for (body, field) in cases {
        let (status, error) = send(rates(body.clone())).await;
        assert_eq!((status, error["error"]["field"].as_str()), (400, Some(field)), "{body} -> {error}");
    }

    let (status, error) = send(app.operator(Method::GET, "/api/v1/campaigns/999")).await;
    assert_eq!((status, error["error"]["code"].as_str()), (404, Some("not_found")));
    let (status, error) = send(app.operator(Method::GET, "/api/v1/campaigns/abc")).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("id")));
    let (status, _) = send(
        app.operator(Method::PUT, "/api/v1/groups/999/rates").json(&json!({"commission-type": "sale", "tiers": []})),
    )
    .await;
    assert_eq!(status, 404);
    let (status, error) = send(
        app.operator(Method::POST, &format!("/api/v1/campaigns/{}/groups", campaign["id"]))
            .json(&json!({"name": "Default"})),
    )
    .await;
    assert_eq!((status, error["error"]["code"].as_str()), (409, Some("conflict")), "{error}");
    let (status, _) = send(app.client.get(format!("{}/api/v1/campaigns", app.address))).await;
    assert_eq!(status, 401, "operator endpoints need the key");
}

#[tokio::test]
async fn operator_keys_are_created_listed_and_revoked() {
    let app = spawn_app().await;
    let db = upline_host::db::connect(&app.database_url).await.expect("database");
    let from_cli = upline_host::service::operator_keys::create(&db, "shop backend", "cli", chrono::Utc::now())
        .await
        .expect("key")
        .key;
    let (status, created) =
        send(app.operator(Method::POST, "/api/v1/operator-keys").json(&json!({"name": "reporting"}))).await;
    assert_eq!(status, 201, "{created}");
    let from_api = created["key"].as_str().expect("the key, once").to_owned();
    let campaigns = |key: &str| app.client.get(format!("{}/api/v1/campaigns", app.address)).bearer_auth(key.to_owned());

    for key in [&from_cli, &from_api] {
        assert_eq!(send(campaigns(key)).await.0, 200);
    }
    assert_eq!(send(campaigns(&format!("{from_cli}x"))).await.0, 401);
    let (_, listed) = send(app.operator(Method::GET, "/api/v1/operator-keys")).await;
    let names: Vec<&str> = listed.as_array().expect("keys").iter().filter_map(|k| k["name"].as_str()).collect();
    assert_eq!(names, ["shop backend", "reporting"]);
    assert!(listed.as_array().expect("keys").iter().all(|k| k.get("key").is_none()), "never shown again: {listed}");

    let (status, _) = send(app.operator(Method::DELETE, &format!("/api/v1/operator-keys/{}", created["id"]))).await;
    assert_eq!(status, 204);
    assert_eq!(send(campaigns(&from_api)).await.0, 401, "revoked at once");
    assert_eq!(send(campaigns(&from_cli)).await.0, 200);
    let (status, _) = send(app.operator(Method::DELETE, &format!("/api/v1/operator-keys/{}", created["id"]))).await;
    assert_eq!(status, 404);
}
