//! Time in the lifecycle, on a fake clock: subscriptions pay on their dates through a
//! leap year, holds end on their day, a stopped deployment catches up each missed
//! run once, and a negative month is carried over on the campaign's close day.

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use upline_host::db::entity::{conversion, job};
use upline_tests::*;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("an RFC 3339 time")
}

/// An EUR campaign with `settings` on top of the defaults, paying 10 % at tier 1 on
/// sales and on recurring payments through `multi-tier`, and one affiliate.
/// Returns (campaign, group, affiliate).
async fn shop(app: &TestApp, settings: Value) -> (i64, i64, i64) {
    assert_eq!(app.install(package("plugins/multi-tier")).await.status(), 201);
    let mut body = json!({"name": "Subscriptions", "currency": "EUR"});
    body.as_object_mut().expect("object").extend(settings.as_object().cloned().unwrap_or_default());
    let (status, campaign) = send(app.operator(Method::POST, "/api/v1/campaigns").json(&body)).await;
    assert_eq!(status, 201, "{campaign}");
    let id = campaign["id"].as_i64().expect("campaign id");
    let group = campaign["groups"][0]["id"].as_i64().expect("group id");
    for kind in ["sale", "recurring"] {
        let rates = json!({"commission-type": kind, "tiers": [{"tier": 1, "rule": {"percent": "10"}}]});
        let (status, body) =
            send(app.operator(Method::PUT, &format!("/api/v1/groups/{group}/rates")).json(&rates)).await;
        assert_eq!(status, 200, "{body}");
    }
    let url = format!("/api/v1/campaigns/{id}/plugins/multi-tier");
    assert_eq!(send(app.operator(Method::PUT, &url).json(&json!({"enabled": true}))).await.0, 200);
    let affiliate =
        json!({"name": "Subscriber's friend", "email": "friend@shop.example", "password": "a long password"});
    let (_, affiliate) = send(app.operator(Method::POST, "/api/v1/affiliates").json(&affiliate)).await;
    (id, group, affiliate["id"].as_i64().expect("affiliate id"))
}

/// Reports a conversion; returns the status and the body.
async fn convert(app: &TestApp, body: Value) -> (u16, Value) {
    send(app.operator(Method::POST, "/api/v1/conversions").json(&body)).await
}

/// Starts subscription `id` with a `kind` conversion of 50.00 (and `terms`);
/// returns its host id.
async fn subscribe(app: &TestApp, (campaign, affiliate): (i64, i64), kind: &str, id: &str, terms: Value) -> i64 {
    let mut subscription = json!({"id": id});
    subscription.as_object_mut().expect("object").extend(terms.as_object().cloned().unwrap_or_default());
    let body = json!({"campaign": campaign, "affiliate": affiliate, "commission-type": kind, "order-id": format!("start-{id}"),
        "total": "50.00", "subscription": subscription});
    let (status, recorded) = convert(app, body).await;
    assert_eq!(status, 201, "{id}: {recorded}");
    assert_eq!(recorded["conversion"]["payment-number"], 0, "{recorded}");
    recorded["conversion"]["subscription"].as_i64().expect("a subscription id")
}

/// When each payment of subscription `id` was made, in order, as the database has them.
async fn payments(app: &TestApp, id: i64) -> Vec<DateTime<Utc>> {
    let db = upline_host::db::connect(&app.database_url).await.expect("database");
    let rows = conversion::Entity::find()
        .filter(conversion::Column::SubscriptionId.eq(id))
        .filter(conversion::Column::PaymentNumber.gt(0))
        .order_by_asc(conversion::Column::PaymentNumber)
        .all(&db)
        .await
        .expect("payments");
    for (n, row) in rows.iter().enumerate() {
        assert_eq!(row.payment_number, Some(n as i32 + 1), "each payment once, in order");
        assert_eq!(row.kind, "recurring");
    }
    rows.into_iter().map(|row| row.created_at).collect()
}

fn days(dates: &[DateTime<Utc>]) -> Vec<String> {
    dates.iter().map(|at| at.format("%Y-%m-%d").to_string()).collect()
}

