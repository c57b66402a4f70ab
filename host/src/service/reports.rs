//! Reports per affiliate and period: clicks, conversions, and commissions by
//! status and currency, summed in the database.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Select};
use serde::Serialize;
use upline_types::Money;

use crate::db::entity::{click, commission, conversion};
use crate::db::from_minor_sum;
use crate::domain::campaign::invalid;
use crate::error::Result;

/// What a report covers: whole days, `from` to `to` inclusive (UTC), optionally
/// one campaign and one affiliate.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Period {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
    /// Only this campaign.
    pub campaign: Option<i64>,
    /// Only this affiliate.
    pub affiliate: Option<i64>,
}

impl Period {
    /// Checks the days: `from` defaults to the first of `to`'s month, `to` to `today`
    /// (UTC); at most ten years.
    pub fn new(
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        campaign: Option<i64>,
        affiliate: Option<i64>,
        today: NaiveDate,
    ) -> Result<Self> {
        let to = to.unwrap_or(today);
        let from = from.unwrap_or_else(|| to.with_day0(0).unwrap_or(to));
        if from > to {
            return Err(invalid("from", format!("{from} is after `to` ({to})")));
        }
        if to.checked_add_days(chrono::Days::new(1)).is_none() {
            return Err(invalid("to", format!("{to} is too far in the future")));
        }
        if (to - from).num_days() > 3660 {
            return Err(invalid("from", "a report covers at most ten years"));
        }
        Ok(Self { from, to, campaign, affiliate })
    }

    fn start(&self) -> DateTime<Utc> {
        self.from.and_time(chrono::NaiveTime::MIN).and_utc()
    }

    fn end(&self) -> DateTime<Utc> {
        // `new` made sure the next day exists.
        self.to.checked_add_days(chrono::Days::new(1)).unwrap_or(self.to).and_time(chrono::NaiveTime::MIN).and_utc()
    }
}

/// One affiliate's figures for the period.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct AffiliateReport {
    /// The affiliate.
    pub affiliate: i64,
    /// Clicks on its links.
    pub clicks: i64,
    /// Conversions it referred.
    pub conversions: i64,
    /// Its commissions (of every tier), per status and currency.
    pub commissions: Vec<Earnings>,
}

/// Commissions of one status in one currency.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Earnings {
    /// `pending`, `approved`, `declined` or `paid`.
    pub status: String,
    /// How many.
    pub count: i64,
    /// Their sum (reversals included, so a refund lowers it).
    #[schema(value_type = crate::http::openapi::sdk::Money)]
    pub amount: Money,
}

/// The report: the period and one row per affiliate with any activity in it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Report {
    /// What it covers.
    #[serde(flatten)]
    pub period: Period,
    /// Per affiliate, by id.
    pub affiliates: Vec<AffiliateReport>,
}

/// Counts rows of `select` per affiliate in the period.
async fn count_per_affiliate<E: EntityTrait>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    affiliate: E::Column,
) -> Result<Vec<(i64, i64)>> {
    Ok(select
        .select_only()
        .column(affiliate)
        .column_as(Expr::from(Func::count(Expr::col(affiliate))), "count")
        .group_by(affiliate)
        .into_tuple()
        .all(db)
        .await?)
}

/// The divisor of [`split_sum`].
const SPLIT: i64 = 1_000_000_000;

/// `SUM(column)` of a minor-units column in two parts, the sums of the quotients and
/// of the remainders by [`SPLIT`], each cast to bigint: `high * SPLIT + low` is the
/// exact sum, and neither part can overflow 64 bits below a billion rows, where the
/// plain sum of a few hundred large amounts would (SQLite raises an error, and
/// PostgreSQL's numeric sum would not cast back). Both databases truncate integer
/// division toward zero and give the remainder the dividend's sign.
fn split_sum(column: impl ColumnTrait) -> (Expr, Expr) {
    let part = |expr: Expr| Expr::from(Func::cast_as(Func::sum(expr), Alias::new("bigint")));
    (part(Expr::col(column).div(SPLIT)), part(Expr::col(column).modulo(SPLIT)))
}

/// The report for `period`.
pub async fn report(db: &impl ConnectionTrait, period: Period) -> Result<Report> {
    let (start, end) = (period.start(), period.end());
    let mut rows: BTreeMap<i64, AffiliateReport> = BTreeMap::new();
    fn row(rows: &mut BTreeMap<i64, AffiliateReport>, id: i64) -> &mut AffiliateReport {
        rows.entry(id).or_insert_with(|| AffiliateReport { affiliate: id, ..Default::default() })
    }

    let mut clicks =
        click::Entity::find().filter(click::Column::CreatedAt.gte(start)).filter(click::Column::CreatedAt.lt(end));
    // A browser report the merchant's report superseded is the same conversion.
    let mut conversions = conversion::Entity::find()
        .filter(conversion::Column::CreatedAt.gte(start))
        .filter(conversion::Column::CreatedAt.lt(end))
        .filter(conversion::Column::Status.ne("superseded"));
    let mut commissions = commission::Entity::find()
        .filter(commission::Column::CreatedAt.gte(start))
        .filter(commission::Column::CreatedAt.lt(end));
    if let Some(campaign) = period.campaign {
        clicks = clicks.filter(click::Column::CampaignId.eq(campaign));
        conversions = conversions.filter(conversion::Column::CampaignId.eq(campaign));
        commissions = commissions.filter(commission::Column::CampaignId.eq(campaign));
    }
    if let Some(affiliate) = period.affiliate {
        clicks = clicks.filter(click::Column::AffiliateId.eq(affiliate));
        conversions = conversions.filter(conversion::Column::AffiliateId.eq(affiliate));
        commissions = commissions.filter(commission::Column::AffiliateId.eq(affiliate));
    }
    for (id, count) in count_per_affiliate(db, clicks, click::Column::AffiliateId).await? {
        row(&mut rows, id).clicks = count;
    }
    for (id, count) in count_per_affiliate(db, conversions, conversion::Column::AffiliateId).await? {
        row(&mut rows, id).conversions = count;
    }
    let (high, low) = split_sum(commission::Column::AmountMinor);
    let sums: Vec<(i64, String, String, i64, i64, i64)> = commissions
        .select_only()
        .column(commission::Column::AffiliateId)
        .column(commission::Column::Status)
        .column(commission::Column::Currency)
        .column_as(Expr::from(Func::count(Expr::col(commission::Column::Id))), "count")
        .column_as(high, "high")
        .column_as(low, "low")
        .group_by(commission::Column::AffiliateId)
        .group_by(commission::Column::Status)
        .group_by(commission::Column::Currency)
        .into_tuple()
        .all(db)
        .await?;
    for (id, status, currency, count, high, low) in sums {
        let sum = i128::from(high) * i128::from(SPLIT) + i128::from(low);
        row(&mut rows, id).commissions.push(Earnings { status, count, amount: from_minor_sum(sum, &currency)? });
    }
    Ok(Report { period, affiliates: rows.into_values().collect() })
}
