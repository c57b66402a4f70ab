//! Performance rewards (DOMAIN.md, "Performance rewards"): when an affiliate's
//! performance meets a condition, an action runs. Two parts, both configuration:
//!
//! - **A ladder**: levels, each a commission group of the campaign, reached by what
//!   is measured (e.g. this month's approved or pending sales total). The sale that
//!   reaches a level moves the affiliate to its group and gives the level's rewards
//!   (a bonus, an award, a notification) once; in mode `per-sale` the sales after it
//!   are paid at the new level's rates, in mode `re-rate-period` the period's unpaid
//!   commissions so far are re-rated too (the host books a reversal and a new line
//!   for each). At each of the campaign's reward period ends the level is measured
//!   again, so a monthly ladder starts the next month at the bottom.
//! - **Rules**: a condition (what is measured × which statuses × which period ×
//!   a comparison) and actions (bonus fixed or a percentage of what was measured,
//!   move to a group, optionally retroactive, award, notification). A rule evaluated
//!   per conversion fires on the conversion that makes its condition true; one
//!   evaluated at period end fires for each affiliate whose period met it.
//!
//! Both may be limited to a season with `valid-from` and `valid-to`. "Once" rests on
//! the host: of two conversions that read the same statistics, only one is stored
//! with them, the other is computed again (WIT `stats`), so only one crosses.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;
use upline_plugin_sdk::prelude::*;
use upline_plugin_sdk::{
    Action, BonusInput, Metric, NamedPeriod, Period, PeriodSpec, Progress, ProgressInput, Shortfall, StatsQuery,
    StatusFilter, Trigger,
};

/// The plugin.
pub struct PerformanceRewards;

/// Per-campaign configuration, checked when an operator saves it.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "Settings")]
pub struct Config(Settings);

impl JsonSchema for Config {
    fn schema_name() -> Cow<'static, str> {
        Settings::schema_name()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        Settings::json_schema(generator)
    }
}

/// The configuration as written.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "Performance rewards")]
pub struct Settings {
    /// The campaign's currency (ISO 4217, e.g. `EUR`): bonuses are paid in it and
    /// progress is told in it.
    #[schemars(extend("pattern" = "^[A-Z]{3}$"))]
    pub currency: String,
    /// Levels of commission groups the affiliate climbs.
    #[serde(default)]
    pub ladder: Option<Ladder>,
    /// When a condition holds, then actions.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// What is measured, over which commissions and which period.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Measure {
    /// What is measured, e.g. `sales-total` (revenue) or `sales-count`.
    pub metric: Metric,
    /// Which commissions count (by their status).
    #[serde(default = "Measure::default_statuses")]
    pub statuses: StatusFilter,
    /// Over which period of the campaign's calendar. A rule evaluated at period end
    /// measures the period that just ended instead.
    #[serde(default = "Measure::default_period")]
    pub period: NamedPeriod,
}

impl Measure {
    fn default_statuses() -> StatusFilter {
        StatusFilter::ApprovedOrPending
    }

    fn default_period() -> NamedPeriod {
        NamedPeriod::ThisMonth
    }

    /// Whether the metric is an amount of money (else a count).
    fn is_money(&self) -> bool {
        !matches!(self.metric, Metric::SalesCount | Metric::ActionsCount | Metric::RecurringCount)
    }

    fn query(
        &self,
        input_campaign: upline_plugin_sdk::CampaignId,
        affiliate: AffiliateId,
        period: PeriodSpec,
    ) -> StatsQuery {
        StatsQuery { affiliate, campaign: input_campaign, metric: self.metric, statuses: self.statuses, period }
    }
}

/// How a value compares with a threshold. Decimals are strings, e.g. `"1000"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub enum Comparison {
    /// Below the value.
    LowerThan(Decimal),
    /// Above the value.
    HigherThan(Decimal),
    /// The value or more.
    AtLeast(Decimal),
    /// The value or less.
    AtMost(Decimal),
    /// Exactly the value.
    EqualTo(Decimal),
    /// From the first value to the second, both included.
    Between([Decimal; 2]),
}

