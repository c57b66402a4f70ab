//! Live statistics for plugins: what the `stats` import answers.
//!
//! The database keeps per-affiliate daily sums by commission status
//! (`affiliate_stats`), moved by a trigger in the transaction of every change to the
//! ledger (migration `m20261202_000013_stats`). Before a conversion's plugins run,
//! the sums of its upline in its campaign are taken ([`Snapshot::load_known`]): those
//! the host read less than [`KNOWN_FOR`] ago, kept up to date with its own
//! conversions, else one query (from the start of last year day by day, older days
//! summed per status). Every `stats` query of the plugins is then answered from
//! memory.
//!
//! Consistency: the snapshot also reads each affiliate's `stats_versions` counter,
//! which the conversion writer moves on for every conversion it stores with
//! commissions of the affiliate (in a campaign whose plugins read statistics). This
//! host's conversions computed but not yet written are added to the snapshot
//! ([`InFlight`]), with the counter they will leave; the bonus rules also see the
//! conversion's own commissions ([`Snapshot::add`]), kept apart so that
//! `query_before` answers without them. The writer stores a conversion
//! only if the counter of every affiliate its plugins asked about is, at its turn in
//! the batch, the one it expects (`writer::stale`); otherwise the conversion is
//! computed again with fresh sums. On PostgreSQL the writer reads the counters
//! `FOR UPDATE`, holding them until the commit: of two hosts' conversions that read
//! the same counter, one waits and then finds it moved on. So two conversions never
//! both see themselves as the first to cross a threshold.
//!
//! The whole campaign's sums (`query-campaign`, e.g. a budget cap) take the same
//! path under the key [`CAMPAIGN`]: summed over the campaign's affiliates when read,
//! with a counter of their own that the writer moves on for each conversion with
//! commissions whose plugins asked about the campaign. They are read only for
//! campaigns whose plugins asked about the campaign before on this host
//! ([`InFlight::wants_campaign`]): the first conversion to ask is computed again
//! with them ([`Snapshot::missed_campaign`]).

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SimpleExpr, UnionType};
use sea_orm::{DatabaseConnection, FromQueryResult};
use upline_types::{CampaignQuery, Currency, Metric, NamedPeriod, PeriodSpec, StatsQuery, StatusFilter};

use crate::db::entity::affiliate_stats::AffiliateStats;
use crate::db::entity::{campaign, commission, conversion, stats_version};
use crate::domain::CommissionStatus;
use crate::domain::schedule::{Period, PeriodKind, Zone};
use crate::error::{Error, Result};
use crate::plugin::StatsSource;

/// The sums of one day, in the order of [`COLUMNS`].
pub type Sums = [i128; 8];

/// The summed columns, in the order of [`Sums`].
const COLUMNS: [AffiliateStats; 8] = [
    AffiliateStats::SalesCount,
    AffiliateStats::SalesMinor,
    AffiliateStats::ActionsCount,
    AffiliateStats::CommissionsMinor,
    AffiliateStats::FirstTierMinor,
    AffiliateStats::SecondTierRevenueMinor,
    AffiliateStats::RecurringCount,
    AffiliateStats::RecurringMinor,
];

/// The most affiliates a snapshot reads by their ids.
const LISTED: usize = 1000;

/// The status of the rows of [`Snapshot::load`]'s query that carry a counter.
const VERSION: &str = "version";

/// The day of the row that sums every day before the snapshot's window.
const BEFORE: i32 = i32::MIN;

/// The key of the whole campaign's sums and counter, where an affiliate's id goes
/// (no affiliate has id 0).
pub const CAMPAIGN: i64 = 0;

