//! Calendar time in a campaign's IANA time zone: the periods rules and closes are
//! computed over, and the recurrences subscriptions pay on. All calendar arithmetic
//! is jiff's (time zones, DST, month lengths, leap years); see `docs/time.md`.
//!
//! A recurrence's payments are counted from its start, not from the previous
//! payment: payment `n` is the start plus `n` steps. A monthly subscription that
//! started on the 31st pays on the last day of shorter months and on the 31st again
//! in the months that have one; one that started on 29 February pays on 28 February
//! in the years without the 29th.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp, Zoned};
use serde::{Deserialize, Serialize};

use super::campaign::invalid;
use crate::error::{Error, Result};

/// A campaign's time zone: an IANA name such as `Europe/Amsterdam`, or `UTC`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl Zone {
    /// `UTC`.
    pub fn utc() -> Self {
        Self { name: "UTC".into(), tz: TimeZone::UTC }
    }

    /// Parses an IANA time zone name; `field` names it in the error.
    pub fn parse(field: &str, name: &str) -> Result<Self> {
        let tz = TimeZone::get(name.trim())
            .map_err(|_| invalid(field, format!("`{name}` is not an IANA time zone name (e.g. Europe/Amsterdam)")))?;
        Ok(Self { name: name.trim().to_owned(), tz })
    }

    /// A stored name (checked when it was stored).
    pub fn stored(name: &str) -> Result<Self> {
        Self::parse("time-zone", name).map_err(|_| Error::Database(format!("unknown stored time zone `{name}`")))
    }

    /// Its IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Midnight (in this zone) on day `day` of the month that contains `at`.
    pub fn day_of_month(&self, at: DateTime<Utc>, day: i8) -> Result<DateTime<Utc>> {
        let date = self.zoned(at).date();
        midnight(self, jiff::civil::Date::new(date.year(), date.month(), day).map_err(calendar)?)
    }

    /// The date of `at` on this zone's calendar, as days since 1970-01-01: the day a
    /// commission counts on in the statistics.
    pub fn day(&self, at: DateTime<Utc>) -> i32 {
        (self.zoned(at).date() - jiff::civil::date(1970, 1, 1)).get_days()
    }

    /// `at` on this zone's calendar and clock.
    fn zoned(&self, at: DateTime<Utc>) -> Zoned {
        let timestamp = Timestamp::from_millisecond(at.timestamp_millis()).unwrap_or(Timestamp::UNIX_EPOCH);
        timestamp.to_zoned(self.tz.clone())
    }
}

/// A calendar period kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PeriodKind {
    /// Midnight to midnight.
    Day,
    /// Monday to Monday (ISO weeks).
    Week,
    /// The first of a month to the first of the next.
    Month,
    /// January, April, July, October.
    Quarter,
    /// 1 January to 1 January.
    Year,
}

impl PeriodKind {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodKind::Day => "day",
            PeriodKind::Week => "week",
            PeriodKind::Month => "month",
            PeriodKind::Quarter => "quarter",
            PeriodKind::Year => "year",
        }
    }

    /// A stored kind.
    pub fn stored(text: &str) -> Result<Self> {
        serde_json::from_value(serde_json::Value::String(text.into()))
            .map_err(|_| Error::Database(format!("unknown stored period `{text}`")))
    }

    /// The period of this kind that contains `at`, in `zone`: its start (inclusive)
    /// and end (exclusive), both at midnight on the zone's clock.
    pub fn containing(self, zone: &Zone, at: DateTime<Utc>) -> Result<Period> {
        let date = zone.zoned(at).date();
        let first = match self {
            PeriodKind::Day => date,
            PeriodKind::Week => {
                date.checked_sub(Span::new().days(date.weekday().to_monday_zero_offset())).map_err(calendar)?
            }
            PeriodKind::Month => date.first_of_month(),
            PeriodKind::Quarter => {
                jiff::civil::Date::new(date.year(), (date.month() - 1) / 3 * 3 + 1, 1).map_err(calendar)?
            }
            PeriodKind::Year => date.first_of_year(),
        };
        let next = first.checked_add(self.step()).map_err(calendar)?;
        Ok(Period { start: midnight(zone, first)?, end: midnight(zone, next)? })
    }

    /// The period of this kind that follows the one containing `at`.
    pub fn after(self, zone: &Zone, at: DateTime<Utc>) -> Result<Period> {
        self.containing(zone, self.containing(zone, at)?.end)
    }

    fn step(self) -> Span {
        match self {
            PeriodKind::Day => Span::new().days(1),
            PeriodKind::Week => Span::new().weeks(1),
            PeriodKind::Month => Span::new().months(1),
            PeriodKind::Quarter => Span::new().months(3),
            PeriodKind::Year => Span::new().years(1),
        }
    }
}

