//! Password guessing, and what a login costs before its password is
//! checked. A slow hash is the point of storing passwords with argon2id,
//! so who may make the server compute one is decided here, first, at the
//! price of a few map lookups:
//!
//! - **per UIN and address**: after [`Config::login_limit`] wrong
//!   passwords from one address, that address gets `RES=3` for the UIN
//!   until the window slides, without a hash;
//! - **per UIN, over every address the account never logged in from**: at
//!   most [`Config::guess_limit`] password checks in the window, however
//!   many addresses guess, so that forty addresses do not get forty times
//!   the guesses;
//! - **the owner stays in**: an address the account logged in from (the
//!   last [`KNOWN_ADDRESSES`]) is not counted against the per-UIN limit,
//!   so a guesser elsewhere cannot lock the owner out of their usual
//!   place (from a new address during an attack, the owner waits for the
//!   window like anyone);
//! - **no hash for the right password twice**: a login that presents the
//!   MD5 of the account's last good login is let in without a hash (the
//!   fast path), once both limits above allowed the attempt: it saves
//!   work, it never gets around a limit.
//!
//! The fast path keeps a keyed BLAKE2b digest of that MD5 (the key is
//! random per process), never the MD5 itself: a memory dump of the server
//! holds nothing a client could log in with.
//!
//! [`Config::login_limit`]: crate::Config::login_limit
//! [`Config::guess_limit`]: crate::Config::guess_limit

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use blake2::{Blake2b256, Digest};
use httpqq::PasswordHash;
use zeroize::Zeroizing;

use crate::config::RateLimit;
use crate::world::recent;

/// How many addresses are remembered per account as ones it logged in from.
pub(crate) const KNOWN_ADDRESSES: usize = 8;

/// What a login may do before its password is checked.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Gate {
    /// Refused for now (`RES=3`): too many guesses; no hash.
    Locked,
    /// The MD5 of the last good login: in, without a hash.
    Known,
    /// Check the password against the stored hash.
    Check,
}

/// A digest of an MD5 under the process's key.
type Digest32 = [u8; 32];

/// The guessing records of every account, in memory only.
pub(crate) struct Lockout {
    /// Wrong passwords per account and address.
    failed: HashMap<(u64, IpAddr), VecDeque<Instant>>,
    /// Password checks per account from addresses it never logged in from.
    guesses: HashMap<u64, VecDeque<Instant>>,
    /// The addresses each account logged in from, latest last.
    known: HashMap<u64, VecDeque<IpAddr>>,
    /// Per account: the stored hash of its last good login, and the keyed
    /// digest of the MD5 it logged in with.
    verified: HashMap<u64, (String, Digest32)>,
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Lockout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lockout")
            .field("failed", &self.failed.len())
            .field("guesses", &self.guesses.len())
            .finish_non_exhaustive()
    }
}

impl Lockout {
    pub(crate) fn new() -> Lockout {
        let mut key = Zeroizing::new([0u8; 32]);
        // Without a random source the fast path is keyed by a constant: it
        // still holds no MD5, only a digest easier to test guesses against.
        if let Err(err) = getrandom::fill(&mut key[..]) {
            log::warn!(target: "httpqq::server", "no random key for the login cache: {err}");
        }
        Lockout {
            failed: HashMap::new(),
            guesses: HashMap::new(),
            known: HashMap::new(),
            verified: HashMap::new(),
            key,
        }
    }

    fn digest(&self, password: &PasswordHash) -> Digest32 {
        let mut hasher = Blake2b256::new();
        hasher.update(&self.key[..]);
        hasher.update(password.md5());
        hasher.finalize().into()
    }

    fn is_known(&self, uin: u64, ip: IpAddr) -> bool {
        self.known.get(&uin).is_some_and(|ips| ips.contains(&ip))
    }

    /// Decides what a login of `uin` from `ip` with `password` (`None`: a
    /// `PS` that is no MD5) may do, against the account's `stored` hash;
    /// counts a password check that will be made.
    pub(crate) fn gate(
        &mut self,
        uin: u64,
        ip: IpAddr,
        password: Option<&PasswordHash>,
        stored: &str,
        limits: (RateLimit, RateLimit),
        now: Instant,
    ) -> Gate {
        let (per_address, per_account) = limits;
        let failed = self.failed.entry((uin, ip)).or_default();
        if recent(failed, per_address.window, now) >= per_address.count as usize {
            return Gate::Locked;
        }
        // Counted before the fast path, which must not be a way around
        // the limit: a guess that happens to match is still a guess.
        if !self.is_known(uin, ip) {
            let guesses = self.guesses.entry(uin).or_default();
            if recent(guesses, per_account.window, now) >= per_account.count as usize {
                return Gate::Locked;
            }
            guesses.push_back(now);
        }
        if let Some(password) = password {
            let digest = self.digest(password);
            let known = self.verified.get(&uin).is_some_and(|(hash, good)| {
                hash == stored
                    && good
                        .iter()
                        .zip(digest.iter())
                        .fold(0u8, |d, (a, b)| d | (a ^ b))
                        == 0
            });
            if known {
                return Gate::Known;
            }
        }
        Gate::Check
    }