/// Moves the clock a day at a time for `n` days, running the due jobs each day.
async fn live_days(app: &TestApp, n: u32) {
    for _ in 0..n {
        app.advance(TimeDelta::days(1));
        app.run_jobs().await;
    }
}

#[tokio::test]
async fn every_recurrence_pays_on_its_dates_through_a_leap_year() {
    let start = at("2027-12-31T09:00:00Z");
    let app = spawn_app_at(start).await;
    let recurrences = json!({
        "sale": "monthly", "action:daily": "daily", "action:weekly": "weekly", "action:ten": "every-10-days",
        "action:quarterly": "quarterly", "action:half": "semi-annual", "action:yearly": "yearly",
        "action:hours": "every-4-hours", "action:minutes": "every-15-minutes", "action:varied": "varied",
        "action:once": "none",
    });
    let (campaign, _, affiliate) = shop(&app, json!({"recurrences": recurrences})).await;
    let who = (campaign, affiliate);
    let monthly = subscribe(&app, who, "sale", "monthly", json!({})).await;
    let daily = subscribe(&app, who, "action:daily", "daily", json!({})).await;
    let weekly = subscribe(&app, who, "action:weekly", "weekly", json!({})).await;
    let ten = subscribe(&app, who, "action:ten", "ten", json!({})).await;
    let quarterly = subscribe(&app, who, "action:quarterly", "quarterly", json!({})).await;
    let half = subscribe(&app, who, "action:half", "half", json!({})).await;
    let yearly = subscribe(&app, who, "action:yearly", "yearly", json!({})).await;
    let hours = subscribe(&app, who, "action:hours", "hours", json!({"max-payments": 6})).await;
    let minutes = subscribe(&app, who, "action:minutes", "minutes", json!({"ends-at": "2027-12-31T11:00:00Z"})).await;
    subscribe(&app, who, "action:varied", "varied", json!({})).await;

    // A type without a recurrence starts no subscription, and says why.
    let body = json!({"campaign": campaign, "affiliate": affiliate, "commission-type": "action:once", "order-id": "x",
        "subscription": {"id": "never"}});
    let (status, error) = convert(&app, body).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("subscription")), "{error}");

    live_days(&app, 366).await;

    assert_eq!(
        days(&payments(&app, monthly).await),
        [
            "2028-01-31",
            "2028-02-29",
            "2028-03-31",
            "2028-04-30",
            "2028-05-31",
            "2028-06-30",
            "2028-07-31",
            "2028-08-31",
            "2028-09-30",
            "2028-10-31",
            "2028-11-30",
            "2028-12-31"
        ]
    );
    assert_eq!(days(&payments(&app, quarterly).await), ["2028-03-31", "2028-06-30", "2028-09-30", "2028-12-31"]);
    assert_eq!(days(&payments(&app, half).await), ["2028-06-30", "2028-12-31"]);
    assert_eq!(days(&payments(&app, yearly).await), ["2028-12-31"]);
    let every_day = payments(&app, daily).await;
    assert_eq!(every_day.len(), 366, "2028 has 366 days");
    assert_eq!((every_day[0], every_day[365]), (at("2028-01-01T09:00:00Z"), at("2028-12-31T09:00:00Z")));
    let every_week = payments(&app, weekly).await;
    assert_eq!(
        (every_week.len(), every_week[0], every_week[51]),
        (52, at("2028-01-07T09:00:00Z"), at("2028-12-29T09:00:00Z"))
    );
    let every_ten = payments(&app, ten).await;
    assert_eq!(
        (every_ten.len(), every_ten[0], every_ten[35]),
        (36, at("2028-01-10T09:00:00Z"), at("2028-12-25T09:00:00Z"))
    );
    let every_four = payments(&app, hours).await;
    assert_eq!(every_four, (1..=6).map(|n| start + TimeDelta::hours(4 * n)).collect::<Vec<_>>(), "six, then it ends");
    let quarter_hours = payments(&app, minutes).await;
    assert_eq!(quarter_hours, (1..=8).map(|n| start + TimeDelta::minutes(15 * n)).collect::<Vec<_>>(), "until 11:00");

    // Each payment pays the recurring tiers once, at its date: 10 % of 50.00.
    let (_, monthly_view) =
        send(app.operator(Method::GET, &format!("/api/v1/campaigns/{campaign}/subscriptions/monthly"))).await;
    assert_eq!((monthly_view["payments"].as_i64(), monthly_view["status"].as_str()), (Some(12), Some("active")));
    let (_, hours_view) =
        send(app.operator(Method::GET, &format!("/api/v1/campaigns/{campaign}/subscriptions/hours"))).await;
    assert_eq!((hours_view["payments"].as_i64(), hours_view["status"].as_str()), (Some(6), Some("ended")));
    let (_, ledger) =
        send(app.operator(Method::GET, &format!("/api/v1/commissions?campaign={campaign}&limit=1000"))).await;
    let recurring: Vec<&Value> =
        ledger.as_array().expect("list").iter().filter(|c| c["commission-type"] == "recurring").collect();
    assert!(recurring.iter().all(|c| c["amount"]["amount"] == "5.00" && c["status"] == "approved"), "{ledger}");
    let db = upline_host::db::connect(&app.database_url).await.expect("database");
    let paid = conversion::Entity::find().filter(conversion::Column::PaymentNumber.gt(0)).all(&db).await.expect("rows");
    assert_eq!(recurring.len(), paid.len(), "one commission per payment");

    // Refunding one payment reverses that payment's commission only.
    let third = conversion::Entity::find()
        .filter(conversion::Column::SubscriptionId.eq(monthly))
        .filter(conversion::Column::PaymentNumber.eq(3))
        .one(&db)
        .await
        .expect("query")
        .expect("the third payment");
    let refund = json!({"amount": "50.00", "currency": "EUR"});
    let (status, reversals) =
        send(app.operator(Method::POST, &format!("/api/v1/conversions/{}/refund", third.id)).json(&refund)).await;
    assert_eq!(status, 201, "{reversals}");
    assert_eq!(reversals.as_array().map(Vec::len), Some(1));
    assert_eq!(
        (reversals[0]["conversion"].as_i64(), &reversals[0]["amount"]["amount"]),
        (Some(third.id), &json!("-5.00"))
    );
}

