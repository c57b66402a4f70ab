//! Retroactive group moves: when a rule moves an affiliate to another commission
//! group with `retroactive-from`, the affiliate's unpaid commissions in the campaign
//! made since then are computed again with the new group's tier settings, in the
//! transaction that records the move. Each changed commission gets a reversal of
//! what it still pays and a new line at the new rate, both naming the rule; paid
//! commissions (in a payout), declined ones, bonuses, adjustments and reversals are
//! never touched.
//!
//! The new amount applies the new group's setting for the commission's type and tier
//! to what is left of the conversion after refunds, as `multi-tier` computes it: a
//! percent of that total, a fixed amount (times the share not refunded), or a percent
//! of the previous tier's commission on the conversion as it then stands. A tier the
//! new group does not pay becomes zero.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter, QueryOrder, QuerySelect, Set,
};
use upline_types::{self as sdk, Money, TierRule};

use crate::db::entity::{commission, conversion, tier_rate};
use crate::db::{from_minor, to_minor};
use crate::domain::CommissionStatus;
use crate::error::Result;

/// A rule's move of an affiliate to another commission group, carried out when the
/// conversion or period end that decided it is written.
#[derive(Debug, Clone)]
pub struct GroupMove {
    /// The campaign.
    pub campaign: i64,
    /// The affiliate moved.
    pub affiliate: i64,
    /// The group moved to.
    pub group: i64,
    /// Unpaid commissions made at or after this time are re-rated; none: only later
    /// conversions get the new group's rates.
    pub retroactive_from: Option<DateTime<Utc>>,
    /// The rule: its plugin, `id@version`.
    pub plugin: String,
    /// The rule's explanation of the move.
    pub explanation: String,
}

impl GroupMove {
    /// The move `action` decides, if it is one, by the rule `plugin` of `campaign`.
    pub fn of(action: &sdk::Action, campaign: i64, plugin: &str) -> Option<Self> {
        let sdk::Action::MoveToGroup { affiliate, group, retroactive_from, explanation } = action else { return None };
        Some(GroupMove {
            campaign,
            affiliate: affiliate.get() as i64,
            group: group.get() as i64,
            // A time before 1970 or past 262143 re-rates everything / nothing alike.
            retroactive_from: retroactive_from
                .map(|at| DateTime::from_timestamp_millis(at.millis()).unwrap_or(DateTime::UNIX_EPOCH)),
            plugin: plugin.to_owned(),
            explanation: explanation.clone(),
        })
    }

