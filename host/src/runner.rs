//! The local runner for plugin authors: runs one hook of a package on a JSON input
//! and reports the result, fuel used, peak memory and time (`upline plugin run`).
//!
//! The input file:
//! ```json
//! {
//!   "config": { },
//!   "grants": ["exceed-total"],
//!   "stats": [ { "query": { "affiliate": 1, "campaign": 1, "metric": "sales-total",
//!                           "statuses": "approved", "period": { "start": 0, "end": 1 } },
//!                "value": "1200.00", "before": "1000.00" } ],
//!   "campaign-stats": [ { "query": { "campaign": 1, "metric": "commissions-total",
//!                                    "statuses": "approved-or-pending",
//!                                    "period": { "named": "this-month" } }, "value": "950.00" } ],
//!   "time-zone": "Europe/Amsterdam",
//!   "input": { "now": 0, "conversion": { }, "upline": [ ], "groups": [ ] }
//! }
//! ```
//! `config`, `grants`, `stats` and `campaign-stats` (what `query-campaign` answers)
//! are optional; a stat's `before` (what `query-before`
//! answers) defaults to its `value`; `time-zone` (the campaign's, for `period-bounds`
//! around the input's `now`) defaults to UTC. `input` is the hook's input as the
//! SDK's types serialize it (`upline plugin example-input HOOK` prints one for each
//! hook). `"hook"` names the hook to run when the plugin has several and the command
//! line names none. A `bonus-rules` input whose trigger is a period end also needs
//! `"currency"`, the campaign's.

use std::sync::Arc;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use upline_types::{CampaignQuery, NamedPeriod, Period, StatsQuery};

use crate::domain::schedule::Zone;