#[tokio::test]
async fn varied_payments_are_reported_once_each_and_cancelled_subscriptions_stop() {
    let app = spawn_app_at(at("2028-03-01T12:00:00Z")).await;
    let recurrences = json!({"sale": "varied", "action:monthly": "monthly"});
    let (campaign, _, affiliate) = shop(&app, json!({"recurrences": recurrences})).await;
    subscribe(&app, (campaign, affiliate), "sale", "gym-7", json!({})).await;
    let monthly = subscribe(&app, (campaign, affiliate), "action:monthly", "box-1", json!({})).await;
    let url = format!("/api/v1/campaigns/{campaign}/subscriptions/gym-7/payments");
    let report = |payment: &str, total: &str| {
        send(app.operator(Method::POST, &url).json(&json!({"payment-id": payment, "total": total})))
    };
    let (status, first) = report("inv-1", "30.00").await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(
        (first["commissions"][0]["commission-type"].as_str(), &first["commissions"][0]["amount"]["amount"]),
        (Some("recurring"), &json!("3.00"))
    );
    assert_eq!(report("inv-2", "45.50").await.0, 201);
    let (status, again) = report("inv-1", "30.00").await;
    assert_eq!((status, again["error"]["field"].as_str()), (409, Some("payment-id")), "a repeated report pays once");
    let (_, view) = send(app.operator(Method::GET, &format!("/api/v1/campaigns/{campaign}/subscriptions/gym-7"))).await;
    assert_eq!(view["payments"], 2, "{view}");
    // A varied subscription ends at its last payment too.
    subscribe(&app, (campaign, affiliate), "sale", "trial", json!({"max-payments": 1})).await;
    let trial = format!("/api/v1/campaigns/{campaign}/subscriptions/trial/payments");
    let pay =
        |payment: &str| send(app.operator(Method::POST, &trial).json(&json!({"payment-id": payment, "total": "9.00"})));
    assert_eq!(pay("t-1").await.0, 201);
    let (status, ended) = pay("t-2").await;
    assert_eq!((status, ended["error"]["field"].as_str()), (409, Some("subscription")), "{ended}");
    let (_, trial) =
        send(app.operator(Method::GET, &format!("/api/v1/campaigns/{campaign}/subscriptions/trial"))).await;
    assert_eq!((trial["status"].as_str(), trial["payments"].as_i64()), (Some("ended"), Some(1)), "{trial}");

    // A scheduled subscription takes no reported payments; a cancelled one pays no more.
    let other = format!("/api/v1/campaigns/{campaign}/subscriptions/box-1/payments");
    let (status, _) = send(app.operator(Method::POST, &other).json(&json!({"payment-id": "a", "total": "1.00"}))).await;
    assert_eq!(status, 409);
    live_days(&app, 31).await;
    let cancel = format!("/api/v1/campaigns/{campaign}/subscriptions/box-1/cancel");
    let (status, cancelled) = send(app.operator(Method::POST, &cancel)).await;
    assert_eq!(
        (status, cancelled["status"].as_str(), cancelled["payments"].as_i64()),
        (200, Some("cancelled"), Some(1))
    );
    live_days(&app, 62).await;
    assert_eq!(payments(&app, monthly).await.len(), 1, "nothing after the cancellation");
    assert_eq!(send(app.operator(Method::POST, &cancel)).await.0, 409);
}

