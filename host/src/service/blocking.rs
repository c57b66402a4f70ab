//! Work that must not run on the async workers (password hashing, plugin calls), on
//! threads of its own: one per core, each taking job after job from a bounded queue
//! (past it a 503 with `Retry-After` instead of a wait without end). Under load a
//! thread finds the next job waiting and goes on without sleeping; only an idle
//! thread is woken. A job whose request was dropped while it waited is skipped; one
//! that has started runs to its end and holds its thread until then.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::error::{Error, Result};

/// A job: it runs the work and sends its result to whoever waits.
type Job = Box<dyn FnOnce() + Send>;

/// A bounded pool of blocking jobs. Its threads end when it is dropped.
pub struct BlockingPool {
    queue: flume::Sender<Job>,
    what: &'static str,
}

impl BlockingPool {
    /// A pool of one thread per core with `queued` more jobs waiting; `what` names
    /// the jobs in the refusal.
    pub fn per_core(queued: usize, what: &'static str) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (queue, jobs) = flume::bounded::<Job>(queued);
        for _ in 0..cores {
            let jobs = jobs.clone();
            // The server cannot run without them, as tokio cannot without its workers.
            std::thread::Builder::new()
                .name("upline-blocking".into())
                .spawn(move || {
                    // A job that panics fails its own request (its sender is dropped),
                    // not the thread.
                    while let Ok(job) = jobs.recv() {
                        let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                    }
                })
                .expect("the system starts a thread for the blocking pool");
        }
        Self { queue, what }
    }

    /// Runs `work` on one of the pool's threads, behind the jobs queued before it.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let (done, answer) = oneshot::channel();
        let job: Job = Box::new(move || {
            if !done.is_closed() {
                let _ = done.send(work());
            }
        });
        self.queue.try_send(job).map_err(|err| match err {
            flume::TrySendError::Full(_) => Error::Unavailable {
                message: format!("too many {} are waiting", self.what),
                retry_after: Duration::from_secs(1),
            },
            flume::TrySendError::Disconnected(_) => Error::Internal(format!("the pool of {} has stopped", self.what)),
        })?;
        answer.await.map_err(|_| Error::Internal(format!("one of the {} failed", self.what)))
    }
}