/// What one commission adds to its affiliate's sums: the trigger's formulas, for a
/// conversion's own commissions before they are stored. `conversion`: the kind and
/// commissionable total of the conversion it pays for (none for a booked bonus);
/// `counted`: it stands for its conversion (not a bonus, adjustment or reversal).
pub fn contribution(tier: i32, amount_minor: i64, counted: bool, conversion: Option<(&str, i64)>) -> Sums {
    let (kind, total) = conversion.filter(|_| counted).map_or(("", 0), |(kind, total)| (kind, i128::from(total)));
    let amount_minor = i128::from(amount_minor);
    let referrer = |of: &str| tier == 1 && kind == of;
    [
        i128::from(referrer("sale")),
        if referrer("sale") { total } else { 0 },
        i128::from(referrer("action")),
        amount_minor,
        if tier == 1 { amount_minor } else { 0 },
        if tier == 2 { total } else { 0 },
        i128::from(referrer("recurring")),
        if referrer("recurring") { total } else { 0 },
    ]
}

/// One affiliate's sums on one day (or [`BEFORE`]) in one status.
#[derive(Debug, Clone, Copy)]
struct Day {
    day: i32,
    status: CommissionStatus,
    sums: Sums,
}

#[derive(Debug, Default)]
struct State {
    days: HashMap<i64, Vec<Day>>,
    /// Each loaded affiliate's counter (0 when it has none yet).
    versions: HashMap<i64, i64>,
    /// The affiliates plugins asked about.
    asked: BTreeSet<i64>,
    /// The commissions of the conversion the call is about, not stored yet: counted
    /// by `query`, not by `query_before`.
    own: HashMap<i64, Vec<Day>>,
    /// A plugin asked about the whole campaign, whose sums were not read.
    missed_campaign: bool,
}

/// The statistics of some affiliates of one campaign, as of one moment, answering
/// the plugins' queries from memory.
pub struct Snapshot {
    campaign: i64,
    zone: Zone,
    currency: Currency,
    now: DateTime<Utc>,
    /// The first day kept day by day.
    window: i32,
    state: Mutex<State>,
}

/// One row of the sums read: whole numbers as text, exact beyond 64 bits.
#[derive(FromQueryResult)]
struct Row {
    affiliate_id: i64,
    day: i32,
    status: String,
    c0: String,
    c1: String,
    c2: String,
    c3: String,
    c4: String,
    c5: String,
    c6: String,
    c7: String,
}

impl Snapshot {
    /// Reads the sums and counters of `affiliates` in `campaign`, for plugins called
    /// at `now`. Past [`LISTED`] affiliates it reads the whole campaign's.
    pub async fn load(
        db: &DatabaseConnection,
        campaign: &campaign::Model,
        affiliates: &[i64],
        now: DateTime<Utc>,
    ) -> Result<Self> {
        let snapshot = Self::empty(campaign, now)?;
        let state = snapshot.read(db, affiliates).await?;
        *snapshot.lock() = state;
        Ok(snapshot)
    }

    /// [`load`](Self::load) for a conversion: the sums this host knows from a read
    /// less than [`KNOWN_FOR`] ago (kept up to date with its own conversions as they
    /// are written) are not read again; then the conversions in flight are added.
    pub async fn load_known(
        db: &DatabaseConnection,
        campaign: &campaign::Model,
        affiliates: &[i64],
        now: DateTime<Utc>,
        known: &InFlight,
    ) -> Result<Self> {
        let snapshot = Self::empty(campaign, now)?;
        let (mut state, missing) = known.cached(campaign.id, affiliates, snapshot.window);
        if !missing.is_empty() {
            let read = snapshot.read(db, &missing).await?;
            known.cache(campaign.id, &read, snapshot.window);
            state.versions.extend(read.versions);
            state.days.extend(read.days);
        }
        *snapshot.lock() = state;
        snapshot.overlay(known);
        Ok(snapshot)
    }

    /// A snapshot with no sums yet.
    fn empty(campaign: &campaign::Model, now: DateTime<Utc>) -> Result<Self> {
        let zone = Zone::stored(&campaign.time_zone)?;
        let currency = Currency::from_code(&campaign.currency).map_err(|err| Error::Database(err.to_string()))?;
        let this_year = PeriodKind::Year.containing(&zone, now)?;
        let last_year = PeriodKind::Year.containing(&zone, this_year.start - chrono::Duration::milliseconds(1))?;
        let window = zone.day(last_year.start);
        Ok(Self { campaign: campaign.id, zone, currency, now, window, state: Mutex::default() })
    }

