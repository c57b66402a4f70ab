//! Glue between the generated bindings and the SDK's types, used by [`export_plugin!`].
//! Not part of the SDK's API.
//!
//! [`export_plugin!`]: crate::export_plugin

use std::marker::PhantomData;
use std::sync::Once;

use rust_decimal::Decimal;

use crate::bindings::exports::upline::plugin::{approve, bonus_rules, carryover, config, distribute, screen};
use crate::bindings::upline::plugin::{log, stats, types as w};
use crate::*;
use crate::{
    Approve, BonusRules, CampaignQuery, Carryover, Currency, Distribute, Error, Host, Level, Metric, Money,
    NamedPeriod, PeriodSpec, Plugin, Rate, Result, Screen, StatsQuery, StatusFilter,
};

/// The generated types the export macro names.
pub mod wit {
    pub use crate::bindings::exports::upline::plugin::approve::{ApprovalInput, Decision};
    pub use crate::bindings::exports::upline::plugin::bonus_rules::{
        Action, BonusInput, LevelProgress as Progress, ProgressInput,
    };
    pub use crate::bindings::exports::upline::plugin::carryover::{Adjustment, CarryoverInput};
    pub use crate::bindings::exports::upline::plugin::distribute::{CommissionLine, DistributeInput};
    pub use crate::bindings::exports::upline::plugin::screen::{ScreenInput, Verdict};
}

/// `text` as the bytes of a custom section of `N` bytes (`N` is `text.len()`).
pub const fn section_bytes<const N: usize>(text: &str) -> [u8; N] {
    let src = text.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = src[i];
        i += 1;
    }
    out
}

/// Implements the generated export traits of the hooks a plugin type implements;
/// `export_plugin!` exports only those.
pub struct Adapter<T>(PhantomData<T>);

impl<T: Plugin> config::Guest for Adapter<T> {
    fn schema() -> String {
        // A schema is plain JSON data: serializing it cannot fail.
        serde_json::to_string(&schemars::schema_for!(T::Config)).unwrap_or_default()
    }

    fn check(config: String) -> Result<(), config::ConfigError> {
        parse_config::<T>(&config).map(drop)
    }
}

/// Deserializes a configuration, saying where it is wrong (as a JSON Pointer).
fn parse_config<P: Plugin>(config: &str) -> Result<P::Config, config::ConfigError> {
    let mut de = serde_json::Deserializer::from_str(config);
    serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let field = err
            .path()
            .iter()
            .filter_map(|segment| match segment {
                serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
                serde_path_to_error::Segment::Map { key } => Some(key.replace('~', "~0").replace('/', "~1")),
                serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => None,
            })
            .fold(String::new(), |pointer, token| format!("{pointer}/{token}"));
        config::ConfigError { field, message: err.into_inner().to_string() }
    })
}

impl<T: Screen> screen::Guest for Adapter<T> {
    fn screen(input: wit::ScreenInput) -> Result<wit::Verdict, String> {
        self::screen::<T>(input)
    }
}

impl<T: Distribute> distribute::Guest for Adapter<T> {
    fn distribute(input: wit::DistributeInput) -> Result<Vec<wit::CommissionLine>, String> {
        self::distribute::<T>(input)
    }
}

impl<T: Approve> approve::Guest for Adapter<T> {
    fn approve(input: wit::ApprovalInput) -> Result<wit::Decision, String> {
        self::approve::<T>(input)
    }
}

impl<T: Carryover> carryover::Guest for Adapter<T> {
    fn close_period(input: wit::CarryoverInput) -> Result<Vec<wit::Adjustment>, String> {
        self::close_period::<T>(input)
    }
}

impl<T: BonusRules> bonus_rules::Guest for Adapter<T> {
    fn evaluate(input: wit::BonusInput) -> Result<Vec<wit::Action>, String> {
        self::evaluate::<T>(input)
    }

    fn progress(input: wit::ProgressInput) -> Result<Option<wit::Progress>, String> {
        self::progress::<T>(input)
    }
}

