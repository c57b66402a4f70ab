//! What the host offers a plugin: logging and read-only statistics.

use rust_decimal::Decimal;

use crate::{CampaignId, CampaignQuery, Level, NamedPeriod, Period, Result, StatsQuery};

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

    /// Answers `query` without the conversion the hook is called for: in
    /// `bonus-rules` for a conversion, the value before its own commissions (compare
    /// with [`stats`](Self::stats) to see whether this conversion crossed a
    /// threshold); in every other call the same as `stats`.
    fn stats_before(&self, query: &StatsQuery) -> Result<Decimal>;

    /// Answers an aggregate query over the whole campaign (every affiliate's
    /// commissions), e.g. a budget's "commissions this month". Needs `stats`; the
    /// server answers in the hooks called for a conversion, counting in
    /// `bonus-rules` the conversion's own commissions as [`stats`](Self::stats) does.
    fn campaign_stats(&self, query: &CampaignQuery) -> Result<Decimal>;

    /// The bounds of `period` in `campaign`'s calendar (its time zone), around the
    /// hook's `now`, e.g. the start of this month. Needs `stats`; all time has none.
    fn period(&self, campaign: CampaignId, period: NamedPeriod) -> Result<Period>;

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