    /// The sums and counters of `affiliates` as stored.
    async fn read(&self, db: &DatabaseConnection, affiliates: &[i64]) -> Result<State> {
        let (campaign, window) = (self.campaign, self.window);
        // Written out, not bound: PostgreSQL groups by an expression only when it
        // reads the same as the selected one, and two bound copies would not.
        let bucket: SimpleExpr = Expr::cust(format!("CASE WHEN day >= {window} THEN day ELSE {BEFORE} END"));
        let sums = |affiliate: SimpleExpr| {
            let mut query = Query::select();
            query
                .expr_as(affiliate, Alias::new("affiliate_id"))
                .expr_as(bucket.clone(), Alias::new("day"))
                .column(AffiliateStats::Status)
                .from(AffiliateStats::Table)
                .and_where(Expr::col(AffiliateStats::CampaignId).eq(campaign));
            for (i, column) in COLUMNS.into_iter().enumerate() {
                query.expr_as(Expr::col(column).sum().cast_as(Alias::new("text")), Alias::new(format!("c{i}")));
            }
            query.add_group_by([bucket.clone()]).group_by_col(AffiliateStats::Status);
            query
        };
        let mut query = sums(Expr::col(AffiliateStats::AffiliateId));
        query.add_group_by([Expr::col(AffiliateStats::AffiliateId)]);
        // The counters, as rows of the same shape with the status `version`: one
        // statement reads counters and sums as of one moment (one snapshot of the
        // database), so the counters say which of this host's conversions in flight
        // the sums show.
        let mut versions = Query::select();
        versions
            .column(stats_version::Column::AffiliateId)
            .expr_as(Expr::cust("0"), Alias::new("day"))
            .expr_as(Expr::cust(format!("'{VERSION}'")), Alias::new("status"))
            .expr_as(Expr::col(stats_version::Column::Version).cast_as(Alias::new("text")), Alias::new("c0"))
            .from(stats_version::Entity)
            .and_where(Expr::col(stats_version::Column::CampaignId).eq(campaign));
        for i in 1..COLUMNS.len() {
            versions.expr_as(Expr::cust("'0'"), Alias::new(format!("c{i}")));
        }
        if affiliates.len() <= LISTED {
            query.and_where(Expr::col(AffiliateStats::AffiliateId).is_in(affiliates.iter().copied()));
            versions.and_where(Expr::col(stats_version::Column::AffiliateId).is_in(affiliates.iter().copied()));
        }
        query.union(UnionType::All, versions);
        if affiliates.contains(&CAMPAIGN) {
            query.union(UnionType::All, sums(Expr::cust(CAMPAIGN.to_string())));
        }
        let rows = Row::find_by_statement(db.get_database_backend().build(&query)).all(db).await?;
        let mut state = State::default();
        for id in affiliates {
            state.versions.insert(*id, 0);
        }
        for row in rows {
            let mut sums = Sums::default();
            for (sum, text) in sums.iter_mut().zip([row.c0, row.c1, row.c2, row.c3, row.c4, row.c5, row.c6, row.c7]) {
                *sum = text.parse().map_err(|_| Error::Database(format!("a statistics sum of `{text}`")))?;
            }
            if row.status == VERSION {
                // The campaign's counter, read with every affiliate's, but not its sums.
                if row.affiliate_id == CAMPAIGN && !affiliates.contains(&CAMPAIGN) {
                    continue;
                }
                state.versions.insert(row.affiliate_id, sums[0] as i64);
                continue;
            }
            let status = row.status.parse().map_err(Error::Database)?;
            state.days.entry(row.affiliate_id).or_default().push(Day { day: row.day, status, sums });
        }
        Ok(state)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every update is a push or an insert: a panic cannot leave it torn.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a commission not stored yet (the conversion's own) to `affiliate`'s sums.
    pub fn add(&self, affiliate: i64, at: DateTime<Utc>, status: CommissionStatus, sums: Sums) {
        let day = self.zone.day(at);
        self.lock().own.entry(affiliate).or_default().push(Day { day, status, sums });
    }

    /// Adds the conversions of `in_flight` this snapshot's sums do not show yet, with
    /// the counters they will leave.
    fn overlay(&self, in_flight: &InFlight) {
        let pending = in_flight.lock();
        let mut state = self.lock();
        let State { days, versions, .. } = &mut *state;
        for (affiliate, version) in versions.iter_mut() {
            let Some(queue) = pending.get(&(self.campaign, *affiliate)) else { continue };
            // The queue is a chain (each expects the counter the one before leaves):
            // those from the one expecting the counter read on are not written yet.
            if let Some(first) = queue.iter().position(|p| p.expected == *version) {
                for unwritten in &queue[first..] {
                    days.entry(*affiliate).or_default().extend(unwritten.days.iter().copied());
                }
                *version = queue[queue.len() - 1].after;
            }
        }
    }

    /// Whether a plugin asked about the whole campaign, whose sums this snapshot has
    /// not read: the call is to be made again with them.
    pub fn missed_campaign(&self) -> bool {
        self.lock().missed_campaign
    }

    /// The affiliates the plugins asked about, with the counter read for each: what
    /// the writer checks before it stores the conversion.
    pub fn asked(&self) -> Vec<(i64, i64)> {
        let state = self.lock();
        state.asked.iter().map(|id| (*id, state.versions.get(id).copied().unwrap_or(0))).collect()
    }

    /// The days `period` covers, first included, last excluded.
    fn days(&self, period: PeriodSpec) -> Result<(i32, i32), String> {
        match period {
            PeriodSpec::Named(named) => Ok(match bounds(&self.zone, self.now, named)? {
                Some(period) => (self.zone.day(period.start), self.zone.day(period.end)),
                None => (i32::MIN, i32::MAX),
            }),
            PeriodSpec::Span(span) => self.span(span),
        }
    }

    /// The sum of `query` for `key` (an affiliate or [`CAMPAIGN`]) over the stored
    /// days, and over the call's own commissions when `own`.
    fn sum(&self, key: i64, query: &CampaignQuery, own: bool) -> Result<Decimal, String> {
        if query.campaign.get() != self.campaign as u64 {
            return Err(format!("statistics are answered for this call's campaign ({}) only", self.campaign));
        }
        let (from, to) = self.days(query.period)?;
        let mut state = self.lock();
        if !state.versions.contains_key(&key) {
            return Err(match key {
                CAMPAIGN => {
                    state.missed_campaign = true;
                    "the campaign's statistics are answered in the hooks called for a conversion only".into()
                }
                affiliate => format!(
                    "statistics are answered for the affiliates of this call only (the conversion's upline, or the \
                     evaluated affiliate), not affiliate {affiliate}"
                ),
            });
        }
        state.asked.insert(key);
        // `Metric`'s variants are in the order of `COLUMNS`.
        let column = query.metric as usize;
        let own: Vec<&Day> = match (own, key) {
            (false, _) => vec![],
            (true, CAMPAIGN) => state.own.values().flatten().collect(),
            (true, affiliate) => state.own.get(&affiliate).into_iter().flatten().collect(),
        };
        let sum: i128 = state
            .days
            .get(&key)
            .into_iter()
            .flatten()
            .chain(own)
            .filter(|day| day.day >= from && day.day < to && counts(query.statuses, day.status))
            .map(|day| day.sums[column])
            .sum();
        let scale = match query.metric {
            Metric::SalesCount | Metric::ActionsCount | Metric::RecurringCount => 0,
            _ => self.currency.exponent().into(),
        };
        Decimal::try_from_i128_with_scale(sum, scale).map_err(|err| format!("a sum of {sum}: {err}"))
    }

    /// The days of a span, which must start and end at midnights of the campaign's
    /// calendar, within the days kept one by one.
    fn span(&self, span: upline_types::Period) -> Result<(i32, i32), String> {
        let at =
            |millis: i64| DateTime::from_timestamp_millis(millis).ok_or_else(|| format!("{millis} is out of range"));
        let (start, end) = (at(span.start.millis())?, at(span.end.millis())?);
        for edge in [start, end] {
            let day = PeriodKind::Day.containing(&self.zone, edge).map_err(|err| err.to_string())?;
            if day.start != edge {
                return Err(format!(
                    "a span must start and end at midnight in the campaign's time zone ({}); {edge} is not",
                    self.zone.name()
                ));
            }
        }
        let days = (self.zone.day(start), self.zone.day(end));
        if days.0 < self.window {
            return Err("a span may not start before last year: ask for all time instead".into());
        }
        Ok(days)
    }
}

/// One conversion computed with an affiliate's statistics and not yet folded into
/// what the host knows of them.
#[derive(Debug, Clone)]
struct Pending {
    conversion: i64,
    /// Written (its counter moved on); folded once those before it are.
    written: bool,
    /// The affiliate's counter it expects to find.
    expected: i64,
    /// The counter once it is written.
    after: i64,
    /// Its commissions of the affiliate.
    days: Vec<Day>,
}

/// How long this host trusts sums it read: a decision, release, refund or payout (on
/// any host) shows in the statistics within this time. Another host's conversions
/// are seen at once: they move the counters the writer checks.
pub const KNOWN_FOR: std::time::Duration = std::time::Duration::from_secs(1);

/// An affiliate's sums as this host last read them, with its own conversions since.
#[derive(Debug, Clone)]
struct Known {
    version: i64,
    days: Vec<Day>,
    window: i32,
    read_at: std::time::Instant,
}

/// What this host knows of affiliates' statistics beyond the database: its
/// conversions computed with statistics and handed to the writer, per campaign and
/// affiliate they read, in the order handed over; and the sums it read recently,
/// kept up to date with those conversions as they are written.
#[derive(Debug, Default)]
pub struct InFlight {
    pending: Mutex<HashMap<(i64, i64), Vec<Pending>>>,
    known: Mutex<HashMap<(i64, i64), Known>>,
    /// The campaigns whose plugins asked about the whole campaign.
    campaign_wide: Mutex<BTreeSet<i64>>,
}

impl InFlight {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(i64, i64), Vec<Pending>>> {
        // Every update is a push, a retain or an assignment: a panic cannot leave it torn.
        self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn known(&self) -> std::sync::MutexGuard<'_, HashMap<(i64, i64), Known>> {
        self.known.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether `campaign`'s plugins asked about the whole campaign on this host: its
    /// conversions' snapshots then read the campaign's sums.
    pub fn wants_campaign(&self, campaign: i64) -> bool {
        self.campaign_wide.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).contains(&campaign)
    }

    /// Records that `campaign`'s plugins ask about the whole campaign.
    pub fn want_campaign(&self, campaign: i64) {
        self.campaign_wide.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(campaign);
    }

    /// The sums known of `affiliates` (read less than [`KNOWN_FOR`] ago), and the
    /// affiliates to read.
    fn cached(&self, campaign: i64, affiliates: &[i64], window: i32) -> (State, Vec<i64>) {
        let known = self.known();
        let (mut state, mut missing) = (State::default(), vec![]);
        for &affiliate in affiliates {
            match known.get(&(campaign, affiliate)) {
                Some(k) if k.window == window && k.read_at.elapsed() < KNOWN_FOR => {
                    state.versions.insert(affiliate, k.version);
                    state.days.insert(affiliate, k.days.clone());
                }
                _ => missing.push(affiliate),
            }
        }
        (state, missing)
    }

    /// Keeps sums just read.
    fn cache(&self, campaign: i64, read: &State, window: i32) {
        let mut known = self.known();
        let read_at = std::time::Instant::now();
        // Forget what is too old to be used (bounds the memory to the affiliates of
        // the last second).
        known.retain(|_, k| k.read_at.elapsed() < KNOWN_FOR);
        for (&affiliate, &version) in &read.versions {
            let days = read.days.get(&affiliate).cloned().unwrap_or_default();
            known.insert((campaign, affiliate), Known { version, days, window, read_at });
        }
    }

    /// Records a conversion handed to the writer: for each affiliate it read (with
    /// the counter it expects), its commissions of that affiliate (all of them for
    /// [`CAMPAIGN`]).
    pub fn add(&self, conversion: &conversion::Model, reads: &[(i64, i64)], commissions: &[commission::Model]) {
        if reads.is_empty() {
            return;
        }
        let mut pending = self.lock();
        for &(affiliate, expected) in reads {
            let days: Vec<Day> = commissions
                .iter()
                .filter(|row| affiliate == CAMPAIGN || row.affiliate_id == affiliate)
                .filter_map(|row| {
                    Some(Day { day: row.stats_day, status: row.status.parse().ok()?, sums: sums_of(row, conversion) })
                })
                .collect();
            let after = expected + i64::from(!days.is_empty());
            let queue = pending.entry((conversion.campaign_id, affiliate)).or_default();
            queue.push(Pending { conversion: conversion.id, written: false, expected, after, days });
        }
    }

    /// Records the writer's answer for a conversion: written, its commissions join
    /// the known sums (in the order the conversions were handed over); else it is
    /// dropped, and so are the known sums of the affiliates it read (something else
    /// changed them).
    pub fn answered(&self, conversion: &conversion::Model, reads: &[(i64, i64)], written: bool) {
        if reads.is_empty() {
            return;
        }
        let mut pending = self.lock();
        let mut known = self.known();
        for (affiliate, _) in reads {
            let key = (conversion.campaign_id, *affiliate);
            let Some(queue) = pending.get_mut(&key) else { continue };
            if written {
                queue.iter_mut().filter(|p| p.conversion == conversion.id).for_each(|p| p.written = true);
            } else {
                queue.retain(|p| p.conversion != conversion.id);
                known.remove(&key);
            }
            while queue.first().is_some_and(|p| p.written) {
                let folded = queue.remove(0);
                match known.get_mut(&key) {
                    Some(k) if k.version == folded.expected => {
                        k.days.extend(folded.days);
                        k.version = folded.after;
                    }
                    _ => {
                        known.remove(&key);
                    }
                }
            }
            if queue.is_empty() {
                pending.remove(&key);
            }
        }
    }
}

/// What a stored or planned commission of `conversion` adds to its affiliate's sums.
pub fn sums_of(row: &commission::Model, conversion: &conversion::Model) -> Sums {
    let counted = row.reverses_id.is_none() && !matches!(row.commission_type.as_str(), "bonus" | "adjustment");
    contribution(row.tier, row.amount_minor, counted, Some((conversion.kind.as_str(), conversion.commissionable_minor)))
}

/// The kind of calendar period a named period is, and whether it is the one before
/// the current; none for all time.
fn calendar(named: NamedPeriod) -> Option<(PeriodKind, bool)> {
    Some(match named {
        NamedPeriod::Today => (PeriodKind::Day, false),
        NamedPeriod::Yesterday => (PeriodKind::Day, true),
        NamedPeriod::ThisWeek => (PeriodKind::Week, false),
        NamedPeriod::LastWeek => (PeriodKind::Week, true),
        NamedPeriod::ThisMonth => (PeriodKind::Month, false),
        NamedPeriod::LastMonth => (PeriodKind::Month, true),
        NamedPeriod::ThisQuarter => (PeriodKind::Quarter, false),
        NamedPeriod::LastQuarter => (PeriodKind::Quarter, true),
        NamedPeriod::ThisYear => (PeriodKind::Year, false),
        NamedPeriod::LastYear => (PeriodKind::Year, true),
        NamedPeriod::AllTime => return None,
    })
}

/// Whether `statuses` counts commissions in `status`.
fn counts(statuses: StatusFilter, status: CommissionStatus) -> bool {
    use CommissionStatus as S;
    match statuses {
        StatusFilter::Approved => status == S::Approved,
        StatusFilter::Pending => status == S::Pending,
        StatusFilter::Declined => status == S::Declined,
        StatusFilter::ApprovedOrPending => matches!(status, S::Approved | S::Pending),
        StatusFilter::Paid => status == S::Paid,
        StatusFilter::Any => true,
    }
}

/// The campaign-wide form of an affiliate's query, and the affiliate.
fn split(query: &StatsQuery) -> (i64, CampaignQuery) {
    let StatsQuery { affiliate, campaign, metric, statuses, period } = *query;
    (affiliate.get() as i64, CampaignQuery { campaign, metric, statuses, period })
}

impl StatsSource for Snapshot {
    fn query(&self, query: &StatsQuery) -> Result<Decimal, String> {
        let (affiliate, query) = split(query);
        self.sum(affiliate, &query, true)
    }

    fn query_before(&self, query: &StatsQuery) -> Result<Decimal, String> {
        let (affiliate, query) = split(query);
        self.sum(affiliate, &query, false)
    }

    fn query_campaign(&self, query: &CampaignQuery) -> Result<Decimal, String> {
        self.sum(CAMPAIGN, query, true)
    }

    fn period_bounds(&self, campaign: u64, period: NamedPeriod) -> Result<upline_types::Period, String> {
        if campaign != self.campaign as u64 {
            return Err(format!("periods are answered for this call's campaign ({}) only", self.campaign));
        }
        named_bounds(&self.zone, self.now, period)
    }
}

/// The bounds of `named` in `zone` around `now`, as a plugin sees them; an error for
/// all time.
pub fn named_bounds(zone: &Zone, now: DateTime<Utc>, named: NamedPeriod) -> Result<upline_types::Period, String> {
    let period = bounds(zone, now, named)?.ok_or("all time has no bounds")?;
    let at = |time: DateTime<Utc>| upline_types::Timestamp::from_millis(time.timestamp_millis());
    Ok(upline_types::Period { start: at(period.start), end: at(period.end) })
}

/// The calendar period `named` stands for in `zone` around `now`; none for all time.
fn bounds(zone: &Zone, now: DateTime<Utc>, named: NamedPeriod) -> Result<Option<Period>, String> {
    let Some((kind, last)) = calendar(named) else { return Ok(None) };
    let mut period = kind.containing(zone, now).map_err(|err| err.to_string())?;
    if last {
        let before = period.start - chrono::Duration::milliseconds(1);
        period = kind.containing(zone, before).map_err(|err| err.to_string())?;
    }
    Ok(Some(period))
}

/// An affiliate's statistics in a campaign over one period, by commission status:
/// what a plugin's `stats` queries are answered with.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct StatsReport {
    /// The campaign.
    pub campaign: i64,
    /// The affiliate.
    pub affiliate: i64,
    /// The period, e.g. `this-month`.
    #[schema(value_type = String)]
    pub period: NamedPeriod,
    /// Per status (`approved`, `pending`, `declined`, `paid`), each metric (e.g.
    /// `sales-count`, `sales-total`) as a decimal string.
    #[schema(value_type = Object)]
    pub statuses: std::collections::BTreeMap<&'static str, std::collections::BTreeMap<String, String>>,
}

/// The statistics of `affiliate` in `campaign` over `period`, as of `now`.
pub async fn report(
    db: &DatabaseConnection,
    campaign: &campaign::Model,
    affiliate: i64,
    period: NamedPeriod,
    now: DateTime<Utc>,
) -> Result<StatsReport> {
    let snapshot = Snapshot::load(db, campaign, &[affiliate], now).await?;
    let filters = [
        ("approved", StatusFilter::Approved),
        ("pending", StatusFilter::Pending),
        ("declined", StatusFilter::Declined),
        ("paid", StatusFilter::Paid),
    ];
    let mut statuses = std::collections::BTreeMap::new();
    for (name, statuses_filter) in filters {
        let mut values = std::collections::BTreeMap::new();
        for metric in Metric::ALL {
            let query = StatsQuery {
                affiliate: (affiliate as u64).into(),
                campaign: (campaign.id as u64).into(),
                metric,
                statuses: statuses_filter,
                period: PeriodSpec::Named(period),
            };
            let value = snapshot.query(&query).map_err(Error::Internal)?;
            let key = serde_json::to_value(metric).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            values.insert(key, value.to_string());
        }
        statuses.insert(name, values);
    }
    Ok(StatsReport { campaign: campaign.id, affiliate, period, statuses })
}

#[cfg(test)]
mod tests {
    use super::*;
    use upline_types::{Period, Timestamp};

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("an RFC 3339 time")
    }