impl Comparison {
    /// Whether `value` meets it.
    pub fn holds(&self, value: Decimal) -> bool {
        match *self {
            Comparison::LowerThan(limit) => value < limit,
            Comparison::HigherThan(limit) => value > limit,
            Comparison::AtLeast(limit) => value >= limit,
            Comparison::AtMost(limit) => value <= limit,
            Comparison::EqualTo(limit) => value == limit,
            Comparison::Between([low, high]) => low <= value && value <= high,
        }
    }

    /// How much more is needed to meet it from `value` (counts are whole), and
    /// whether it must be exceeded rather than reached; none when more does not help.
    fn missing(&self, value: Decimal, whole: bool) -> Option<(Decimal, bool)> {
        let up_to = |limit: Decimal| (limit > value).then(|| limit - value);
        match *self {
            Comparison::HigherThan(limit) if whole => up_to(limit + Decimal::ONE).map(|m| (m, false)),
            Comparison::HigherThan(limit) => (limit >= value).then(|| (limit - value, true)),
            Comparison::AtLeast(limit) | Comparison::EqualTo(limit) | Comparison::Between([limit, _]) => {
                up_to(limit).map(|m| (m, false))
            }
            Comparison::LowerThan(_) | Comparison::AtMost(_) => None,
        }
    }
}

/// When a rule or ladder applies: `valid-from` inclusive, `valid-to` exclusive, each
/// an RFC 3339 time such as `2026-06-01T00:00:00+02:00`.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Season {
    /// From this time on.
    #[serde(default)]
    pub valid_from: Option<Instant>,
    /// Until this time.
    #[serde(default)]
    pub valid_to: Option<Instant>,
}

impl Season {
    fn contains(&self, at: Timestamp) -> bool {
        self.valid_from.is_none_or(|from| from.0 <= at) && self.valid_to.is_none_or(|to| at < to.0)
    }
}

/// An RFC 3339 time in a configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instant(Timestamp);

impl<'de> Deserialize<'de> for Instant {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let time = chrono::DateTime::parse_from_rfc3339(&text).map_err(|err| {
            serde::de::Error::custom(format!("`{text}` is not an RFC 3339 time like 2026-06-01T00:00:00+02:00: {err}"))
        })?;
        Ok(Instant(Timestamp::from_millis(time.timestamp_millis())))
    }
}

impl JsonSchema for Instant {
    fn schema_name() -> Cow<'static, str> {
        "Instant".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({ "type": "string", "format": "date-time" })
    }
}

/// A ladder of levels.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Ladder {
    /// What reaches a level.
    pub measure: Measure,
    /// How the sales of a period are paid as the affiliate climbs.
    #[serde(default)]
    pub mode: Mode,
    /// From lowest to highest. The first has no `when`: it is where every affiliate
    /// of the ladder starts. Each level's group is a different one.
    #[schemars(length(min = 2))]
    pub levels: Vec<LadderLevel>,
    /// When the ladder applies (a seasonal ladder). Outside it nobody moves.
    #[serde(default)]
    pub season: Season,
}

/// How sales are paid as an affiliate climbs the ladder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Each sale is paid at the level the affiliate held when it came in; the sale
    /// that reaches a level moves the affiliate up for the sales after it.
    #[default]
    PerSale,
    /// Reaching a level re-rates the period's unpaid commissions (the reaching
    /// sale's included) at the new level: the period is paid at the level finally
    /// reached.
    ReRatePeriod,
}

/// One level of a ladder.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LadderLevel {
    /// Its name, shown to the affiliate, e.g. `Gold`.
    #[schemars(length(min = 1))]
    pub name: String,
    /// The commission group of the campaign whose rates this level pays.
    pub group: u64,
    /// What the measure must meet to reach it (none for the first level).
    #[serde(default)]
    pub when: Option<Comparison>,
    /// What reaching it gives, besides the group: bonuses, awards, notifications.
    #[serde(default)]
    pub then: Vec<Reward>,
}