#[tokio::test]
async fn a_thirty_day_hold_approves_on_day_thirty_and_not_before() {
    let app = spawn_app_at(at("2028-01-10T15:30:00Z")).await;
    let (campaign, _, affiliate) = shop(&app, json!({"hold-days": 30})).await;
    let body = json!({"campaign": campaign, "affiliate": affiliate, "order-id": "held", "total": "100.00"});
    let (status, recorded) = convert(&app, body).await;
    assert_eq!(status, 201, "{recorded}");
    let commission = recorded["commissions"][0]["id"].as_i64().expect("id");
    let status_of = || async {
        let (_, ledger) = send(app.operator(Method::GET, &format!("/api/v1/commissions?campaign={campaign}"))).await;
        let row = ledger.as_array().expect("list").iter().find(|c| c["id"] == commission).cloned().expect("it");
        row["status"].as_str().expect("status").to_owned()
    };
    live_days(&app, 29).await;
    app.advance(TimeDelta::hours(23) + TimeDelta::minutes(59));
    app.run_jobs().await;
    assert_eq!(status_of().await, "pending", "a minute before day 30");
    app.advance(TimeDelta::minutes(1));
    app.run_jobs().await;
    assert_eq!(status_of().await, "approved", "on day 30");
}

#[tokio::test]
async fn a_deployment_stopped_for_three_days_catches_up_each_missed_run_once() {
    let app = spawn_app_at(at("2028-05-10T08:00:00Z")).await;
    let settings = json!({"reward-period": "day", "time-zone": "Europe/Amsterdam", "recurrences": {"sale": "daily"}});
    let (campaign, _, affiliate) = shop(&app, settings).await;
    assert_eq!(app.install(package("tests/fixtures/period-bonus")).await.status(), 201);
    let url = format!("/api/v1/campaigns/{campaign}/plugins/period-bonus");
    let enable = json!({"enabled": true, "config": {"bonus": "1.00"}});
    assert_eq!(send(app.operator(Method::PUT, &url).json(&enable)).await.0, 200);
    // A second affiliate with no sales at all: rules still see it at each period end.
    let idle = json!({"name": "Idle", "email": "idle@shop.example", "password": "a long password"});
    let (_, idle) = send(app.operator(Method::POST, "/api/v1/affiliates").json(&idle)).await;
    let daily = subscribe(&app, (campaign, affiliate), "sale", "daily", json!({})).await;
    app.run_jobs().await;
    let runs = |key: String| {
        let url = app.database_url.clone();
        async move {
            let db = upline_host::db::connect(&url).await.expect("database");
            job::Entity::find().filter(job::Column::Key.eq(key)).one(&db).await.expect("query").expect("the job").runs
        }
    };
    let ends_before = runs(format!("period-end:{campaign}")).await;

    // Every host is down for three days; a new one starts and catches up.
    app.advance(TimeDelta::days(3));
    let restarted = spawn_host_on_clock_of(&app).await;
    restarted.run_jobs().await;
    assert_eq!(
        payments(&restarted, daily).await,
        [at("2028-05-11T08:00:00Z"), at("2028-05-12T08:00:00Z"), at("2028-05-13T08:00:00Z")],
        "each missed payment once, on its date"
    );
    assert_eq!(runs(format!("period-end:{campaign}")).await - ends_before, 3, "three Amsterdam days ended");
    assert_eq!(restarted.run_jobs().await, 0, "nothing left to catch up");
    let (_, ledger) =
        send(restarted.operator(Method::GET, &format!("/api/v1/commissions?affiliate={}", idle["id"]))).await;
    let bonuses: Vec<&str> = ledger
        .as_array()
        .expect("list")
        .iter()
        .filter(|c| c["commission-type"] == "bonus")
        .map(|c| c["created-at"].as_str().expect("a time"))
        .collect();
    // Amsterdam is UTC+2 in May: each day ends at 22:00 UTC.
    assert_eq!(bonuses, ["2028-05-10T22:00:00Z", "2028-05-11T22:00:00Z", "2028-05-12T22:00:00Z"], "{ledger}");
}

