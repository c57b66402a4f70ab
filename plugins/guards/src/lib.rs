//! Screening guards (DOMAIN.md, "Other commission plugins"), each switched on by
//! configuring it, checked in this order before any commission is computed:
//!
//! 1. `no-self-purchase`: no commission when the referring affiliate is the buyer
//!    (the conversion's `customer` equals the affiliate's own customer reference,
//!    which the operator records with `PUT /api/v1/affiliates/{id}/customer`);
//! 2. `max-per-customer`: at most this many commissions per referred customer (the
//!    customer's earlier conversions in the campaign, any affiliate's);
//! 3. `order-total`: a sale filter, a minimum and a maximum order total; a sale
//!    outside them is rejected, sent to manual approval, or paid with another group.

use schemars::JsonSchema;
use serde::Deserialize;
use upline_plugin_sdk::prelude::*;
use upline_plugin_sdk::{ScreenInput, Verdict};

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
    fn screen(input: &ScreenInput, config: &Config, _host: &impl Host) -> Result<Verdict> {
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
        if let Some(filter) = config.order_total {
            let total = conversion.total.amount();
            let currency = conversion.currency();
            let why = match (filter.minimum, filter.maximum) {
                (Some(minimum), _) if total < minimum => Some(format!("a total below {minimum} {currency}")),
                (_, Some(maximum)) if total > maximum => Some(format!("a total above {maximum} {currency}")),
                _ => None,
            };
            if let Some(why) = why {
                return Ok(match filter.otherwise {
                    Otherwise::Reject => Verdict::Reject(format!("sale filter: {why}")),
                    Otherwise::Manual => Verdict::Manual(format!("sale filter: {why}")),
                    Otherwise::UseGroup(group) => Verdict::UseGroup(group.into()),
                });
            }
        }
        Ok(Verdict::Accept)
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