/// A rule: when a condition holds, then actions.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Rule {
    /// Its name, written in every action's explanation.
    #[schemars(length(min = 1))]
    pub name: String,
    /// What is measured.
    pub measure: Measure,
    /// The condition on it.
    pub when: Comparison,
    /// When it is evaluated.
    #[serde(default)]
    pub on: Evaluation,
    /// What it does, in order.
    #[schemars(length(min = 1))]
    pub then: Vec<Reward>,
    /// When it applies.
    #[serde(default)]
    pub season: Season,
}

/// When a rule is evaluated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Evaluation {
    /// On each conversion credited to the affiliate: fires on the one that makes the
    /// condition true.
    #[default]
    PerConversion,
    /// At each of the campaign's reward period ends, over the period that ended.
    PeriodEnd,
}

/// What a rule or a level does.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub enum Reward {
    /// A bonus commission.
    Bonus(BonusAmount),
    /// A move to another commission group (rules only: a level's group is its own).
    MoveToGroup {
        /// The group of the campaign.
        group: u64,
        /// Re-rate the unpaid commissions of the measured period with the new group's rates.
        #[serde(default)]
        retroactive: bool,
    },
    /// A badge or perk, recorded and shown to the affiliate, not paid.
    Award {
        /// E.g. `Performance badge`.
        #[schemars(length(min = 1))]
        name: String,
        /// What it is.
        #[serde(default)]
        description: String,
    },
    /// A message to the affiliate, shown in the affiliate panel.
    Notify(String),
}

/// How much a bonus is.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub enum BonusAmount {
    /// This amount in the campaign's currency.
    Fixed(Decimal),
    /// This percentage of what was measured (money metrics only).
    Percent(Decimal),
}

impl TryFrom<Settings> for Config {
    type Error = String;

    fn try_from(settings: Settings) -> std::result::Result<Self, String> {
        Currency::from_code(&settings.currency).map_err(|err| format!("currency: {err}"))?;
        if let Some(ladder) = &settings.ladder {
            check_ladder(ladder)?;
        }
        for (i, rule) in settings.rules.iter().enumerate() {
            check_rewards(&format!("rules[{i}]"), &rule.then, rule.measure)?;
        }
        Ok(Config(settings))
    }
}

fn check_ladder(ladder: &Ladder) -> std::result::Result<(), String> {
    let Some((first, higher)) = ladder.levels.split_first() else {
        return Err("ladder.levels: a ladder needs at least two levels".into());
    };
    if higher.is_empty() {
        return Err("ladder.levels: a ladder needs at least two levels".into());
    }
    if first.when.is_some() {
        return Err("ladder.levels[0].when: the first level is where affiliates start: it has no `when`".into());
    }
    if !first.then.is_empty() {
        return Err(
            "ladder.levels[0].then: nobody reaches the first level (affiliates start there): it gives nothing".into()
        );
    }
    for (i, level) in ladder.levels.iter().enumerate() {
        let at = format!("ladder.levels[{i}]");
        if i > 0 && level.when.is_none() {
            return Err(format!("{at}.when: every level above the first needs a `when`"));
        }
        if ladder.levels[..i].iter().any(|lower| lower.group == level.group) {
            return Err(format!("{at}.group: group {} is already a lower level's", level.group));
        }
        if level.then.iter().any(|reward| matches!(reward, Reward::MoveToGroup { .. })) {
            return Err(format!("{at}.then: a level moves to its own `group`; `move-to-group` is for rules"));
        }
        check_rewards(&at, &level.then, ladder.measure)?;
    }
    Ok(())
}

