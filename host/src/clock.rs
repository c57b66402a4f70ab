//! The one clock everything that needs "now" reads: the engine, holds, sessions,
//! clicks, reports, the audit log and the scheduler. A server runs on the system
//! clock; tests run it on a [`FakeClock`] they move forward, so a year of schedules
//! runs in seconds.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

/// Where a server reads the time.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// The system's clock.
    #[default]
    System,
    /// A clock that moves only when told to.
    Fake(FakeClock),
}

impl Clock {
    /// The current time.
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fake(fake) => fake.now(),
        }
    }
}

/// A clock that stands still until moved; clones share the time.
#[derive(Debug, Clone)]
pub struct FakeClock(Arc<Mutex<DateTime<Utc>>>);

impl FakeClock {
    /// A clock standing at `at`.
    pub fn at(at: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(at)))
    }

    /// The time it shows.
    pub fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Moves it to `at` (forward or back).
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = at;
    }

    /// Moves it forward by `by`.
    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *now += by;
    }
}