#[tokio::test]
async fn a_negative_month_is_carried_over_on_the_close_day() {
    // 15 January 2028, 10:00 in Amsterdam.
    let app = spawn_app_at(at("2028-01-15T09:00:00Z")).await;
    let settings = json!({"time-zone": "Europe/Amsterdam", "period-close-day": 5});
    let (campaign, _, affiliate) = shop(&app, settings).await;
    assert_eq!(app.install(package("plugins/negative-carryover")).await.status(), 201);
    let url = format!("/api/v1/campaigns/{campaign}/plugins/negative-carryover");
    assert_eq!(send(app.operator(Method::PUT, &url).json(&json!({"enabled": true}))).await.0, 200);

    // A sale of 100.00 pays 10.00, which is paid out; then the sale is refunded.
    let body = json!({"campaign": campaign, "affiliate": affiliate, "order-id": "returned", "total": "100.00"});
    let (_, recorded) = convert(&app, body).await;
    let sale = recorded["conversion"]["id"].as_i64().expect("id");
    let payout = json!({"currency": "EUR", "minimum": "0.01"});
    assert_eq!(send(app.operator(Method::POST, "/api/v1/payouts").json(&payout)).await.0, 201);
    let refund = json!({"amount": "100.00", "currency": "EUR"});
    assert_eq!(
        send(app.operator(Method::POST, &format!("/api/v1/conversions/{sale}/refund")).json(&refund)).await.0,
        201
    );

    let adjustments = || async {
        let (_, ledger) = send(app.operator(Method::GET, &format!("/api/v1/commissions?affiliate={affiliate}"))).await;
        ledger
            .as_array()
            .expect("list")
            .iter()
            .filter(|c| c["commission-type"] == "adjustment")
            .map(|c| {
                let amount = c["amount"]["amount"].as_str().expect("amount").to_owned();
                (amount, c["created-at"].as_str().expect("time").to_owned(), c["product-id"].clone())
            })
            .collect::<Vec<_>>()
    };
    // Until 5 February 00:00 in Amsterdam (4 February 23:00 UTC), nothing.
    app.advance(at("2028-02-04T22:59:00Z") - app.now());
    app.run_jobs().await;
    assert!(adjustments().await.is_empty());
    app.advance(TimeDelta::minutes(1));
    app.run_jobs().await;
    let carryover = json!("carryover");
    assert_eq!(
        adjustments().await,
        [
            ("10.00".to_owned(), "2028-01-31T22:59:59.999Z".to_owned(), carryover.clone()),
            ("-10.00".to_owned(), "2028-01-31T23:00:00Z".to_owned(), carryover),
        ],
        "January ends at zero; February opens with the debt"
    );
    // The next close (5 March) finds February's balance -10.00 and carries it again.
    app.advance(TimeDelta::days(29));
    app.run_jobs().await;
    assert_eq!(adjustments().await.len(), 4);
}

