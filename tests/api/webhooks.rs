//! Webhooks out, through the host and a receiver the test runs: each event arrives
//! once, signed with the endpoint's secret; an endpoint that is down at first gets
//! its event after the job's retries, and the attempts show in the deliveries.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use upline_tests::*;

/// What the receiver got: (signature header, body).
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(String, String)>>>,
    down: Arc<AtomicBool>,
}

impl Receiver {
    /// Starts it; returns its URL.
    async fn start(&self) -> String {
        let receiver = self.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let receiver = receiver.clone();
                async move {
                    if receiver.down.load(Ordering::SeqCst) {
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                    let signature = headers.get("upline-signature").and_then(|v| v.to_str().ok()).unwrap_or_default();
                    receiver.got.lock().expect("lock").push((signature.to_owned(), body));
                    StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{address}/hook")
    }

    /// The events received, each checked against its signature: (type, event id).
    fn events(&self, secret: &str) -> Vec<(String, String)> {
        let got = self.got.lock().expect("lock").clone();
        got.iter()
            .map(|(signature, body)| {
                let (t, v1) = signature
                    .strip_prefix("t=")
                    .and_then(|rest| rest.split_once(",v1="))
                    .unwrap_or_else(|| panic!("signature {signature}"));
                let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
                mac.update(format!("{t}.{body}").as_bytes());
                mac.verify_slice(&hex::decode(v1).expect("hex")).unwrap_or_else(|_| panic!("bad signature on {body}"));
                let event: Value = serde_json::from_str(body).expect("json");
                (
                    event["type"].as_str().unwrap_or_default().to_owned(),
                    event["id"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }
}

#[tokio::test]
async fn each_event_arrives_once_signed_and_a_down_endpoint_gets_it_after_retries() {
    let app = spawn_app_at("2027-03-01T10:00:00Z".parse().expect("time")).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let (status, endpoint) = send(app.operator(Method::POST, "/api/v1/webhooks").json(&json!({"url": url}))).await;
    assert_eq!(status, 201, "{endpoint}");
    let secret = endpoint["secret"].as_str().expect("secret").to_owned();
    let deliveries = format!("/api/v1/webhooks/{}/deliveries", endpoint["id"]);

    let (id, affiliate) = app.campaign_with_settings("multi-tier", "10", json!({"approval": "manual"})).await;

    // A sale, its approval and its payout: three events, each once, signed.
    let sale = json!({"campaign": id, "affiliate": affiliate, "order-id": "o-1", "total": "100.00"});
    let (_, recorded) = send(app.operator(Method::POST, "/api/v1/conversions").json(&sale)).await;
    let commission = recorded["commissions"][0]["id"].as_i64().expect("commission");
    let (status, _) = send(app.operator(Method::POST, &format!("/api/v1/commissions/{commission}/approve"))).await;
    assert_eq!(status, 200);
    let payout = json!({"currency": "EUR", "minimum": "0"});
    assert_eq!(send(app.operator(Method::POST, "/api/v1/payouts").json(&payout)).await.0, 201);
    app.run_jobs().await;
    app.run_jobs().await;
    let expected = |kind: &str| (format!("commission.{kind}"), format!("commission.{kind}:{commission}"));
    assert_eq!(receiver.events(&secret), [expected("created"), expected("approved"), expected("paid")]);

    // The endpoint is down: the next sale's event waits, its attempt recorded, and
    // arrives once the job retries it (a minute later) and the endpoint is back.
    receiver.down.store(true, Ordering::SeqCst);
    let sale = json!({"campaign": id, "affiliate": affiliate, "order-id": "o-2", "total": "100.00"});
    let (_, recorded) = send(app.operator(Method::POST, "/api/v1/conversions").json(&sale)).await;
    let second = recorded["commissions"][0]["id"].as_i64().expect("commission");
    app.run_jobs().await;
    let (_, listed) = send(app.operator(Method::GET, &deliveries)).await;
    let waiting = &listed[3];
    assert_eq!(
        (waiting["state"].as_str(), waiting["attempts"].as_i64(), waiting["last-status"].as_i64()),
        (Some("pending"), Some(1), Some(503)),
        "{listed}"
    );
    receiver.down.store(false, Ordering::SeqCst);
    app.run_jobs().await;
    assert_eq!(receiver.events(&secret).len(), 3, "not before its retry is due");
    app.advance(chrono::TimeDelta::minutes(2));
    app.run_jobs().await;
    app.run_jobs().await;
    let events = receiver.events(&secret);
    assert_eq!(events.len(), 4, "{events:?}");
    assert_eq!(events[3], ("commission.created".to_owned(), format!("commission.created:{second}")));
    let (_, listed) = send(app.operator(Method::GET, &deliveries)).await;
    let delivered = &listed[3];
    assert_eq!((delivered["state"].as_str(), delivered["attempts"].as_i64()), (Some("delivered"), Some(2)), "{listed}");

    // An event queued before its endpoint is removed fails at once, and says why.
    let sale = json!({"campaign": id, "affiliate": affiliate, "order-id": "o-3", "total": "100.00"});
    assert_eq!(send(app.operator(Method::POST, "/api/v1/conversions").json(&sale)).await.0, 201);
    let endpoint_url = format!("/api/v1/webhooks/{}", endpoint["id"]);
    assert_eq!(send(app.operator(Method::DELETE, &endpoint_url)).await.0, 204);
    app.run_jobs().await;
    let (_, listed) = send(app.operator(Method::GET, &deliveries)).await;
    let removed = &listed[4];
    assert_eq!(
        (removed["state"].as_str(), removed["last-error"].as_str()),
        (Some("failed"), Some("the endpoint was removed")),
        "{listed}"
    );
    assert_eq!(receiver.events(&secret).len(), 4);

    // A bad URL or event is refused, naming the field.
    let bad = json!({"url": "ftp://example.com/", "events": ["commission.created"]});
    let (status, error) = send(app.operator(Method::POST, "/api/v1/webhooks").json(&bad)).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("url")), "{error}");
    let bad = json!({"url": "https://example.com/", "events": ["commission.created", "sale.made"]});
    let (status, error) = send(app.operator(Method::POST, "/api/v1/webhooks").json(&bad)).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("events[1]")), "{error}");
}
