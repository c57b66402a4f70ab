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
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");

    let response = no_redirects
        .get(format!("{}/r/{campaign}/{affiliate}?to=https://shop.example/landing?x=1", app.address))
        .send()
        .await
        .expect("request");

    assert!(response.status().is_redirection(), "{}", response.status());
    let location = response.headers()["location"].to_str().expect("location").to_owned();
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
    let (_, click) = send(
        app.client
            .post(format!("{}/t/clicks", app.address))
            .json(&json!({"campaign": campaign, "affiliate": affiliate})),
    )
    .await;
    let token = click["token"].as_str().expect("token");
    let forged = format!("{}.{}", token.split('.').next().unwrap_or(""), "0".repeat(32));

    for (target, token) in
        [(campaign, forged.as_str()), (other["id"].as_i64().expect("id"), token), (campaign, "garbage")]
    {
        let sale = json!({"campaign": target, "click": token, "currency": "EUR", "total": "1"});
        let (status, error) = send(app.operator(Method::POST, "/api/v1/conversions").json(&sale)).await;
        assert_eq!((status, error["error"]["field"].as_str()), (400, Some("click")), "{token}: {error}");
    }
    let (status, error) =
        send(app.client.get(format!("{}/r/{campaign}/{affiliate}?to=javascript:alert(1)", app.address))).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("to")));
    let (status, error) = send(app.client.get(format!("{}/r/{campaign}/999?to=https://x.example", app.address))).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("affiliate")));
}
