//! Screening guards (DOMAIN.md, "Other commission plugins"), each switched on by
//! configuring it, checked in this order before any commission is computed:
//!
//! 1. `no-self-purchase`: no commission when the referring affiliate is the buyer
//!    (the conversion's `customer` equals the affiliate's own customer reference,
//!    which the operator records with `PUT /api/v1/affiliates/{id}/customer`);
//! 2. `max-per-customer`: at most this many commissions per referred customer (the
//!    customer's earlier conversions in the campaign, any affiliate's);
//! 3. `order-total`: a sale filter, a minimum and a maximum order total; a sale
//!    outside them is rejected, sent to manual approval, or paid with another group;
//! 4. `budget`: a cap on the campaign's commissions in a period (every affiliate's,
//!    not declined); once they reach it, a conversion earns nothing, its commissions
//!    wait until the period ends, or they wait for an operator. Needs `stats`.

use schemars::JsonSchema;
use serde::Deserialize;
use upline_plugin_sdk::prelude::*;
use upline_plugin_sdk::{CampaignQuery, Metric, NamedPeriod, PeriodSpec, ScreenInput, StatusFilter, Verdict};

/// The plugin.
pub struct Guards;

/// Per-campaign configuration: each guard applies only when configured.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "Guards")]
pub struct Config {
    /// No commission when the referring affiliate is the buyer.
    #[serde(default)]
    pub no_self_purchase: bool,
    /// At most this many commissions per referred customer.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_per_customer: Option<u32>,
    /// Minimum and maximum order total.
    #[serde(default)]
    pub order_total: Option<OrderTotal>,
    /// A cap on the campaign's commissions in a period.
    #[serde(default)]
    pub budget: Option<Budget>,
}

/// A budget cap on the campaign's commissions (approved, pending or paid; every
/// affiliate's, every tier, bonuses included) in a period of its calendar.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Budget {
    /// The most, in the campaign's currency; more than 0.
    #[serde(deserialize_with = "positive")]
    pub amount: Decimal,
    /// The period it is counted over.
    pub period: BudgetPeriod,
    /// What happens to a conversion's commissions once the budget is reached.
    pub when_reached: WhenReached,
}

/// The period a budget renews with, in the campaign's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BudgetPeriod {
    /// Each calendar day.
    Day,
    /// Each week, from Monday.
    Week,
    /// Each calendar month.
    Month,
    /// Each quarter.
    Quarter,
    /// Each calendar year.
    Year,
}

impl BudgetPeriod {
    /// The named period that is the current one.
    fn current(self) -> NamedPeriod {
        match self {
            Self::Day => NamedPeriod::Today,
            Self::Week => NamedPeriod::ThisWeek,
            Self::Month => NamedPeriod::ThisMonth,
            Self::Quarter => NamedPeriod::ThisQuarter,
            Self::Year => NamedPeriod::ThisYear,
        }
    }
}

/// What happens once the budget is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum WhenReached {
    /// No commissions: the conversion is rejected.
    Stop,
    /// The commissions wait until the period ends (the budget renews), then are
    /// approved.
    Pending,
    /// The commissions wait for an operator's decision.
    Manual,
}

fn positive<'de, D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Decimal, D::Error> {
    let amount = <Decimal as Deserialize>::deserialize(deserializer)?;
    match amount > Decimal::ZERO {
        true => Ok(amount),
        false => Err(serde::de::Error::custom(format!("a budget of {amount}: it must be more than 0"))),
    }
}

/// A sale filter on the commissionable total.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OrderTotal {
    /// The smallest total paid as usual.
    #[serde(default)]
    pub minimum: Option<Decimal>,
    /// The largest total paid as usual.
    #[serde(default)]
    pub maximum: Option<Decimal>,
    /// What happens to a sale outside them.
    pub otherwise: Otherwise,
}

/// What happens to a conversion a guard stops.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub enum Otherwise {
    /// No commissions.
    Reject,
    /// Commissions wait for an operator's decision.
    Manual,
    /// Paid with this group of the campaign's rates (the alternative commission).
    UseGroup(u64),
}

impl Plugin for Guards {
    type Config = Config;
}

