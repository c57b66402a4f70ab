//! Conversions through the commission engine: the DOMAIN.md journey, duplicates,
//! and failing plugins that leave the conversion stored and flagged.

use reqwest::Method;
use serde_json::{Value, json};
use upline_tests::*;

/// The DOMAIN.md setup: groups Basic 10 %, Standard 10 %, Premium 20 %, VIP 50 %, the
/// tree A -> B -> C -> D (D Basic, C Premium, B Standard, A VIP), variable tier on,
/// commissions approved by hand. Returns the campaign id and the affiliate ids [A, B, C, D].
async fn domain_setup(app: &TestApp) -> (i64, [i64; 4]) {
    app.install(package("plugins/variable-tier")).await;
    let (_, campaign) = send(app.operator(Method::POST, "/api/v1/campaigns").json(&json!({
        "name": "Variable", "currency": "EUR", "store-zero-commissions": true, "landing-url": "https://shop.example/",
        "approval": "manual"
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
    let paid = paid(&recorded);
    assert_eq!(paid, [(d, "10.00".into()), (c, "10.00".into()), (b, "0.00".into()), (a, "30.00".into())]);
    assert!(recorded["commissions"].as_array().expect("list").iter().all(|c| c["status"] == "pending"));
    assert_eq!(recorded["commissions"][0]["plugin"], plugin_ref("plugins/variable-tier").as_str());

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
async fn concurrent_conversions_are_stored_together_without_mixing_their_outcomes() {
    let app = spawn_app().await;
    let (campaign, [_, _, _, d]) = domain_setup(&app).await;
    app.install(hostile()).await;
    let (_, failing) =
        send(app.operator(Method::POST, "/api/v1/campaigns").json(&json!({"name": "Failing", "currency": "EUR"})))
            .await;
    let failing = failing["id"].as_i64().expect("campaign id");
    let url = format!("/api/v1/campaigns/{failing}/plugins/hostile");
    send(app.operator(Method::PUT, &url).json(&json!({"enabled": true, "config": {"mode": "panic"}}))).await;

    let mut bodies: Vec<Value> = (0..10).map(|i| sale(campaign, d, &format!("ok-{i}"), "100.00")).collect();
    bodies.extend((0..3).map(|_| json!({"campaign": campaign, "affiliate": d, "total": "100.00"})));
    bodies.extend((0..5).map(|i| sale(failing, d, &format!("bad-{i}"), "100.00")));
    bodies.extend((0..5).map(|_| sale(campaign, d, "twice", "100.00")));
    let requests = bodies.iter().map(|body| send(app.operator(Method::POST, "/api/v1/conversions").json(body)));
    let results = futures_join(requests).await;

    for (body, (status, recorded)) in bodies.iter().zip(&results) {
        if body["campaign"] == failing {
            assert_eq!((*status, recorded["conversion"]["status"].as_str()), (201, Some("failed")), "{recorded}");
        } else if body["order-id"] != "twice" {
            assert_eq!((*status, recorded["conversion"]["status"].as_str()), (201, Some("processed")), "{recorded}");
            let amounts: Vec<&str> = recorded["commissions"]
                .as_array()
                .expect("commissions")
                .iter()
                .filter_map(|c| c["amount"]["amount"].as_str())
                .collect();
            assert_eq!(amounts, ["10.00", "10.00", "0.00", "30.00"], "each its own commissions: {recorded}");
            let id = &recorded["conversion"]["id"];
            assert!(recorded["commissions"].as_array().is_some_and(|all| all.iter().all(|c| &c["conversion"] == id)));
        }
    }
    let twice: Vec<u16> =
        bodies.iter().zip(&results).filter(|(body, _)| body["order-id"] == "twice").map(|(_, (s, _))| *s).collect();
    assert_eq!(twice.iter().filter(|s| **s == 201).count(), 1, "{twice:?}");
    assert_eq!(twice.iter().filter(|s| **s == 409).count(), 4, "{twice:?}");
    let (_, commissions) = send(app.operator(Method::GET, &format!("/api/v1/commissions?campaign={campaign}"))).await;
    assert_eq!(commissions.as_array().map(Vec::len), Some(14 * 4), "14 sales stored, four tiers each");
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
        (json!({"campaign": campaign, "affiliate": d, "currency": 978, "total": "1"}), "currency"),
        (json!({"campaign": campaign, "affiliate": d, "currency": "XXX", "total": "1"}), "currency"),
        (json!({"affiliate": d, "currency": "EUR", "total": "1"}), "campaign"),
        (json!({"campaign": "one", "affiliate": d, "currency": "EUR", "total": "1"}), "campaign"),
        (json!({"campaign": campaign, "affiliate": d, "currency": "EUR", "order-id": ""}), "order-id"),
        (json!({"campaign": campaign, "affiliate": d, "currency": "EUR", "shipping": "-1"}), "shipping"),
        (json!({"campaign": campaign, "affiliate": d, "currency": "EUR", "colour": "red"}), "colour"),
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

fn ids(commissions: &Value) -> Vec<i64> {
    commissions.as_array().expect("commissions").iter().filter_map(|c| c["id"].as_i64()).collect()
}

#[tokio::test]
async fn the_journey_approve_pay_then_refund_after_payment() {
    let app = spawn_app().await;
    let (campaign, [a, b, c, d]) = domain_setup(&app).await;
    // The visitor clicks D's referral link; the shop's page reports the sale with the
    // click token its first-party cookie kept.
    let location = app.redirect_click(campaign, d, "https://shop.example/").await;
    let token = location.split("upline_click=").nth(1).expect("the click token");
    let sale = json!({"campaign": campaign, "click": token, "order-id": "journey", "total": "100.00"});
    let (status, recorded) = send(app.client.post(format!("{}/t/conversions", app.address)).json(&sale)).await;
    assert_eq!((status, recorded["status"].as_str()), (201, Some("processed")), "{recorded}");
    let url = format!("/api/v1/commissions?conversion={}", recorded["id"]);
    let (_, listed) = send(app.operator(Method::GET, &url)).await;
    let earned: Vec<(i64, &str)> = listed
        .as_array()
        .expect("commissions")
        .iter()
        .map(|c| (c["affiliate"].as_i64().unwrap_or(0), c["amount"]["amount"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(earned, [(d, "10.00"), (c, "10.00"), (b, "0.00"), (a, "30.00")], "DOMAIN.md's 10 / 10 / 0 / 30");
    let commissions = ids(&listed);

    // Approve one, then the rest in bulk; approving twice is refused.
    let (status, one) =
        send(app.operator(Method::POST, &format!("/api/v1/commissions/{}/approve", commissions[0]))).await;
    assert_eq!((status, one["status"].as_str()), (200, Some("approved")), "{one}");
    let (status, error) =
        send(app.operator(Method::POST, "/api/v1/commissions/approve").json(&json!({"ids": commissions}))).await;
    assert_eq!((status, error["error"]["code"].as_str()), (409, Some("conflict")), "all or nothing: {error}");
    let (status, rest) =
        send(app.operator(Method::POST, "/api/v1/commissions/approve").json(&json!({"ids": commissions[1..]}))).await;
    assert_eq!(status, 200, "{rest}");

    // Pay everyone owed at least 5 EUR: D 10, C 10, A 30 (B's 0 stays unpaid).
    let (status, payouts) =
        send(app.operator(Method::POST, "/api/v1/payouts").json(&json!({"currency": "EUR", "minimum": "5"}))).await;
    assert_eq!(status, 201, "{payouts}");
    let paid: Vec<(i64, String)> = payouts
        .as_array()
        .expect("payouts")
        .iter()
        .map(|p| (p["affiliate"].as_i64().unwrap_or(0), p["amount"]["amount"].as_str().unwrap_or("").into()))
        .collect();
    assert_eq!(paid, [(a, "30.00".into()), (c, "10.00".into()), (d, "10.00".into())]);
    let (status, error) = send(
        app.operator(Method::POST, &format!("/api/v1/commissions/{}/decline", commissions[0]))
            .json(&json!({"reason": "late"})),
    )
    .await;
    assert_eq!((status, error["error"]["field"].as_str()), (409, Some("status")), "paid is locked: {error}");
    let (_, again) =
        send(app.operator(Method::POST, "/api/v1/payouts").json(&json!({"currency": "EUR", "minimum": "0"}))).await;
    assert_eq!(again, json!([]), "nothing is paid twice");

    // A partial refund after payment: reversals proportional to 40 %, approved, to be netted.
    let conversion = recorded["id"].as_i64().expect("conversion id");
    let (status, reversals) = send(
        app.operator(Method::POST, &format!("/api/v1/conversions/{conversion}/refund"))
            .json(&json!({"amount": "40.00", "currency": "EUR"})),
    )
    .await;
    assert_eq!(status, 201, "{reversals}");
    let amounts: Vec<&str> =
        reversals.as_array().expect("reversals").iter().filter_map(|r| r["amount"]["amount"].as_str()).collect();
    assert_eq!(amounts, ["-4.00", "-4.00", "0.00", "-12.00"]);
    assert!(reversals.as_array().expect("list").iter().all(|r| r["status"] == "approved"));
    let (status, error) = send(
        app.operator(Method::POST, &format!("/api/v1/conversions/{conversion}/refund"))
            .json(&json!({"amount": "60.01", "currency": "EUR"})),
    )
    .await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("amount")), "over the rest: {error}");
}

#[tokio::test]
async fn declines_need_a_reason_and_pending_is_required() {
    let app = spawn_app().await;
    let (campaign, [_, _, _, d]) = domain_setup(&app).await;
    let (_, recorded) =
        send(app.operator(Method::POST, "/api/v1/conversions").json(&sale(campaign, d, "decline", "10.00"))).await;
    let first = ids(&recorded["commissions"])[0];
    let url = format!("/api/v1/commissions/{first}/decline");

    let (status, error) = send(app.operator(Method::POST, &url).json(&json!({"reason": " "}))).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("reason")));
    let (status, declined) = send(app.operator(Method::POST, &url).json(&json!({"reason": "fraud"}))).await;
    assert_eq!((status, declined["status"].as_str()), (200, Some("declined")));
    assert!(declined["explanation"].as_str().unwrap_or("").contains("fraud"));
    let (status, _) = send(app.operator(Method::POST, &format!("/api/v1/commissions/{first}/approve"))).await;
    assert_eq!(status, 409, "a declined commission cannot be approved");
    let (status, _) = send(app.operator(Method::POST, "/api/v1/commissions/999999/approve")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn held_commissions_are_approved_when_the_hold_is_over() {
    let app = spawn_app().await;
    app.install(package("plugins/multi-tier")).await;
    let (_, campaign) = send(
        app.operator(Method::POST, "/api/v1/campaigns")
            .json(&json!({"name": "Hold", "currency": "EUR", "hold-days": 30})),
    )
    .await;
    let id = campaign["id"].as_i64().expect("id");
    let group = campaign["groups"][0]["id"].as_i64().expect("group");
    let rates = json!({"commission-type": "sale", "tiers": [{"tier": 1, "rule": {"percent": "10"}}]});
    send(app.operator(Method::PUT, &format!("/api/v1/groups/{group}/rates")).json(&rates)).await;
    send(
        app.operator(Method::PUT, &format!("/api/v1/campaigns/{id}/plugins/multi-tier"))
            .json(&json!({"enabled": true})),
    )
    .await;
    let body = json!({"name": "h", "email": "h@example.com", "password": "a long password"});
    let (_, affiliate) = send(app.operator(Method::POST, "/api/v1/affiliates").json(&body)).await;
    let (_, recorded) = send(app.operator(Method::POST, "/api/v1/conversions").json(&sale(
        id,
        affiliate["id"].as_i64().expect("id"),
        "held",
        "50.00",
    )))
    .await;
    assert_eq!(recorded["commissions"][0]["status"], "pending");
    assert!(recorded["commissions"][0]["hold-until"].is_string(), "{recorded}");

    let db = upline_host::db::connect(&app.database_url).await.expect("database");
    let now = chrono::Utc::now();
    assert_eq!(upline_host::service::lifecycle::release_due(&db, now).await.expect("release"), 0, "still held");
    let later = now + chrono::Duration::days(31);
    assert_eq!(upline_host::service::lifecycle::release_due(&db, later).await.expect("release"), 1);
    let (_, listed) = send(app.operator(Method::GET, &format!("/api/v1/commissions?campaign={id}"))).await;
    assert_eq!(listed[0]["status"], "approved");
}

#[tokio::test]
async fn bonus_rule_plugins_add_bonus_commissions() {
    let app = spawn_app().await;
    let (campaign, [_, _, _, d]) = domain_setup(&app).await;
    app.install(package("plugins/sale-bonus")).await;
    let url = format!("/api/v1/campaigns/{campaign}/plugins/sale-bonus");
    let config = json!({"enabled": true, "config": {"minimum": "50", "bonus": "5"}});
    assert_eq!(send(app.operator(Method::PUT, &url).json(&config)).await.0, 200);

    let (_, big) =
        send(app.operator(Method::POST, "/api/v1/conversions").json(&sale(campaign, d, "big", "100.00"))).await;
    let (_, small) =
        send(app.operator(Method::POST, "/api/v1/conversions").json(&sale(campaign, d, "small", "20.00"))).await;

    let bonus = big["commissions"].as_array().expect("list").iter().find(|c| c["commission-type"] == "bonus").cloned();
    let bonus = bonus.unwrap_or_else(|| panic!("a bonus commission: {big}"));
    assert_eq!((bonus["affiliate"].as_i64(), &bonus["amount"]["amount"]), (Some(d), &json!("5.00")));
    assert_eq!(bonus["plugin"], plugin_ref("plugins/sale-bonus").as_str());
    assert!(small["commissions"].as_array().expect("list").iter().all(|c| c["commission-type"] != "bonus"));
}

#[tokio::test]
async fn bonuses_are_checked_against_the_sale_and_count_toward_its_total() {
    let app = spawn_app().await;
    let (campaign, [_, _, _, d]) = domain_setup(&app).await;
    app.install(hostile()).await;
    let url = format!("/api/v1/campaigns/{campaign}/plugins/hostile");
    // Variable tier pays 50 of a 100.00 sale; the hostile plugin adds the bonus its mode asks for.
    let bonus = |mode: &str, grants: Value| {
        json!({"enabled": true, "config": {"mode": mode}, "position": 5,
        "grants": grants})
    };

    for (mode, words) in [
        ("bonus-minor-units", "EUR says 4 minor-unit digits; EUR has 2"),
        ("bonus-currency", "a bonus is in USD, not EUR"),
        ("bonus-over-total", "more than its commissionable total 100.00 EUR (the plugin needs the `exceed-total`"),
    ] {
        assert_eq!(send(app.operator(Method::PUT, &url).json(&bonus(mode, json!([])))).await.0, 200);
        let (status, recorded) =
            send(app.operator(Method::POST, "/api/v1/conversions").json(&sale(campaign, d, mode, "100.00"))).await;
        assert_eq!((status, recorded["conversion"]["status"].as_str()), (201, Some("failed")), "{mode}: {recorded}");
        let error = recorded["conversion"]["error"].as_str().unwrap_or("");
        assert!(error.contains(words) && error.contains("hostile"), "{mode}: {error}");
        assert_eq!(recorded["commissions"], json!([]), "{mode}: nothing is paid");
    }
    // `stats` (which the plugin requests) is granted, and grants nothing else.
    let (status, bound) =
        send(app.operator(Method::PUT, &url).json(&bonus("bonus-over-total", json!(["stats"])))).await;
    assert_eq!((status, &bound["grants"]), (200, &json!(["stats"])), "{bound}");
    let (status, _) =
        send(app.operator(Method::PUT, &url).json(&bonus("bonus-over-total", json!(["exceed-total"])))).await;
    assert_eq!(status, 200);
    let (status, recorded) =
        send(app.operator(Method::POST, "/api/v1/conversions").json(&sale(campaign, d, "granted", "100.00"))).await;
    assert_eq!((status, recorded["conversion"]["status"].as_str()), (201, Some("processed")), "{recorded}");
    let bonus = recorded["commissions"].as_array().and_then(|all| all.iter().find(|c| c["commission-type"] == "bonus"));
    assert_eq!(bonus.map(|b| &b["amount"]["amount"]), Some(&json!("100.00")), "the whole total as a bonus: {recorded}");
    let (_, bindings) = send(app.operator(Method::GET, &format!("/api/v1/campaigns/{campaign}/plugins"))).await;
    assert!(bindings.as_array().is_some_and(|all| all.iter().any(|b| b["grants"] == json!(["exceed-total"]))));
}

#[tokio::test]
async fn an_invalid_approval_decision_flags_the_conversion() {
    let app = spawn_app().await;
    let (campaign, [_, _, _, d]) = domain_setup(&app).await;
    app.install(hostile()).await;
    // The hostile plugin's approve hook declines without a reason: the host refuses that.
    let url = format!("/api/v1/campaigns/{campaign}/plugins/hostile");
    send(app.operator(Method::PUT, &url).json(&json!({"enabled": true, "config": {"mode": "behave"}, "position": 5})))
        .await;

    let (status, recorded) =
        send(app.operator(Method::POST, "/api/v1/conversions").json(&sale(campaign, d, "approve", "10.00"))).await;

    assert_eq!(status, 201);
    assert_eq!(recorded["conversion"]["status"], "failed", "{recorded}");
    assert!(
        recorded["conversion"]["error"].as_str().unwrap_or("").contains("decline must give a reason"),
        "{recorded}"
    );
    assert_eq!(recorded["commissions"], json!([]), "no half-processed commissions");
}

#[tokio::test]
async fn simulate_shows_the_commissions_and_writes_nothing() {
    let app = spawn_app().await;
    let (campaign, [a, _, _, d]) = domain_setup(&app).await;

    let (status, simulated) =
        send(app.operator(Method::POST, "/api/v1/simulate").json(&sale(campaign, d, "hypothetical", "100.00"))).await;

    assert_eq!(status, 200, "{simulated}");
    let last = &simulated["commissions"][3];
    assert_eq!((last["affiliate"].as_i64(), &last["amount"]["amount"]), (Some(a), &json!("30.00")));
    assert!(last["explanation"].as_str().unwrap_or("").contains("VIP"), "the trail: {last}");
    let (_, commissions) = send(app.operator(Method::GET, "/api/v1/commissions")).await;
    assert_eq!(commissions, json!([]), "nothing written");
    let (status, _) =
        send(app.operator(Method::POST, "/api/v1/conversions").json(&sale(campaign, d, "hypothetical", "100.00")))
            .await;
    assert_eq!(status, 201, "the order id was not taken by the simulation");
}

#[tokio::test]
async fn the_demo_data_pays_the_domain_example() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = upline_host::db::connect(&fresh_database_url(dir.path()).await).await.expect("database");
    let (_plugins, registry) = registry();
    registry.install(package("plugins/variable-tier")).expect("install");
    let registry = std::sync::Arc::new(registry);
    let dbs = (db.clone(), db.clone());
    let engine = upline_host::service::engine::Engine::start(dbs, registry.clone(), upline_host::clock::Clock::System);
    let seed = || upline_host::service::demo::seed(&db, &registry, &engine, chrono::Utc::now());

    assert!(seed().await.expect("seed"));
    assert!(!seed().await.expect("seed"), "only into an empty database");

    let campaigns = upline_host::service::campaigns::list(&db).await.expect("campaigns");
    assert_eq!(campaigns.len(), 1);
    assert_eq!(campaigns[0].groups.len(), 5, "Default, Basic, Standard, Premium, VIP");
    use sea_orm::{EntityTrait, PaginatorTrait};
    let commissions = upline_host::db::entity::commission::Entity::find().count(&db).await.expect("count");
    assert_eq!(commissions, 12, "three sales, four tiers each");
}

#[tokio::test]
async fn metrics_count_conversions_and_plugin_calls() {
    let app = spawn_app().await;
    let (campaign, [_, _, _, d]) = domain_setup(&app).await;
    send(app.operator(Method::POST, "/api/v1/conversions").json(&sale(campaign, d, "metered", "10.00"))).await;

    let metrics = app.client.get(format!("{}/metrics", app.address)).bearer_auth(METRICS_TOKEN).send().await;
    let metrics = metrics.expect("request").text().await.expect("body");

    assert!(metrics.contains("upline_conversions_total{status=\"processed\"}"), "{metrics}");
    assert!(
        metrics.contains("upline_plugin_calls_total{plugin=\"variable-tier\",hook=\"distribute\",outcome=\"ok\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("upline_plugin_call_seconds"), "{metrics}");
}

#[tokio::test]
async fn reports_sum_clicks_conversions_and_commissions_per_affiliate_and_period() {
    let app = spawn_app().await;
    let (campaign, [a, _, c, d]) = domain_setup(&app).await;
    for order in ["r1", "r2"] {
        send(app.operator(Method::POST, "/api/v1/conversions").json(&sale(campaign, d, order, "100.00"))).await;
    }
    app.snippet_click(campaign, d).await;
    let (_, pending) = send(app.operator(Method::GET, &format!("/api/v1/commissions?affiliate={a}"))).await;
    let first = pending[0]["id"].as_i64().expect("id");
    send(app.operator(Method::POST, &format!("/api/v1/commissions/{first}/approve"))).await;
    let today = chrono::Utc::now().date_naive();

    let url = format!("/api/v1/reports/affiliates?campaign={campaign}&from={today}&to={today}");
    let (status, report) = send(app.operator(Method::GET, &url)).await;
    assert_eq!(status, 200, "{report}");
    let row = |id: i64| report["affiliates"].as_array().and_then(|rows| rows.iter().find(|r| r["affiliate"] == id));
    let d_row = row(d).expect("d has a row");
    assert_eq!((d_row["clicks"].as_i64(), d_row["conversions"].as_i64()), (Some(1), Some(2)), "{d_row}");
    assert_eq!(d_row["commissions"][0]["amount"]["amount"], "20.00", "two 10.00 commissions: {d_row}");
    let mut a_earnings: Vec<(String, i64, String)> = row(a).expect("a has a row")["commissions"]
        .as_array()
        .expect("earnings")
        .iter()
        .map(|e| {
            (
                e["status"].as_str().unwrap_or("").to_owned(),
                e["count"].as_i64().unwrap_or(0),
                e["amount"]["amount"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    a_earnings.sort();
    assert_eq!(a_earnings, [("approved".into(), 1, "30.00".into()), ("pending".into(), 1, "30.00".into())]);
    assert!(row(c).is_some(), "C's zero commissions are stored and reported");

    let yesterday = today - chrono::Days::new(1);
    let (_, empty) = send(app.operator(Method::GET, &format!("/api/v1/reports/affiliates?to={yesterday}"))).await;
    assert_eq!(empty["affiliates"], json!([]), "nothing happened before today");
    for (query, field) in [
        (format!("from={today}&to={yesterday}"), "from"),
        ("from=yesterday".to_owned(), "from"),
        ("campaign=x".to_owned(), "campaign"),
        ("colour=red".to_owned(), "colour"),
    ] {
        let (status, error) = send(app.operator(Method::GET, &format!("/api/v1/reports/affiliates?{query}"))).await;
        assert_eq!((status, error["error"]["field"].as_str()), (400, Some(field)), "{query}: {error}");
    }
}

#[tokio::test]
async fn commissions_are_listed_a_page_at_a_time() {
    let app = spawn_app().await;
    let (campaign, [_, _, _, d]) = domain_setup(&app).await;
    for order in ["p1", "p2", "p3"] {
        send(app.operator(Method::POST, "/api/v1/conversions").json(&sale(campaign, d, order, "100.00"))).await;
    }
    let (_, all) = send(app.operator(Method::GET, "/api/v1/commissions")).await;
    let all = ids(&all);
    assert_eq!(all.len(), 12);

    let (_, first) = send(app.operator(Method::GET, "/api/v1/commissions?limit=5")).await;
    let first = ids(&first);
    let (_, second) = send(app.operator(Method::GET, &format!("/api/v1/commissions?limit=5&after={}", first[4]))).await;
    assert_eq!([first, ids(&second)].concat(), all[..10]);
    for limit in ["0", "1001", "many"] {
        let (status, error) = send(app.operator(Method::GET, &format!("/api/v1/commissions?limit={limit}"))).await;
        assert_eq!((status, error["error"]["field"].as_str()), (400, Some("limit")), "{limit}: {error}");
    }
}
