//! What the host offers a plugin: logging and read-only statistics.

use rust_decimal::Decimal;

use crate::{Level, Result, StatsQuery};

/// The host's services, as a hook sees them. In a plugin this is the real host;
/// in native unit tests use [`TestHost`](crate::testing::TestHost).
pub trait Host {
    /// Writes a log record (capped per call by the host).
    fn log(&self, level: Level, message: &str);

    /// Answers an aggregate query, e.g. "approved sales this month". Needs the `stats`
    /// capability in the manifest and the operator's grant; the server answers in
    /// `screen`, `distribute` and `bonus-rules` for the conversion's upline (or the
    /// evaluated affiliate) from sums read before the call, `upline plugin run` from
    /// its input file.
    fn stats(&self, query: &StatsQuery) -> Result<Decimal>;

    /// Logs at debug level.
    fn debug(&self, message: &str) {
        self.log(Level::Debug, message);
    }

    /// Logs at info level.
    fn info(&self, message: &str) {
        self.log(Level::Info, message);
    }

    /// Logs at warning level.
    fn warn(&self, message: &str) {
        self.log(Level::Warn, message);
    }
}