    /// Moves the affiliate (audited) and re-rates its unpaid commissions when the
    /// move is retroactive, in the caller's transaction.
    pub async fn apply(&self, db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<()> {
        let actor = format!("plugin:{}", self.plugin);
        super::affiliates::assign_group(db, self.campaign, self.affiliate, self.group, &actor, now).await?;
        if let Some(from) = self.retroactive_from {
            rerate(db, self, from, now).await?;
        }
        if super::webhooks::listening(db).await? {
            let data = serde_json::json!({"campaign": self.campaign, "affiliate": self.affiliate, "group": self.group,
                "retroactive-from": self.retroactive_from, "plugin": self.plugin, "explanation": self.explanation});
            super::webhooks::emit(db, vec![super::webhooks::Event::new("affiliate.group-changed", data, now)]).await?;
        }
        Ok(())
    }
}

/// Re-rates the affiliate's unpaid commissions since `from` (see the module docs),
/// in the caller's transaction; returns how many changed.
async fn rerate(
    db: &impl ConnectionTrait,
    rerate: &GroupMove,
    from: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<usize> {
    let rules = rules_of(db, rerate.group).await?;
    let unpaid = [CommissionStatus::Pending.as_str(), CommissionStatus::Approved.as_str()];
    let originals = commission::Entity::find()
        .filter(commission::Column::CampaignId.eq(rerate.campaign))
        .filter(commission::Column::AffiliateId.eq(rerate.affiliate))
        .filter(commission::Column::CreatedAt.gte(from))
        .filter(commission::Column::ReversesId.is_null())
        .filter(commission::Column::PayoutId.is_null())
        .filter(commission::Column::ConversionId.is_not_null())
        .filter(commission::Column::Status.is_in(unpaid))
        .filter(commission::Column::CommissionType.is_not_in(["bonus", "adjustment"]))
        .order_by_asc(commission::Column::Id)
        .lock_exclusive()
        .all(db)
        .await?;
    let (plugin_id, plugin_version) = rerate.plugin.split_once('@').unwrap_or((&rerate.plugin, ""));
    let mut changed = 0;
    for original in originals {
        let net = net_minor(db, &original).await?;
        let currency = &original.currency;
        let Some(conversion) =
            conversion::Entity::find_by_id(original.conversion_id.unwrap_or_default()).one(db).await?
        else {
            continue;
        };
        let rule = rules.get(&(original.commission_type.clone(), original.tier)).copied();
        let amount = new_amount(db, &conversion, &original, rule).await?;
        let new = to_minor(amount, "amount")?;
        if net == 0 || new == net {
            continue;
        }
        let line = |amount_minor: i64, reverses: Option<i64>, explanation: String| commission::ActiveModel {
            id: NotSet,
            conversion_id: Set(original.conversion_id),
            campaign_id: Set(original.campaign_id),
            affiliate_id: Set(original.affiliate_id),
            tier: Set(original.tier),
            commission_type: Set(original.commission_type.clone()),
            amount_minor: Set(amount_minor),
            currency: Set(currency.clone()),
            status: Set(original.status.clone()),
            hold_until: Set(original.hold_until),
            waiting_for: Set(original.waiting_for.clone()),
            product_id: Set(original.product_id.clone()),
            plugin_id: Set(Some(plugin_id.to_owned())),
            plugin_version: Set(Some(plugin_version.to_owned())),
            explanation: Set(explanation),
            reverses_id: Set(reverses),
            payout_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            // In the statistics, the correction counts on the original's day.
            stats_day: Set(original.stats_day),
        };
        let why = format!("re-rated with group {} by {}: {}", rerate.group, rerate.plugin, rerate.explanation);
        line(-net, Some(original.id), format!("{why} (reverses commission {})", original.id)).insert(db).await?;
        line(new, None, format!("{why} (was commission {}: {})", original.id, original.explanation)).insert(db).await?;
        changed += 1;
    }
    if changed > 0 {
        let after = serde_json::json!({"group": rerate.group, "from": from, "changed": changed});
        super::audit::record(
            db,
            now,
            &format!("plugin:{}", rerate.plugin),
            "commission.rerate",
            ("affiliate", rerate.affiliate),
            None,
            Some(after),
        )
        .await?;
    }
    Ok(changed)
}

/// The group's tier rules by (commission type, tier).
async fn rules_of(db: &impl ConnectionTrait, group: i64) -> Result<HashMap<(String, i32), TierRule>> {
    let rows = tier_rate::Entity::find().filter(tier_rate::Column::GroupId.eq(group)).all(db).await?;
    rows.iter()
        .map(|row| Ok(((row.commission_type.clone(), row.tier), super::campaigns::tier_setting(row)?.rule)))
        .collect()
}

/// What a commission still pays: its amount plus its reversals' (declined ones aside).
async fn net_minor(db: &impl ConnectionTrait, original: &commission::Model) -> Result<i64> {
    let reversals: Vec<i64> = commission::Entity::find()
        .select_only()
        .column(commission::Column::AmountMinor)
        .filter(commission::Column::ReversesId.eq(original.id))
        .filter(commission::Column::Status.ne(CommissionStatus::Declined.as_str()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(original.amount_minor + reversals.iter().sum::<i64>())
}

/// The commission's amount under `rule` on what is left of its conversion.
async fn new_amount(
    db: &impl ConnectionTrait,
    conversion: &conversion::Model,
    original: &commission::Model,
    rule: Option<TierRule>,
) -> Result<Money> {
    let left = from_minor(conversion.commissionable_minor - conversion.refunded_minor, &original.currency)?;
    let zero = left.with_amount(Decimal::ZERO);
    Ok(match rule {
        None => zero,
        Some(TierRule::Percent(rate)) => left.percent(rate).round(),
        Some(TierRule::Fixed(amount)) if conversion.commissionable_minor > 0 => {
            let left_minor = conversion.commissionable_minor - conversion.refunded_minor;
            let share = Decimal::from(left_minor) / Decimal::from(conversion.commissionable_minor);
            left.with_amount(amount * share).round()
        }
        Some(TierRule::Fixed(_)) => zero,
        Some(TierRule::PercentOfPrevious(rate)) => {
            let previous: Vec<i64> = commission::Entity::find()
                .select_only()
                .column(commission::Column::AmountMinor)
                .filter(commission::Column::ConversionId.eq(conversion.id))
                .filter(commission::Column::Tier.eq(original.tier - 1))
                .filter(commission::Column::CommissionType.eq(original.commission_type.clone()))
                .filter(commission::Column::Status.ne(CommissionStatus::Declined.as_str()))
                .into_tuple()
                .all(db)
                .await?;
            let previous = from_minor(previous.iter().sum(), &original.currency)?;
            previous.percent(rate).round()
        }
    })
}
