//! Password hashing and checking (Argon2id, slow on purpose) in a [`BlockingPool`]:
//! a flood of logins cannot take the async workers, and when the queue is full it is
//! refused with a 503 instead of waiting without end.

use std::sync::LazyLock;

use super::blocking::BlockingPool;
use crate::domain::affiliate::{hash_password, verify_password};
use crate::error::Result;

/// Hashes or checks waiting beyond the ones running.
const MAX_QUEUED: usize = 64;

/// A hash that no password matches: unknown e-mails are checked against it, so they
/// cost the same work as known ones and timing does not tell which accounts exist.
static DECOY: LazyLock<String> = LazyLock::new(|| {
    let password = hex::encode(rand::random::<[u8; 32]>());
    hash_password(&password).unwrap_or_default()
});

/// The server's password work.
pub struct Passwords(BlockingPool);

impl Default for Passwords {
    fn default() -> Self {
        Self(BlockingPool::per_core(MAX_QUEUED, "password checks"))
    }
}

impl Passwords {
    /// Whether `password` matches `hash`; with no hash (an unknown account) it checks
    /// a decoy and answers false, doing the same work.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool> {
        self.0
            .run(move || {
                let matches = verify_password(&password, hash.as_deref().unwrap_or(&DECOY));
                matches && hash.is_some()
            })
            .await
    }

    /// The Argon2id hash of `password`.
    pub async fn hash(&self, password: String) -> Result<String> {
        self.0.run(move || hash_password(&password)).await?
    }
}
