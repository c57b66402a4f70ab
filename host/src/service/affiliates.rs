//! Affiliates, their tree, and their commission group per campaign.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, SqlErr, TransactionTrait,
};
use serde::Serialize;

use super::audit::json;
use crate::db::entity::{affiliate, commission_group, membership};
use crate::domain::affiliate::{AffiliateStatus, NewAffiliate};
use crate::error::{Error, Result};

/// The deepest upline walked: 100 tiers.
pub const MAX_TIERS: usize = 100;

/// An affiliate as the API shows it (never its password hash).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Affiliate {
    /// Id.
    pub id: i64,
    /// The recruiting affiliate.
    pub parent: Option<i64>,
    /// Display name.
    pub name: String,
    /// Login e-mail.
    pub email: String,
    /// `active` or `suspended`.
    pub status: String,
    /// First login to the affiliate panel.
    pub first_login_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When it joined.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Its own customer reference in the merchant's shop.
    pub customer: Option<String>,
}

impl From<affiliate::Model> for Affiliate {
    fn from(row: affiliate::Model) -> Self {
        Self {
            id: row.id,
            parent: row.parent_id,
            name: row.name,
            email: row.email,
            status: row.status,
            first_login_at: row.first_login_at,
            created_at: row.created_at,
            customer: row.customer,
        }
    }
}

