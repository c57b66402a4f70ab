//! The public side of the server: per-client rate limits with 429 and Retry-After,
//! unique clicks, bots, `/metrics` only where the operator wants it, and clients
//! that open connections and send nothing.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use upline_tests::*;

/// A server whose tracking endpoints take `per_minute` requests a minute per client,
/// and whose `/metrics` has an address of its own.
async fn spawn_limited(per_minute: u32, exempt: &str) -> (TestApp, u16) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = upline_host::app::Settings::new(
        dir.path().to_path_buf(),
        "127.0.0.1:0".parse().expect("address"),
        "test-operator-key".into(),
    );
    settings.throttles.tracking_per_minute = per_minute;
    settings.throttles.exempt = if exempt.is_empty() { vec![] } else { vec![exempt.parse().expect("net")] };
    settings.database_url = Some(fresh_database_url(dir.path()).await);
    settings.metrics_listen = Some("127.0.0.1:0".parse().expect("address"));
    let app = spawn_with(settings, dir).await;
    let metrics = app.metrics_port.expect("a metrics address");
    (app, metrics)
}

#[tokio::test]
async fn a_client_over_its_tracking_limit_gets_429_with_retry_after() {
    let (app, _) = spawn_limited(60, "").await;
    let (campaign, affiliate) = app.campaign_with("multi-tier", "10").await;
    let snippet = || app.client.get(format!("{}/t/snippet.js", app.address)).send();

    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(snippet().await.expect("response").status().as_u16());
    }
    let limited = app.client.get(format!("{}/r/{campaign}/{affiliate}", app.address)).send().await.expect("response");

    assert_eq!(statuses[..6], [200; 6], "a burst of a tenth of the minute's share");
    assert_eq!(statuses[6], 429);
    assert_eq!(limited.status(), 429, "one share for all tracking endpoints");
    let retry: u64 = limited.headers()["retry-after"].to_str().ok().and_then(|s| s.parse().ok()).expect("seconds");
    assert_eq!(retry, 1, "one request a second");
    let body: serde_json::Value = limited.json().await.expect("json");
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(send(app.operator(Method::GET, "/api/v1/campaigns")).await.0, 200, "the API is not throttled");
}

#[tokio::test]
async fn an_exempt_client_is_not_limited() {
    let (app, _) = spawn_limited(60, "127.0.0.1/32").await;
    for _ in 0..50 {
        let response = app.client.get(format!("{}/t/snippet.js", app.address)).send().await.expect("response");
        assert_eq!(response.status(), 200);
    }
}

#[tokio::test]
async fn a_visitor_s_repeated_clicks_count_once_and_bots_not_at_all() {
    let app = spawn_app().await;
    let (campaign, affiliate) = app.campaign_with("multi-tier", "10").await;
    let click = json!({"campaign": campaign, "affiliate": affiliate});
    let post = |client: &reqwest::Client| client.post(format!("{}/t/clicks", app.address)).json(&click);

    let (first, token) = send(post(&app.client)).await;
    let (again, same) = send(post(&app.client)).await;
    let other_browser = reqwest::Client::builder().user_agent("Mozilla/5.0 (iPhone) Safari/604.1").build();
    let (other, _) = send(post(&other_browser.expect("client"))).await;
    let redirect = app.redirect_click(campaign, affiliate, "https://shop.example/").await;

    assert_eq!((first, again, other), (201, 200, 201));
    assert_eq!(same["token"], token["token"], "the same click");
    assert!(redirect.ends_with(token["token"].as_str().expect("token")), "the link counts once too: {redirect}");
    for agent in [Some("Googlebot/2.1 (+http://www.google.com/bot.html)"), Some("curl/8.5.0"), None] {
        let builder = reqwest::Client::builder();
        let bot = match agent {
            Some(agent) => builder.user_agent(agent),
            None => builder,
        };
        let response = post(&bot.build().expect("client")).send().await.expect("response");
        assert_eq!(response.status(), 204, "{agent:?}");
    }
    let (_, report) = send(app.operator(Method::GET, "/api/v1/reports/affiliates")).await;
    assert_eq!(report["affiliates"][0]["clicks"], 2, "two visitors: {report}");
}

#[tokio::test]
async fn metrics_are_served_only_with_the_token_or_on_their_own_address() {
    let app = spawn_app().await;
    let metrics = |token: Option<&str>| {
        let request = app.client.get(format!("{}/metrics", app.address));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    };
    assert_eq!(send(metrics(None)).await.0, 401);
    assert_eq!(send(metrics(Some("guess"))).await.0, 401);
    assert_eq!(send(metrics(Some(METRICS_TOKEN))).await.0, 200);

    let (limited, port) = spawn_limited(600, "").await;
    let (status, error) = send(limited.client.get(format!("{}/metrics", limited.address))).await;
    assert_eq!((status, error["error"]["code"].as_str()), (404, Some("not_found")), "{error}");
    let own = limited.client.get(format!("http://127.0.0.1:{port}/metrics")).send().await.expect("response");
    assert_eq!(own.status(), 200);
    assert!(own.text().await.expect("text").contains("upline_"), "Prometheus text");
}

#[tokio::test]
async fn a_connection_that_sends_no_request_is_closed() {
    let app = spawn_app().await;
    let address = app.address.trim_start_matches("http://");
    let mut silent = tokio::net::TcpStream::connect(address).await.expect("connect");
    let mut trickle = tokio::net::TcpStream::connect(address).await.expect("connect");
    trickle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").await.expect("a partial head");

    for connection in [&mut silent, &mut trickle] {
        let mut buffer = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(20), connection.read_to_end(&mut buffer)).await;
        assert!(closed.is_ok(), "the server closed it after its header timeout");
    }
    assert_eq!(send(app.client.get(format!("{}/health", app.address))).await.0, 200);
}