/// Runs a hook: installs the panic hook, parses the configuration, and turns the
/// SDK's error into the message the host records.
fn run<P: Plugin, T>(config: &str, hook: impl FnOnce(&P::Config, &WasmHost) -> Result<T>) -> Result<T, String> {
    static PANIC_HOOK: Once = Once::new();
    PANIC_HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| log::report_panic(&info.to_string())));
    });
    let config = parse_config::<P>(config)
        .map_err(|err| format!("invalid plugin configuration at `{}`: {}", err.field, err.message))?;
    hook(&config, &WasmHost).map_err(|err| err.to_string())
}

/// The `screen` export of a [`Screen`] plugin.
fn screen<P: Screen>(input: wit::ScreenInput) -> Result<wit::Verdict, String> {
    run::<P, _>(&input.config, |config, host| {
        let input = ScreenInput {
            now: Timestamp::from_millis(input.now),
            conversion: conversion(input.conversion)?,
            upline: input.upline.into_iter().map(upline_member).collect(),
            groups: input.groups.into_iter().map(group).collect::<Result<_>>()?,
            customer_conversions: input.customer_conversions,
        };
        Ok(match P::screen(&input, config, host)? {
            Verdict::Accept => wit::Verdict::Accept,
            Verdict::Reject(reason) => wit::Verdict::Reject(reason),
            Verdict::UseGroup(group) => wit::Verdict::UseGroup(group.get()),
            Verdict::Manual(reason) => wit::Verdict::Manual(reason),
            Verdict::Hold { until, reason } => wit::Verdict::Hold(screen::Hold { until: until.millis(), reason }),
        })
    })
}

/// The `distribute` export of a [`Distribute`] plugin.
fn distribute<P: Distribute>(input: wit::DistributeInput) -> Result<Vec<wit::CommissionLine>, String> {
    run::<P, _>(&input.config, |config, host| {
        let input = DistributeInput {
            now: Timestamp::from_millis(input.now),
            conversion: conversion(input.conversion)?,
            upline: input.upline.into_iter().map(upline_member).collect(),
            groups: input.groups.into_iter().map(group).collect::<Result<_>>()?,
        };
        let lines = P::distribute(&input, config, host)?;
        lines
            .into_iter()
            .map(|line| {
                Ok(wit::CommissionLine {
                    affiliate: line.affiliate.get(),
                    tier: line.tier,
                    amount: to_money(line.amount)?,
                    explanation: line.explanation,
                })
            })
            .collect()
    })
}

/// The `approve` export of an [`Approve`] plugin.
fn approve<P: Approve>(input: wit::ApprovalInput) -> Result<wit::Decision, String> {
    run::<P, _>(&input.config, |config, host| {
        let input = ApprovalInput {
            now: Timestamp::from_millis(input.now),
            commission: commission(input.commission)?,
            affiliate_first_login: input.affiliate_first_login.map(Timestamp::from_millis),
            sub_affiliate_first_conversion: input.sub_affiliate_first_conversion.map(Timestamp::from_millis),
            sub_affiliate_first_sale: input.sub_affiliate_first_sale.map(Timestamp::from_millis),
            sub_affiliate_first_action: input.sub_affiliate_first_action.map(Timestamp::from_millis),
            affiliate_since: Timestamp::from_millis(input.affiliate_since),
            hold_days: input.hold_days,
        };
        Ok(match P::approve(&input, config, host)? {
            Decision::Approve => wit::Decision::Approve,
            Decision::Decline(reason) => wit::Decision::Decline(reason),
            Decision::Pending(PendingUntil::Event(event)) => {
                wit::Decision::Pending(approve::PendingUntil::Event(match event {
                    ApprovalEvent::AffiliateFirstLogin => approve::ApprovalEvent::AffiliateFirstLogin,
                    ApprovalEvent::SubAffiliateFirstConversion => approve::ApprovalEvent::SubAffiliateFirstConversion,
                    ApprovalEvent::SubAffiliateFirstSale => approve::ApprovalEvent::SubAffiliateFirstSale,
                    ApprovalEvent::SubAffiliateFirstAction => approve::ApprovalEvent::SubAffiliateFirstAction,
                }))
            }
            Decision::Pending(PendingUntil::Time(at)) => {
                wit::Decision::Pending(approve::PendingUntil::Time(at.millis()))
            }
            Decision::Pending(PendingUntil::Manual) => wit::Decision::Pending(approve::PendingUntil::Manual),
        })
    })
}

