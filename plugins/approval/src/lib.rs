//! Approval policies (DOMAIN.md, "Approval types"), per campaign and commission type.
//!
//! Enabled for a campaign, it decides every new commission of the conversions the
//! merchant's server reports, bonuses included (the campaign's own `approval` setting
//! then no longer applies, and its decision replaces the campaign's `hold-days`):
//!
//! - `automatic`: approved at once;
//! - `manual`: pending until an operator approves or declines it;
//! - `first-login`: pending until the affiliate first logs in to the affiliate panel
//!   (approved at once if it has);
//! - `sub-affiliate-first-conversion`, `-sale`, `-action`: pending until one of the
//!   affiliate's direct sub-affiliates converts (any conversion, a sale, an action;
//!   approved at once if one has);
//! - `hold` with `days`: pending for that many days after the commission, then approved.
//!
//! The host releases a commission waiting for an event in the transaction that
//! records the event (the login; the sub-affiliate's conversion, if the merchant's
//! server reports it). See `README.md`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use upline_plugin_sdk::prelude::*;
use upline_plugin_sdk::{ApprovalEvent, ApprovalInput, CommissionType, Decision, PendingUntil};

/// The plugin.
pub struct Approval;

/// How a commission is approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Policy {
    /// At once.
    Automatic,
    /// By an operator.
    Manual,
    /// On the affiliate's first login.
    FirstLogin,
    /// On a sub-affiliate's first conversion of any kind.
    SubAffiliateFirstConversion,
    /// On a sub-affiliate's first sale.
    SubAffiliateFirstSale,
    /// On a sub-affiliate's first action.
    SubAffiliateFirstAction,
    /// After `days` days.
    Hold {
        /// Days after the commission.
        #[schemars(range(min = 1, max = 3650))]
        days: u32,
    },
}

/// Per-campaign configuration (the host shows operators the JSON Schema derived from it).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "Approval policies")]
pub struct Config {
    /// The policy of every commission type without one of its own in `by-type` (default: automatic).
    #[serde(default)]
    pub policy: Option<Policy>,
    /// A policy per commission type: `sale`, `recurring` or `action:<code>`.
    #[serde(default)]
    #[schemars(extend(
        "propertyNames" = { "pattern": "^(sale|recurring|action:[a-z0-9_-]{1,64})$" },
        "maxProperties" = 100
    ))]
    pub by_type: BTreeMap<String, Policy>,
}

impl Config {
    /// The policy of `commission_type`.
    pub fn policy(&self, commission_type: &CommissionType) -> Policy {
        let key = match commission_type {
            CommissionType::Sale => "sale".to_owned(),
            CommissionType::Recurring => "recurring".to_owned(),
            CommissionType::Action(code) => format!("action:{code}"),
        };
        self.by_type.get(&key).copied().or(self.policy).unwrap_or(Policy::Automatic)
    }
}

impl Plugin for Approval {
    type Config = Config;
}

impl Approve for Approval {
    fn approve(input: &ApprovalInput, config: &Config, _: &impl Host) -> Result<Decision> {
        let on = |happened: Option<Timestamp>, event: ApprovalEvent| match happened {
            Some(_) => Decision::Approve,
            None => Decision::Pending(PendingUntil::Event(event)),
        };
        Ok(match config.policy(&input.commission.commission_type) {
            Policy::Automatic => Decision::Approve,
            Policy::Manual => Decision::Pending(PendingUntil::Manual),
            Policy::FirstLogin => on(input.affiliate_first_login, ApprovalEvent::AffiliateFirstLogin),
            Policy::SubAffiliateFirstConversion => {
                on(input.sub_affiliate_first_conversion, ApprovalEvent::SubAffiliateFirstConversion)
            }
            Policy::SubAffiliateFirstSale => on(input.sub_affiliate_first_sale, ApprovalEvent::SubAffiliateFirstSale),
            Policy::SubAffiliateFirstAction => {
                on(input.sub_affiliate_first_action, ApprovalEvent::SubAffiliateFirstAction)
            }
            Policy::Hold { days } => Decision::Pending(PendingUntil::Time(input.commission.created_at.plus_days(days))),
        })
    }
}

upline_plugin_sdk::export_plugin!(Approval: Approve);

#[cfg(test)]
mod tests {
    use upline_plugin_sdk::testing::{TestHost, run_file_input};

    use super::*;

    fn example() -> (ApprovalInput, Config) {
        let input = run_file_input(include_str!("../examples/first-login.json")).expect("an approval input");
        let config = Config { policy: Some(Policy::FirstLogin), by_type: BTreeMap::new() };
        (input, config)
    }

    fn decide(input: &ApprovalInput, config: &Config) -> Decision {
        Approval::approve(input, config, &TestHost::new()).expect("a decision")
    }

    #[test]
    fn first_login_waits_for_it_and_approves_after_it() {
        let (mut input, config) = example();
        assert_eq!(decide(&input, &config), Decision::Pending(PendingUntil::Event(ApprovalEvent::AffiliateFirstLogin)));
        input.affiliate_first_login = Some(input.now);
        assert_eq!(decide(&input, &config), Decision::Approve);
    }

    #[test]
    fn each_commission_type_has_its_policy() {
        let (mut input, mut config) = example();
        config.by_type.insert("action:signup".into(), Policy::Manual);
        config.by_type.insert("recurring".into(), Policy::Hold { days: 30 });
        input.commission.commission_type = CommissionType::Action("signup".into());
        assert_eq!(decide(&input, &config), Decision::Pending(PendingUntil::Manual));
        input.commission.commission_type = CommissionType::Recurring;
        let until = input.commission.created_at.plus_days(30);
        assert_eq!(decide(&input, &config), Decision::Pending(PendingUntil::Time(until)));
        assert_eq!(decide(&input, &Config::default()), Decision::Approve, "automatic without a policy");
    }

    #[test]
    fn sub_affiliate_policies_wait_for_their_own_event() {
        let (mut input, _) = example();
        let config = Config { policy: Some(Policy::SubAffiliateFirstSale), by_type: BTreeMap::new() };
        input.sub_affiliate_first_action = Some(input.now);
        let waiting = Decision::Pending(PendingUntil::Event(ApprovalEvent::SubAffiliateFirstSale));
        assert_eq!(decide(&input, &config), waiting, "an action is not a sale");
        input.sub_affiliate_first_sale = Some(input.now);
        assert_eq!(decide(&input, &config), Decision::Approve);
    }

    #[test]
    fn configurations_parse_as_the_schema_describes_them() {
        let config: Config = serde_json::from_str(
            r#"{"policy": {"type": "hold", "days": 14}, "by-type": {"sale": {"type": "sub-affiliate-first-conversion"}}}"#,
        )
        .expect("a configuration");
        assert_eq!(config.policy, Some(Policy::Hold { days: 14 }));
        assert_eq!(config.policy(&CommissionType::Sale), Policy::SubAffiliateFirstConversion);
    }
}
