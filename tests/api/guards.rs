//! The guards plugin through the server: no commission when the affiliate is the
//! buyer (by the customer reference the operator records for it), at most N
//! commissions per referred customer, a sale filter on the order total that pays
//! with an alternative group, and a budget cap per campaign and month that stops
//! commissions (also under concurrent sales on two hosts), holds them until the month
//! ends, or sends them to an operator.

use reqwest::Method;
use serde_json::{Value, json};
use upline_tests::*;

async fn sale(app: &TestApp, campaign: i64, affiliate: i64, order: &str, total: &str, customer: &str) -> Value {
    let body = json!({"campaign": campaign, "affiliate": affiliate, "order-id": order, "total": total,
        "customer": customer});
    let (status, recorded) = send(app.operator(Method::POST, "/api/v1/conversions").json(&body)).await;
    assert_eq!(status, 201, "{recorded}");
    recorded
}

#[tokio::test]
async fn each_guard_stops_or_re_groups_the_conversions_it_is_configured_for() {
    let app = spawn_app().await;
    let (campaign, affiliate) = app.campaign_with("multi-tier", "10").await;
    let url = format!("/api/v1/campaigns/{campaign}/groups");
    let (_, small) = send(app.operator(Method::POST, &url).json(&json!({"name": "Small orders"}))).await;
    let small = small["id"].as_i64().expect("group");
    let rates = json!({"commission-type": "sale", "tiers": [{"tier": 1, "rule": {"percent": "2"}}]});
    assert_eq!(send(app.operator(Method::PUT, &format!("/api/v1/groups/{small}/rates")).json(&rates)).await.0, 200);

    // The affiliate's own customer reference in the shop: a bad one names the field.
    let url = format!("/api/v1/affiliates/{affiliate}/customer");
    let (status, error) = send(app.operator(Method::PUT, &url).json(&json!({"customer": " "}))).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("customer")), "{error}");
    let (status, shown) = send(app.operator(Method::PUT, &url).json(&json!({"customer": "sha256:self"}))).await;
    assert_eq!((status, shown["customer"].as_str()), (200, Some("sha256:self")), "{shown}");

    assert_eq!(app.install(fresh_package("plugins/guards")).await.status(), 201);
    let config = json!({"no-self-purchase": true, "max-per-customer": 2,
        "order-total": {"minimum": "20", "maximum": "1000", "otherwise": {"use-group": small}}});
    let url = format!("/api/v1/campaigns/{campaign}/plugins/guards");
    let (status, bound) = send(app.operator(Method::PUT, &url).json(&json!({"enabled": true, "config": config}))).await;
    assert_eq!(status, 200, "{bound}");

    let own = sale(&app, campaign, affiliate, "o-1", "100.00", "sha256:self").await;
    assert_eq!(own["conversion"]["status"], "rejected", "{own}");
    assert_eq!(own["conversion"]["error"], format!("affiliate {affiliate} is the buyer"));
    assert_eq!(own["commissions"], json!([]));

    for order in ["c-1", "c-2"] {
        let paid = sale(&app, campaign, affiliate, order, "100.00", "sha256:c").await;
        assert_eq!(paid["commissions"][0]["amount"]["amount"], "10.00", "{paid}");
    }
    let third = sale(&app, campaign, affiliate, "c-3", "100.00", "sha256:c").await;
    assert_eq!(third["conversion"]["status"], "rejected", "{third}");
    assert!(third["conversion"]["error"].as_str().expect("reason").contains("at most 2"), "{third}");

    let tiny = sale(&app, campaign, affiliate, "t-1", "10.00", "sha256:t").await;
    assert_eq!(tiny["commissions"][0]["amount"]["amount"], "0.20", "the small-orders group's 2 %: {tiny}");
    let huge = sale(&app, campaign, affiliate, "h-1", "2000.00", "sha256:h").await;
    assert_eq!(huge["commissions"][0]["amount"]["amount"], "40.00", "{huge}");
    let usual = sale(&app, campaign, affiliate, "u-1", "500.00", "sha256:u").await;
    assert_eq!(usual["commissions"][0]["amount"]["amount"], "50.00", "{usual}");
}