/// The `close-period` export of a [`Carryover`] plugin.
fn close_period<P: Carryover>(input: wit::CarryoverInput) -> Result<Vec<wit::Adjustment>, String> {
    run::<P, _>(&input.config, |config, host| {
        let input = CarryoverInput {
            now: Timestamp::from_millis(input.now),
            period: period(input.period),
            balances: input
                .balances
                .into_iter()
                .map(|balance| {
                    Ok(Balance {
                        affiliate: balance.affiliate.into(),
                        campaign: balance.campaign.into(),
                        amount: money(balance.amount)?,
                    })
                })
                .collect::<Result<_>>()?,
        };
        P::close_period(&input, config, host)?
            .into_iter()
            .map(|adjustment| {
                Ok(wit::Adjustment {
                    affiliate: adjustment.affiliate.get(),
                    campaign: adjustment.campaign.get(),
                    amount: to_money(adjustment.amount)?,
                    product_id: adjustment.product_id,
                    booking: match adjustment.booking {
                        Booking::ClosingPeriod => carryover::Booking::ClosingPeriod,
                        Booking::NextPeriod => carryover::Booking::NextPeriod,
                    },
                    explanation: adjustment.explanation,
                })
            })
            .collect()
    })
}

/// The `evaluate` export of a [`BonusRules`] plugin.
fn evaluate<P: BonusRules>(input: wit::BonusInput) -> Result<Vec<wit::Action>, String> {
    run::<P, _>(&input.config, |config, host| {
        let input = BonusInput {
            now: Timestamp::from_millis(input.now),
            campaign: input.campaign.into(),
            affiliate: input.affiliate.into(),
            group: input.group.into(),
            groups: input.groups.into_iter().map(group).collect::<Result<_>>()?,
            trigger: match input.trigger {
                bonus_rules::Trigger::Conversion(c) => Trigger::Conversion(conversion(c)?),
                bonus_rules::Trigger::PeriodEnd(p) => Trigger::PeriodEnd(period(p)),
                bonus_rules::Trigger::Signup => Trigger::Signup,
            },
            upline: input.upline.into_iter().map(upline_member).collect(),
        };
        P::evaluate(&input, config, host)?.into_iter().map(action).collect()
    })
}

/// The `progress` export of a [`BonusRules`] plugin.
fn progress<P: BonusRules>(input: wit::ProgressInput) -> Result<Option<wit::Progress>, String> {
    run::<P, _>(&input.config, |config, host| {
        let input = ProgressInput {
            now: Timestamp::from_millis(input.now),
            campaign: input.campaign.into(),
            affiliate: input.affiliate.into(),
            group: input.group.into(),
            groups: input.groups.into_iter().map(group).collect::<Result<_>>()?,
        };
        let Some(progress) = P::progress(&input, config, host)? else { return Ok(None) };
        Ok(Some(wit::Progress {
            level: progress.level,
            next_level: progress.next_level,
            missing: progress
                .missing
                .into_iter()
                .map(|shortfall| {
                    Ok(bonus_rules::Shortfall {
                        metric: metric(shortfall.metric),
                        amount: to_decimal(shortfall.amount)?,
                    })
                })
                .collect::<Result<_>>()?,
            summary: progress.summary,
        }))
    })
}

