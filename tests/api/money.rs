//! Money survives the database exactly, on SQLite and on PostgreSQL: stored as
//! integer minor units, read back as the same decimal; amounts are bounded and sums
//! are checked.

use reqwest::Method;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait, Set, Statement, TransactionTrait,
};
use serde_json::{Value, json};
use upline_host::db::entity::{affiliate, campaign, commission};
use upline_host::db::{from_minor, to_minor};
use upline_tests::*;

/// A campaign row in EUR named `name`, written straight to the database.
fn campaign_row(name: &str) -> campaign::ActiveModel {
    campaign::ActiveModel {
        name: Set(name.into()),
        currency: Set("EUR".into()),
        cookie_days: Set(30),
        attribution: Set("last-click".into()),
        include_shipping: Set(false),
        include_tax: Set(false),
        subtract_discount: Set(true),
        store_zero_orders: Set(false),
        store_zero_commissions: Set(false),
        hold_days: Set(0),
        browser_conversions_per_day: Set(0),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
}

#[tokio::test]
async fn money_round_trips_exactly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = upline_host::db::connect(&fresh_database_url(dir.path()).await).await.expect("database");
    let now = chrono::Utc::now();
    let campaign = campaign_row("Money").insert(&db).await.expect("campaign");
    let affiliate = affiliate::ActiveModel {
        name: Set("A".into()),
        email: Set("a@example.com".into()),
        password_hash: Set("x".into()),
        status: Set("active".into()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&db)
    .await
    .expect("affiliate");

    // Amounts a float would not keep: 2^53 + 1 cents, 0.1 + 0.2, a three-decimal and a zero-decimal currency.
    for (amount, currency) in
        [("90071992547409.93", "EUR"), ("0.30", "EUR"), ("-123456789.012", "KWD"), ("9007199254740993", "JPY")]
    {
        let money = money(amount, currency);
        let row = commission::ActiveModel {
            campaign_id: Set(campaign.id),
            affiliate_id: Set(affiliate.id),
            tier: Set(1),
            commission_type: Set("sale".into()),
            amount_minor: Set(to_minor(money, "amount").expect("minor units")),
            currency: Set(currency.into()),
            status: Set("pending".into()),
            explanation: Set("round trip".into()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&db)
        .await
        .expect("insert");

        let stored = commission::Entity::find_by_id(row.id).one(&db).await.expect("select").expect("row");

        assert_eq!(from_minor(stored.amount_minor, &stored.currency).expect("money"), money, "{amount} {currency}");
        assert_eq!(from_minor(stored.amount_minor, &stored.currency).expect("money").amount().to_string(), amount);
    }
}

#[tokio::test]
async fn amounts_above_the_maximum_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let (campaign, affiliate) = app.campaign_with("multi-tier", "10").await;
    let sale = |total: &str| json!({"campaign": campaign, "affiliate": affiliate, "currency": "EUR", "total": total});

    // These two made the server drop the connection (a panic in the handler).
    for total in ["79228162514264337593543950335", "7922816251426433759354395033", "1000000000000.01"] {
        let (status, error) = send(app.operator(Method::POST, "/api/v1/conversions").json(&sale(total))).await;
        assert_eq!((status, error["error"]["field"].as_str()), (400, Some("total")), "{total}: {error}");
        let (status, error) = send(app.operator(Method::POST, "/api/v1/simulate").json(&sale(total))).await;
        assert_eq!((status, error["error"]["field"].as_str()), (400, Some("total")), "{total}: {error}");
    }
    let mut taxed = sale("1");
    taxed["tax"] = json!("1000000000001");
    let (status, error) = send(app.operator(Method::POST, "/api/v1/conversions").json(&taxed)).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("tax")), "{error}");
    let (status, recorded) = send(app.operator(Method::POST, "/api/v1/conversions").json(&sale("1000000000000"))).await;
    assert_eq!(status, 201, "the maximum itself is accepted: {recorded}");
    assert_eq!(recorded["commissions"][0]["amount"]["amount"], "100000000000.00");

    let (_, campaign_view) = send(app.operator(Method::GET, &format!("/api/v1/campaigns/{campaign}"))).await;
    let group = campaign_view["groups"][0]["id"].as_i64().expect("group");
    let rates = json!({"commission-type": "sale", "tiers": [{"tier": 1, "rule": {"fixed": "1000000000000.01"}}]});
    let (status, error) = send(app.operator(Method::PUT, &format!("/api/v1/groups/{group}/rates")).json(&rates)).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("tiers[0].rule")), "{error}");
    let payout = json!({"currency": "EUR", "minimum": "79228162514264337593543950335"});
    let (status, error) = send(app.operator(Method::POST, "/api/v1/payouts").json(&payout)).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("minimum")), "{error}");
    let refund = json!({"amount": "7922816251426433759354395033", "currency": "EUR"});
    let url = format!("/api/v1/conversions/{}/refund", recorded["conversion"]["id"]);
    let (status, error) = send(app.operator(Method::POST, &url).json(&refund)).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("amount")), "{error}");
    let (status, error) = send(app.operator(Method::GET, "/api/v1/reports/affiliates?to=+262143-12-31")).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("to")), "{error}");
}

