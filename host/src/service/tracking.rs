//! Click tracking. A click gets a token, `<click id>.<random>`, that the merchant's
//! page keeps in a first-party cookie for the campaign's cookie lifetime; a
//! conversion that presents the token is credited to the click's affiliate.

use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use serde::Serialize;

use crate::db::entity::{affiliate, campaign, click};
use crate::error::{Error, Result};

/// A recorded click, as the snippet and the redirect need it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Click {
    /// The token to keep in the cookie and send with conversions.
    pub token: String,
    /// The cookie's name for this campaign.
    pub cookie: String,
    /// How long the cookie lives.
    pub max_age_days: i32,
    /// `first-click` (keep an existing cookie) or `last-click` (replace it).
    pub attribution: String,
}

/// Records a click on `affiliate`'s link for `campaign`.
pub async fn click(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    affiliate_id: i64,
    landing_url: Option<String>,
    referrer: Option<String>,
) -> Result<Click> {
    let invalid = |field: &str, message: String| Error::InvalidInput { field: field.into(), message };
    let campaign = campaign::Entity::find_by_id(campaign_id)
        .one(db)
        .await?
        .ok_or_else(|| invalid("campaign", format!("campaign {campaign_id} does not exist")))?;
    affiliate::Entity::find_by_id(affiliate_id)
        .one(db)
        .await?
        .filter(|a| a.status == "active")
        .ok_or_else(|| invalid("affiliate", format!("affiliate {affiliate_id} does not exist")))?;
    let clip = |text: Option<String>| text.map(|t| t.chars().take(2000).collect::<String>());
    let secret = hex::encode(rand::random::<[u8; 16]>());
    let row = click::ActiveModel {
        campaign_id: Set(campaign.id),
        affiliate_id: Set(affiliate_id),
        visitor: Set(secret.clone()),
        landing_url: Set(clip(landing_url)),
        referrer: Set(clip(referrer)),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(Click {
        token: format!("{}.{secret}", row.id),
        cookie: format!("upline_{}", campaign.id),
        max_age_days: campaign.cookie_days,
        attribution: campaign.attribution,
    })
}

/// The affiliate a click token credits in `campaign_id`, if the token is genuine,
/// of that campaign, and within the campaign's cookie lifetime.
pub async fn attribute(db: &impl ConnectionTrait, campaign: &campaign::Model, token: &str) -> Result<i64> {
    let refused =
        || Error::InvalidInput { field: "click".into(), message: "not a valid click token for this campaign".into() };
    let (id, secret) = token.split_once('.').ok_or_else(refused)?;
    let id: i64 = id.parse().map_err(|_| refused())?;
    let row = click::Entity::find_by_id(id).one(db).await?.ok_or_else(refused)?;
    if row.visitor != secret || row.campaign_id != campaign.id {
        return Err(refused());
    }
    if row.created_at + chrono::Duration::days(campaign.cookie_days.into()) < chrono::Utc::now() {
        return Err(Error::InvalidInput {
            field: "click".into(),
            message: "the click is older than the cookie lifetime".into(),
        });
    }
    Ok(row.affiliate_id)
}
