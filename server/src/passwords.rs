//! Passwords at rest. The protocol sends the MD5 of the password, so the
//! MD5 is the credential: the database keeps only a salted, slow hash of it
//! (argon2id), as a PHC string holding its parameters and salt. Nothing
//! stored can be sent to log in.
//!
//! Three costs: [`HashCost::Strong`] for a server run for real (about 4 ms
//! of one core per hash here), [`HashCost::Test`] for tests, and a cheap
//! one for bulk imports, which a successful login upgrades to the server's
//! cost (so importing 100,000 accounts takes seconds, not minutes).

use argon2::password_hash::phc::PasswordHash as Phc;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use httpqq::PasswordHash;

/// How costly the stored password hashes are (argon2id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HashCost {
    /// 8 KiB, one pass: microseconds. For tests and demos only: it resists
    /// guessing far less.
    #[default]
    Test,
    /// 8 MiB, two passes: about 4 ms of one core on the benchmark machine;
    /// what the `httpqq-server` command uses.
    Strong,
}

impl HashCost {
    /// The argon2 parameters: (memory in KiB, passes).
    const fn costs(self) -> (u32, u32) {
        match self {
            HashCost::Test => (8, 1),
            HashCost::Strong => (8 * 1024, 2),
        }
    }
}

/// What bulk imports store at first: 256 KiB, one pass (about 0.1 ms).
const IMPORT: (u32, u32) = (256, 1);

/// Whether a password matched its stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// It matched; `upgrade` when the stored hash is cheaper than the
    /// server's cost (store a new one).
    Match { upgrade: bool },
    /// It did not.
    Mismatch,
    /// The stored hash cannot be read (a damaged row): no password matches.
    Unreadable,
}

fn argon2((memory, passes): (u32, u32)) -> Argon2<'static> {
    let params = Params::new(memory, passes, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A fresh salted hash of `password`'s MD5 at `cost`.
pub(crate) fn hash(password: &PasswordHash, cost: HashCost) -> String {
    hash_with(password, cost.costs())
}

/// As [`hash`], at the import cost.
#[cfg(test)]
fn hash_for_import(password: &PasswordHash) -> String {
    hash_with(password, IMPORT)
}

fn hash_with(password: &PasswordHash, costs: (u32, u32)) -> String {
    // The salt comes from the operating system's random source; only a
    // failing one (which leaves no safe way on) makes this fail.
    argon2(costs)
        .hash_password(password.md5())
        .map(|phc| phc.to_string())
        .unwrap_or_else(|err| panic!("cannot hash a password (no random source?): {err}"))
}

/// Hashes the passwords of accounts being seeded or imported, on every
/// core: at `cost` if that is the test cost (cheaper still), else at the
/// import cost, which each account's first login upgrades to `cost`.
pub(crate) fn hash_many_for_seed(passwords: &[PasswordHash], cost: HashCost) -> Vec<String> {
    let costs = match cost {
        HashCost::Test => cost.costs(),
        HashCost::Strong => IMPORT,
    };
    hash_all(passwords, costs)
}

/// Hashes many passwords at `costs`, on every core (a few, on this one).
fn hash_all(passwords: &[PasswordHash], costs: (u32, u32)) -> Vec<String> {
    if passwords.len() <= 64 {
        return passwords.iter().map(|p| hash_with(p, costs)).collect();
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = passwords.len().div_ceil(cores).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = passwords
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || part.iter().map(|p| hash_with(p, costs)).collect::<Vec<_>>())
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|part| {
                part.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Checks `password` against a stored hash, and whether that hash should be
/// replaced by one at `cost`.
pub(crate) fn check(stored: &str, password: &PasswordHash, cost: HashCost) -> Check {
    let Ok(phc) = Phc::new(stored) else {
        return Check::Unreadable;
    };
    match Argon2::default().verify_password(password.md5(), &phc) {
        Ok(()) => {
            let (memory, passes) = cost.costs();
            let upgrade =
                Params::try_from(&phc).map_or(true, |p| p.m_cost() < memory || p.t_cost() < passes);
            Check::Match { upgrade }
        }
        Err(argon2::password_hash::Error::PasswordInvalid) => Check::Mismatch,
        Err(_) => Check::Unreadable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_checks_its_own_password_only_and_holds_no_md5() {
        let password = PasswordHash::from_password("demo");
        let stored = hash(&password, HashCost::Test);
        assert!(
            stored.starts_with("$argon2id$v=19$m=8,t=1,p=1$"),
            "{stored}"
        );
        assert!(!stored.contains(&password.to_md5_hex()));
        assert_eq!(
            check(&stored, &password, HashCost::Test),
            Check::Match { upgrade: false }
        );
        let wrong = PasswordHash::from_password("Demo");
        assert_eq!(check(&stored, &wrong, HashCost::Test), Check::Mismatch);
        // Two hashes of one password differ (salted).
        assert_ne!(stored, hash(&password, HashCost::Test));
        assert_eq!(
            check("not a hash", &password, HashCost::Test),
            Check::Unreadable
        );
    }

    #[test]
    fn cheaper_hashes_are_upgraded_at_login() {
        let password = PasswordHash::from_password("demo");
        let imported = hash_for_import(&password);
        assert!(imported.contains("m=256,t=1"), "{imported}");
        assert_eq!(
            check(&imported, &password, HashCost::Strong),
            Check::Match { upgrade: true }
        );
        assert_eq!(
            check(&imported, &password, HashCost::Test),
            Check::Match { upgrade: false }
        );
        let many = hash_all(
            &[password.clone(), PasswordHash::from_password("x")],
            IMPORT,
        );
        assert_eq!(many.len(), 2);
        assert_eq!(
            check(&many[0], &password, HashCost::Test),
            Check::Match { upgrade: false }
        );
    }
}