    /// Records a wrong password.
    pub(crate) fn failed(&mut self, uin: u64, ip: IpAddr, now: Instant) {
        self.failed.entry((uin, ip)).or_default().push_back(now);
    }

    /// Records a good login: the address's failures are forgiven, it is
    /// known from now on, and the MD5 opens the fast path while `stored`
    /// stays the account's hash.
    pub(crate) fn succeeded(
        &mut self,
        uin: u64,
        ip: IpAddr,
        password: &PasswordHash,
        stored: String,
    ) {
        self.failed.remove(&(uin, ip));
        let known = self.known.entry(uin).or_default();
        known.retain(|&other| other != ip);
        if known.len() == KNOWN_ADDRESSES {
            known.pop_front();
        }
        known.push_back(ip);
        let digest = self.digest(password);
        self.verified.insert(uin, (stored, digest));
    }

    /// The stored hash the account last logged in against, if it did.
    pub(crate) fn logged_in_with(&self, uin: u64) -> Option<&str> {
        self.verified.get(&uin).map(|(stored, _)| stored.as_str())
    }

    /// Forgets the account's fast path (its password changed, or it is
    /// gone).
    pub(crate) fn forget(&mut self, uin: u64) {
        self.verified.remove(&uin);
    }

    /// Drops records that no longer limit anything, so that memory does
    /// not grow with every address that ever guessed.
    pub(crate) fn prune(&mut self, window: Duration, now: Instant) {
        self.failed
            .retain(|_, times| recent(times, window, now) > 0);
        self.guesses
            .retain(|_, times| recent(times, window, now) > 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEN: RateLimit = RateLimit {
        count: 10,
        window: Duration::from_secs(60),
    };
    const TWENTY: RateLimit = RateLimit {
        count: 20,
        window: Duration::from_secs(60),
    };

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    #[test]
    fn one_address_is_stopped_after_its_wrong_passwords_without_a_hash() {
        let mut l = Lockout::new();
        let now = Instant::now();
        let wrong = PasswordHash::from_password("wrong");
        for _ in 0..10 {
            assert_eq!(
                l.gate(1, ip(1), Some(&wrong), "h", (TEN, TWENTY), now),
                Gate::Check
            );
            l.failed(1, ip(1), now);
        }
        assert_eq!(
            l.gate(1, ip(1), Some(&wrong), "h", (TEN, TWENTY), now),
            Gate::Locked
        );
        // Another account from there, and this account from elsewhere: free.
        assert_eq!(
            l.gate(2, ip(1), Some(&wrong), "h", (TEN, TWENTY), now),
            Gate::Check
        );
        assert_eq!(
            l.gate(1, ip(2), Some(&wrong), "h", (TEN, TWENTY), now),
            Gate::Check
        );
        // The window slides.
        let later = now + Duration::from_secs(60);
        assert_eq!(
            l.gate(1, ip(1), Some(&wrong), "h", (TEN, TWENTY), later),
            Gate::Check
        );
    }

    #[test]
    fn many_addresses_share_one_budget_per_account_but_the_owners_stays_open() {
        let mut l = Lockout::new();
        let now = Instant::now();
        let right = PasswordHash::from_password("demo");
        let wrong = PasswordHash::from_password("wrong");
        // The owner logged in from 10.0.0.200 once.
        l.succeeded(1, ip(200), &right, "h".into());
        let mut checked = 0;
        for n in 1..=40 {
            for _ in 0..12 {
                if l.gate(1, ip(n), Some(&wrong), "h", (TEN, TWENTY), now) == Gate::Check {
                    checked += 1;
                    l.failed(1, ip(n), now);
                }
            }
        }
        assert_eq!(checked, 20, "40 addresses × 12 guesses");
        // A new address is refused now, even with the right password…
        assert_eq!(
            l.gate(1, ip(77), Some(&right), "x", (TEN, TWENTY), now),
            Gate::Locked
        );
        // …but the owner's address is not, and needs no hash while the
        // stored hash is unchanged.
        assert_eq!(
            l.gate(1, ip(200), Some(&right), "h", (TEN, TWENTY), now),
            Gate::Known
        );
        assert_eq!(
            l.gate(1, ip(200), Some(&wrong), "h", (TEN, TWENTY), now),
            Gate::Check
        );
        // A changed password closes the fast path.
        assert_eq!(
            l.gate(1, ip(200), Some(&right), "h2", (TEN, TWENTY), now),
            Gate::Check
        );
        l.forget(1);
        assert_eq!(
            l.gate(1, ip(200), Some(&right), "h", (TEN, TWENTY), now),
            Gate::Check
        );
    }

    #[test]
    fn the_fast_path_keeps_no_md5() {
        let mut l = Lockout::new();
        let right = PasswordHash::from_password("demo");
        l.succeeded(1, ip(1), &right, "h".into());
        let (_, digest) = &l.verified[&1];
        assert!(!digest.windows(16).any(|w| w == right.md5()));
        let other = Lockout::new();
        assert_ne!(other.digest(&right), *digest, "keyed per process");
    }
}
