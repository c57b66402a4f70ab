//! Tracking: the redirect link and the snippet's click, and conversions attributed by
//! the click token the visitor's first-party cookie kept.

use reqwest::Method;
use serde_json::json;
use upline_tests::*;

async fn setup(app: &TestApp) -> (i64, i64) {
    app.campaign_with("multi-tier", "10").await
}

#[tokio::test]
async fn a_redirect_click_attributes_the_sale() {
    let app = spawn_app().await;
    let (campaign, affiliate) = setup(&app).await;

    let location = app.redirect_click(campaign, affiliate, "https://shop.example/landing?x=1").await;

    let token = location.split("upline_click=").nth(1).expect("token in the landing URL");
    assert!(location.starts_with("https://shop.example/landing?x=1&upline_click="), "{location}");
    let sale =
        json!({"campaign": campaign, "click": token, "order-id": "via-click", "currency": "EUR", "total": "80.00"});
    let (status, recorded) = send(app.operator(Method::POST, "/api/v1/conversions").json(&sale)).await;
    assert_eq!(status, 201, "{recorded}");
    assert_eq!(recorded["conversion"]["affiliate"], affiliate);
    assert_eq!(recorded["commissions"][0]["amount"]["amount"], "8.00");
}

#[tokio::test]
async fn the_snippet_records_clicks_without_a_key() {
    let app = spawn_app().await;
    let (campaign, affiliate) = setup(&app).await;

    let snippet = app.client.get(format!("{}/t/snippet.js", app.address)).send().await.expect("request");
    assert_eq!(snippet.headers()["content-type"], "application/javascript; charset=utf-8");
    assert!(snippet.text().await.expect("body").contains("upline_click"));
    let (status, click) = send(
        app.client
            .post(format!("{}/t/clicks", app.address))
            .json(&json!({"campaign": campaign, "affiliate": affiliate, "landing-url": "https://shop.example/"})),
    )
    .await;

    assert_eq!(status, 201, "{click}");
    assert_eq!(click["cookie"], format!("upline_{campaign}"));
    assert_eq!((click["max-age-days"].as_i64(), click["attribution"].as_str()), (Some(30), Some("last-click")));
}

#[tokio::test]
async fn forged_or_foreign_click_tokens_and_bad_targets_are_refused() {
    let app = spawn_app().await;
    let (campaign, affiliate) = setup(&app).await;
    let (_, other) =
        send(app.operator(Method::POST, "/api/v1/campaigns").json(&json!({"name": "Other", "currency": "EUR"}))).await;
    let token = app.snippet_click(campaign, affiliate).await;
    let token = token.as_str();
    let forged = format!("{}.{}", token.split('.').next().unwrap_or(""), "0".repeat(32));

    for (target, token) in
        [(campaign, forged.as_str()), (other["id"].as_i64().expect("id"), token), (campaign, "garbage")]
    {
        let sale = json!({"campaign": target, "click": token, "currency": "EUR", "total": "1"});
        let (status, error) = send(app.operator(Method::POST, "/api/v1/conversions").json(&sale)).await;
        assert_eq!((status, error["error"]["field"].as_str()), (400, Some("click")), "{token}: {error}");
    }
    let (status, error) =
        send(app.client.get(format!("{}/r/{campaign}/999?to=https://shop.example/", app.address))).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("affiliate")));
}

#[tokio::test]
async fn referral_links_lead_only_to_the_campaign_s_hosts() {
    let app = spawn_app().await;
    let (campaign, affiliate) = setup(&app).await;
    let hosts = json!({"allowed-hosts": ["*.shop-cdn.example"]});
    let url = format!("/api/v1/campaigns/{campaign}");
    assert_eq!(send(app.operator(Method::PATCH, &url).json(&hosts)).await.0, 200);

    // This one was an open redirect under the merchant's domain.
    for (to, leads_to) in [
        ("https://any-site.example/", "https://shop.example/?upline_click="),
        ("javascript:alert(1)", "https://shop.example/?upline_click="),
        ("https://shop.example.any-site.example/", "https://shop.example/?upline_click="),
        ("https://shop.example/product/7?size=m", "https://shop.example/product/7?size=m&upline_click="),
        ("https://img.shop-cdn.example/", "https://img.shop-cdn.example/?upline_click="),
    ] {
        let location = app.redirect_click(campaign, affiliate, to).await;
        assert!(location.starts_with(leads_to), "{to} led to {location}");
    }
    let without = app.client.get(format!("{}/r/{campaign}/{affiliate}", app.address));
    let client = reqwest::Client::builder().user_agent(BROWSER).redirect(reqwest::redirect::Policy::none()).build();
    let response = client.expect("client").execute(without.build().expect("request")).await.expect("response");
    assert!(response.headers()["location"].to_str().unwrap_or("").starts_with("https://shop.example/?upline_click="));

    let (_, bare) = send(
        app.operator(Method::POST, "/api/v1/campaigns").json(&json!({"name": "No landing page", "currency": "EUR"})),
    )
    .await;
    let bare = bare["id"].as_i64().expect("id");
    let (status, error) =
        send(app.client.get(format!("{}/r/{bare}/{affiliate}?to=https://shop.example/", app.address))).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("to")), "{error}");
}