    /// Affiliate 7's sums in Amsterdam, read on 15 March 2026: a sale pending on each
    /// of 28 February 23:30 UTC (1 March there), 1 March and 15 March, one approved
    /// on 10 January 2024 (before the window).
    fn snapshot() -> Snapshot {
        let zone = Zone::parse("time-zone", "Europe/Amsterdam").expect("zone");
        let now = at("2026-03-15T12:00:00Z");
        let window = zone.day(at("2024-12-31T23:00:00Z"));
        let sale = contribution(1, 1_000, true, Some(("sale", 10_000)));
        let mut state = State::default();
        let days = state.days.entry(7).or_default();
        for time in ["2026-02-28T23:30:00Z", "2026-03-01T10:00:00Z", "2026-03-15T09:00:00Z"] {
            days.push(Day { day: zone.day(at(time)), status: CommissionStatus::Pending, sums: sale });
        }
        days.push(Day { day: BEFORE, status: CommissionStatus::Approved, sums: sale });
        state.versions.insert(7, 3);
        let currency = Currency::from_code("EUR").expect("EUR");
        Snapshot { campaign: 1, zone, currency, now, window, state: Mutex::new(state) }
    }

    fn ask(snapshot: &Snapshot, metric: Metric, statuses: StatusFilter, period: PeriodSpec) -> Result<Decimal, String> {
        snapshot.query(&StatsQuery { affiliate: 7.into(), campaign: 1.into(), metric, statuses, period })
    }