impl Screen for Guards {
    fn screen(input: &ScreenInput, config: &Config, host: &impl Host) -> Result<Verdict> {
        let conversion = &input.conversion;
        let referrer = input.upline.first();
        if config.no_self_purchase
            && let (Some(buyer), Some(referrer)) = (&conversion.customer, referrer)
            && referrer.customer.as_ref() == Some(buyer)
        {
            return Ok(Verdict::Reject(format!("affiliate {} is the buyer", referrer.affiliate)));
        }
        if let Some(max) = config.max_per_customer
            && conversion.customer.is_some()
            && input.customer_conversions >= max
        {
            return Ok(Verdict::Reject(format!(
                "the customer already brought {} conversions; at most {max} earn commissions",
                input.customer_conversions
            )));
        }
        let mut filtered = Verdict::Accept;
        if let Some(filter) = config.order_total {
            let total = conversion.total.amount();
            let currency = conversion.currency();
            let why = match (filter.minimum, filter.maximum) {
                (Some(minimum), _) if total < minimum => Some(format!("a total below {minimum} {currency}")),
                (_, Some(maximum)) if total > maximum => Some(format!("a total above {maximum} {currency}")),
                _ => None,
            };
            if let Some(why) = why {
                filtered = match filter.otherwise {
                    Otherwise::Reject => return Ok(Verdict::Reject(format!("sale filter: {why}"))),
                    Otherwise::Manual => Verdict::Manual(format!("sale filter: {why}")),
                    Otherwise::UseGroup(group) => Verdict::UseGroup(group.into()),
                };
            }
        }
        // Every conversion that may earn commissions is measured against the budget
        // (it reads the campaign's sums, which keeps them consistent); of the
        // filter's and the budget's verdicts the stronger one wins.
        let capped = budget(input, config, host)?.unwrap_or(Verdict::Accept);
        Ok(if strength(&capped) > strength(&filtered) { capped } else { filtered })
    }
}

/// How far a verdict departs from paying as usual: reject, then manual, hold,
/// another group, accept.
fn strength(verdict: &Verdict) -> u8 {
    match verdict {
        Verdict::Accept => 0,
        Verdict::UseGroup(_) => 1,
        Verdict::Hold { .. } => 2,
        Verdict::Manual(_) => 3,
        Verdict::Reject(_) => 4,
    }
}

/// The budget's verdict once the campaign's commissions in its period reach it;
/// none while they do not (the conversion that reaches it is paid in full).
fn budget(input: &ScreenInput, config: &Config, host: &impl Host) -> Result<Option<Verdict>> {
    let Some(budget) = config.budget else { return Ok(None) };
    let campaign = input.conversion.campaign;
    let period = budget.period.current();
    let spent = |statuses| {
        let query =
            CampaignQuery { campaign, metric: Metric::CommissionsTotal, statuses, period: PeriodSpec::Named(period) };
        host.campaign_stats(&query)
    };
    let spent = spent(StatusFilter::ApprovedOrPending)? + spent(StatusFilter::Paid)?;
    if spent < budget.amount {
        return Ok(None);
    }
    let currency = input.conversion.currency();
    let why =
        format!("the campaign's budget of {} {currency} for this {} is reached", budget.amount, name(budget.period));
    Ok(Some(match budget.when_reached {
        WhenReached::Stop => Verdict::Reject(why),
        WhenReached::Manual => Verdict::Manual(why),
        WhenReached::Pending => Verdict::Hold { until: host.period(campaign, period)?.end, reason: why },
    }))
}

/// A period's name in a sentence.
fn name(period: BudgetPeriod) -> &'static str {
    match period {
        BudgetPeriod::Day => "day",
        BudgetPeriod::Week => "week",
        BudgetPeriod::Month => "month",
        BudgetPeriod::Quarter => "quarter",
        BudgetPeriod::Year => "year",
    }
}

upline_plugin_sdk::export_plugin!(Guards: Screen);

#[cfg(test)]
mod tests {
    use upline_plugin_sdk::testing::{self, TestHost};
    use upline_plugin_sdk::{Conversion, UplineMember};

    use super::*;

    fn config(json: serde_json::Value) -> Config {
        serde_json::from_value(json).expect("a valid configuration")
    }

    fn input(total: &str, customer: Option<&str>, referrer: Option<&str>, earlier: u32) -> ScreenInput {
        ScreenInput {
            now: Timestamp::from_millis(0),
            conversion: Conversion {
                customer: customer.map(str::to_owned),
                ..testing::sale(Money::new(total.parse().expect("decimal"), Currency::from_code("EUR").expect("EUR")))
            },
            upline: vec![UplineMember {
                affiliate: 4.into(),
                tier: 1,
                group: 1.into(),
                customer: referrer.map(str::to_owned),
            }],
            groups: vec![],
            customer_conversions: earlier,
        }
    }

    fn verdict(config: &Config, input: &ScreenInput) -> Verdict {
        Guards::screen(input, config, &TestHost::new()).expect("a verdict")
    }

