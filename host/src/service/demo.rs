//! Demo data to look at: the demo operator of the console, the DOMAIN.md
//! variable-tier example as a campaign with
//! four groups, a four-level affiliate tree, the variable tier plugin enabled (when
//! installed), and a few sales.

use chrono::{DateTime, Utc};
use std::sync::Arc;

use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use upline_types::{Currency, Money, Rate, TierRule, TierSetting};

use super::engine::{Engine, prepare};
use super::passwords::Passwords;
use super::{affiliates, bindings, campaigns, operators};
use crate::db::entity::{campaign, operator};
use crate::domain::affiliate::hash_password;
use crate::domain::campaign::{Approval, Attribution, CampaignSettings, Destinations, Rates};
use crate::domain::conversion::NewConversion;
use crate::domain::schedule::{PeriodKind, Zone};
use crate::error::Result;
use crate::plugin::Registry;

/// The demo affiliates' and operator's password.
pub const PASSWORD: &str = "demo-password";

/// The demo operator's login e-mail (its password is [`PASSWORD`]).
pub const OPERATOR: &str = "demo@upline.example";

/// Seeds the demo operator unless the database has an operator, and the demo data
/// unless it has a campaign. Returns whether it seeded the data.
pub async fn seed(
    db: &DatabaseConnection,
    registry: &Arc<Registry>,
    engine: &Engine,
    now: DateTime<Utc>,
) -> Result<bool> {
    if operator::Entity::find().count(db).await? == 0 {
        operators::create(db, &Passwords::default(), (OPERATOR, PASSWORD), "demo", now).await?;
    }
    if campaign::Entity::find().count(db).await? > 0 {
        return Ok(false);
    }
    let eur = Currency::from_code("EUR").map_err(|err| crate::Error::Internal(err.to_string()))?;
    let demo = campaigns::create(
        db,
        CampaignSettings {
            name: "Demo shop".into(),
            currency: eur,
            cookie_days: 30,
            attribution: Attribution::LastClick,
            include_shipping: false,
            include_tax: false,
            subtract_discount: true,
            store_zero_orders: false,
            lifetime: None,
            store_zero_commissions: true,
            hold_days: 30,
            approval: Approval::Automatic,
            destinations: Destinations::parse(Some("https://shop.example/"), &["*.shop.example".into()])?,
            browser_conversions_per_day: 1000,
            time_zone: Zone::parse("time-zone", "Europe/Amsterdam")?,
            period_close_day: 1,
            reward_period: PeriodKind::Month,
            recurrences: Default::default(),
        },
        now,
    )
    .await?;
    let mut groups = Vec::new();
    for (name, tier1) in [("Basic", "10"), ("Standard", "10"), ("Premium", "20"), ("VIP", "50")] {
        let group = campaigns::add_group(db, demo.settings.id, name.into(), name == "Basic", now).await?;
        let rate = |value: &str| Rate::percent(value.parse().unwrap_or_default());
        let tiers = vec![
            TierSetting { tier: 1, rule: TierRule::Percent(rate(tier1)) },
            TierSetting { tier: 2, rule: TierRule::Percent(rate("5")) },
            TierSetting { tier: 3, rule: TierRule::PercentOfPrevious(rate("50")) },
        ];
        let rates = Rates { commission_type: upline_types::CommissionType::Sale, tiers };
        campaigns::set_rates(db, group.id, |_| Ok(rates), now).await?;
        groups.push(group.id);
    }
    // A (VIP) -> B (Standard) -> C (Premium) -> D (Basic), as in DOMAIN.md.
    let mut parent = None;
    let mut tree = Vec::new();
    for (name, group) in
        [("Ann (A)", groups[3]), ("Ben (B)", groups[1]), ("Cleo (C)", groups[2]), ("Dan (D)", groups[0])]
    {
        let email = format!("{}@demo.example", name[..3].to_lowercase());
        let new = crate::domain::affiliate::NewAffiliate {
            name: name.into(),
            email,
            password_hash: hash_password(PASSWORD)?,
            parent,
            customer: None,
        };
        let affiliate = affiliates::create(db, new, now).await?;
        affiliates::set_group(db, demo.settings.id, affiliate.id, group, now).await?;
        parent = Some(affiliate.id);
        tree.push(affiliate.id);
    }
    for plugin in ["variable-tier", "multi-tier"] {
        if let Ok(id) = plugin.parse()
            && registry.get(&id).is_ok()
        {
            let setting = bindings::Setting { enabled: true, config: None, position: None, grants: None };
            bindings::set(db, registry, demo.settings.id, &id, setting, now).await?;
            break;
        }
    }
    let cache = super::config::ConfigCache::default();
    let config = cache.current(db, registry).await?;
    for (order, total) in [("DEMO-1001", "100.00"), ("DEMO-1002", "249.90"), ("DEMO-1003", "35.50")] {
        let money = |amount: &str| Money::new(amount.parse().unwrap_or_default(), eur);
        let sale = NewConversion {
            source: crate::domain::conversion::Source::Server,
            campaign: demo.settings.id,
            affiliate: tree.last().copied(),
            click: None,
            commission_type: upline_types::CommissionType::Sale,
            order_id: Some(order.into()),
            product_id: None,
            coupon: None,
            customer: None,
            total: money(total),
            shipping: money("0"),
            tax: money("0"),
            discount: money("0"),
            custom_fields: Default::default(),
            subscription: None,
        };
        engine.record(prepare(db, &config, sale, now).await?).await?;
    }
    Ok(true)
}
