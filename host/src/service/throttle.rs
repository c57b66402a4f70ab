//! Throttles: per-key rate limits (governor's GCRA) that refuse with a 429 saying
//! when to try again. The server keeps one set ([`Throttles`]): per client address
//! on the public endpoints, and per account on logins.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use ipnet::IpNet;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// One rate limit over many keys.
pub struct Throttle<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    clock: DefaultClock,
    what: &'static str,
}

impl<K: Hash + Eq + Clone> Throttle<K> {
    /// `per_minute` requests a minute per key, at most `burst` at once (both at least 1);
    /// `what` names them in the refusal.
    pub fn per_minute(per_minute: u32, burst: u32, what: &'static str) -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
        Self { limiter: DefaultKeyedRateLimiter::keyed(quota), clock: DefaultClock::default(), what }
    }

    /// Counts a request of `key`; a 429 with the wait when the key is over its limit.
    pub fn check(&self, key: &K) -> Result<()> {
        self.limiter.check_key(key).map_err(|not_until| {
            let retry_after = not_until.wait_time_from(self.clock.now());
            Error::RateLimited {
                message: format!("too many {}: try again in {} s", self.what, retry_after.as_secs().max(1)),
                retry_after,
            }
        })
    }

    /// Forgets keys that are back to a fresh state, so memory follows recent traffic.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// How the server limits public traffic.
#[derive(Debug, Clone)]
pub struct ThrottleSettings {
    /// Requests a minute per client on the tracking endpoints (referral links, clicks,
    /// the snippet).
    pub tracking_per_minute: u32,
    /// Clients no throttle applies to (e.g. a load generator, a trusted proxy's checks).
    pub exempt: Vec<IpNet>,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self { tracking_per_minute: 600, exempt: vec![] }
    }
}

/// The server's throttles.
pub struct Throttles {
    /// Referral links, clicks and the snippet, per client.
    pub tracking: Throttle<IpAddr>,
    /// The snippet's conversions, per client: 60 a minute, 20 at once.
    pub browser_conversions: Throttle<IpAddr>,
    /// Logins, per client: 20 a minute, 10 at once.
    pub logins: Throttle<IpAddr>,
    /// Logins and password changes, per account (the SHA-256 of its e-mail, so a key
    /// is small whatever a client sends): 10 at once, then one a minute, whoever tries.
    accounts: Throttle<[u8; 32]>,
    exempt: Vec<IpNet>,
}

impl Throttles {
    /// The throttles `settings` describe.
    pub fn new(settings: &ThrottleSettings) -> Self {
        let tracking = settings.tracking_per_minute;
        Self {
            tracking: Throttle::per_minute(tracking, tracking.div_ceil(10), "tracking requests from this address"),
            browser_conversions: Throttle::per_minute(60, 20, "conversions reported from this address"),
            logins: Throttle::per_minute(20, 10, "logins from this address"),
            accounts: Throttle::per_minute(1, 10, "login attempts for this account"),
            exempt: settings.exempt.clone(),
        }
    }

    /// Counts an attempt on the account of `email` (as logins compare it).
    pub fn check_account(&self, email: &str) -> Result<()> {
        self.accounts.check(&Sha256::digest(crate::domain::affiliate::login_email(email).as_bytes()).into())
    }

    /// Whether `client` is exempt from the per-client throttles.
    pub fn is_exempt(&self, client: IpAddr) -> bool {
        let client = client.to_canonical();
        self.exempt.iter().any(|net| net.contains(&client))
    }

    /// Checks `throttle` for `client` unless the client is exempt.
    pub fn check_client(&self, throttle: &Throttle<IpAddr>, client: IpAddr) -> Result<()> {
        if self.is_exempt(client) { Ok(()) } else { throttle.check(&client_key(client)) }
    }

    /// Forgets idle keys of every throttle.
    pub fn forget_idle(&self) {
        self.tracking.forget_idle();
        self.browser_conversions.forget_idle();
        self.logins.forget_idle();
        self.accounts.forget_idle();
    }
}

/// The key of a client: its IPv4 address (also when written IPv4-mapped, as on a
/// dual-stack listener), or the /64 network of its IPv6 address (one site's share,
/// which a client can otherwise walk through address by address).
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_over_its_burst_waits_and_others_do_not() {
        let throttle = Throttle::per_minute(60, 3, "tries");
        for _ in 0..3 {
            throttle.check(&"a").expect("within the burst");
        }
        match throttle.check(&"a") {
            Err(Error::RateLimited { retry_after, message }) => {
                assert!(retry_after.as_millis() > 0 && retry_after.as_secs() <= 1, "{retry_after:?}");
                assert!(message.contains("too many tries"), "{message}");
            }
            other => panic!("expected a 429, got {other:?}"),
        }
        throttle.check(&"b").expect("another key");
    }

    #[test]
    fn exempt_clients_pass_and_ipv6_clients_count_per_64() {
        let settings = ThrottleSettings { tracking_per_minute: 1, exempt: vec!["10.0.0.0/8".parse().expect("net")] };
        let throttles = Throttles::new(&settings);
        for _ in 0..100 {
            throttles.check_client(&throttles.tracking, "10.1.2.3".parse().expect("ip")).expect("exempt");
        }
        let (one, two): (IpAddr, IpAddr) = ("2001:db8::1".parse().expect("ip"), "2001:db8::2".parse().expect("ip"));
        throttles.check_client(&throttles.tracking, one).expect("first");
        assert!(throttles.check_client(&throttles.tracking, two).is_err(), "the same /64");
        // IPv4-mapped addresses are their IPv4 selves: exempt alike, and not all in one /64.
        throttles.check_client(&throttles.tracking, "::ffff:10.1.2.3".parse().expect("ip")).expect("exempt");
        throttles.check_client(&throttles.tracking, "::ffff:192.0.2.1".parse().expect("ip")).expect("its own");
        throttles.check_client(&throttles.tracking, "::ffff:192.0.2.2".parse().expect("ip")).expect("its own");
    }
}
