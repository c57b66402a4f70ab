//! What every contract version's module has in the same words: the calls of the
//! hooks every version has, and the conversions of the types they share. Each module
//! (`v0_1`, `v0_2`) generates its bindings, then expands [`shared!`] over them; what
//! differs between versions (the conversion record, the stats period, a rule's
//! input, new hooks) stays in the module.

/// Expands, in a version's module, the hook calls and conversions that read the same
/// in every version. The module provides `conversion`, `bonus_input`,
/// `upline_member`, its `Exports` struct (with `distribute`, `approve`, `carryover`
/// and `bonus_rules` indices) and the stats import.
macro_rules! shared {
    () => {
        /// Adds this version's imports (log, stats) to `linker`.
        pub fn add_to_linker(linker: &mut Linker<CallState>) -> Result<()> {
            log::add_to_linker::<CallState, wasmtime::component::HasSelf<CallState>>(linker, |state| state)
                .and_then(|()| {
                    stats::add_to_linker::<CallState, wasmtime::component::HasSelf<CallState>>(linker, |state| state)
                })
                .map_err(|err| Error::Internal(format!("linking the {VERSION} imports: {err}")))
        }

        /// The export of `hook` when the plugin implements it; a missing one is an
        /// error naming it.
        fn find<T>(hook: Hook, hooks: &[Hook], lookup: impl FnOnce() -> wasmtime::Result<T>) -> Result<Option<T>> {
            if !hooks.contains(&hook) {
                return Ok(None);
            }
            lookup().map(Some).map_err(|_| Error::MissingExport {
                hook,
                export: format!("upline:plugin/{}@{VERSION}", hook.interface()),
            })
        }

        impl Exports {
            /// Calls `distribute`. The outer error is a trap; the inner one the plugin's own.
            pub fn distribute(
                &self,
                store: &mut Store<CallState>,
                instance: &Instance,
                input: &sdk::DistributeInput,
                config: &str,
            ) -> wasmtime::Result<Result<Vec<sdk::CommissionLine>, String>> {
                let Some(indices) = &self.distribute else { return Ok(Err(not_implemented(Hook::Distribute))) };
                let input = distribute::DistributeInput {
                    now: input.now.millis(),
                    conversion: conversion(&input.conversion)?,
                    upline: input.upline.iter().map(upline_member).collect(),
                    groups: input.groups.iter().map(group).collect::<wasmtime::Result<_>>()?,
                    config: config.to_owned(),
                };
                let lines = indices.load(&mut *store, instance)?.call_distribute(&mut *store, &input)?;
                lift(lines, |lines| {
                    lines
                        .into_iter()
                        .map(|line| {
                            Ok(sdk::CommissionLine::new(
                                line.affiliate.into(),
                                line.tier,
                                from_money(line.amount)?,
                                line.explanation,
                            ))
                        })
                        .collect()
                })
            }

            /// Calls `approve`.
            pub fn approve(
                &self,
                store: &mut Store<CallState>,
                instance: &Instance,
                input: &sdk::ApprovalInput,
                config: &str,
            ) -> wasmtime::Result<Result<sdk::Decision, String>> {
                let Some(indices) = &self.approve else { return Ok(Err(not_implemented(Hook::Approve))) };
                let input = approve::ApprovalInput {
                    now: input.now.millis(),
                    commission: commission(&input.commission)?,
                    affiliate_first_login: input.affiliate_first_login.map(sdk::Timestamp::millis),
                    sub_affiliate_first_conversion: input.sub_affiliate_first_conversion.map(sdk::Timestamp::millis),
                    sub_affiliate_first_sale: input.sub_affiliate_first_sale.map(sdk::Timestamp::millis),
                    sub_affiliate_first_action: input.sub_affiliate_first_action.map(sdk::Timestamp::millis),
                    affiliate_since: input.affiliate_since.millis(),
                    hold_days: input.hold_days,
                    config: config.to_owned(),
                };
                let decision = indices.load(&mut *store, instance)?.call_approve(&mut *store, &input)?;
                lift(decision, |decision| {
                    Ok(match decision {
                        approve::Decision::Approve => sdk::Decision::Approve,
                        approve::Decision::Decline(reason) => sdk::Decision::Decline(reason),
                        approve::Decision::Pending(until) => sdk::Decision::Pending(match until {
                            approve::PendingUntil::Event(event) => sdk::PendingUntil::Event(match event {
                                approve::ApprovalEvent::AffiliateFirstLogin => sdk::ApprovalEvent::AffiliateFirstLogin,
                                approve::ApprovalEvent::SubAffiliateFirstConversion => {
                                    sdk::ApprovalEvent::SubAffiliateFirstConversion
                                }
                                approve::ApprovalEvent::SubAffiliateFirstSale => {
                                    sdk::ApprovalEvent::SubAffiliateFirstSale
                                }
                                approve::ApprovalEvent::SubAffiliateFirstAction => {
                                    sdk::ApprovalEvent::SubAffiliateFirstAction
                                }
                            }),
                            approve::PendingUntil::Time(at) => sdk::PendingUntil::Time(sdk::Timestamp::from_millis(at)),
                            approve::PendingUntil::Manual => sdk::PendingUntil::Manual,
                        }),
                    })
                })
            }

            /// Calls `close-period`.
            pub fn close_period(
                &self,
                store: &mut Store<CallState>,
                instance: &Instance,
                input: &sdk::CarryoverInput,
                config: &str,
            ) -> wasmtime::Result<Result<Vec<sdk::Adjustment>, String>> {
                let Some(indices) = &self.carryover else { return Ok(Err(not_implemented(Hook::Carryover))) };
                let input = carryover::CarryoverInput {
                    now: input.now.millis(),
                    period: period(input.period),
                    balances: input
                        .balances
                        .iter()
                        .map(|balance| {
                            Ok(carryover::Balance {
                                affiliate: balance.affiliate.get(),
                                campaign: balance.campaign.get(),
                                amount: money(balance.amount)?,
                            })
                        })
                        .collect::<wasmtime::Result<_>>()?,
                    config: config.to_owned(),
                };
                let adjustments = indices.load(&mut *store, instance)?.call_close_period(&mut *store, &input)?;
                lift(adjustments, |adjustments| {
                    adjustments
                        .into_iter()
                        .map(|a| {
                            Ok(sdk::Adjustment {
                                affiliate: a.affiliate.into(),
                                campaign: a.campaign.into(),
                                amount: from_money(a.amount)?,
                                product_id: a.product_id,
                                booking: match a.booking {
                                    carryover::Booking::ClosingPeriod => sdk::Booking::ClosingPeriod,
                                    carryover::Booking::NextPeriod => sdk::Booking::NextPeriod,
                                },
                                explanation: a.explanation,
                            })
                        })
                        .collect()
                })
            }

            /// Calls `evaluate` (bonus rules), with the version's input (`bonus_input`;
            /// none: nothing to decide).
            pub fn evaluate(
                &self,
                store: &mut Store<CallState>,
                instance: &Instance,
                input: &sdk::BonusInput,
                config: &str,
            ) -> wasmtime::Result<Result<Vec<sdk::Action>, String>> {
                let Some(indices) = &self.bonus_rules else { return Ok(Err(not_implemented(Hook::BonusRules))) };
                let Some(input) = bonus_input(input, config)? else { return Ok(Ok(vec![])) };
                let actions = indices.load(&mut *store, instance)?.call_evaluate(&mut *store, &input)?;
                lift(actions, |actions| actions.into_iter().map(action).collect())
            }
        }

        /// Converts a plugin's successful result to the SDK's types; a value that does not
        /// convert (a bad currency code, say) fails the call as invalid output.
        fn lift<T, U>(
            result: Result<T, String>,
            convert: impl FnOnce(T) -> Result<U, String>,
        ) -> wasmtime::Result<Result<U, String>> {
            match result {
                Ok(value) => convert(value).map(Ok).map_err(|message| BadOutput(message).into()),
                Err(message) => Ok(Err(message)),
            }
        }

        fn not_implemented(hook: Hook) -> String {
            format!("the plugin does not implement the `{hook}` hook")
        }

        fn action(action: bonus_rules::Action) -> Result<sdk::Action, String> {
            Ok(match action {
                bonus_rules::Action::Bonus(b) => sdk::Action::Bonus {
                    affiliate: b.affiliate.into(),
                    amount: from_money(b.amount)?,
                    explanation: b.explanation,
                },
                bonus_rules::Action::MoveToGroup(m) => sdk::Action::MoveToGroup {
                    affiliate: m.affiliate.into(),
                    group: m.group.into(),
                    retroactive_from: m.retroactive_from.map(sdk::Timestamp::from_millis),
                    explanation: m.explanation,
                },
                bonus_rules::Action::Award(a) => {
                    sdk::Action::Award { affiliate: a.affiliate.into(), name: a.name, description: a.description }
                }
                bonus_rules::Action::Notify(n) => {
                    sdk::Action::Notify { affiliate: n.affiliate.into(), message: n.message }
                }
            })
        }

        fn decimal(d: Decimal) -> wasmtime::Result<w::Decimal> {
            let d = if i64::try_from(d.mantissa()).is_ok() { d } else { d.normalize() };
            let mantissa = i64::try_from(d.mantissa()).map_err(|_| wasmtime::format_err!("amount {d} is too large"))?;
            // A Decimal's scale is at most 28.
            Ok(w::Decimal { mantissa, scale: d.scale() as u8 })
        }

        fn from_decimal(d: w::Decimal) -> Result<Decimal, String> {
            Decimal::try_from_i128_with_scale(d.mantissa.into(), d.scale.into())
                .map_err(|err| format!("invalid decimal {}e-{}: {err}", d.mantissa, d.scale))
        }

        fn money(m: sdk::Money) -> wasmtime::Result<w::Money> {
            Ok(w::Money {
                amount: decimal(m.amount())?,
                currency: m.currency().code().to_owned(),
                minor_units: m.currency().exponent(),
            })
        }

        /// A plugin's money: its currency code must be ISO 4217's and its minor units the
        /// ISO ones for that code (the plugin cannot make "1 EUR" mean 100 EUR).
        fn from_money(m: w::Money) -> Result<sdk::Money, String> {
            let currency = sdk::Currency::from_code(&m.currency).map_err(|err| err.to_string())?;
            if currency.exponent() != m.minor_units {
                return Err(format!(
                    "an amount in {currency} says {} minor-unit digits; {currency} has {}",
                    m.minor_units,
                    currency.exponent()
                ));
            }
            Ok(sdk::Money::new(from_decimal(m.amount)?, currency))
        }

        fn period(p: sdk::Period) -> w::Period {
            w::Period { start: p.start.millis(), end: p.end.millis() }
        }

        fn commission_type(t: &sdk::CommissionType) -> w::CommissionType {
            match t {
                sdk::CommissionType::Sale => w::CommissionType::Sale,
                sdk::CommissionType::Action(code) => w::CommissionType::Action(code.clone()),
                sdk::CommissionType::Recurring => w::CommissionType::Recurring,
            }
        }

        fn commission(c: &sdk::Commission) -> wasmtime::Result<w::Commission> {
            Ok(w::Commission {
                id: c.id.get(),
                conversion: c.conversion.get(),
                campaign: c.campaign.get(),
                affiliate: c.affiliate.get(),
                tier: c.tier,
                commission_type: commission_type(&c.commission_type),
                amount: money(c.amount)?,
                created_at: c.created_at.millis(),
            })
        }

        fn group(g: &sdk::CommissionGroup) -> wasmtime::Result<w::CommissionGroup> {
            Ok(w::CommissionGroup {
                id: g.id.get(),
                name: g.name.clone(),
                tiers: g
                    .tiers
                    .iter()
                    .map(|t| {
                        let (kind, value) = match t.rule {
                            sdk::TierRule::Percent(rate) => (w::TierKind::Percent, rate.as_percent()),
                            sdk::TierRule::Fixed(amount) => (w::TierKind::Fixed, amount),
                            sdk::TierRule::PercentOfPrevious(rate) => {
                                (w::TierKind::PercentOfPrevious, rate.as_percent())
                            }
                        };
                        Ok(w::TierSetting { tier: t.tier, kind, value: decimal(value)? })
                    })
                    .collect::<wasmtime::Result<_>>()?,
            })
        }

        impl log::Host for CallState {
            fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
                let level = match level {
                    log::Level::Trace => sdk::Level::Trace,
                    log::Level::Debug => sdk::Level::Debug,
                    log::Level::Info => sdk::Level::Info,
                    log::Level::Warn => sdk::Level::Warn,
                    log::Level::Error => sdk::Level::Error,
                };
                self.record_log(level, message)
            }

            fn report_panic(&mut self, message: String) -> wasmtime::Result<()> {
                self.record_panic(message)
            }
        }

        impl upline::plugin::types::Host for CallState {}

        /// The statistics query of a plugin, its period already the host's.
        fn stats_query(q: &stats::StatsQuery, period: sdk::PeriodSpec) -> sdk::StatsQuery {
            sdk::StatsQuery {
                affiliate: q.affiliate.into(),
                campaign: q.campaign.into(),
                metric: metric(q.metric),
                statuses: status_filter(q.statuses),
                period,
            }
        }

        fn status_filter(statuses: stats::StatusFilter) -> sdk::StatusFilter {
            match statuses {
                stats::StatusFilter::Approved => sdk::StatusFilter::Approved,
                stats::StatusFilter::Pending => sdk::StatusFilter::Pending,
                stats::StatusFilter::Declined => sdk::StatusFilter::Declined,
                stats::StatusFilter::ApprovedOrPending => sdk::StatusFilter::ApprovedOrPending,
                stats::StatusFilter::Paid => sdk::StatusFilter::Paid,
                stats::StatusFilter::Any => sdk::StatusFilter::Any,
            }
        }

        fn metric(metric: stats::Metric) -> sdk::Metric {
            match metric {
                stats::Metric::SalesCount => sdk::Metric::SalesCount,
                stats::Metric::SalesTotal => sdk::Metric::SalesTotal,
                stats::Metric::ActionsCount => sdk::Metric::ActionsCount,
                stats::Metric::CommissionsTotal => sdk::Metric::CommissionsTotal,
                stats::Metric::FirstTierCommissions => sdk::Metric::FirstTierCommissions,
                stats::Metric::SecondTierRevenue => sdk::Metric::SecondTierRevenue,
                stats::Metric::RecurringCount => sdk::Metric::RecurringCount,
                stats::Metric::RecurringTotal => sdk::Metric::RecurringTotal,
            }
        }

        /// A plugin's span of time.
        fn from_period(p: w::Period) -> sdk::Period {
            sdk::Period { start: sdk::Timestamp::from_millis(p.start), end: sdk::Timestamp::from_millis(p.end) }
        }
    };
}

pub(super) use shared;