#[tokio::test]
async fn sums_beyond_64_bits_are_reported_exactly_and_never_wrap_in_a_payout() {
    let app = spawn_app().await;
    let (campaign, affiliate) = app.campaign_with("multi-tier", "10").await;
    let db = upline_host::db::connect(&app.database_url).await.expect("database");
    let now = chrono::Utc::now();
    // Three approved commissions of 4 * 10^18 cents: their sum does not fit 64 bits.
    for _ in 0..3 {
        commission::ActiveModel {
            campaign_id: Set(campaign),
            affiliate_id: Set(affiliate),
            tier: Set(1),
            commission_type: Set("sale".into()),
            amount_minor: Set(4_000_000_000_000_000_000),
            currency: Set("EUR".into()),
            status: Set("approved".into()),
            explanation: Set("large".into()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&db)
        .await
        .expect("insert");
    }

    let (status, report) = send(app.operator(Method::GET, "/api/v1/reports/affiliates")).await;
    assert_eq!(status, 200, "{report}");
    let earnings = &report["affiliates"][0]["commissions"][0];
    assert_eq!((earnings["count"].as_i64(), &earnings["amount"]["amount"]), (Some(3), &json!("120000000000000000.00")));
    // Another affiliate, after it in the payout run, is owed 10.00.
    let body = json!({"name": "Small", "email": "small@example.com", "password": "a long password"});
    let small = send(app.operator(Method::POST, "/api/v1/affiliates").json(&body)).await.1["id"].as_i64().expect("id");
    let sale = json!({"campaign": campaign, "affiliate": small, "order-id": "s", "total": "100.00"});
    let (_, recorded) = send(app.operator(Method::POST, "/api/v1/conversions").json(&sale)).await;
    assert_eq!(recorded["commissions"][0]["status"], "approved", "no hold: approved at once");

    let (status, payouts) =
        send(app.operator(Method::POST, "/api/v1/payouts").json(&json!({"currency": "EUR", "minimum": "1"}))).await;

    assert_eq!(status, 201, "{payouts}");
    let paid: Vec<(Option<i64>, &Value)> = payouts
        .as_array()
        .expect("payouts")
        .iter()
        .map(|p| (p["affiliate"].as_i64(), &p["amount"]["amount"]))
        .collect();
    assert_eq!(paid, [(Some(small), &json!("10.00"))], "the balance that does not fit is left out, the others paid");
    let (_, listed) =
        send(app.operator(Method::GET, &format!("/api/v1/commissions?status=paid&affiliate={affiliate}"))).await;
    assert_eq!(listed, json!([]), "nothing of the large balance paid");
}

#[tokio::test]
async fn long_reads_have_connections_of_their_own() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fresh_database_url(dir.path()).await;
    let db = upline_host::db::connect(&url).await.expect("database");
    let reader = upline_host::db::connect_reader(&url, &db).await.expect("readers");
    let campaigns = || campaign::Entity::find().count(&reader);

    // The writer is in the middle of a transaction: reads go on, and see what is committed.
    let txn = db.begin().await.expect("begin");
    campaign_row("Pending").insert(&txn).await.expect("insert");
    let read = tokio::time::timeout(std::time::Duration::from_secs(2), campaigns()).await;
    assert_eq!(read.expect("not held up by the writer").expect("count"), 0);
    txn.commit().await.expect("commit");
    assert_eq!(campaigns().await.expect("count"), 1);

    if url.starts_with("sqlite:") {
        // A stored write survives a power cut: the WAL is synced at each commit, and
        // checkpoints are left to a connection of their own.
        for (pragma, expected) in [("synchronous", 2i64), ("wal_autocheckpoint", 0)] {
            let statement = Statement::from_string(DatabaseBackend::Sqlite, format!("PRAGMA {pragma}"));
            let row = db.query_one_raw(statement).await.expect("pragma").expect("a row");
            assert_eq!(row.try_get_by_index::<i64>(0).expect("a number"), expected, "{pragma}");
        }
        let write = reader.execute_unprepared("DELETE FROM campaigns").await;
        assert!(write.is_err(), "SQLite's readers are read-only");
        // An affiliate's report reads its own rows through an index.
        let plan = db
            .query_all_raw(Statement::from_string(
                DatabaseBackend::Sqlite,
                "EXPLAIN QUERY PLAN SELECT affiliate_id, COUNT(affiliate_id) FROM clicks \
                 WHERE created_at >= '2016-01-01' AND created_at < '2026-01-01' AND affiliate_id = 7 GROUP BY affiliate_id",
            ))
            .await
            .expect("plan");
        let steps: Vec<String> = plan.iter().filter_map(|row| row.try_get::<String>("", "detail").ok()).collect();
        assert!(steps.iter().any(|step| step.contains("ix_clicks_affiliate_created")), "{steps:?}");
    }
}
