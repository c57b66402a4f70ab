//! Affiliate accounts: throttled logins, logout, logout everywhere, sessions revoked
//! by a new password or a suspension, expired sessions removed.

use reqwest::Method;
use serde_json::{Value, json};
use upline_tests::*;

const PASSWORD: &str = "a long password";

async fn affiliate(app: &TestApp, email: &str) -> i64 {
    let body = json!({"name": email, "email": email, "password": PASSWORD});
    let (status, created) = send(app.operator(Method::POST, "/api/v1/affiliates").json(&body)).await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_i64().expect("id")
}

async fn login(app: &TestApp, email: &str, password: &str) -> (u16, Value) {
    let body = json!({"email": email, "password": password});
    send(app.client.post(format!("{}/api/v1/affiliate/login", app.address)).json(&body)).await
}

async fn session(app: &TestApp, email: &str) -> String {
    let (status, session) = login(app, email, PASSWORD).await;
    assert_eq!(status, 200, "{session}");
    session["token"].as_str().expect("token").to_owned()
}

/// The status of `GET /affiliate/me` with `token`.
async fn me(app: &TestApp, token: &str) -> u16 {
    send(app.client.get(format!("{}/api/v1/affiliate/me", app.address)).bearer_auth(token)).await.0
}

async fn panel(app: &TestApp, method: Method, path: &str, token: &str) -> reqwest::RequestBuilder {
    app.client.request(method, format!("{}/api/v1/affiliate/{path}", app.address)).bearer_auth(token)
}

#[tokio::test]
async fn thirty_wrong_passwords_then_the_right_one_is_throttled() {
    let app = spawn_app().await;
    affiliate(&app, "target@example.com").await;
    let (status, error) = login(&app, "nobody@example.com", PASSWORD).await;
    assert_eq!((status, error["error"]["code"].as_str()), (401, Some("unauthorized")), "unknown: the same answer");

    let mut statuses = Vec::new();
    for _ in 0..30 {
        statuses.push(login(&app, "target@example.com", "wrong password!").await.0);
    }
    let right = app
        .client
        .post(format!("{}/api/v1/affiliate/login", app.address))
        .json(&json!({"email": "Target@example.com ", "password": PASSWORD}))
        .send()
        .await
        .expect("response");

    assert_eq!(&statuses[..9], [401; 9], "ten tries from this client (one went to `nobody`), then it waits");
    assert!(statuses[9..].iter().all(|s| *s == 429), "{statuses:?}");
    assert_eq!(right.status(), 429, "the right password waits too");
    let retry: u64 = right.headers()["retry-after"].to_str().ok().and_then(|s| s.parse().ok()).expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
}

#[tokio::test]
async fn an_account_waits_whichever_clients_try_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = upline_host::app::Settings::new(
        dir.path().to_path_buf(),
        "127.0.0.1:0".parse().expect("address"),
        "key".into(),
    );
    // Exempt from the per-client limit: as if the attempts came from many addresses.
    settings.throttles.exempt = vec!["127.0.0.0/8".parse().expect("net")];
    settings.database_url = Some(fresh_database_url(dir.path()).await);
    let app = spawn_with(settings, dir).await;
    affiliate(&app, "target@example.com").await;

    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(login(&app, "target@example.com", "wrong password!").await.0);
    }
    statuses.push(login(&app, "target@example.com", PASSWORD).await.0);

    assert_eq!(&statuses[..10], [401; 10], "{statuses:?}");
    assert_eq!(&statuses[10..], [429; 3], "{statuses:?}");
}

#[tokio::test]
async fn one_client_cannot_try_many_accounts() {
    let app = spawn_app().await;
    let mut statuses = Vec::new();
    for n in 0..15 {
        statuses.push(login(&app, &format!("guess{n}@example.com"), "wrong password!").await.0);
    }
    assert_eq!(&statuses[..10], [401; 10]);
    assert!(statuses[10..].iter().all(|s| *s == 429), "{statuses:?}");
}

