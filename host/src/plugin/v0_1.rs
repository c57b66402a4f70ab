//! Contract version 0.1: generated bindings and the conversions between them and
//! the SDK's types, which the rest of the host uses. What reads the same in every
//! version comes from [`shared!`](super::shared::shared).

use rust_decimal::Decimal;
use upline_types as sdk;
use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre, Linker};

use super::call::{BadOutput, CallState};
use crate::error::{Error, Result};
use upline_package::Hook;

wasmtime::component::bindgen!({
    path: "../plugin-sdk/wit/since_v0.1.0",
    world: "plugin",
    imports: { "upline:plugin/log.log": trappable, "upline:plugin/log.report-panic": trappable },
});

use exports::upline::plugin::{approve, bonus_rules, carryover, distribute};
use upline::plugin::{log, stats, types as w};

/// The contract version of the bindings, as export names spell it.
const VERSION: &str = "0.1.0";

/// The export indices of the hooks a plugin implements, looked up once per plugin.
pub struct Exports {
    distribute: Option<distribute::GuestIndices>,
    approve: Option<approve::GuestIndices>,
    carryover: Option<carryover::GuestIndices>,
    bonus_rules: Option<bonus_rules::GuestIndices>,
}

impl Exports {
    /// Looks up the exports of `hooks`; a missing one is an error naming it.
    pub fn new(pre: &InstancePre<CallState>, hooks: &[Hook]) -> Result<Self> {
        Ok(Self {
            distribute: find(Hook::Distribute, hooks, || distribute::GuestIndices::new(pre))?,
            approve: find(Hook::Approve, hooks, || approve::GuestIndices::new(pre))?,
            carryover: find(Hook::Carryover, hooks, || carryover::GuestIndices::new(pre))?,
            bonus_rules: find(Hook::BonusRules, hooks, || bonus_rules::GuestIndices::new(pre))?,
        })
    }
}

super::shared::shared!();

/// The 0.1 input of `evaluate`: no upline; none for a `signup`, a trigger 0.1 does
/// not know (the plugin decides nothing then, without a call).
fn bonus_input(input: &sdk::BonusInput, config: &str) -> wasmtime::Result<Option<bonus_rules::BonusInput>> {
    let trigger = match &input.trigger {
        sdk::Trigger::Conversion(c) => bonus_rules::Trigger::Conversion(conversion(c)?),
        sdk::Trigger::PeriodEnd(p) => bonus_rules::Trigger::PeriodEnd(period(*p)),
        sdk::Trigger::Signup => return Ok(None),
    };
    Ok(Some(bonus_rules::BonusInput {
        now: input.now.millis(),
        campaign: input.campaign.get(),
        affiliate: input.affiliate.get(),
        group: input.group.get(),
        groups: input.groups.iter().map(group).collect::<wasmtime::Result<_>>()?,
        trigger,
        config: config.to_owned(),
    }))
}

/// A 0.1 upline member has no customer reference.
fn upline_member(m: &sdk::UplineMember) -> w::UplineMember {
    w::UplineMember { affiliate: m.affiliate.get(), tier: m.tier, group: m.group.get() }
}

fn conversion(c: &sdk::Conversion) -> wasmtime::Result<w::Conversion> {
    Ok(w::Conversion {
        id: c.id.get(),
        campaign: c.campaign.get(),
        commission_type: commission_type(&c.commission_type),
        total: money(c.total)?,
        order_id: c.order_id.clone(),
        product_id: c.product_id.clone(),
        coupon: c.coupon.clone(),
        custom_fields: c
            .custom_fields
            .iter()
            .map(|(name, value)| w::CustomField { name: name.clone(), value: value.clone() })
            .collect(),
        occurred_at: c.occurred_at.millis(),
    })
}

impl stats::Host for CallState {
    /// A 0.1 plugin's period is a span of time.
    fn query(&mut self, q: stats::StatsQuery) -> Result<w::Decimal, String> {
        let query = stats_query(&q, sdk::PeriodSpec::Span(from_period(q.period)));
        self.stats(&query).and_then(|value| decimal(value).map_err(|err| err.to_string()))
    }
}
