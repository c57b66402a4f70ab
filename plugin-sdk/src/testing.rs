//! Native unit testing of plugin logic: no wasm tooling needed.

use std::cell::RefCell;

use rust_decimal::Decimal;

use crate::{Error, Host, Level, Result, StatsQuery};

/// A [`Host`] for native tests: records logs and answers statistics queries from
/// the answers a test gives it.
#[derive(Debug, Default)]
pub struct TestHost {
    logs: RefCell<Vec<(Level, String)>>,
    stats: Vec<(StatsQuery, Decimal)>,
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
