//! Affiliates, their tree and their groups; plugin bindings per campaign.

use reqwest::Method;
use serde_json::json;
use upline_tests::*;

async fn affiliate(app: &TestApp, name: &str, parent: Option<i64>) -> i64 {
    let body =
        json!({"name": name, "email": format!("{name}@example.com"), "password": "a long password", "parent": parent});
    let (status, created) = send(app.operator(Method::POST, "/api/v1/affiliates").json(&body)).await;
    assert_eq!(status, 201, "{created}");
    assert!(created.get("password-hash").is_none() && created.get("password").is_none(), "{created}");
    created["id"].as_i64().expect("id")
}

#[tokio::test]
async fn affiliates_form_a_tree() {
    let app = spawn_app().await;
    let a = affiliate(&app, "a", None).await;
    let b = affiliate(&app, "b", Some(a)).await;
    let c = affiliate(&app, "c", Some(b)).await;
    let d = affiliate(&app, "d", Some(c)).await;

    let (status, tree) = send(app.operator(Method::GET, &format!("/api/v1/affiliates/{a}/tree"))).await;

    assert_eq!(status, 200);
    let ids: Vec<i64> = tree.as_array().expect("list").iter().filter_map(|x| x["id"].as_i64()).collect();
    assert_eq!(ids, [b, c, d]);
    let (_, shown) = send(app.operator(Method::GET, &format!("/api/v1/affiliates/{d}"))).await;
    assert_eq!(shown["parent"], c);
}

#[tokio::test]
async fn bad_affiliates_are_refused_naming_the_field() {
    let app = spawn_app().await;
    affiliate(&app, "taken", None).await;
    let cases = [
        (json!({"name": "x", "email": "not-an-email", "password": "a long password"}), 400, "email"),
        (json!({"name": "x", "email": "x@example.com", "password": "short"}), 400, "password"),
        (json!({"name": "x", "email": "x@example.com", "password": "a long password", "parent": 999}), 400, "parent"),
        (json!({"name": "x", "email": "TAKEN@example.com", "password": "a long password"}), 409, "email"),
        (json!({"name": "x", "email": "x@example.com"}), 400, "password"),
    ];
    for (body, expected, field) in cases {
        let (status, error) = send(app.operator(Method::POST, "/api/v1/affiliates").json(&body)).await;
        assert_eq!((status, error["error"]["field"].as_str()), (expected, Some(field)), "{body} -> {error}");
    }
}

#[tokio::test]
async fn an_affiliate_moves_between_groups_of_a_campaign_only() {
    let app = spawn_app().await;
    let (_, campaign) =
        send(app.operator(Method::POST, "/api/v1/campaigns").json(&json!({"name": "C", "currency": "EUR"}))).await;
    let (_, other) =
        send(app.operator(Method::POST, "/api/v1/campaigns").json(&json!({"name": "O", "currency": "EUR"}))).await;
    let a = affiliate(&app, "mover", None).await;
    let (_, vip) = send(
        app.operator(Method::POST, &format!("/api/v1/campaigns/{}/groups", campaign["id"]))
            .json(&json!({"name": "VIP"})),
    )
    .await;
    let url = format!("/api/v1/campaigns/{}/affiliates/{a}/group", campaign["id"]);

    let (status, _) = send(app.operator(Method::PUT, &url).json(&json!({"group": vip["id"]}))).await;
    assert_eq!(status, 204);
    let (status, error) = send(app.operator(Method::PUT, &url).json(&json!({"group": other["groups"][0]["id"]}))).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("group")), "{error}");
}

