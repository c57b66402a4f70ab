//! Conversions through the commission engine: the DOMAIN.md journey, duplicates,
//! and failing plugins that leave the conversion stored and flagged.

use reqwest::Method;
use serde_json::{Value, json};
use upline_tests::*;

async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The DOMAIN.md setup: groups Basic 10 %, Standard 10 %, Premium 20 %, VIP 50 %, the
/// tree A -> B -> C -> D (D Basic, C Premium, B Standard, A VIP), variable tier on.
/// Returns the campaign id and the affiliate ids [A, B, C, D].
async fn domain_setup(app: &TestApp) -> (i64, [i64; 4]) {
    app.install(package("plugins/variable-tier")).await;
    let (_, campaign) = send(app.operator(Method::POST, "/api/v1/campaigns").json(&json!({
        "name": "Variable", "currency": "EUR", "store-zero-commissions": true
    })))
    .await;
    let campaign = campaign["id"].as_i64().expect("campaign id");
    let mut groups = Vec::new();
    for (name, rate) in [("Basic", "10"), ("Standard", "10"), ("Premium", "20"), ("VIP", "50")] {
        let (_, group) = send(
            app.operator(Method::POST, &format!("/api/v1/campaigns/{campaign}/groups")).json(&json!({"name": name})),
        )
        .await;
        let id = group["id"].as_i64().expect("group id");
        let body = json!({"commission-type": "sale", "tiers": [{"tier": 1, "rule": {"percent": rate}}]});
        let (status, _) = send(app.operator(Method::PUT, &format!("/api/v1/groups/{id}/rates")).json(&body)).await;
        assert_eq!(status, 200);
        groups.push(id);
    }
    let mut ids = [0i64; 4];
    let mut parent: Option<i64> = None;
    for (i, (name, group)) in
        [("a", groups[3]), ("b", groups[1]), ("c", groups[2]), ("d", groups[0])].into_iter().enumerate()
    {
        let body = json!({"name": name, "email": format!("{name}@example.com"), "password": "a long password", "parent": parent});
        let (_, affiliate) = send(app.operator(Method::POST, "/api/v1/affiliates").json(&body)).await;
        let id = affiliate["id"].as_i64().expect("affiliate id");
        let url = format!("/api/v1/campaigns/{campaign}/affiliates/{id}/group");
        assert_eq!(send(app.operator(Method::PUT, &url).json(&json!({"group": group}))).await.0, 204);
        ids[i] = id;
        parent = Some(id);
    }
    let url = format!("/api/v1/campaigns/{campaign}/plugins/variable-tier");
    assert_eq!(send(app.operator(Method::PUT, &url).json(&json!({"enabled": true}))).await.0, 200);
    (campaign, ids)
}

fn sale(campaign: i64, affiliate: i64, order: &str, total: &str) -> Value {
    json!({"campaign": campaign, "affiliate": affiliate, "order-id": order, "currency": "EUR", "total": total})
}

#[tokio::test]
async fn a_sale_pays_the_domain_example_10_10_0_30() {
    let app = spawn_app().await;
    let (campaign, [a, b, c, d]) = domain_setup(&app).await;

    let (status, recorded) =
        send(app.operator(Method::POST, "/api/v1/conversions").json(&sale(campaign, d, "order-1", "100.00"))).await;

    assert_eq!(status, 201, "{recorded}");
    assert_eq!(recorded["conversion"]["status"], "processed");
    let paid: Vec<(i64, String)> = recorded["commissions"]
        .as_array()
        .expect("commissions")
        .iter()
        .map(|c| (c["affiliate"].as_i64().unwrap_or(0), c["amount"]["amount"].as_str().unwrap_or("").to_owned()))
        .collect();
    assert_eq!(paid, [(d, "10.00".into()), (c, "10.00".into()), (b, "0.00".into()), (a, "30.00".into())]);
    assert!(recorded["commissions"].as_array().expect("list").iter().all(|c| c["status"] == "pending"));
    assert_eq!(recorded["commissions"][0]["plugin"], "variable-tier@0.1.0");

    let (_, listed) = send(app.operator(Method::GET, &format!("/api/v1/commissions?affiliate={a}"))).await;
    assert_eq!(listed[0]["amount"], json!({"amount": "30.00", "currency": "EUR"}));
}

