//! Contract version 0.2: generated bindings and the conversions between them and
//! the SDK's types, which the rest of the host uses. New since 0.1: `screen`, the
//! customer reference, named stats periods and `progress`. What reads the same in every
//! version comes from [`shared!`](super::shared::shared).

use rust_decimal::Decimal;
use upline_types as sdk;
use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre, Linker};

use super::call::{BadOutput, CallState};
use crate::error::{Error, Result};
use upline_package::Hook;

wasmtime::component::bindgen!({
    path: "../plugin-sdk/wit/since_v0.2.0",
    world: "plugin",
    imports: { "upline:plugin/log.log": trappable, "upline:plugin/log.report-panic": trappable },
});

use exports::upline::plugin::{approve, bonus_rules, carryover, config, distribute, screen};
use upline::plugin::{log, stats, types as w};

/// The contract version of the bindings, as export names spell it.
const VERSION: &str = "0.2.0";

/// The export indices of the hooks a plugin implements, looked up once per plugin.
pub struct Exports {
    screen: Option<screen::GuestIndices>,
    distribute: Option<distribute::GuestIndices>,
    approve: Option<approve::GuestIndices>,
    carryover: Option<carryover::GuestIndices>,
    bonus_rules: Option<bonus_rules::GuestIndices>,
    config: config::GuestIndices,
}

impl Exports {
    /// Looks up the exports of `hooks`; a missing one is an error naming it.
    pub fn new(pre: &InstancePre<CallState>, hooks: &[Hook]) -> Result<Self> {
        Ok(Self {
            screen: find(Hook::Screen, hooks, || screen::GuestIndices::new(pre))?,
            distribute: find(Hook::Distribute, hooks, || distribute::GuestIndices::new(pre))?,
            approve: find(Hook::Approve, hooks, || approve::GuestIndices::new(pre))?,
            carryover: find(Hook::Carryover, hooks, || carryover::GuestIndices::new(pre))?,
            bonus_rules: find(Hook::BonusRules, hooks, || bonus_rules::GuestIndices::new(pre))?,
            config: config::GuestIndices::new(pre).map_err(|_| {
                let message = format!(
                    "the component does not export `upline:plugin/config@{VERSION}`, where a contract {VERSION} \
                     plugin describes its configuration: build it with the current SDK (`export_plugin!` exports it)"
                );
                Error::invalid_manifest("config-schema", message)
            })?,
        })
    }
}

super::shared::shared!();

fn conversion(c: &sdk::Conversion) -> wasmtime::Result<w::Conversion> {
    Ok(w::Conversion {
        id: c.id.get(),
        campaign: c.campaign.get(),
        commission_type: commission_type(&c.commission_type),
        total: money(c.total)?,
        order_id: c.order_id.clone(),
        product_id: c.product_id.clone(),
        coupon: c.coupon.clone(),
        customer: c.customer.clone(),
        custom_fields: c
            .custom_fields
            .iter()
            .map(|(name, value)| w::CustomField { name: name.clone(), value: value.clone() })
            .collect(),
        occurred_at: c.occurred_at.millis(),
    })
}

/// The 0.2 input of `evaluate`, with the upline.
fn bonus_input(input: &sdk::BonusInput, config: &str) -> wasmtime::Result<Option<bonus_rules::BonusInput>> {
    Ok(Some(bonus_rules::BonusInput {
        now: input.now.millis(),
        campaign: input.campaign.get(),
        affiliate: input.affiliate.get(),
        group: input.group.get(),
        groups: input.groups.iter().map(group).collect::<wasmtime::Result<_>>()?,
        trigger: match &input.trigger {
            sdk::Trigger::Conversion(c) => bonus_rules::Trigger::Conversion(conversion(c)?),
            sdk::Trigger::PeriodEnd(p) => bonus_rules::Trigger::PeriodEnd(period(*p)),
            sdk::Trigger::Signup => bonus_rules::Trigger::Signup,
        },
        upline: input.upline.iter().map(upline_member).collect(),
        config: config.to_owned(),
    }))
}

fn upline_member(m: &sdk::UplineMember) -> w::UplineMember {
    w::UplineMember { affiliate: m.affiliate.get(), tier: m.tier, group: m.group.get(), customer: m.customer.clone() }
}

impl stats::Host for CallState {
    fn query(&mut self, q: stats::StatsQuery) -> Result<w::Decimal, String> {
        let query = stats_query(&q, period_spec(q.period));
        self.stats(&query).and_then(|value| decimal(value).map_err(|err| err.to_string()))
    }

    fn query_before(&mut self, q: stats::StatsQuery) -> Result<w::Decimal, String> {
        let query = stats_query(&q, period_spec(q.period));
        self.stats_before(&query).and_then(|value| decimal(value).map_err(|err| err.to_string()))
    }

    fn query_campaign(&mut self, q: stats::CampaignQuery) -> Result<w::Decimal, String> {
        let query = sdk::CampaignQuery {
            campaign: q.campaign.into(),
            metric: metric(q.metric),
            statuses: status_filter(q.statuses),
            period: period_spec(q.period),
        };
        self.campaign_stats(&query).and_then(|value| decimal(value).map_err(|err| err.to_string()))
    }

