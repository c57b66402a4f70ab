//! Native unit testing of plugin logic: no wasm tooling needed.

use std::cell::RefCell;

use rust_decimal::Decimal;

use crate::{
    CampaignId, CampaignQuery, CommissionType, Conversion, Error, Host, Level, Money, NamedPeriod, Period, Result,
    StatsQuery, Timestamp,
};

/// A [`Host`] for native tests: records logs and answers statistics queries from
/// the answers a test gives it.
#[derive(Debug, Default)]
pub struct TestHost {
    logs: RefCell<Vec<(Level, String)>>,
    stats: Vec<(StatsQuery, Decimal)>,
    before: Vec<(StatsQuery, Decimal)>,
    campaign: Vec<(CampaignQuery, Decimal)>,
    periods: Vec<(NamedPeriod, Period)>,
}

impl TestHost {
    /// A host with no statistics.
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers `query` with `value`.
    pub fn with_stat(mut self, query: StatsQuery, value: Decimal) -> Self {
        self.stats.push((query, value));
        self
    }

    /// Answers `query` with `value` in [`Host::stats_before`] (which otherwise gives
    /// the [`with_stat`](Self::with_stat) answer).
    pub fn with_stat_before(mut self, query: StatsQuery, value: Decimal) -> Self {
        self.before.push((query, value));
        self
    }

    /// Answers the campaign-wide `query` ([`Host::campaign_stats`]) with `value`.
    pub fn with_campaign_stat(mut self, query: CampaignQuery, value: Decimal) -> Self {
        self.campaign.push((query, value));
        self
    }

    /// Answers [`Host::period`] for `named` with `bounds` (any campaign).
    pub fn with_period(mut self, named: NamedPeriod, bounds: Period) -> Self {
        self.periods.push((named, bounds));
        self
    }

    /// The records logged so far.
    pub fn logs(&self) -> Vec<(Level, String)> {
        self.logs.borrow().clone()
    }
}

impl Host for TestHost {
    fn log(&self, level: Level, message: &str) {
        self.logs.borrow_mut().push((level, message.to_owned()));
    }

    fn stats(&self, query: &StatsQuery) -> Result<Decimal> {
        self.stats
            .iter()
            .find(|(known, _)| known == query)
            .map(|(_, value)| *value)
            .ok_or_else(|| Error::new(format!("TestHost has no answer for {query:?}")))
    }

    fn stats_before(&self, query: &StatsQuery) -> Result<Decimal> {
        match self.before.iter().find(|(known, _)| known == query) {
            Some((_, value)) => Ok(*value),
            None => self.stats(query),
        }
    }

    fn campaign_stats(&self, query: &CampaignQuery) -> Result<Decimal> {
        self.campaign
            .iter()
            .find(|(known, _)| known == query)
            .map(|(_, value)| *value)
            .ok_or_else(|| Error::new(format!("TestHost has no answer for {query:?}")))
    }

    fn period(&self, _campaign: CampaignId, period: NamedPeriod) -> Result<Period> {
        self.periods
            .iter()
            .find(|(known, _)| *known == period)
            .map(|(_, bounds)| *bounds)
            .ok_or_else(|| Error::new(format!("TestHost has no bounds for {period:?}")))
    }
}

/// A sale of `total` in campaign 1 (conversion 1, at time 0, no order, product,
/// coupon, customer or custom fields), for native tests; change a field with
/// struct update syntax (`Conversion { customer: .., ..sale(total) }`).
pub fn sale(total: Money) -> Conversion {
    Conversion {
        id: 1.into(),
        campaign: 1.into(),
        commission_type: CommissionType::Sale,
        total,
        order_id: None,
        product_id: None,
        coupon: None,
        customer: None,
        custom_fields: vec![],
        occurred_at: Timestamp::from_millis(0),
    }
}

/// Reads the hook input from a run file (the JSON file `upline plugin run` takes), so
/// native unit tests and the local runner can share one example.
pub fn run_file_input<T: serde::de::DeserializeOwned>(run_file: &str) -> Result<T> {
    #[derive(serde::Deserialize)]
    struct RunFile<T> {
        input: T,
    }
    Ok(serde_json::from_str::<RunFile<T>>(run_file)?.input)
}