/// A half-open span of time: from `start`, up to but not including `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// Inclusive.
    pub start: DateTime<Utc>,
    /// Exclusive.
    pub end: DateTime<Utc>,
}

/// The first moment of `date` in `zone` (midnight, or the first time after a DST
/// gap that skips it).
fn midnight(zone: &Zone, date: jiff::civil::Date) -> Result<DateTime<Utc>> {
    let zoned = date.to_zoned(zone.tz.clone()).map_err(calendar)?;
    utc(&zoned)
}

fn utc(zoned: &Zoned) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(zoned.timestamp().as_millisecond())
        .ok_or_else(|| Error::Internal(format!("{zoned} is out of range")))
}

fn calendar(err: jiff::Error) -> Error {
    Error::Internal(format!("calendar: {err}"))
}

/// How often a subscription pays (DOMAIN.md's recurrences).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recurrence {
    /// Never: a conversion starts no subscription.
    None,
    /// Every 15 minutes.
    Every15Minutes,
    /// Every 4 hours.
    Every4Hours,
    /// Every day, at the start's time of day on the zone's clock.
    Daily,
    /// Every 7 days.
    Weekly,
    /// Every `n` days (1 to 3650).
    EveryDays(u16),
    /// Every month, on the start's day (or the month's last day when shorter).
    Monthly,
    /// Every 3 months.
    Quarterly,
    /// Every 6 months.
    SemiAnnual,
    /// Every year.
    Yearly,
    /// No schedule: the merchant reports each payment.
    Varied,
}

impl Recurrence {
    /// When payment `n` (1 for the first after the start) falls due, for a
    /// subscription that started at `start`; `None` for recurrences without a
    /// schedule.
    pub fn due(self, zone: &Zone, start: DateTime<Utc>, n: u32) -> Result<Option<DateTime<Utc>>> {
        let n = i64::from(n);
        let step = match self {
            Recurrence::None | Recurrence::Varied => return Ok(None),
            Recurrence::Every15Minutes => Span::new().minutes(15 * n),
            Recurrence::Every4Hours => Span::new().hours(4 * n),
            Recurrence::Daily => Span::new().days(n),
            Recurrence::Weekly => Span::new().days(7 * n),
            Recurrence::EveryDays(days) => Span::new().days(i64::from(days) * n),
            Recurrence::Monthly => Span::new().months(n),
            Recurrence::Quarterly => Span::new().months(3 * n),
            Recurrence::SemiAnnual => Span::new().months(6 * n),
            Recurrence::Yearly => Span::new().years(n),
        };
        let due = zone.zoned(start).checked_add(step).map_err(calendar)?;
        utc(&due).map(Some)
    }

    /// Whether payments come on a schedule (not `none`, not `varied`).
    pub fn is_scheduled(self) -> bool {
        !matches!(self, Recurrence::None | Recurrence::Varied)
    }
}

impl fmt::Display for Recurrence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Recurrence::None => f.write_str("none"),
            Recurrence::Every15Minutes => f.write_str("every-15-minutes"),
            Recurrence::Every4Hours => f.write_str("every-4-hours"),
            Recurrence::Daily => f.write_str("daily"),
            Recurrence::Weekly => f.write_str("weekly"),
            Recurrence::EveryDays(n) => write!(f, "every-{n}-days"),
            Recurrence::Monthly => f.write_str("monthly"),
            Recurrence::Quarterly => f.write_str("quarterly"),
            Recurrence::SemiAnnual => f.write_str("semi-annual"),
            Recurrence::Yearly => f.write_str("yearly"),
            Recurrence::Varied => f.write_str("varied"),
        }
    }
}

