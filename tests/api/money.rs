//! Money survives the database exactly, on SQLite and on PostgreSQL: stored as
//! integer minor units, read back as the same decimal.

use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use upline_host::db::entity::{affiliate, campaign, commission};
use upline_host::db::{from_minor, to_minor};
use upline_tests::*;

#[tokio::test]
async fn money_round_trips_exactly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = upline_host::db::connect(&fresh_database_url(dir.path()).await).await.expect("database");
    let now = chrono::Utc::now();
    let campaign = campaign::ActiveModel {
        name: Set("Money".into()),
        currency: Set("EUR".into()),
        cookie_days: Set(30),
        attribution: Set("last-click".into()),
        include_shipping: Set(false),
        include_tax: Set(false),
        subtract_discount: Set(true),
        store_zero_orders: Set(false),
        store_zero_commissions: Set(false),
        hold_days: Set(0),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&db)
    .await
    .expect("campaign");
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