/// A campaign paying 10 % whose guards cap its commissions at `budget` a month,
/// `when-reached` as given, on `app`'s fake clock; returns (campaign, affiliate).
async fn budgeted(app: &TestApp, budget: &str, when_reached: &str) -> (i64, i64) {
    let (campaign, affiliate) = app.campaign_with("multi-tier", "10").await;
    assert_eq!(app.install(fresh_package("plugins/guards")).await.status(), 201);
    let config = json!({"budget": {"amount": budget, "period": "month", "when-reached": when_reached}});
    let url = format!("/api/v1/campaigns/{campaign}/plugins/guards");
    let body = json!({"enabled": true, "grants": ["stats"], "config": config});
    let (status, bound) = send(app.operator(Method::PUT, &url).json(&body)).await;
    assert_eq!(status, 200, "{bound}");
    (campaign, affiliate)
}

/// The first commission of a conversion as recorded: (status, hold until, waiting for, explanation).
fn first(recorded: &Value) -> (String, Option<String>, Option<String>, String) {
    let line = &recorded["commissions"][0];
    let text = |field: &str| line[field].as_str().map(str::to_owned);
    (
        text("status").unwrap_or_default(),
        text("hold-until"),
        text("waiting-for"),
        text("explanation").unwrap_or_default(),
    )
}

#[tokio::test]
async fn a_reached_budget_stops_commissions_once_also_for_concurrent_sales_on_two_hosts_until_it_renews() {
    let app = spawn_app_at("2026-07-01T08:00:00Z".parse().expect("time")).await;
    let (campaign, affiliate) = budgeted(&app, "25.00", "stop").await;
    let first_sale = sale(&app, campaign, affiliate, "o-1", "100.00", "sha256:a").await;
    assert_eq!(first(&first_sale).0, "approved");
    assert_eq!(first(&sale(&app, campaign, affiliate, "o-2", "100.00", "sha256:a").await).0, "approved");
    // 20.00 of 25.00 spent: of 20 concurrent sales of 10.00 each, by five affiliates
    // (a host computes one affiliate's sales one after the other), one is paid.
    let mut affiliates = vec![affiliate];
    for i in 1..5 {
        let body = json!({"name": format!("Affiliate {i}"), "email": format!("a{i}@shop.example"),
            "password": "a long password"});
        let (status, created) = send(app.operator(Method::POST, "/api/v1/affiliates").json(&body)).await;
        assert_eq!(status, 201, "{created}");
        affiliates.push(created["id"].as_i64().expect("affiliate id"));
    }
    // Several hosts share PostgreSQL; SQLite is the embedded database of one host.
    let other = match std::env::var(POSTGRES_ENV) {
        Ok(_) => Some(spawn_host_on_clock_of(&app).await),
        Err(_) => None,
    };
    let requests: Vec<_> = (0..20)
        .map(|i| {
            let host = match &other {
                Some(other) if i % 2 == 1 => other,
                _ => &app,
            };
            let body = json!({"campaign": campaign, "affiliate": affiliates[i % 5], "order-id": format!("c-{i}"),
                "total": "100.00"});
            tokio::spawn(send(host.operator(Method::POST, "/api/v1/conversions").json(&body)))
        })
        .collect();
    let mut statuses = vec![];
    for request in requests {
        let (status, recorded) = request.await.expect("request task");
        assert_eq!(status, 201, "{recorded}");
        statuses.push(recorded["conversion"]["status"].as_str().unwrap_or_default().to_owned());
    }
    let rejected = statuses.iter().filter(|status| *status == "rejected").count();
    assert_eq!((statuses.len() - rejected, rejected), (1, 19), "{statuses:?}");
    let stopped = sale(&app, campaign, affiliate, "o-3", "100.00", "sha256:a").await;
    assert_eq!(stopped["conversion"]["status"], "rejected", "{stopped}");
    assert_eq!(stopped["conversion"]["error"], "the campaign's budget of 25.00 EUR for this month is reached");

    // A refund gives its commission's budget back (within a second).
    let refund = json!({"amount": "100.00", "currency": "EUR"});
    let url = format!("/api/v1/conversions/{}/refund", first_sale["conversion"]["id"]);
    assert_eq!(send(app.operator(Method::POST, &url).json(&refund)).await.0, 201);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(first(&sale(&app, campaign, affiliate, "o-4", "100.00", "sha256:a").await).0, "approved");
    assert_eq!(sale(&app, campaign, affiliate, "o-5", "100.00", "sha256:a").await["conversion"]["status"], "rejected");

    // August has a budget of its own. A host that read the campaign's sums less than
    // a second ago does not pay from them once the other host reached the budget.
    app.advance("2026-08-01T00:00:00Z".parse::<chrono::DateTime<chrono::Utc>>().expect("time") - app.now());
    let second = other.as_ref().unwrap_or(&app);
    let status = |recorded: Value| recorded["conversion"]["status"].as_str().unwrap_or_default().to_owned();
    let mut august = vec![];
    for (host, order) in [(&app, "a-1"), (second, "a-2"), (&app, "a-3"), (second, "a-4")] {
        august.push(status(sale(host, campaign, affiliates[1], order, "100.00", "sha256:a").await));
    }
    assert_eq!(august, ["processed", "processed", "processed", "rejected"]);
}