#[tokio::test]
async fn plugins_are_enabled_per_campaign_with_a_checked_config() {
    let app = spawn_app().await;
    app.install(package("plugins/multi-tier")).await;
    let (_, campaign) =
        send(app.operator(Method::POST, "/api/v1/campaigns").json(&json!({"name": "C", "currency": "EUR"}))).await;
    let url = format!("/api/v1/campaigns/{}/plugins/multi-tier", campaign["id"]);

    let (status, binding) =
        send(app.operator(Method::PUT, &url).json(&json!({"enabled": true, "config": {"max-tiers": 5}}))).await;
    assert_eq!(status, 200, "{binding}");
    assert_eq!(binding["config"], json!({"max-tiers": 5}));

    let (status, error) =
        send(app.operator(Method::PUT, &url).json(&json!({"enabled": true, "config": {"max-tiers": 500}}))).await;
    assert_eq!((status, error["error"]["code"].as_str()), (422, Some("invalid_config")), "{error}");
    assert_eq!(error["error"]["field"], "/max-tiers");

    // Switching it off keeps its configuration for when it is switched on again.
    let (status, _) = send(app.operator(Method::PUT, &url).json(&json!({"enabled": false}))).await;
    assert_eq!(status, 200);
    let (_, list) = send(app.operator(Method::GET, &format!("/api/v1/campaigns/{}/plugins", campaign["id"]))).await;
    let off =
        json!([{"plugin": "multi-tier", "enabled": false, "config": {"max-tiers": 5}, "position": 0, "grants": []}]);
    assert_eq!(list, off);
    let (status, binding) = send(app.operator(Method::PUT, &url).json(&json!({"enabled": true}))).await;
    assert_eq!((status, &binding["config"]), (200, &json!({"max-tiers": 5})), "{binding}");

    let missing = format!("/api/v1/campaigns/{}/plugins/not-installed", campaign["id"]);
    let (status, _) = send(app.operator(Method::PUT, &missing).json(&json!({"enabled": true}))).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_affiliate_sees_only_its_own_data() {
    let app = spawn_app().await;
    app.install(package("plugins/multi-tier")).await;
    let (_, campaign) =
        send(app.operator(Method::POST, "/api/v1/campaigns").json(&json!({"name": "P", "currency": "EUR"}))).await;
    let id = campaign["id"].as_i64().expect("id");
    let group = campaign["groups"][0]["id"].as_i64().expect("group");
    let rates = json!({"commission-type": "sale", "tiers": [{"tier": 1, "rule": {"percent": "10"}}, {"tier": 2, "rule": {"percent": "5"}}]});
    send(app.operator(Method::PUT, &format!("/api/v1/groups/{group}/rates")).json(&rates)).await;
    send(
        app.operator(Method::PUT, &format!("/api/v1/campaigns/{id}/plugins/multi-tier"))
            .json(&json!({"enabled": true})),
    )
    .await;
    let parent = affiliate(&app, "parent", None).await;
    let child = affiliate(&app, "child", Some(parent)).await;
    let sale = json!({"campaign": id, "affiliate": child, "order-id": "p1", "currency": "EUR", "total": "100.00"});
    send(app.operator(Method::POST, "/api/v1/conversions").json(&sale)).await;
    let login = |password: &str| {
        app.client
            .post(format!("{}/api/v1/affiliate/login", app.address))
            .json(&json!({"email": "child@example.com", "password": password}))
    };

    let (status, error) = send(login("wrong password")).await;
    assert_eq!((status, error["error"]["code"].as_str()), (401, Some("unauthorized")));
    let (status, session) = send(login("a long password")).await;
    assert_eq!(status, 200, "{session}");
    let token = session["token"].as_str().expect("token");
    let as_child = |path: &str| app.client.get(format!("{}{path}", app.address)).bearer_auth(token);

    let (_, me) = send(as_child("/api/v1/affiliate/me")).await;
    assert_eq!(me["id"], child);
    assert!(me["first-login-at"].is_string(), "the first login is recorded: {me}");
    let (_, own) = send(as_child("/api/v1/affiliate/commissions")).await;
    let owners: Vec<i64> = own.as_array().expect("list").iter().filter_map(|c| c["affiliate"].as_i64()).collect();
    assert_eq!(owners, [child], "only the child's tier-1 commission, not the parent's tier 2");
    let (status, report) = send(as_child(&format!("/api/v1/affiliate/report?affiliate={parent}"))).await;
    assert_eq!(status, 200, "{report}");
    let rows: Vec<i64> =
        report["affiliates"].as_array().expect("rows").iter().filter_map(|r| r["affiliate"].as_i64()).collect();
    assert_eq!(rows, [child], "the panel's report is the caller's own, whatever it asks: {report}");
    assert_eq!(report["affiliates"][0]["commissions"][0]["amount"]["amount"], "10.00");
    for path in [format!("/api/v1/commissions?affiliate={parent}"), format!("/api/v1/affiliates/{parent}")] {
        let (status, _) = send(as_child(&path)).await;
        assert_eq!(status, 401, "{path}");
    }
    let (status, _) = send(app.client.get(format!("{}/api/v1/affiliate/me", app.address)).bearer_auth("forged")).await;
    assert_eq!(status, 401);
}