impl FromStr for Recurrence {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        Ok(match text {
            "none" => Recurrence::None,
            "every-15-minutes" => Recurrence::Every15Minutes,
            "every-4-hours" => Recurrence::Every4Hours,
            "daily" => Recurrence::Daily,
            "weekly" => Recurrence::Weekly,
            "monthly" => Recurrence::Monthly,
            "quarterly" => Recurrence::Quarterly,
            "semi-annual" => Recurrence::SemiAnnual,
            "yearly" => Recurrence::Yearly,
            "varied" => Recurrence::Varied,
            _ => match text.strip_prefix("every-").and_then(|rest| rest.strip_suffix("-days")) {
                Some(n) => match n.parse::<u16>() {
                    Ok(n @ 1..=3650) => Recurrence::EveryDays(n),
                    _ => return Err(format!("`{text}`: every-N-days takes N from 1 to 3650")),
                },
                None => {
                    return Err(format!(
                        "`{text}` is not none, every-15-minutes, every-4-hours, daily, weekly, every-N-days, \
                         monthly, quarterly, semi-annual, yearly or varied"
                    ));
                }
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("an RFC 3339 time")
    }

    fn dues(recurrence: &str, zone: &Zone, start: &str, count: u32) -> Vec<String> {
        let recurrence: Recurrence = recurrence.parse().expect("a recurrence");
        (1..=count)
            .map(|n| {
                let due = recurrence.due(zone, at(start), n).expect("computable").expect("scheduled");
                zone.zoned(due).strftime("%Y-%m-%d %H:%M").to_string()
            })
            .collect()
    }

    #[test]
    fn monthly_payments_stay_anchored_to_the_day_they_started() {
        let utc = Zone::utc();
        assert_eq!(
            dues("monthly", &utc, "2027-01-31T10:00:00Z", 4),
            ["2027-02-28 10:00", "2027-03-31 10:00", "2027-04-30 10:00", "2027-05-31 10:00"]
        );
        assert_eq!(
            dues("yearly", &utc, "2028-02-29T00:00:00Z", 4),
            ["2029-02-28 00:00", "2030-02-28 00:00", "2031-02-28 00:00", "2032-02-29 00:00"]
        );
        assert_eq!(
            dues("quarterly", &utc, "2027-11-30T08:00:00Z", 3),
            ["2028-02-29 08:00", "2028-05-30 08:00", "2028-08-30 08:00"]
        );
        assert_eq!(dues("semi-annual", &utc, "2027-08-31T08:00:00Z", 2), ["2028-02-29 08:00", "2028-08-31 08:00"]);
    }

    #[test]
    fn daily_payments_keep_the_local_time_across_dst() {
        let amsterdam = Zone::parse("time-zone", "Europe/Amsterdam").expect("a zone");
        // 27 March 2027 is the day before the clocks go forward in Amsterdam.
        assert_eq!(
            dues("daily", &amsterdam, "2027-03-27T08:00:00Z", 2),
            ["2027-03-28 09:00", "2027-03-29 09:00"],
            "09:00 local each day, 23 hours apart once"
        );
        assert_eq!(dues("every-4-hours", &amsterdam, "2027-03-27T23:00:00Z", 1), ["2027-03-28 05:00"]);
        assert_eq!(
            dues("every-15-minutes", &Zone::utc(), "2027-01-01T23:50:00Z", 2),
            ["2027-01-02 00:05", "2027-01-02 00:20"]
        );
        assert_eq!(dues("every-10-days", &Zone::utc(), "2027-02-25T00:00:00Z", 1), ["2027-03-07 00:00"]);
        assert_eq!(dues("weekly", &Zone::utc(), "2027-02-25T00:00:00Z", 1), ["2027-03-04 00:00"]);
    }

    #[test]
    fn periods_start_at_midnight_in_the_campaign_zone() {
        let amsterdam = Zone::parse("time-zone", "Europe/Amsterdam").expect("a zone");
        let month = PeriodKind::Month.containing(&amsterdam, at("2027-03-31T22:30:00Z")).expect("a period");
        // 00:30 on 1 April in Amsterdam (summer time, UTC+2).
        assert_eq!((month.start, month.end), (at("2027-03-31T22:00:00Z"), at("2027-04-30T22:00:00Z")));
        let march = PeriodKind::Month.containing(&amsterdam, at("2027-03-15T12:00:00Z")).expect("a period");
        assert_eq!((march.start, march.end), (at("2027-02-28T23:00:00Z"), at("2027-03-31T22:00:00Z")));
        let week = PeriodKind::Week.containing(&Zone::utc(), at("2027-01-01T12:00:00Z")).expect("a period");
        assert_eq!((week.start, week.end), (at("2026-12-28T00:00:00Z"), at("2027-01-04T00:00:00Z")));
        let quarter = PeriodKind::Quarter.containing(&Zone::utc(), at("2027-05-20T00:00:00Z")).expect("a period");
        assert_eq!((quarter.start, quarter.end), (at("2027-04-01T00:00:00Z"), at("2027-07-01T00:00:00Z")));
        let next = PeriodKind::Year.after(&Zone::utc(), at("2027-05-20T00:00:00Z")).expect("a period");
        assert_eq!(next.start, at("2028-01-01T00:00:00Z"));
    }

    #[test]
    fn recurrences_parse_and_print_alike() {
        for text in [
            "none",
            "every-15-minutes",
            "every-4-hours",
            "daily",
            "weekly",
            "every-45-days",
            "monthly",
            "quarterly",
            "semi-annual",
            "yearly",
            "varied",
        ] {
            assert_eq!(text.parse::<Recurrence>().expect(text).to_string(), text);
        }
        assert!("every-0-days".parse::<Recurrence>().is_err());
        assert!("fortnightly".parse::<Recurrence>().is_err());
        assert!(Zone::parse("time-zone", "Mars/Olympus").is_err());
    }
}