use crate::error::{Error, Result};
use crate::plugin::{
    Approve, BonusRules, Capability, Carryover, Distribute, Grants, Hook, Invocation, Package, PluginEngine, Screen,
    StatsSource,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunFile {
    #[serde(default)]
    hook: Option<Hook>,
    #[serde(default = "empty_object")]
    config: serde_json::Value,
    #[serde(default)]
    grants: Vec<Capability>,
    #[serde(default)]
    stats: Vec<RecordedStat>,
    #[serde(default, rename = "campaign-stats")]
    campaign_stats: Vec<RecordedCampaignStat>,
    /// The campaign's currency, for bonus rules at period end (a conversion names its own).
    #[serde(default)]
    currency: Option<upline_types::Currency>,
    /// The campaign's time zone, for `period-bounds`.
    #[serde(default, rename = "time-zone")]
    time_zone: Option<String>,
    input: serde_json::Value,
}

fn empty_object() -> serde_json::Value {
    serde_json::json!({})
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordedStat {
    query: StatsQuery,
    value: Decimal,
    /// Without the conversion the call is about; `value` when not given.
    #[serde(default)]
    before: Option<Decimal>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordedCampaignStat {
    query: CampaignQuery,
    value: Decimal,
}

/// Answers statistics queries from the answers recorded in the input file, and
/// periods from the campaign's time zone and the input's `now`.
struct RecordedStats {
    stats: Vec<RecordedStat>,
    campaign: Vec<RecordedCampaignStat>,
    zone: Zone,
    now: chrono::DateTime<chrono::Utc>,
}

impl RecordedStats {
    fn find(&self, query: &StatsQuery) -> Result<&RecordedStat, String> {
        self.stats
            .iter()
            .find(|recorded| recorded.query == *query)
            .ok_or_else(|| format!("the input file records no answer for {}", serde_json::json!(query)))
    }
}

impl StatsSource for RecordedStats {
    fn query(&self, query: &StatsQuery) -> Result<Decimal, String> {
        Ok(self.find(query)?.value)
    }

    fn query_before(&self, query: &StatsQuery) -> Result<Decimal, String> {
        self.find(query).map(|recorded| recorded.before.unwrap_or(recorded.value))
    }

    fn query_campaign(&self, query: &CampaignQuery) -> Result<Decimal, String> {
        let recorded = self.campaign.iter().find(|recorded| recorded.query == *query);
        recorded.map(|recorded| recorded.value).ok_or_else(|| {
            format!("the input file records no answer for {} in `campaign-stats`", serde_json::json!(query))
        })
    }

    fn period_bounds(&self, _campaign: u64, period: NamedPeriod) -> Result<Period, String> {
        crate::service::stats::named_bounds(&self.zone, self.now, period)
    }
}

/// The statistics a run file records, with the calendar of `time_zone` (UTC when
/// none) around the input's `now`.
fn recorded_stats(
    stats: Vec<RecordedStat>,
    campaign: Vec<RecordedCampaignStat>,
    time_zone: Option<&str>,
    input: &serde_json::Value,
) -> Result<RecordedStats> {
    let invalid = |field: &str, message: String| Error::InvalidInput { field: field.into(), message };
    let zone = match time_zone {
        Some(name) => Zone::parse("time-zone", name)?,
        None => Zone::utc(),
    };
    let millis = input.get("now").and_then(serde_json::Value::as_i64).unwrap_or_default();
    let now = chrono::DateTime::from_timestamp_millis(millis)
        .ok_or_else(|| invalid("input.now", format!("{millis} is out of range")))?;
    Ok(RecordedStats { stats, campaign, zone, now })
}

/// Runs `hook` of the package `bytes` (or the hook the run file names, or the
/// plugin's only one) on the run file `input` (JSON text) and returns a JSON report:
/// `result`, `logs` and `usage` (fuel, peak memory bytes, elapsed µs).
pub fn run(engine: &PluginEngine, bytes: Vec<u8>, hook: Option<Hook>, input: &str) -> Result<serde_json::Value> {
    let file: RunFile = crate::http::parse_json(input.as_bytes())?;
    let package = Package::parse(bytes)?;
    let manifest = &package.manifest;
    let implemented = || manifest.hooks.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    let hook = match (hook.or(file.hook), manifest.hooks.as_slice()) {
        (Some(hook), hooks) if hooks.contains(&hook) => hook,
        (Some(hook), _) => {
            return Err(Error::InvalidInput {
                field: "hook".into(),
                message: format!("{} has no `{hook}` hook; it implements {}", manifest.id, implemented()),
            });
        }
        (None, [only]) => *only,
        (None, _) => {
            return Err(Error::InvalidInput {
                field: "hook".into(),
                message: format!(
                    "{} implements {}: name one with --hook or \"hook\" in the file",
                    manifest.id,
                    implemented()
                ),
            });
        }
    };
    if let Some((i, grant)) = file.grants.iter().enumerate().find(|(_, grant)| !manifest.requests(**grant)) {
        return Err(Error::InvalidInput {
            field: format!("grants[{i}]"),
            message: format!(
                "{} does not ask for `{grant}` (`capabilities` in its plugin.toml), so the server would refuse this grant",
                manifest.id
            ),
        });
    }
    let plugin = engine.load(&package, None)?;
    let invocation = Invocation {
        config: engine.configure(&plugin, &file.config)?,
        grants: Grants {
            stats: match file.grants.contains(&Capability::Stats) {
                true => Some(Arc::new(recorded_stats(
                    file.stats,
                    file.campaign_stats,
                    file.time_zone.as_deref(),
                    &file.input,
                )?) as _),
                false => None,
            },
            exceed_total: file.grants.contains(&Capability::ExceedTotal),
        },
    };
    match hook {
        Hook::Screen => report(engine.call::<Screen>(&plugin, &invocation, &parse_input(file.input)?, &())),
        Hook::Distribute => report(engine.call::<Distribute>(&plugin, &invocation, &parse_input(file.input)?, &())),
        Hook::Approve => report(engine.call::<Approve>(&plugin, &invocation, &parse_input(file.input)?, &())),
        Hook::Carryover => report(engine.call::<Carryover>(&plugin, &invocation, &parse_input(file.input)?, &())),
        Hook::BonusRules => {
            let input: upline_types::BonusInput = parse_input(file.input)?;
            let currency = match (&input.trigger, file.currency) {
                (upline_types::Trigger::Conversion(conversion), _) => conversion.total.currency(),
                (_, Some(currency)) => currency,
                (_, None) => {
                    return Err(Error::InvalidInput {
                        field: "currency".into(),
                        message: "a period-end input needs the campaign's `currency`, e.g. \"EUR\"".into(),
                    });
                }
            };
            report(engine.call::<BonusRules>(&plugin, &invocation, &input, &currency))
        }
    }
}

fn report<T: serde::Serialize>(outcome: Result<crate::plugin::Outcome<T>>) -> Result<serde_json::Value> {
    serde_json::to_value(outcome?).map_err(|err| Error::Internal(err.to_string()))
}

fn parse_input<T: DeserializeOwned>(input: serde_json::Value) -> Result<T> {
    serde_path_to_error::deserialize(input)
        .map_err(|err| Error::InvalidInput { field: format!("input.{}", err.path()), message: err.inner().to_string() })
}