#[tokio::test]
async fn a_failing_job_is_retried_then_waits_for_an_operator_to_rerun_it() {
    let app = spawn_app_at(at("2028-07-01T00:00:00Z")).await;
    let (campaign, _, _) = shop(&app, json!({"reward-period": "week"})).await;
    assert_eq!(app.install(package("tests/fixtures/period-bonus")).await.status(), 201);
    let url = format!("/api/v1/campaigns/{campaign}/plugins/period-bonus");
    let wrong = json!({"enabled": true, "config": {"bonus": "1.00", "currency": "USD"}});
    assert_eq!(send(app.operator(Method::PUT, &url).json(&wrong)).await.0, 200);
    let period_end = || async {
        let (status, jobs) = send(app.operator(Method::GET, &format!("/api/v1/jobs?campaign={campaign}"))).await;
        assert_eq!(status, 200, "{jobs}");
        jobs.as_array().expect("list").iter().find(|job| job["kind"] == "period-end").cloned().expect("the job")
    };
    let job = period_end().await;
    assert_eq!((job["state"].as_str(), job["next-run"].as_str()), (Some("scheduled"), Some("2028-07-03T00:00:00Z")));

    // Monday: the week ends, the plugin's bonus is in the wrong currency. Four retries
    // after 1, 2, 4 and 8 minutes, then the job waits.
    app.advance(TimeDelta::days(2));
    app.run_jobs().await;
    let failed = period_end().await;
    assert_eq!((failed["outcome"].as_str(), failed["attempts"].as_i64()), (Some("failed"), Some(1)), "{failed}");
    assert!(failed["error"].as_str().is_some_and(|error| error.contains("period-bonus")), "{failed}");
    for minutes in [1, 2, 4, 8] {
        app.advance(TimeDelta::minutes(minutes));
        app.run_jobs().await;
    }
    let gave_up = period_end().await;
    assert_eq!((gave_up["state"].as_str(), gave_up["attempts"].as_i64()), (Some("failed"), Some(5)), "{gave_up}");
    app.advance(TimeDelta::hours(1));
    app.run_jobs().await;
    assert_eq!(period_end().await["attempts"], 5, "a failed job waits for an operator");
    let id = gave_up["id"].as_i64().expect("id");
    let (status, _) = send(app.operator(Method::POST, &format!("/api/v1/jobs/{}/run", id + 1000))).await;
    assert_eq!(status, 404);

    // Fixed and re-run: the missed week ends once, and the job goes on weekly.
    let right = json!({"enabled": true, "config": {"bonus": "1.00"}});
    assert_eq!(send(app.operator(Method::PUT, &url).json(&right)).await.0, 200);
    let (status, rerun) = send(app.operator(Method::POST, &format!("/api/v1/jobs/{id}/run"))).await;
    assert_eq!((status, rerun["state"].as_str()), (200, Some("scheduled")), "{rerun}");
    app.run_jobs().await;
    let done = period_end().await;
    assert_eq!((done["outcome"].as_str(), done["runs"].as_i64()), (Some("ok"), Some(1)), "{done}");
    assert_eq!(done["next-run"].as_str(), Some("2028-07-10T00:00:00Z"));
    // The late run covered the week that ended, not the one it ran in.
    let (_, ledger) = send(app.operator(Method::GET, &format!("/api/v1/commissions?campaign={campaign}"))).await;
    let bonuses: Vec<&Value> =
        ledger.as_array().expect("list").iter().filter(|c| c["commission-type"] == "bonus").collect();
    assert!(!bonuses.is_empty() && bonuses.iter().all(|c| c["created-at"] == "2028-07-03T00:00:00Z"), "{ledger}");
    assert!(bonuses.iter().all(|c| c["explanation"] == "period 1845590400000 to 1846195200000"), "{ledger}");
    let (status, _) = send(app.operator(Method::POST, &format!("/api/v1/jobs/{id}/run"))).await;
    assert_eq!(status, 409, "only a failed job is re-run");
}
