//! Work that must not run on the async workers (password hashing, plugin calls), on
//! blocking threads: at most one job per core at a time, a bounded queue behind them
//! (past it a 503 with `Retry-After` instead of a wait without end), and a job that
//! has started runs to its end and holds its core until then, even if the request that
//! asked for it is dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::error::{Error, Result};

/// A bounded pool of blocking jobs.
pub struct BlockingPool {
    running: Arc<Semaphore>,
    /// Jobs running plus waiting.
    in_flight: Arc<AtomicUsize>,
    most: usize,
    what: &'static str,
}

/// Counts one job in flight until dropped: with its request if that is dropped while
/// waiting, else with the job when it ends.
struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl BlockingPool {
    /// A pool running one job per core with `queued` more waiting; `what` names the
    /// jobs in the refusal.
    pub fn per_core(queued: usize, what: &'static str) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self { running: Arc::new(Semaphore::new(cores)), in_flight: Arc::default(), most: cores + queued, what }
    }

    /// Runs `work` on a blocking thread when a core is free.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let in_flight = InFlight(self.in_flight.clone());
        if self.in_flight.fetch_add(1, Ordering::AcqRel) >= self.most {
            return Err(Error::Unavailable {
                message: format!("too many {} are waiting", self.what),
                retry_after: Duration::from_secs(1),
            });
        }
        let permit = self.running.clone().acquire_owned().await.map_err(|err| Error::Internal(err.to_string()))?;
        let job = tokio::task::spawn_blocking(move || {
            let _held = (permit, in_flight);
            work()
        });
        job.await.map_err(|err| Error::Internal(format!("{}: {err}", self.what)))
    }
}