/// Creates an affiliate under its parent, if any.
pub async fn create(db: &DatabaseConnection, new: NewAffiliate, now: DateTime<Utc>) -> Result<Affiliate> {
    let txn = db.begin().await?;
    if let Some(parent) = new.parent {
        find(&txn, parent).await.map_err(|_| Error::InvalidInput {
            field: "parent".into(),
            message: format!("affiliate {parent} does not exist"),
        })?;
    }
    let email = new.email.clone();
    let row = affiliate::ActiveModel {
        parent_id: Set(new.parent),
        name: Set(new.name),
        email: Set(new.email),
        password_hash: Set(new.password_hash),
        status: Set(AffiliateStatus::Active.as_str().into()),
        created_at: Set(now),
        customer: Set(new.customer),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|err| match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            Error::Conflict { field: "email".into(), message: format!("`{email}` is already an affiliate") }
        }
        _ => err.into(),
    })?;
    let created = Affiliate::from(row);
    super::jobs::schedule_signup(&txn, created.id, now).await?;
    super::audit::record(
        &txn,
        now,
        "operator",
        "affiliate.create",
        ("affiliate", created.id),
        None,
        Some(json(&created)),
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// Suspends or reactivates an affiliate. A suspended affiliate's sessions end, it
/// cannot log in, and its links record no clicks. Audited.
pub async fn set_status(
    db: &DatabaseConnection,
    id: i64,
    status: AffiliateStatus,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Affiliate> {
    let set = |row: &mut affiliate::ActiveModel| row.status = Set(status.as_str().into());
    let (txn, after) = change(db, id, ("affiliate.status", actor, now), set, |a| json(&a.status)).await?;
    if status == AffiliateStatus::Suspended {
        super::sessions::revoke_all(&txn, id).await?;
    }
    txn.commit().await?;
    Ok(after)
}

/// Records (or, with none, forgets) an affiliate's own customer reference. Audited.
pub async fn set_customer(
    db: &DatabaseConnection,
    id: i64,
    customer: Option<String>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Affiliate> {
    let set = |row: &mut affiliate::ActiveModel| row.customer = Set(customer);
    let (txn, after) = change(db, id, ("affiliate.customer", actor, now), set, |a| json(&a.customer)).await?;
    txn.commit().await?;
    Ok(after)
}

/// Changes an affiliate with `set` in a new transaction, audits the change as
/// `action` by `actor` (the value `shown` picks, before and after) and drops the
/// configuration cache (tracking and plugins read affiliates through it); returns
/// the open transaction and the affiliate as changed.
async fn change(
    db: &DatabaseConnection,
    id: i64,
    (action, actor, now): (&str, &str, DateTime<Utc>),
    set: impl FnOnce(&mut affiliate::ActiveModel),
    shown: impl Fn(&Affiliate) -> serde_json::Value,
) -> Result<(sea_orm::DatabaseTransaction, Affiliate)> {
    let txn = db.begin().await?;
    let before = find(&txn, id).await?;
    let mut row: affiliate::ActiveModel = before.clone().into();
    set(&mut row);
    let after = Affiliate::from(row.update(&txn).await?);
    let values = (Some(shown(&Affiliate::from(before))), Some(shown(&after)));
    super::audit::record(&txn, now, actor, action, ("affiliate", id), values.0, values.1).await?;
    super::config::changed(&txn).await?;
    Ok((txn, after))
}

/// Replaces an affiliate's password (given hashed) and ends all its sessions. Audited
/// (without the hash).
pub async fn set_password(
    db: &DatabaseConnection,
    id: i64,
    password_hash: String,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let txn = db.begin().await?;
    let mut row: affiliate::ActiveModel = find(&txn, id).await?.into();
    row.password_hash = Set(password_hash);
    row.update(&txn).await?;
    let revoked = super::sessions::revoke_all(&txn, id).await?;
    let after = serde_json::json!({"sessions-revoked": revoked});
    super::audit::record(&txn, now, actor, "affiliate.password", ("affiliate", id), None, Some(after)).await?;
    txn.commit().await?;
    Ok(())
}

/// One affiliate.
pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Affiliate> {
    find(db, id).await.map(Affiliate::from)
}

/// The affiliate's recruits, their recruits, and so on, breadth first.
pub async fn descendants(db: &impl ConnectionTrait, id: i64) -> Result<Vec<Affiliate>> {
    find(db, id).await?;
    let mut found = Vec::new();
    let mut level = vec![id];
    while !level.is_empty() && found.len() < 100_000 {
        let children = affiliate::Entity::find()
            .filter(affiliate::Column::ParentId.is_in(level))
            .order_by_asc(affiliate::Column::Id)
            .all(db)
            .await?;
        level = children.iter().map(|child| child.id).collect();
        found.extend(children.into_iter().map(Affiliate::from));
    }
    Ok(found)
}

/// An affiliate and how many recruits it has.
pub struct Node {
    /// The affiliate.
    pub affiliate: Affiliate,
    /// Its direct recruits.
    pub recruits: i64,
}

/// One level of the tree, a page at a time: the recruits of `parent` (the affiliates
/// nobody recruited when none) with an id above `after`, by id, each with its count
/// of recruits.
pub async fn children(
    db: &impl ConnectionTrait,
    parent: Option<i64>,
    after: Option<i64>,
    limit: u64,
) -> Result<Vec<Node>> {
    let under = match parent {
        Some(parent) => affiliate::Column::ParentId.eq(parent),
        None => affiliate::Column::ParentId.is_null(),
    };
    let rows = affiliate::Entity::find()
        .filter(under)
        .filter(affiliate::Column::Id.gt(after.unwrap_or(0)))
        .order_by_asc(affiliate::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let counts: Vec<(i64, i64)> = affiliate::Entity::find()
        .select_only()
        .column(affiliate::Column::ParentId)
        .column_as(Expr::from(Func::count(Expr::col(affiliate::Column::Id))), "recruits")
        .filter(affiliate::Column::ParentId.is_in(rows.iter().map(|row| row.id)))
        .group_by(affiliate::Column::ParentId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let recruits = counts.iter().find(|(id, _)| *id == row.id).map_or(0, |(_, count)| *count);
            Node { affiliate: Affiliate::from(row), recruits }
        })
        .collect())
}

/// The affiliate and its parents, tier 1 first, at most [`MAX_TIERS`].
pub async fn upline(db: &impl ConnectionTrait, id: i64) -> Result<Vec<affiliate::Model>> {
    let mut upline = Vec::new();
    let mut next = Some(id);
    while let Some(id) = next {
        if upline.len() == MAX_TIERS || upline.iter().any(|a: &affiliate::Model| a.id == id) {
            break;
        }
        let row = find(db, id).await?;
        next = row.parent_id;
        upline.push(row);
    }
    Ok(upline)
}

/// Puts the affiliate in `group_id` for the group's campaign.
pub async fn set_group(
    db: &DatabaseConnection,
    campaign_id: i64,
    affiliate_id: i64,
    group_id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let txn = db.begin().await?;
    find(&txn, affiliate_id).await?;
    assign_group(&txn, campaign_id, affiliate_id, group_id, "operator", now).await?;
    txn.commit().await?;
    Ok(())
}

/// Moves the affiliate to `group_id` inside the caller's transaction, audited as `actor`.
pub async fn assign_group(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    affiliate_id: i64,
    group_id: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let group = commission_group::Entity::find_by_id(group_id)
        .one(db)
        .await?
        .filter(|group| group.campaign_id == campaign_id)
        .ok_or_else(|| Error::InvalidInput {
            field: "group".into(),
            message: format!("group {group_id} is not a group of campaign {campaign_id}"),
        })?;
    let before = group_of(db, campaign_id, affiliate_id).await?;
    membership::Entity::delete_many()
        .filter(membership::Column::AffiliateId.eq(affiliate_id))
        .filter(membership::Column::CampaignId.eq(campaign_id))
        .exec(db)
        .await?;
    membership::ActiveModel {
        affiliate_id: Set(affiliate_id),
        campaign_id: Set(campaign_id),
        group_id: Set(group.id),
        ..Default::default()
    }
    .insert(db)
    .await?;
    super::config::changed(db).await?;
    let (before, after) = (serde_json::json!({"group": before}), serde_json::json!({"group": group.id}));
    super::audit::record(db, now, actor, "affiliate.group", ("affiliate", affiliate_id), Some(before), Some(after))
        .await
}

/// The affiliate's group in the campaign: its membership, or the campaign's default group.
pub async fn group_of(db: &impl ConnectionTrait, campaign_id: i64, affiliate_id: i64) -> Result<i64> {
    let membership = membership::Entity::find()
        .filter(membership::Column::AffiliateId.eq(affiliate_id))
        .filter(membership::Column::CampaignId.eq(campaign_id))
        .one(db)
        .await?;
    match membership {
        Some(membership) => Ok(membership.group_id),
        None => default_group(db, campaign_id).await,
    }
}

/// The campaign's default group.
pub async fn default_group(db: &impl ConnectionTrait, campaign_id: i64) -> Result<i64> {
    commission_group::Entity::find()
        .filter(commission_group::Column::CampaignId.eq(campaign_id))
        .filter(commission_group::Column::IsDefault.eq(true))
        .one(db)
        .await?
        .map(|group| group.id)
        .ok_or(Error::NotFound { entity: "default group of campaign", id: campaign_id.to_string() })
}

async fn find(db: &impl ConnectionTrait, id: i64) -> Result<affiliate::Model> {
    affiliate::Entity::find_by_id(id).one(db).await?.ok_or(Error::NotFound { entity: "affiliate", id: id.to_string() })
}