#[tokio::test]
async fn a_coupon_assigned_to_an_affiliate_attributes_the_sale_without_a_cookie() {
    let app = spawn_app().await;
    let (campaign, affiliate) = setup(&app).await;
    let coupons = format!("/api/v1/campaigns/{campaign}/coupons");

    let (status, coupon) =
        send(app.operator(Method::POST, &coupons).json(&json!({"affiliate": affiliate, "code": "summer10"}))).await;
    assert_eq!(status, 201, "{coupon}");
    assert_eq!(coupon["code"], "SUMMER10");
    let sale = json!({"campaign": campaign, "coupon": "Summer10", "order-id": "by-coupon", "currency": "EUR",
        "total": "50.00"});
    let (status, recorded) = send(app.operator(Method::POST, "/api/v1/conversions").json(&sale)).await;
    assert_eq!(status, 201, "{recorded}");
    assert_eq!(recorded["conversion"]["affiliate"], affiliate);
    assert_eq!(recorded["commissions"][0]["amount"]["amount"], "5.00");

    let (status, listed) = send(app.operator(Method::GET, &coupons)).await;
    assert_eq!((status, listed.as_array().map(Vec::len)), (200, Some(1)), "{listed}");
    let (status, error) =
        send(app.operator(Method::POST, &coupons).json(&json!({"affiliate": affiliate, "code": "SUMMER10 "}))).await;
    assert_eq!((status, error["error"]["field"].as_str()), (409, Some("code")), "{error}");
    let (status, _) = send(app.operator(Method::DELETE, &format!("/api/v1/coupons/{}", coupon["id"]))).await;
    assert_eq!(status, 204);
    let sale = json!({"campaign": campaign, "coupon": "SUMMER10", "currency": "EUR", "total": "50.00"});
    let (status, error) = send(app.operator(Method::POST, "/api/v1/conversions").json(&sale)).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("affiliate")), "a withdrawn coupon: {error}");
}

#[tokio::test]
async fn bad_coupons_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let (campaign, affiliate) = setup(&app).await;
    let coupons = format!("/api/v1/campaigns/{campaign}/coupons");
    for (path, body, expected) in [
        (coupons.as_str(), json!({"affiliate": affiliate, "code": ""}), (400, Some("code"))),
        (coupons.as_str(), json!({"affiliate": affiliate, "code": "TWO WORDS"}), (400, Some("code"))),
        (coupons.as_str(), json!({"affiliate": 999_999, "code": "X"}), (400, Some("affiliate"))),
        (coupons.as_str(), json!({"affiliate": "one", "code": "X"}), (400, Some("affiliate"))),
        (coupons.as_str(), json!({"code": "X"}), (400, Some("affiliate"))),
        ("/api/v1/campaigns/999999/coupons", json!({"affiliate": affiliate, "code": "X"}), (404, None)),
        ("/api/v1/campaigns/x/coupons", json!({"affiliate": affiliate, "code": "X"}), (400, Some("campaign"))),
    ] {
        let (status, error) = send(app.operator(Method::POST, path).json(&body)).await;
        assert_eq!((status, error["error"]["field"].as_str()), expected, "{body}: {error}");
    }
    let (status, error) = send(app.operator(Method::DELETE, "/api/v1/coupons/999999")).await;
    assert_eq!(status, 404, "{error}");
}

#[tokio::test]
async fn the_snippet_reports_sales_and_actions_credited_by_the_click_token() {
    let app = spawn_app().await;
    let (campaign, affiliate) = setup(&app).await;
    let token = app.snippet_click(campaign, affiliate).await;
    let token = token.as_str();
    let browser = |body: serde_json::Value| app.client.post(format!("{}/t/conversions", app.address)).json(&body);

    let sale = json!({"campaign": campaign, "click": token, "order-id": "web-1", "total": "30.00"});
    let (status, receipt) = send(browser(sale.clone())).await;
    assert_eq!(status, 201, "{receipt}");
    assert_eq!(receipt["status"], "processed");
    assert!(receipt.get("commissions").is_none(), "the browser does not see commissions: {receipt}");
    let (status, error) = send(browser(sale)).await;
    assert_eq!((status, error["error"]["field"].as_str()), (409, Some("order-id")), "a reload: {error}");
    let action =
        json!({"campaign": campaign, "click": token, "commission-type": "action:signup", "order-id": "lead-1"});
    let (status, receipt) = send(browser(action)).await;
    assert_eq!(status, 201, "{receipt}");

    let (_, commissions) =
        send(app.operator(Method::GET, &format!("/api/v1/commissions?conversion={}", receipt["id"]))).await;
    assert!(commissions.as_array().is_some_and(|all| all.iter().all(|c| c["affiliate"] == affiliate)), "{commissions}");
    let (_, sales) = send(app.operator(Method::GET, &format!("/api/v1/commissions?affiliate={affiliate}"))).await;
    assert_eq!(sales[0]["amount"]["amount"], "3.00", "{sales}");

    for (body, expected) in [
        (json!({"campaign": campaign, "affiliate": affiliate, "total": "10"}), (400, Some("affiliate"))),
        (json!({"campaign": campaign, "order-id": "w", "total": "10"}), (400, Some("affiliate"))),
        (json!({"campaign": campaign, "click": token, "total": "10"}), (400, Some("order-id"))),
        (json!({"campaign": campaign, "click": token, "order-id": "w", "total": "-1"}), (400, Some("total"))),
        (json!({"campaign": campaign, "click": token, "order-id": "w", "currency": "USD"}), (400, Some("currency"))),
        (json!({"campaign": 999_999, "click": token, "order-id": "w"}), (400, Some("campaign"))),
        (json!({"click": token}), (400, Some("campaign"))),
    ] {
        let (status, error) = send(browser(body.clone())).await;
        assert_eq!((status, error["error"]["field"].as_str()), expected, "{body}: {error}");
    }
}