    #[test]
    fn the_affiliate_buying_through_its_own_link_earns_nothing() {
        let guards = config(serde_json::json!({"no-self-purchase": true}));
        assert!(
            matches!(verdict(&guards, &input("50", Some("c-1"), Some("c-1"), 0)), Verdict::Reject(why) if why.contains("buyer"))
        );
        assert_eq!(verdict(&guards, &input("50", Some("c-2"), Some("c-1"), 0)), Verdict::Accept);
        assert_eq!(verdict(&guards, &input("50", None, Some("c-1"), 0)), Verdict::Accept);
    }

    #[test]
    fn a_customer_brings_at_most_the_configured_number_of_commissions() {
        let guards = config(serde_json::json!({"max-per-customer": 2}));
        assert_eq!(verdict(&guards, &input("50", Some("c-1"), None, 1)), Verdict::Accept);
        assert!(matches!(verdict(&guards, &input("50", Some("c-1"), None, 2)), Verdict::Reject(_)));
    }

    /// A host whose campaign has spent `approved_or_pending` and `paid` this month.
    fn spent(approved_or_pending: &str, paid: &str) -> TestHost {
        let query = |statuses| CampaignQuery {
            campaign: 1.into(),
            metric: Metric::CommissionsTotal,
            statuses,
            period: PeriodSpec::Named(NamedPeriod::ThisMonth),
        };
        let month =
            upline_plugin_sdk::Period { start: Timestamp::from_millis(0), end: Timestamp::from_millis(86_400_000) };
        TestHost::new()
            .with_campaign_stat(query(StatusFilter::ApprovedOrPending), approved_or_pending.parse().expect("decimal"))
            .with_campaign_stat(query(StatusFilter::Paid), paid.parse().expect("decimal"))
            .with_period(NamedPeriod::ThisMonth, month)
    }

    #[test]
    fn once_the_monthly_budget_is_reached_commissions_stop_wait_for_the_next_month_or_for_an_operator() {
        let budget = |when: &str| {
            config(serde_json::json!({"budget": {"amount": "1000", "period": "month", "when-reached": when}}))
        };
        let sale = input("50", None, None, 0);
        let screen = |config: &Config, host: &TestHost| Guards::screen(&sale, config, host).expect("a verdict");
        assert_eq!(screen(&budget("stop"), &spent("600", "399.99")), Verdict::Accept);
        let reached = spent("600", "400");
        assert!(
            matches!(screen(&budget("stop"), &reached), Verdict::Reject(why) if why.contains("1000 EUR for this month"))
        );
        assert!(matches!(screen(&budget("manual"), &reached), Verdict::Manual(_)));
        assert!(matches!(
            screen(&budget("pending"), &reached),
            Verdict::Hold { until, .. } if until == Timestamp::from_millis(86_400_000)
        ));
        // A sale paid with another group counts against the budget too.
        let routed = config(serde_json::json!({
            "order-total": {"maximum": "10", "otherwise": {"use-group": 7}},
            "budget": {"amount": "1000", "period": "month", "when-reached": "stop"}
        }));
        assert!(matches!(screen(&routed, &reached), Verdict::Reject(_)));
        assert_eq!(screen(&routed, &spent("0", "0")), Verdict::UseGroup(7.into()));
    }

    #[test]
    fn a_budget_is_more_than_zero_over_a_period_that_renews() {
        let parse = |json| serde_json::from_value::<Config>(json).expect_err("refused").to_string();
        let zero = parse(serde_json::json!({"budget": {"amount": "0", "period": "month", "when-reached": "stop"}}));
        assert!(zero.contains("more than 0"), "{zero}");
        let forever =
            parse(serde_json::json!({"budget": {"amount": "5", "period": "all-time", "when-reached": "stop"}}));
        assert!(forever.contains("all-time"), "{forever}");
    }

    #[test]
    fn a_sale_outside_the_order_total_filter_takes_the_configured_way() {
        let filter = |otherwise: serde_json::Value| {
            config(serde_json::json!({"order-total": {"minimum": "10", "maximum": "1000", "otherwise": otherwise}}))
        };
        assert_eq!(
            verdict(&filter(serde_json::json!({"use-group": 7})), &input("5", None, None, 0)),
            Verdict::UseGroup(7.into())
        );
        assert!(matches!(
            verdict(&filter(serde_json::json!("manual")), &input("1500", None, None, 0)),
            Verdict::Manual(_)
        ));
        assert!(matches!(
            verdict(&filter(serde_json::json!("reject")), &input("5", None, None, 0)),
            Verdict::Reject(_)
        ));
        assert_eq!(verdict(&filter(serde_json::json!("reject")), &input("10", None, None, 0)), Verdict::Accept);
    }
}