#[tokio::test]
async fn logout_ends_one_session_and_logout_everywhere_all() {
    let app = spawn_app().await;
    affiliate(&app, "ann@example.com").await;
    let (phone, laptop, tablet) = (
        session(&app, "ann@example.com").await,
        session(&app, "ann@example.com").await,
        session(&app, "ann@example.com").await,
    );

    assert_eq!(send(panel(&app, Method::POST, "logout", &phone).await).await.0, 204);
    assert_eq!((me(&app, &phone).await, me(&app, &laptop).await), (401, 200));
    assert_eq!(send(panel(&app, Method::POST, "logout-everywhere", &laptop).await).await.0, 204);
    assert_eq!((me(&app, &laptop).await, me(&app, &tablet).await), (401, 401));
}

#[tokio::test]
async fn a_new_password_ends_every_session() {
    let app = spawn_app().await;
    let id = affiliate(&app, "ben@example.com").await;
    let (one, two) = (session(&app, "ben@example.com").await, session(&app, "ben@example.com").await);

    let change = |current: &str, new: &str| json!({"current-password": current, "new-password": new});
    let wrong = panel(&app, Method::PUT, "password", &one).await.json(&change("not my password", "another long one"));
    assert_eq!(send(wrong).await.0, 401);
    let short = panel(&app, Method::PUT, "password", &one).await.json(&change(PASSWORD, "short"));
    assert_eq!(send(short).await.1["error"]["field"], "new-password");
    let right = panel(&app, Method::PUT, "password", &one).await.json(&change(PASSWORD, "another long one"));
    assert_eq!(send(right).await.0, 204);

    assert_eq!((me(&app, &one).await, me(&app, &two).await), (401, 401));
    assert_eq!(login(&app, "ben@example.com", PASSWORD).await.0, 401);
    let fresh = login(&app, "ben@example.com", "another long one").await.1["token"].as_str().expect("token").to_owned();
    assert_eq!(me(&app, &fresh).await, 200);

    // An operator's reset ends them too.
    let reset = json!({"password": "reset by the operator"});
    let (status, _) = send(app.operator(Method::PUT, &format!("/api/v1/affiliates/{id}/password")).json(&reset)).await;
    assert_eq!(status, 204);
    assert_eq!(me(&app, &fresh).await, 401);
}

#[tokio::test]
async fn a_suspended_affiliate_is_logged_out_and_its_links_stop() {
    let app = spawn_app().await;
    let (campaign, id) = app.campaign_with("multi-tier", "10").await;
    let token = session(&app, "affiliate@shop.example").await;
    let url = format!("/api/v1/affiliates/{id}/status");

    let (status, suspended) = send(app.operator(Method::PUT, &url).json(&json!({"status": "suspended"}))).await;

    assert_eq!((status, suspended["status"].as_str()), (200, Some("suspended")), "{suspended}");
    assert_eq!(me(&app, &token).await, 401);
    assert_eq!(login(&app, "affiliate@shop.example", PASSWORD).await.0, 401);
    let click = json!({"campaign": campaign, "affiliate": id});
    let (status, error) = send(app.client.post(format!("{}/t/clicks", app.address)).json(&click)).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("affiliate")), "{error}");
    let (status, _) = send(app.operator(Method::PUT, &url).json(&json!({"status": "active"}))).await;
    assert_eq!(status, 200);
    assert_eq!(login(&app, "affiliate@shop.example", PASSWORD).await.0, 200);
    let (status, error) = send(app.operator(Method::PUT, &url).json(&json!({"status": "gone"}))).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("status")), "{error}");
}

#[tokio::test]
async fn expired_sessions_are_removed() {
    let app = spawn_app().await;
    affiliate(&app, "cleo@example.com").await;
    let token = session(&app, "cleo@example.com").await;
    let db = upline_host::db::connect(&app.database_url).await.expect("database");
    let sessions = upline_host::service::sessions::remove_expired;

    assert_eq!(sessions(&db, chrono::Utc::now()).await.expect("remove"), 0, "still live");
    assert_eq!(sessions(&db, chrono::Utc::now() + chrono::Duration::hours(25)).await.expect("remove"), 1);
    assert_eq!(me(&app, &token).await, 401);
}