fn action(action: Action) -> Result<wit::Action> {
    Ok(match action {
        Action::Bonus { affiliate, amount, explanation } => wit::Action::Bonus(bonus_rules::BonusCommission {
            affiliate: affiliate.get(),
            amount: to_money(amount)?,
            explanation,
        }),
        Action::MoveToGroup { affiliate, group, retroactive_from, explanation } => {
            wit::Action::MoveToGroup(bonus_rules::GroupMove {
                affiliate: affiliate.get(),
                group: group.get(),
                retroactive_from: retroactive_from.map(Timestamp::millis),
                explanation,
            })
        }
        Action::Award { affiliate, name, description } => {
            wit::Action::Award(bonus_rules::Award { affiliate: affiliate.get(), name, description })
        }
        Action::Notify { affiliate, message } => {
            wit::Action::Notify(bonus_rules::Notification { affiliate: affiliate.get(), message })
        }
    })
}

/// The real host, through the component's imports.
struct WasmHost;

impl Host for WasmHost {
    fn log(&self, level: Level, message: &str) {
        let level = match level {
            Level::Trace => log::Level::Trace,
            Level::Debug => log::Level::Debug,
            Level::Info => log::Level::Info,
            Level::Warn => log::Level::Warn,
            Level::Error => log::Level::Error,
        };
        log::log(level, message);
    }

    fn stats(&self, query: &StatsQuery) -> Result<Decimal> {
        decimal(stats::query(stats_query(query))?)
    }

    fn stats_before(&self, query: &StatsQuery) -> Result<Decimal> {
        decimal(stats::query_before(stats_query(query))?)
    }

    fn campaign_stats(&self, query: &CampaignQuery) -> Result<Decimal> {
        decimal(stats::query_campaign(campaign_query(query))?)
    }

    fn period(&self, campaign: CampaignId, period: NamedPeriod) -> Result<Period> {
        let bounds = stats::period_bounds(campaign.get(), named_period(period))?;
        Ok(Period { start: Timestamp::from_millis(bounds.start), end: Timestamp::from_millis(bounds.end) })
    }
}

fn stats_query(query: &StatsQuery) -> stats::StatsQuery {
    stats::StatsQuery {
        affiliate: query.affiliate.get(),
        campaign: query.campaign.get(),
        metric: metric(query.metric),
        statuses: status_filter(query.statuses),
        period: period_spec(query.period),
    }
}

fn campaign_query(query: &CampaignQuery) -> stats::CampaignQuery {
    stats::CampaignQuery {
        campaign: query.campaign.get(),
        metric: metric(query.metric),
        statuses: status_filter(query.statuses),
        period: period_spec(query.period),
    }
}

fn status_filter(statuses: StatusFilter) -> stats::StatusFilter {
    match statuses {
        StatusFilter::Approved => stats::StatusFilter::Approved,
        StatusFilter::Pending => stats::StatusFilter::Pending,
        StatusFilter::Declined => stats::StatusFilter::Declined,
        StatusFilter::ApprovedOrPending => stats::StatusFilter::ApprovedOrPending,
        StatusFilter::Paid => stats::StatusFilter::Paid,
        StatusFilter::Any => stats::StatusFilter::Any,
    }
}

fn period_spec(period: PeriodSpec) -> stats::PeriodSpec {
    match period {
        PeriodSpec::Named(named) => stats::PeriodSpec::Named(named_period(named)),
        PeriodSpec::Span(span) => {
            stats::PeriodSpec::Span(w::Period { start: span.start.millis(), end: span.end.millis() })
        }
    }
}

fn named_period(named: NamedPeriod) -> stats::NamedPeriod {
    match named {
        NamedPeriod::Today => stats::NamedPeriod::Today,
        NamedPeriod::Yesterday => stats::NamedPeriod::Yesterday,
        NamedPeriod::ThisWeek => stats::NamedPeriod::ThisWeek,
        NamedPeriod::LastWeek => stats::NamedPeriod::LastWeek,
        NamedPeriod::ThisMonth => stats::NamedPeriod::ThisMonth,
        NamedPeriod::LastMonth => stats::NamedPeriod::LastMonth,
        NamedPeriod::ThisQuarter => stats::NamedPeriod::ThisQuarter,
        NamedPeriod::LastQuarter => stats::NamedPeriod::LastQuarter,
        NamedPeriod::ThisYear => stats::NamedPeriod::ThisYear,
        NamedPeriod::LastYear => stats::NamedPeriod::LastYear,
        NamedPeriod::AllTime => stats::NamedPeriod::AllTime,
    }
}