#[tokio::test]
async fn a_reached_budget_holds_commissions_until_the_month_ends_or_for_an_operator() {
    let app = spawn_app_at("2026-07-01T08:00:00Z".parse().expect("time")).await;
    let (campaign, affiliate) = budgeted(&app, "15.00", "pending").await;
    for order in ["o-1", "o-2"] {
        assert_eq!(first(&sale(&app, campaign, affiliate, order, "100.00", "sha256:a").await).0, "approved");
    }
    let held = sale(&app, campaign, affiliate, "o-3", "100.00", "sha256:a").await;
    let (status, until, waiting, explanation) = first(&held);
    assert_eq!((status.as_str(), until.as_deref(), waiting), ("pending", Some("2026-08-01T00:00:00Z"), None), "{held}");
    assert!(explanation.contains("the campaign's budget of 15.00 EUR for this month is reached"), "{explanation}");

    // When July ends, the held commission is approved; August's sales are paid as usual.
    app.advance("2026-08-01T00:00:01Z".parse::<chrono::DateTime<chrono::Utc>>().expect("time") - app.now());
    app.run_jobs().await;
    let (_, line) =
        send(app.operator(Method::GET, &format!("/api/v1/commissions?conversion={}", held["conversion"]["id"]))).await;
    assert_eq!(line[0]["status"], "approved", "{line}");
    let config = json!({"budget": {"amount": "15.00", "period": "month", "when-reached": "manual"}});
    let url = format!("/api/v1/campaigns/{campaign}/plugins/guards");
    let body = json!({"enabled": true, "grants": ["stats"], "config": config});
    assert_eq!(send(app.operator(Method::PUT, &url).json(&body)).await.0, 200);
    for order in ["a-1", "a-2"] {
        assert_eq!(first(&sale(&app, campaign, affiliate, order, "100.00", "sha256:a").await).0, "approved");
    }
    let (status, until, waiting, _) = first(&sale(&app, campaign, affiliate, "a-3", "100.00", "sha256:a").await);
    assert_eq!((status.as_str(), until, waiting.as_deref()), ("pending", None, Some("manual")));
}

#[test]
fn the_readme_s_budget_example_runs_in_the_local_runner() {
    let input =
        std::fs::read_to_string(workspace_root().join("plugins/guards/examples/budget-reached.json")).expect("example");
    let engine = upline_host::plugin::PluginEngine::new().expect("engine");
    let report = upline_host::runner::run(&engine, fresh_package("plugins/guards"), None, &input).expect("run");
    // 4,200.00 pending or approved and 800.00 paid reach 5,000.00: the sale waits for
    // February, which starts in Amsterdam at 23:00 UTC on 31 January.
    let reason = "the campaign's budget of 5000.00 EUR for this month is reached";
    assert_eq!(report["value"], json!({"hold": {"until": 1_769_900_400_000_i64, "reason": reason}}), "{report}");
}