    #[test]
    fn named_periods_follow_the_campaigns_calendar() {
        let snapshot = snapshot();
        let sales = |period| ask(&snapshot, Metric::SalesCount, StatusFilter::Any, PeriodSpec::Named(period));
        // 28 February 23:30 UTC is 1 March in Amsterdam: this month, not last.
        assert_eq!(sales(NamedPeriod::ThisMonth), Ok(Decimal::from(3)));
        assert_eq!(sales(NamedPeriod::LastMonth), Ok(Decimal::ZERO));
        assert_eq!(sales(NamedPeriod::Today), Ok(Decimal::from(1)));
        assert_eq!(sales(NamedPeriod::ThisQuarter), Ok(Decimal::from(3)));
        assert_eq!(sales(NamedPeriod::AllTime), Ok(Decimal::from(4)));
        let total = ask(&snapshot, Metric::SalesTotal, StatusFilter::Pending, PeriodSpec::Named(NamedPeriod::ThisYear));
        assert_eq!(total, Ok("300.00".parse().expect("decimal")));
        assert_eq!(snapshot.asked(), [(7, 3)]);
    }

    #[test]
    fn spans_are_whole_days_of_the_campaigns_calendar_and_affiliates_of_the_call() {
        let snapshot = snapshot();
        let span = |start: &str, end: &str| {
            let (start, end) = (at(start).timestamp_millis(), at(end).timestamp_millis());
            PeriodSpec::Span(Period { start: Timestamp::from_millis(start), end: Timestamp::from_millis(end) })
        };
        // 1 March 00:00 in Amsterdam is 28 February 23:00 UTC.
        let march = span("2026-02-28T23:00:00Z", "2026-03-31T22:00:00Z");
        assert_eq!(ask(&snapshot, Metric::SalesCount, StatusFilter::Pending, march), Ok(Decimal::from(3)));
        let utc = span("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z");
        let err = ask(&snapshot, Metric::SalesCount, StatusFilter::Pending, utc).expect_err("not midnight");
        assert!(err.contains("midnight in the campaign's time zone (Europe/Amsterdam)"), "{err}");
        let other = StatsQuery {
            affiliate: 8.into(),
            campaign: 1.into(),
            metric: Metric::SalesCount,
            statuses: StatusFilter::Any,
            period: PeriodSpec::Named(NamedPeriod::AllTime),
        };
        assert!(snapshot.query(&other).expect_err("not loaded").contains("not affiliate 8"));
    }
}