    fn period_bounds(&mut self, campaign: u64, period: stats::NamedPeriod) -> Result<w::Period, String> {
        let bounds = self.named_bounds(campaign, named_period(period))?;
        Ok(w::Period { start: bounds.start.millis(), end: bounds.end.millis() })
    }
}

fn period_spec(spec: stats::PeriodSpec) -> sdk::PeriodSpec {
    match spec {
        stats::PeriodSpec::Named(named) => sdk::PeriodSpec::Named(named_period(named)),
        stats::PeriodSpec::Span(span) => sdk::PeriodSpec::Span(from_period(span)),
    }
}

fn named_period(named: stats::NamedPeriod) -> sdk::NamedPeriod {
    match named {
        stats::NamedPeriod::Today => sdk::NamedPeriod::Today,
        stats::NamedPeriod::Yesterday => sdk::NamedPeriod::Yesterday,
        stats::NamedPeriod::ThisWeek => sdk::NamedPeriod::ThisWeek,
        stats::NamedPeriod::LastWeek => sdk::NamedPeriod::LastWeek,
        stats::NamedPeriod::ThisMonth => sdk::NamedPeriod::ThisMonth,
        stats::NamedPeriod::LastMonth => sdk::NamedPeriod::LastMonth,
        stats::NamedPeriod::ThisQuarter => sdk::NamedPeriod::ThisQuarter,
        stats::NamedPeriod::LastQuarter => sdk::NamedPeriod::LastQuarter,
        stats::NamedPeriod::ThisYear => sdk::NamedPeriod::ThisYear,
        stats::NamedPeriod::LastYear => sdk::NamedPeriod::LastYear,
        stats::NamedPeriod::AllTime => sdk::NamedPeriod::AllTime,
    }
}

impl Exports {
    /// Calls `config.schema`: the JSON Schema of the plugin's configuration.
    pub fn config_schema(
        &self,
        store: &mut Store<CallState>,
        instance: &Instance,
    ) -> wasmtime::Result<Result<String, String>> {
        Ok(Ok(self.config.load(&mut *store, instance)?.call_schema(&mut *store)?))
    }

    /// Calls `config.check`: whether the plugin can read `config`, or where and why not.
    pub fn check_config(
        &self,
        store: &mut Store<CallState>,
        instance: &Instance,
        config: &str,
    ) -> wasmtime::Result<Result<super::contract::ConfigCheck, String>> {
        let checked = self.config.load(&mut *store, instance)?.call_check(&mut *store, config)?;
        Ok(Ok(checked.map_err(|err| (err.field, err.message))))
    }

    /// Calls `screen`.
    pub fn screen(
        &self,
        store: &mut Store<CallState>,
        instance: &Instance,
        input: &sdk::ScreenInput,
        config: &str,
    ) -> wasmtime::Result<Result<sdk::Verdict, String>> {
        let Some(indices) = &self.screen else { return Ok(Err(not_implemented(Hook::Screen))) };
        let input = screen::ScreenInput {
            now: input.now.millis(),
            conversion: conversion(&input.conversion)?,
            upline: input.upline.iter().map(upline_member).collect(),
            groups: input.groups.iter().map(group).collect::<wasmtime::Result<_>>()?,
            customer_conversions: input.customer_conversions,
            config: config.to_owned(),
        };
        let verdict = indices.load(&mut *store, instance)?.call_screen(&mut *store, &input)?;
        lift(verdict, |verdict| {
            Ok(match verdict {
                screen::Verdict::Accept => sdk::Verdict::Accept,
                screen::Verdict::Reject(reason) => sdk::Verdict::Reject(reason),
                screen::Verdict::UseGroup(group) => sdk::Verdict::UseGroup(group.into()),
                screen::Verdict::Manual(reason) => sdk::Verdict::Manual(reason),
                screen::Verdict::Hold(hold) => {
                    sdk::Verdict::Hold { until: sdk::Timestamp::from_millis(hold.until), reason: hold.reason }
                }
            })
        })
    }

    /// Calls `progress` (bonus rules).
    pub fn progress(
        &self,
        store: &mut Store<CallState>,
        instance: &Instance,
        input: &sdk::ProgressInput,
        config: &str,
    ) -> wasmtime::Result<Result<Option<sdk::Progress>, String>> {
        let Some(indices) = &self.bonus_rules else { return Ok(Err(not_implemented(Hook::BonusRules))) };
        let input = bonus_rules::ProgressInput {
            now: input.now.millis(),
            campaign: input.campaign.get(),
            affiliate: input.affiliate.get(),
            group: input.group.get(),
            groups: input.groups.iter().map(group).collect::<wasmtime::Result<_>>()?,
            config: config.to_owned(),
        };
        let progress = indices.load(&mut *store, instance)?.call_progress(&mut *store, &input)?;
        lift(progress, |progress| {
            let Some(progress) = progress else { return Ok(None) };
            let missing = progress
                .missing
                .into_iter()
                .map(|shortfall| {
                    Ok(sdk::Shortfall { metric: metric(shortfall.metric), amount: from_decimal(shortfall.amount)? })
                })
                .collect::<Result<_, String>>()?;
            Ok(Some(sdk::Progress {
                level: progress.level,
                next_level: progress.next_level,
                missing,
                summary: progress.summary,
            }))
        })
    }
}