fn check_rewards(at: &str, rewards: &[Reward], measure: Measure) -> std::result::Result<(), String> {
    for (i, reward) in rewards.iter().enumerate() {
        match reward {
            Reward::Bonus(BonusAmount::Fixed(amount) | BonusAmount::Percent(amount)) if amount.is_sign_negative() => {
                return Err(format!("{at}.then[{i}].bonus: a bonus is not negative"));
            }
            Reward::Bonus(BonusAmount::Percent(_)) if !measure.is_money() => {
                return Err(format!(
                    "{at}.then[{i}].bonus.percent: a percentage needs an amount of money to be measured, not a count"
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

impl Plugin for PerformanceRewards {
    type Config = Config;
}

impl BonusRules for PerformanceRewards {
    fn evaluate(input: &BonusInput, config: &Config, host: &impl Host) -> Result<Vec<Action>> {
        let settings = &config.0;
        let currency = Currency::from_code(&settings.currency)?;
        let mut actions = Vec::new();
        match &input.trigger {
            Trigger::Conversion(conversion) => {
                if conversion.total.currency() != currency {
                    return Err(Error::new(format!(
                        "the configured currency is {currency}, the conversion's {}: set `currency` to the campaign's",
                        conversion.currency()
                    )));
                }
                if let Some(ladder) = &settings.ladder {
                    actions.extend(climb(input, ladder, currency, host)?);
                }
                for rule in settings.rules.iter().filter(|rule| rule.on == Evaluation::PerConversion) {
                    actions.extend(on_conversion(input, rule, currency, host)?);
                }
            }
            Trigger::PeriodEnd(period) => {
                if let Some(ladder) = &settings.ladder {
                    actions.extend(restart(input, ladder, host)?);
                }
                for rule in settings.rules.iter().filter(|rule| rule.on == Evaluation::PeriodEnd) {
                    actions.extend(at_period_end(input, rule, *period, currency, host)?);
                }
            }
            // A new affiliate starts at the group the operator gave it.
            Trigger::Signup => {}
        }
        Ok(actions)
    }

    fn progress(input: &ProgressInput, config: &Config, host: &impl Host) -> Result<Option<Progress>> {
        let settings = &config.0;
        let Some(ladder) = settings.ladder.as_ref().filter(|ladder| ladder.season.contains(input.now)) else {
            return Ok(None);
        };
        let Some(held) = level_of_group(ladder, input.group) else { return Ok(None) };
        let measure = ladder.measure;
        let value = host.stats(&measure.query(input.campaign, input.affiliate, PeriodSpec::Named(measure.period)))?;
        let level = held.max(reached(ladder, value));
        let name = Some(ladder.levels[level].name.clone());
        let Some(next) = ladder.levels.get(level + 1) else {
            let summary = format!("{} reached: the top level", ladder.levels[level].name);
            return Ok(Some(Progress { level: name, next_level: None, missing: vec![], summary }));
        };
        let currency = Currency::from_code(&settings.currency)?;
        let (missing, summary) = match next.when.and_then(|when| when.missing(value, !measure.is_money())) {
            Some((amount, exceed)) => {
                let amount = if measure.is_money() { Money::new(amount, currency).round().amount() } else { amount };
                let quantity = quantity(measure, amount, currency, true);
                let more = if exceed { "more than " } else { "" };
                (vec![Shortfall { metric: measure.metric, amount }], format!("{more}{quantity} to {}", next.name))
            }
            None => (vec![], format!("{} is next", next.name)),
        };
        Ok(Some(Progress { level: name, next_level: Some(next.name.clone()), missing, summary }))
    }
}

upline_plugin_sdk::export_plugin!(PerformanceRewards: BonusRules);

/// The highest level `value` reaches.
fn reached(ladder: &Ladder, value: Decimal) -> usize {
    ladder.levels.iter().rposition(|level| level.when.is_none_or(|when| when.holds(value))).unwrap_or(0)
}

/// The level whose group `group` is; none for a group off the ladder (an affiliate an
/// operator placed elsewhere, whom the ladder leaves alone).
fn level_of_group(ladder: &Ladder, group: GroupId) -> Option<usize> {
    ladder.levels.iter().position(|level| level.group == group.get())
}

/// A conversion on the ladder: the levels it reaches above the one held.
fn climb(input: &BonusInput, ladder: &Ladder, currency: Currency, host: &impl Host) -> Result<Vec<Action>> {
    if !ladder.season.contains(input.now) {
        return Ok(vec![]);
    }
    let Some(held) = level_of_group(ladder, input.group) else { return Ok(vec![]) };
    let measure = ladder.measure;
    let query = measure.query(input.campaign, input.affiliate, PeriodSpec::Named(measure.period));
    let (before, after) = (host.stats_before(&query)?, host.stats(&query)?);
    let from = held.max(reached(ladder, before));
    let to = reached(ladder, after);
    if to <= from {
        return Ok(vec![]);
    }
    let level = &ladder.levels[to];
    let measured = describe(measure, after, currency);
    host.debug(&format!("{measured}: {} reaches {}", input.affiliate, level.name));
    let retroactive_from = match ladder.mode {
        Mode::PerSale => None,
        Mode::ReRatePeriod => Some(period_start(input.campaign, measure.period, host)?),
    };
    let mut actions = vec![
        Action::MoveToGroup {
            affiliate: input.affiliate,
            group: GroupId::from(level.group),
            retroactive_from,
            explanation: format!("{} reached ({measured})", level.name),
        },
        Action::Notify { affiliate: input.affiliate, message: format!("You reached {} ({measured}).", level.name) },
    ];
    for crossed in &ladder.levels[from + 1..=to] {
        let why = format!("{} reached ({measured})", crossed.name);
        actions.extend(rewards(input, &crossed.then, &why, after, currency, None)?);
    }
    Ok(actions)
}

/// A period end on the ladder: the level is measured again for the period that now
/// runs, so a monthly ladder starts again at the bottom.
fn restart(input: &BonusInput, ladder: &Ladder, host: &impl Host) -> Result<Vec<Action>> {
    let Some(held) = level_of_group(ladder, input.group) else { return Ok(vec![]) };
    let measure = ladder.measure;
    let in_season = ladder.season.contains(input.now);
    let level = if in_season {
        reached(ladder, host.stats(&measure.query(input.campaign, input.affiliate, PeriodSpec::Named(measure.period)))?)
    } else {
        0
    };
    if level == held {
        return Ok(vec![]);
    }
    let name = &ladder.levels[level].name;
    let why = if in_season { "a new period starts" } else { "the ladder's season is over" };
    Ok(vec![
        Action::MoveToGroup {
            affiliate: input.affiliate,
            group: GroupId::from(ladder.levels[level].group),
            retroactive_from: None,
            explanation: format!("{why}: back to {name}"),
        },
        Action::Notify { affiliate: input.affiliate, message: format!("{}: you are at {name}.", capitalized(why)) },
    ])
}

/// A per-conversion rule: fires when this conversion makes its condition true.
fn on_conversion(input: &BonusInput, rule: &Rule, currency: Currency, host: &impl Host) -> Result<Vec<Action>> {
    if !rule.season.contains(input.now) {
        return Ok(vec![]);
    }
    let measure = rule.measure;
    let query = measure.query(input.campaign, input.affiliate, PeriodSpec::Named(measure.period));
    let after = host.stats(&query)?;
    if !rule.when.holds(after) || rule.when.holds(host.stats_before(&query)?) {
        return Ok(vec![]);
    }
    let why = format!("rule {}: {}", rule.name, describe(measure, after, currency));
    let retroactive_from = match measure.period {
        NamedPeriod::AllTime => Timestamp::from_millis(0),
        period => period_start(input.campaign, period, host)?,
    };
    rewards(input, &rule.then, &why, after, currency, Some(retroactive_from))
}

/// A period-end rule over the period that ended.
fn at_period_end(
    input: &BonusInput,
    rule: &Rule,
    period: Period,
    currency: Currency,
    host: &impl Host,
) -> Result<Vec<Action>> {
    let last_moment = Timestamp::from_millis(period.end.millis() - 1);
    if !rule.season.contains(last_moment) {
        return Ok(vec![]);
    }
    let measure = rule.measure;
    let value = host.stats(&measure.query(input.campaign, input.affiliate, PeriodSpec::Span(period)))?;
    if !rule.when.holds(value) {
        return Ok(vec![]);
    }
    let why = format!("rule {}: {} in the period that ended", rule.name, describe(measure, value, currency));
    rewards(input, &rule.then, &why, value, currency, Some(period.start))
}

/// The actions of `then`; a bonus percentage is of `measured`; a retroactive move
/// re-rates from `retroactive_from`.
fn rewards(
    input: &BonusInput,
    then: &[Reward],
    why: &str,
    measured: Decimal,
    currency: Currency,
    retroactive_from: Option<Timestamp>,
) -> Result<Vec<Action>> {
    let affiliate = input.affiliate;
    let mut actions = Vec::new();
    for reward in then {
        actions.push(match reward {
            Reward::Bonus(amount) => {
                let amount = match *amount {
                    BonusAmount::Fixed(fixed) => Money::new(fixed, currency),
                    BonusAmount::Percent(percent) => Money::new(measured, currency).percent(Rate::percent(percent)),
                };
                Action::Bonus { affiliate, amount: amount.round(), explanation: why.to_owned() }
            }
            Reward::MoveToGroup { group, retroactive } => Action::MoveToGroup {
                affiliate,
                group: GroupId::from(*group),
                retroactive_from: if *retroactive { retroactive_from } else { None },
                explanation: why.to_owned(),
            },
            Reward::Award { name, description } => {
                Action::Award { affiliate, name: name.clone(), description: description.clone() }
            }
            Reward::Notify(message) => Action::Notify { affiliate, message: message.clone() },
        });
    }
    Ok(actions)
}

/// The start of `period` in the campaign's calendar; the epoch for all time.
fn period_start(campaign: upline_plugin_sdk::CampaignId, period: NamedPeriod, host: &impl Host) -> Result<Timestamp> {
    match period {
        NamedPeriod::AllTime => Ok(Timestamp::from_millis(0)),
        period => Ok(host.period(campaign, period)?.start),
    }
}

/// E.g. `3200.00 EUR of sales this month`.
fn describe(measure: Measure, value: Decimal, currency: Currency) -> String {
    let period = match measure.period {
        NamedPeriod::Today => "today",
        NamedPeriod::Yesterday => "yesterday",
        NamedPeriod::ThisWeek => "this week",
        NamedPeriod::LastWeek => "last week",
        NamedPeriod::ThisMonth => "this month",
        NamedPeriod::LastMonth => "last month",
        NamedPeriod::ThisQuarter => "this quarter",
        NamedPeriod::LastQuarter => "last quarter",
        NamedPeriod::ThisYear => "this year",
        NamedPeriod::LastYear => "last year",
        NamedPeriod::AllTime => "in all",
    };
    format!("{} {period}", quantity(measure, value, currency, false))
}

/// E.g. `200.00 EUR of sales`, `2 sales` (`2 more sales` when `more`).
fn quantity(measure: Measure, value: Decimal, currency: Currency, more: bool) -> String {
    let money = || Money::new(value, currency).round();
    let more = if more { " more" } else { "" };
    let s = if value == Decimal::ONE { "" } else { "s" };
    match measure.metric {
        Metric::SalesCount => format!("{value}{more} sale{s}"),
        Metric::ActionsCount => format!("{value}{more} action{s}"),
        Metric::RecurringCount => format!("{value}{more} recurring payment{s}"),
        Metric::SalesTotal => format!("{} of sales", money()),
        Metric::CommissionsTotal => format!("{} of commissions", money()),
        Metric::FirstTierCommissions => format!("{} of first-tier commissions", money()),
        Metric::SecondTierRevenue => format!("{} of second-tier revenue", money()),
        Metric::RecurringTotal => format!("{} of recurring revenue", money()),
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests;