fn metric(metric: Metric) -> stats::Metric {
    match metric {
        Metric::SalesCount => stats::Metric::SalesCount,
        Metric::SalesTotal => stats::Metric::SalesTotal,
        Metric::ActionsCount => stats::Metric::ActionsCount,
        Metric::CommissionsTotal => stats::Metric::CommissionsTotal,
        Metric::FirstTierCommissions => stats::Metric::FirstTierCommissions,
        Metric::SecondTierRevenue => stats::Metric::SecondTierRevenue,
        Metric::RecurringCount => stats::Metric::RecurringCount,
        Metric::RecurringTotal => stats::Metric::RecurringTotal,
    }
}

fn decimal(d: w::Decimal) -> Result<Decimal> {
    Decimal::try_from_i128_with_scale(d.mantissa.into(), d.scale.into())
        .map_err(|err| Error::new(format!("invalid decimal from host: {err}")))
}

fn to_decimal(d: Decimal) -> Result<w::Decimal> {
    let d = if i64::try_from(d.mantissa()).is_ok() { d } else { d.normalize() };
    let mantissa = i64::try_from(d.mantissa()).map_err(|_| Error::new(format!("amount {d} is too large")))?;
    // A Decimal's scale is at most 28.
    Ok(w::Decimal { mantissa, scale: d.scale() as u8 })
}

fn money(m: w::Money) -> Result<Money> {
    Ok(Money::new(decimal(m.amount)?, Currency::new(&m.currency, m.minor_units)?))
}

fn to_money(m: Money) -> Result<w::Money> {
    Ok(w::Money {
        amount: to_decimal(m.amount())?,
        currency: m.currency().code().to_owned(),
        minor_units: m.currency().exponent(),
    })
}

fn period(p: w::Period) -> Period {
    Period { start: Timestamp::from_millis(p.start), end: Timestamp::from_millis(p.end) }
}

fn commission_type(t: w::CommissionType) -> CommissionType {
    match t {
        w::CommissionType::Sale => CommissionType::Sale,
        w::CommissionType::Action(code) => CommissionType::Action(code),
        w::CommissionType::Recurring => CommissionType::Recurring,
    }
}

fn conversion(c: w::Conversion) -> Result<Conversion> {
    Ok(Conversion {
        id: c.id.into(),
        campaign: c.campaign.into(),
        commission_type: commission_type(c.commission_type),
        total: money(c.total)?,
        order_id: c.order_id,
        product_id: c.product_id,
        coupon: c.coupon,
        customer: c.customer,
        custom_fields: c.custom_fields.into_iter().map(|f| (f.name, f.value)).collect(),
        occurred_at: Timestamp::from_millis(c.occurred_at),
    })
}

fn commission(c: w::Commission) -> Result<Commission> {
    Ok(Commission {
        id: c.id.into(),
        conversion: c.conversion.into(),
        campaign: c.campaign.into(),
        affiliate: c.affiliate.into(),
        tier: c.tier,
        commission_type: commission_type(c.commission_type),
        amount: money(c.amount)?,
        created_at: Timestamp::from_millis(c.created_at),
    })
}

fn upline_member(m: w::UplineMember) -> UplineMember {
    UplineMember { affiliate: m.affiliate.into(), tier: m.tier, group: m.group.into(), customer: m.customer }
}

fn group(g: w::CommissionGroup) -> Result<CommissionGroup> {
    Ok(CommissionGroup {
        id: g.id.into(),
        name: g.name,
        tiers: g
            .tiers
            .into_iter()
            .map(|t| {
                let value = decimal(t.value)?;
                let rule = match t.kind {
                    w::TierKind::Percent => TierRule::Percent(Rate::percent(value)),
                    w::TierKind::Fixed => TierRule::Fixed(value),
                    w::TierKind::PercentOfPrevious => TierRule::PercentOfPrevious(Rate::percent(value)),
                };
                Ok(TierSetting { tier: t.tier, rule })
            })
            .collect::<Result<_>>()?,
    })
}
