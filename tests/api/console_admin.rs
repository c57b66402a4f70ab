//! The rest of the merchant console over HTTP: every campaign setting and the
//! commission groups' tiers changed on the campaign's page, the affiliate tree,
//! plugins uploaded, activated and limited, conversions refunded, payouts run, the
//! audit log; and what the affiliate then sees in the portal's lists.

use reqwest::{Method, StatusCode, header};
use serde_json::json;
use upline_tests::*;

use super::console::{client, csrf, operator_session, page, post};

/// A form's fields as `post` takes them.
fn pairs<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(name, value)| (*name, value.as_str())).collect()
}

/// The `href` of the page's `rel="next"` link.
fn next_link(page: &str) -> Option<String> {
    let head = page.split(r#"rel="next""#).next().filter(|head| head.len() < page.len())?;
    Some(head.rsplit("href=\"").next()?.split('"').next()?.replace("&#38;", "&"))
}

#[tokio::test]
async fn every_campaign_setting_and_each_groups_tiers_are_changed_on_the_campaign_page() {
    let app = spawn_app().await;
    let (campaign, affiliate) = app.campaign_with("multi-tier", "10").await;
    let cookie = operator_session(&app).await;
    let path = format!("/console/campaigns/{campaign}");
    let (status, shown) = page(&app, &cookie, &path).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert!(shown.contains(r#"id="cookie-days" name="cookie-days" type="number" value="30""#), "{shown}");
    assert!(shown.contains(r#"value="EUR" required readonly"#), "the currency cannot change: {shown}");
    let token = csrf(&shown);

    // Every setting at once; a box left unticked is off.
    let settings = [
        ("csrf", token.as_str()),
        ("name", "Shoes"),
        ("currency", "EUR"),
        ("landing-url", "https://shop.example/"),
        ("allowed-hosts", "www.shop.example\r\n*.cdn.example\r\n"),
        ("cookie-days", "60"),
        ("attribution", "first-click"),
        ("time-zone", "Europe/Berlin"),
        ("period-close-day", "5"),
        ("reward-period", "quarter"),
        ("hold-days", "14"),
        ("approval", "manual"),
        ("include-tax", "true"),
        ("browser-conversions-per-day", "0"),
        ("recurrences", "sale = monthly"),
        ("lifetime-commissions", "true"),
        ("lifetime-days", "365"),
    ];
    let (status, location, _) = post(&app, &cookie, &format!("{path}/settings"), &settings).await;
    assert_eq!((status, location), (StatusCode::SEE_OTHER, format!("{path}#settings")));
    let (_, stored) = send(app.operator(Method::GET, &format!("/api/v1/campaigns/{campaign}"))).await;
    let expected = json!({
        "name": "Shoes", "cookie-days": 60, "attribution": "first-click", "time-zone": "Europe/Berlin",
        "period-close-day": 5, "reward-period": "quarter", "hold-days": 14, "approval": "manual",
        "include-tax": true, "include-shipping": false, "subtract-discount": false,
        "browser-conversions-per-day": 0, "allowed-hosts": ["www.shop.example", "*.cdn.example"],
        "recurrences": {"sale": "monthly"}, "lifetime-commissions": true, "lifetime-days": 365,
    });
    for (field, value) in expected.as_object().expect("object") {
        assert_eq!(&stored[field], value, "{field}: {stored}");
    }
    assert!(page(&app, &cookie, &path).await.1.contains(">sale = monthly</textarea>"), "the stored values are shown");

    // A refused value is shown beside its field, and nothing changes.
    for (field, bad) in [("period-close-day", "31"), ("currency", "USD"), ("allowed-hosts", "not a host")] {
        let changed: Vec<(&str, &str)> =
            settings.iter().map(|&(name, value)| (name, if name == field { bad } else { value })).collect();
        let (status, _, refused) = post(&app, &cookie, &format!("{path}/settings"), &changed).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {refused}");
        assert!(refused.contains(&format!(r#"id="{field}-error""#)), "{field}: {refused}");
    }
    let (_, unchanged) = send(app.operator(Method::GET, &format!("/api/v1/campaigns/{campaign}"))).await;
    assert_eq!((unchanged["period-close-day"].as_i64(), unchanged["currency"].as_str()), (Some(5), Some("EUR")));

    // A new group; a second of the same name is refused above the form.
    let vip = [("csrf", token.as_str()), ("group-name", "VIP")];
    let (status, location, _) = post(&app, &cookie, &format!("{path}/groups"), &vip).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, refused) = post(&app, &cookie, &format!("{path}/groups"), &vip).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains(r#"id="group-error""#) && refused.contains("VIP"), "{refused}");
    let (_, stored) = send(app.operator(Method::GET, &format!("/api/v1/campaigns/{campaign}"))).await;
    let group = stored["groups"][1]["id"].as_i64().expect("the VIP group");
    assert_eq!(location, format!("{path}#group-{group}"));

    // Its sale tiers, one row a tier; a rate the API refuses is shown beside its row.
    let rates = format!("{path}/groups/{group}/rates");
    let tiers = |tier2: &'static str| {
        vec![
            ("csrf", token.clone()),
            ("commission-type", "sale".to_owned()),
            ("rule-1", "percent".to_owned()),
            ("value-1", "12.5".to_owned()),
            ("rule-2", "percent".to_owned()),
            ("value-2", tier2.to_owned()),
            ("rule-3", "fixed".to_owned()),
            ("value-3", "2.00".to_owned()),
            ("rule-4", "percent".to_owned()),
            ("value-4", String::new()),
        ]
    };
    let (status, _, shown) = post(&app, &cookie, &rates, &pairs(&tiers("150"))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{shown}");
    assert!(shown.contains(&format!(r#"id="rates-{group}-1-value-2-error""#)), "{shown}");
    assert!(shown.contains(r#"value="150""#), "what was entered stays: {shown}");
    let (status, location, _) = post(&app, &cookie, &rates, &pairs(&tiers("5"))).await;
    assert_eq!((status, location), (StatusCode::SEE_OTHER, format!("{path}#group-{group}")));
    let (_, stored) = send(app.operator(Method::GET, &format!("/api/v1/campaigns/{campaign}"))).await;
    assert_eq!(
        stored["groups"][1]["rates"],
        json!([{"commission-type": "sale", "tiers": [
            {"tier": 1, "rule": {"percent": "12.5"}},
            {"tier": 2, "rule": {"percent": "5"}},
            {"tier": 3, "rule": {"fixed": "2"}},
        ]}]),
        "{stored}"
    );

    // An affiliate moved to VIP earns its rate; an unknown one is refused on the page.
    let (affiliate, group) = (affiliate.to_string(), group.to_string());
    let unknown = [("csrf", token.as_str()), ("member-affiliate", "999"), ("member-group", group.as_str())];
    let (status, _, refused) = post(&app, &cookie, &format!("{path}/members"), &unknown).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused.contains(r#"id="member-error""#), "{refused}");
    let member = [("csrf", token.as_str()), ("member-affiliate", affiliate.as_str()), ("member-group", group.as_str())];
    let (status, location, _) = post(&app, &cookie, &format!("{path}/members"), &member).await;
    assert_eq!((status, location), (StatusCode::SEE_OTHER, format!("{path}#members")));
    let sale = json!({"campaign": campaign, "affiliate": affiliate.parse::<i64>().expect("id"), "total": "100.00"});
    let (_, tried) = send(app.operator(Method::POST, "/api/v1/simulate").json(&sale)).await;
    assert_eq!(paid(&tried), [(affiliate.parse().expect("id"), "12.50".to_owned())], "{tried}");
}

#[tokio::test]
async fn the_affiliate_tree_is_shown_a_level_at_a_time_and_grows_and_suspends_from_the_console() {
    let app = spawn_app().await;
    let cookie = operator_session(&app).await;
    let (status, shown) = page(&app, &cookie, "/console/affiliates").await;
    assert_eq!(status, StatusCode::OK);
    assert!(shown.contains("No affiliates yet"), "{shown}");
    let token = csrf(&shown);

    let anna =
        [("csrf", token.as_str()), ("name", "Anna"), ("email", "anna@shop.example"), ("password", "a long password")];
    let (status, location, _) = post(&app, &cookie, "/console/affiliates", &anna).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let anna_id: i64 = location.rsplit("#affiliate-").next().and_then(|id| id.parse().ok()).expect("an id");
    assert_eq!(location, format!("/console/affiliates#affiliate-{anna_id}"));

    // A refused field is shown beside it, with what was entered (not the password).
    let taken =
        [("csrf", token.as_str()), ("name", "Anna 2"), ("email", "ANNA@shop.example"), ("password", "a long password")];
    let (status, _, refused) = post(&app, &cookie, "/console/affiliates", &taken).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused.contains(r#"id="email-error""#) && refused.contains(r#"value="Anna 2""#), "{refused}");
    assert!(!refused.contains(r#"value="a long password""#), "{refused}");
    let orphan = [
        ("csrf", token.as_str()),
        ("name", "Cleo"),
        ("email", "cleo@shop.example"),
        ("password", "a long password"),
        ("parent", "999"),
    ];
    let (status, _, refused) = post(&app, &cookie, "/console/affiliates", &orphan).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused.contains(r#"id="parent-error""#), "{refused}");

    let parent = anna_id.to_string();
    let ben = [
        ("csrf", token.as_str()),
        ("name", "Ben"),
        ("email", "ben@shop.example"),
        ("password", "a long password"),
        ("parent", parent.as_str()),
    ];
    let (status, location, _) = post(&app, &cookie, "/console/affiliates", &ben).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.starts_with(&format!("/console/affiliates?parent={anna_id}#affiliate-")), "{location}");
    let ben_id: i64 = location.rsplit("#affiliate-").next().and_then(|id| id.parse().ok()).expect("an id");

    // The top level: Anna, with a link to her one recruit; her level: Ben, and the way up.
    let (_, top) = page(&app, &cookie, "/console/affiliates").await;
    assert!(top.contains(&format!(r#"<a href="/console/affiliates?parent={anna_id}">1 recruits</a>"#)), "{top}");
    assert!(!top.contains(&format!(r#"id="affiliate-{ben_id}""#)), "Ben is a level down: {top}");
    let (_, level) = page(&app, &cookie, &format!("/console/affiliates?parent={anna_id}")).await;
    assert!(level.contains(&format!(r#"<tr id="affiliate-{ben_id}">"#)), "{level}");
    assert!(level.contains(&format!(r#"<span aria-current="page">Anna ({anna_id})</span>"#)), "{level}");

    let back = format!("parent={anna_id}");
    let suspend = [("csrf", token.as_str()), ("status", "suspended"), ("back", back.as_str())];
    let (status, location, _) = post(&app, &cookie, &format!("/console/affiliates/{ben_id}/status"), &suspend).await;
    assert_eq!((status, location), (StatusCode::SEE_OTHER, format!("/console/affiliates?{back}#affiliate-{ben_id}")));
    let (_, ben) = send(app.operator(Method::GET, &format!("/api/v1/affiliates/{ben_id}"))).await;
    assert_eq!(ben["status"], "suspended");
    assert!(page(&app, &cookie, &format!("/console/affiliates?{back}")).await.1.contains(">Reactivate</button>"));
}

/// Uploads `package` on the plugins page with the form's token (`dev` ticked or not).
async fn upload(app: &TestApp, cookie: &str, token: &str, package: Vec<u8>) -> (StatusCode, String, String) {
    let file = reqwest::multipart::Part::bytes(package).file_name("plugin.wasm").mime_str("application/wasm");
    let form = reqwest::multipart::Form::new().text("csrf", token.to_owned()).part("package", file.expect("mime"));
    let response = client()
        .post(format!("{}/console/plugins", app.address))
        .header(header::COOKIE, cookie)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    let location = response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    (response.status(), location, response.text().await.expect("body"))
}

#[tokio::test]
async fn plugins_are_uploaded_activated_and_limited_on_the_plugins_page_and_each_change_is_in_the_audit_log() {
    let app = spawn_app().await;
    let cookie = operator_session(&app).await;
    let (status, shown) = page(&app, &cookie, "/console/plugins").await;
    assert_eq!(status, StatusCode::OK);
    let token = csrf(&shown);

    let current = fresh_package("plugins/variable-tier");
    let (status, _, _) = upload(&app, &cookie, "forged", current.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the upload checks the form's token too");
    let (status, location, _) = upload(&app, &cookie, &token, current.clone()).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/console/plugins#plugin-variable-tier"));
    let (status, _, refused) = upload(&app, &cookie, &token, current).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused.contains(r#"id="upload-error""#) && refused.contains("already installed"), "{refused}");

    // An older version installed over the API becomes active; the page activates the newer again.
    let old = std::fs::read(workspace_root().join("tests/fixtures/packages-v0.1.0/variable-tier-0.1.0.wasm"))
        .expect("the 0.1.0 package");
    assert_eq!(app.install(old).await.status(), 201);
    let (_, plugins) = send(app.operator(Method::GET, "/api/v1/plugins")).await;
    let newer = plugins
        .as_array()
        .expect("plugins")
        .iter()
        .find(|p| p["id"] == "variable-tier" && p["version"] != "0.1.0")
        .and_then(|p| p["version"].as_str().map(str::to_owned))
        .expect("the newer version");
    let (_, shown) = page(&app, &cookie, "/console/plugins").await;
    assert!(shown.contains(&format!(r#"aria-label="Activate variable-tier {newer}""#)), "{shown}");
    let activate = [("csrf", token.as_str()), ("version", newer.as_str())];
    let (status, _, _) = post(&app, &cookie, "/console/plugins/variable-tier/activate", &activate).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, plugins) = send(app.operator(Method::GET, "/api/v1/plugins")).await;
    let active: Vec<&str> = plugins
        .as_array()
        .expect("plugins")
        .iter()
        .filter(|p| p["active"] == true)
        .filter_map(|p| p["version"].as_str())
        .collect();
    assert_eq!(active, [newer.as_str()]);

    // Limits: one above the maximum is shown beside its field; then they are set.
    let limits = |timeout: &'static str| {
        [("csrf", token.clone()), ("limit.fuel", "1000000".into()), ("limit.timeout-ms", timeout.into())]
    };
    let (status, _, refused) =
        post(&app, &cookie, "/console/plugins/variable-tier/limits", &pairs(&limits("60000"))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused.contains(r#"id="variable-tier-timeout-ms-error""#), "{refused}");
    let fine = limits("50");
    assert_eq!(
        post(&app, &cookie, "/console/plugins/variable-tier/limits", &pairs(&fine)).await.0,
        StatusCode::SEE_OTHER
    );
    let (_, plugins) = send(app.operator(Method::GET, "/api/v1/plugins")).await;
    let limits = plugins.as_array().expect("plugins").iter().find(|p| p["active"] == true).map(|p| p["limits"].clone());
    let limits = limits.expect("the active version");
    assert_eq!((limits["fuel"].as_u64(), limits["timeout-ms"].as_u64()), (Some(1_000_000), Some(50)), "{limits}");

    // The audit log has each change, newest first, over the API and on its page.
    let (status, audit) = send(app.operator(Method::GET, "/api/v1/audit?entity=plugin&limit=3")).await;
    assert_eq!(status, 200, "{audit}");
    let actions: Vec<&str> = audit.as_array().expect("records").iter().filter_map(|r| r["action"].as_str()).collect();
    assert_eq!(actions, ["plugin.limits", "plugin.activate", "plugin.install"]);
    assert_eq!(audit[0]["entity-id"], "variable-tier");
    let (status, shown) = page(&app, &cookie, "/console/audit?entity=plugin").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown.matches(r#"<tr id="audit-"#).count(), 4, "two installs, an activation, the limits: {shown}");
    assert!(shown.contains("<td>plugin.limits</td>") && shown.contains("&#34;timeout-ms&#34;: 50"), "{shown}");
    let (status, error) = send(app.operator(Method::GET, "/api/v1/audit?limit=0")).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("limit")));
}

#[tokio::test]
async fn conversions_are_refunded_and_paid_out_from_the_console_and_the_affiliate_sees_its_lists() {
    let app = spawn_app().await;
    let (campaign, affiliate) = app.campaign_with("multi-tier", "10").await;
    for (order, total) in [("o-1", "100.00"), ("o-2", "50.00")] {
        let sale = json!({"campaign": campaign, "affiliate": affiliate, "order-id": order, "total": total});
        assert_eq!(send(app.operator(Method::POST, "/api/v1/conversions").json(&sale)).await.0, 201);
    }
    let cookie = operator_session(&app).await;
    let (status, shown) = page(&app, &cookie, &format!("/console/conversions?campaign={campaign}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown.matches(r#"<tr id="conversion-"#).count(), 2, "{shown}");
    let (_, one) = page(&app, &cookie, "/console/conversions?order-id=o-1").await;
    assert_eq!(one.matches(r#"<tr id="conversion-"#).count(), 1, "{one}");
    let (_, listed) = send(app.operator(Method::GET, "/api/v1/conversions?order-id=o-1")).await;
    let conversion = listed[0]["id"].as_i64().expect("o-1");
    assert!(listed[0]["created-at"].is_string(), "{listed}");
    let (status, error) = send(app.operator(Method::GET, "/api/v1/conversions?status=paid")).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("status")), "{error}");

    // A conversion's page: its commission, and a refund of half of it.
    let path = format!("/console/conversions/{conversion}");
    let (status, shown) = page(&app, &cookie, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(shown.contains("<td>10.00 EUR</td>") && shown.contains(r#"id="refund""#), "{shown}");
    let token = csrf(&shown);
    let (status, _, refused) =
        post(&app, &cookie, &format!("{path}/refund"), &[("csrf", &token), ("amount", "lots")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains(r#"id="refund-error""#) && refused.contains(r#"value="lots""#), "{refused}");
    let (status, location, _) =
        post(&app, &cookie, &format!("{path}/refund"), &[("csrf", &token), ("amount", "50.00")]).await;
    assert_eq!((status, location), (StatusCode::SEE_OTHER, format!("{path}#commissions")));
    assert!(page(&app, &cookie, &path).await.1.contains("<td>-5.00 EUR</td>"), "the reversal is listed");

    // A payout run: 10.00 + 5.00 - 5.00 is paid; a bad currency is shown beside the form.
    let (status, _, refused) =
        post(&app, &cookie, "/console/payouts", &[("csrf", &token), ("currency", "EURO"), ("minimum", "1")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains(r#"id="run-error""#), "{refused}");
    let (status, _, made) =
        post(&app, &cookie, "/console/payouts", &[("csrf", &token), ("currency", "eur"), ("minimum", "1.00")]).await;
    assert_eq!(status, StatusCode::OK, "{made}");
    assert!(made.contains("1 payout(s) made.") && made.contains("<td>10.00 EUR</td>"), "{made}");
    let (_, payouts) = send(app.operator(Method::GET, &format!("/api/v1/payouts?affiliate={affiliate}"))).await;
    assert_eq!((payouts[0]["amount"]["amount"].as_str(), payouts[0]["commissions"].as_i64()), (Some("10.00"), Some(3)));

    // The affiliate's portal: every commission, and the payout.
    let response = client()
        .post(format!("{}/portal/login", app.address))
        .form(&[("email", "affiliate@shop.example"), ("password", "a long password")])
        .send()
        .await
        .expect("login");
    let portal = response.headers()[header::SET_COOKIE]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned();
    let (status, commissions) = page(&app, &portal, "/portal/commissions").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(commissions.matches(r#"<tr id="row-"#).count(), 3, "{commissions}");
    assert!(next_link(&commissions).is_none(), "one page");
    let (_, paid) = page(&app, &portal, "/portal/payouts").await;
    assert!(paid.contains("<td>10.00 EUR</td><td>3</td>"), "{paid}");
    let (_, login) = send(
        app.client
            .post(format!("{}/api/v1/affiliate/login", app.address))
            .json(&json!({"email": "affiliate@shop.example", "password": "a long password"})),
    )
    .await;
    let token = login["token"].as_str().expect("a token");
    let (_, own) = send(app.client.get(format!("{}/api/v1/affiliate/payouts", app.address)).bearer_auth(token)).await;
    assert_eq!(own, payouts, "the panel API lists the same payouts");
}