#[tokio::test]
async fn the_same_order_id_is_recorded_once_even_concurrently() {
    let app = spawn_app().await;
    let (campaign, [_, _, _, d]) = domain_setup(&app).await;
    let (status, _) =
        send(app.operator(Method::POST, "/api/v1/conversions").json(&sale(campaign, d, "dup", "50.00"))).await;
    assert_eq!(status, 201);
    let (status, error) =
        send(app.operator(Method::POST, "/api/v1/conversions").json(&sale(campaign, d, "dup", "50.00"))).await;
    assert_eq!((status, error["error"]["field"].as_str()), (409, Some("order-id")), "{error}");

    let attempts = (0..8)
        .map(|_| send(app.operator(Method::POST, "/api/v1/conversions").json(&sale(campaign, d, "race", "20.00"))));
    let statuses: Vec<u16> = futures_join(attempts).await.into_iter().map(|(status, _)| status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
    let (_, commissions) = send(app.operator(Method::GET, "/api/v1/commissions")).await;
    assert_eq!(commissions.as_array().map(Vec::len), Some(8), "two orders, four tiers each");
}

async fn futures_join<F: std::future::Future<Output = (u16, Value)> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<(u16, Value)> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut results = Vec::new();
    for handle in handles {
        results.push(handle.await.expect("task"));
    }
    results
}

#[tokio::test]
async fn a_failing_plugin_leaves_the_conversion_stored_and_flagged() {
    let app = spawn_app().await;
    let (campaign, [_, _, _, d]) = domain_setup(&app).await;
    app.install(hostile()).await;
    let url = format!("/api/v1/campaigns/{campaign}/plugins");
    send(app.operator(Method::PUT, &format!("{url}/variable-tier")).json(&json!({"enabled": false}))).await;
    send(
        app.operator(Method::PUT, &format!("{url}/hostile"))
            .json(&json!({"enabled": true, "config": {"mode": "panic"}})),
    )
    .await;

    let (status, recorded) =
        send(app.operator(Method::POST, "/api/v1/conversions").json(&sale(campaign, d, "boom", "10.00"))).await;

    assert_eq!(status, 201, "{recorded}");
    assert_eq!(recorded["conversion"]["status"], "failed");
    let error = recorded["conversion"]["error"].as_str().unwrap_or("");
    assert!(error.contains("hostile") && error.contains("panicked"), "{error}");
    assert_eq!(recorded["commissions"], json!([]));
    let (status, _) =
        send(app.operator(Method::POST, "/api/v1/conversions").json(&sale(campaign, d, "boom", "10.00"))).await;
    assert_eq!(status, 409, "the flagged conversion is stored: its order id is taken");
}

#[tokio::test]
async fn without_a_distribution_plugin_the_conversion_is_flagged() {
    let app = spawn_app().await;
    let (_, campaign) =
        send(app.operator(Method::POST, "/api/v1/campaigns").json(&json!({"name": "Bare", "currency": "EUR"}))).await;
    let body = json!({"name": "x", "email": "x@example.com", "password": "a long password"});
    let (_, affiliate) = send(app.operator(Method::POST, "/api/v1/affiliates").json(&body)).await;

    let (status, recorded) = send(app.operator(Method::POST, "/api/v1/conversions").json(&sale(
        campaign["id"].as_i64().expect("id"),
        affiliate["id"].as_i64().expect("id"),
        "o",
        "5.00",
    )))
    .await;

    assert_eq!(status, 201);
    assert_eq!(recorded["conversion"]["status"], "failed");
    assert!(recorded["conversion"]["error"].as_str().unwrap_or("").contains("no distribution plugin"));
}

#[tokio::test]
async fn bad_conversions_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let (campaign, [_, _, _, d]) = domain_setup(&app).await;
    let cases = [
        (json!({"campaign": campaign, "affiliate": d, "currency": "EUR", "total": "-5"}), "total"),
        (json!({"campaign": campaign, "affiliate": d, "currency": "EUR", "total": "1.001"}), "total"),
        (json!({"campaign": campaign, "affiliate": d, "currency": "EUR", "total": "ten"}), "total"),
        (json!({"campaign": campaign, "affiliate": d, "currency": "USD", "total": "1"}), "currency"),
        (json!({"campaign": 999, "affiliate": d, "currency": "EUR", "total": "1"}), "campaign"),
        (json!({"campaign": campaign, "affiliate": 999, "currency": "EUR", "total": "1"}), "affiliate"),
        (json!({"campaign": campaign, "currency": "EUR", "total": "1"}), "affiliate"),
        (json!({"campaign": campaign, "affiliate": d, "total": "1"}), "currency"),
        (
            json!({"campaign": campaign, "affiliate": d, "currency": "EUR", "commission-type": "gift"}),
            "commission-type",
        ),
    ];
    for (body, field) in cases {
        let (status, error) = send(app.operator(Method::POST, "/api/v1/conversions").json(&body)).await;
        assert_eq!((status, error["error"]["field"].as_str()), (400, Some(field)), "{body} -> {error}");
    }
    let big = "x".repeat(2 * 1024 * 1024);
    let (status, _) = send(app.operator(Method::POST, "/api/v1/conversions").body(big)).await;
    assert!((400..500).contains(&status), "an oversized body is a client error: {status}");
}
