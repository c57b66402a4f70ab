//! Awards (badges, perks) and notifications that rule plugins give affiliates:
//! stored in the transaction of the conversion or period end that produced them,
//! listed for operators and, each affiliate's own, in the affiliate panel. They are
//! recorded and shown, never paid; nothing is e-mailed.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    Select,
};
use serde::Serialize;
use upline_types as sdk;

use crate::db::entity::{award, notification};
use crate::error::Result;

/// An award or a notification a rule gave, to store (its id is the database's).
#[derive(Debug, Clone)]
pub enum Granted {
    /// A badge or perk.
    Award(award::Model),
    /// A message to the affiliate.
    Notification(notification::Model),
}

/// Where a rule's award or notification came from.
pub struct Origin<'a> {
    /// The rule plugin, `id@version`.
    pub plugin: &'a str,
    /// Its campaign.
    pub campaign: i64,
    /// The conversion that set it off; none at a period end.
    pub conversion: Option<i64>,
    /// When.
    pub at: DateTime<Utc>,
}

impl Granted {
    /// What a rule's action stores, if it is an award or a notification.
    pub fn of(action: &sdk::Action, origin: &Origin<'_>) -> Option<Self> {
        let (plugin, campaign_id, conversion_id, created_at) =
            (origin.plugin.to_owned(), origin.campaign, origin.conversion, origin.at);
        match action {
            sdk::Action::Award { affiliate, name, description } => Some(Granted::Award(award::Model {
                id: 0,
                affiliate_id: affiliate.get() as i64,
                name: name.clone(),
                description: description.clone(),
                plugin,
                campaign_id,
                conversion_id,
                created_at,
            })),
            sdk::Action::Notify { affiliate, message } => Some(Granted::Notification(notification::Model {
                id: 0,
                affiliate_id: affiliate.get() as i64,
                message: message.clone(),
                plugin,
                campaign_id,
                conversion_id,
                created_at,
            })),
            sdk::Action::Bonus { .. } | sdk::Action::MoveToGroup { .. } => None,
        }
    }
}

/// Stores `granted`, in the caller's transaction, with an `award.granted` webhook
/// event for each award.
pub async fn store_all(db: &impl ConnectionTrait, granted: Vec<Granted>) -> Result<()> {
    let (mut awards, mut notifications) = (Vec::new(), Vec::new());
    for row in granted {
        match row {
            Granted::Award(row) => awards.push(row),
            Granted::Notification(row) => notifications.push(row),
        }
    }
    if !awards.is_empty() && super::webhooks::listening(db).await? {
        let events = awards.iter().map(|row| {
            let data = serde_json::to_value(AwardView::of(row.clone())).unwrap_or_default();
            super::webhooks::Event::new("award.granted", data, row.created_at)
        });
        super::webhooks::emit(db, events.collect()).await?;
    }
    let awards: Vec<_> = awards.into_iter().map(|row| new_row(row, award::Column::Id)).collect();
    let notifications: Vec<_> = notifications.into_iter().map(|row| new_row(row, notification::Column::Id)).collect();
    for chunk in awards.chunks(200) {
        award::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await?;
    }
    for chunk in notifications.chunks(200) {
        notification::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await?;
    }
    Ok(())
}

/// A row to insert, its `id` column left to the database.
fn new_row<A: ActiveModelTrait>(model: impl IntoActiveModel<A>, id: <A::Entity as EntityTrait>::Column) -> A {
    let mut row = model.into_active_model().reset_all();
    row.not_set(id);
    row
}

/// Which awards or notifications to list: oldest first, a page at a time.
#[derive(Debug, Clone, Copy, Default)]
pub struct Listing {
    /// Only this campaign's.
    pub campaign: Option<i64>,
    /// Only this affiliate's.
    pub affiliate: Option<i64>,
    /// Only those with a larger id.
    pub after: Option<i64>,
    /// At most this many.
    pub limit: u64,
}

impl Listing {
    /// `select` narrowed and paged; `columns` are its campaign, affiliate and id.
    fn apply<E: EntityTrait>(self, select: Select<E>, [campaign, affiliate, id]: [E::Column; 3]) -> Select<E> {
        let mut select = select.filter(id.gt(self.after.unwrap_or(0))).order_by_asc(id).limit(self.limit);
        if let Some(value) = self.campaign {
            select = select.filter(campaign.eq(value));
        }
        if let Some(value) = self.affiliate {
            select = select.filter(affiliate.eq(value));
        }
        select
    }
}

/// An award as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct AwardView {
    /// Id.
    pub id: i64,
    /// The campaign whose rule gave it.
    pub campaign: i64,
    /// Who got it.
    pub affiliate: i64,
    /// Its name, e.g. `Gold badge`.
    pub name: String,
    /// What it is.
    pub description: String,
    /// The rule plugin that gave it, `id@version`.
    pub plugin: String,
    /// The conversion that earned it; none at a period end.
    pub conversion: Option<i64>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A notification as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct NotificationView {
    /// Id.
    pub id: i64,
    /// The campaign whose rule sent it.
    pub campaign: i64,
    /// To whom.
    pub affiliate: i64,
    /// What it says.
    pub message: String,
    /// The rule plugin that sent it, `id@version`.
    pub plugin: String,
    /// The conversion that set it off; none at a period end.
    pub conversion: Option<i64>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// The awards `listing` selects.
pub async fn awards(db: &impl ConnectionTrait, listing: Listing) -> Result<Vec<AwardView>> {
    use award::Column as C;
    let rows = listing.apply(award::Entity::find(), [C::CampaignId, C::AffiliateId, C::Id]).all(db).await?;
    Ok(rows.into_iter().map(AwardView::of).collect())
}

impl AwardView {
    fn of(row: award::Model) -> Self {
        AwardView {
            id: row.id,
            campaign: row.campaign_id,
            affiliate: row.affiliate_id,
            name: row.name,
            description: row.description,
            plugin: row.plugin,
            conversion: row.conversion_id,
            created_at: row.created_at,
        }
    }
}

/// The notifications `listing` selects.
pub async fn notifications(db: &impl ConnectionTrait, listing: Listing) -> Result<Vec<NotificationView>> {
    use notification::Column as C;
    let rows = listing.apply(notification::Entity::find(), [C::CampaignId, C::AffiliateId, C::Id]).all(db).await?;
    Ok(rows
        .into_iter()
        .map(|row| NotificationView {
            id: row.id,
            campaign: row.campaign_id,
            affiliate: row.affiliate_id,
            message: row.message,
            plugin: row.plugin,
            conversion: row.conversion_id,
            created_at: row.created_at,
        })
        .collect())
}
