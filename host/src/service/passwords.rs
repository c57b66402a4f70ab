//! Password hashing and checking (Argon2id, slow on purpose) on blocking threads,
//! at most one per core at a time and a bounded queue behind them: a flood of
//! logins cannot take the async workers, and when the queue is full it is refused
//! with a 503 instead of waiting without end.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::domain::affiliate::{hash_password, verify_password};
use crate::error::{Error, Result};

/// Hashes or checks waiting beyond the ones running.
const MAX_QUEUED: usize = 64;

/// A hash that no password matches: unknown e-mails are checked against it, so they
/// cost the same work as known ones and timing does not tell which accounts exist.
static DECOY: LazyLock<String> = LazyLock::new(|| {
    let password = hex::encode(rand::random::<[u8; 32]>());
    hash_password(&password).unwrap_or_default()
});

/// The server's password work.
pub struct Passwords {
    running: Arc<Semaphore>,
    /// Running plus waiting, at most the cores plus [`MAX_QUEUED`].
    in_flight: Arc<AtomicUsize>,
    cores: usize,
}

impl Default for Passwords {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self { running: Arc::new(Semaphore::new(cores)), in_flight: Arc::default(), cores }
    }
}

/// Counts one piece of work in flight until dropped: with its request if that is
/// dropped while waiting, else with the blocking job when it ends.
struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Passwords {
    /// Whether `password` matches `hash`; with no hash (an unknown account) it checks
    /// a decoy and answers false, doing the same work.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool> {
        self.run(move || {
            let matches = verify_password(&password, hash.as_deref().unwrap_or(&DECOY));
            matches && hash.is_some()
        })
        .await
    }

    /// The Argon2id hash of `password`.
    pub async fn hash(&self, password: String) -> Result<String> {
        self.run(move || hash_password(&password)).await?
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let in_flight = InFlight(self.in_flight.clone());
        if self.in_flight.fetch_add(1, Ordering::AcqRel) >= self.cores + MAX_QUEUED {
            return Err(Error::Unavailable {
                message: "too many password checks are waiting".into(),
                retry_after: Duration::from_secs(1),
            });
        }
        let permit = self.running.clone().acquire_owned().await.map_err(|err| Error::Internal(err.to_string()))?;
        // The permit and the count go with the job: it runs to its end even if the
        // request is dropped, and holds its core until then.
        let job = tokio::task::spawn_blocking(move || {
            let _held = (permit, in_flight);
            work()
        });
        job.await.map_err(|err| Error::Internal(format!("password work: {err}")))
    }
}
