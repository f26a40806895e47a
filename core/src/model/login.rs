//! What Login needs and what it returns.

use std::fmt;
use std::time::Duration;

use md5::{Digest, Md5};

/// The MD5 of a password, as Login sends it (`PS`).
///
/// The clear password is hashed at once and not kept. Neither `Debug` nor any
/// other formatting shows the hash.
///
/// ```
/// let hash = httpqq::PasswordHash::from_password("demo");
/// assert_eq!(format!("{hash:?}"), "PasswordHash(<redacted>)");
/// ```
#[derive(Clone, Eq)]
pub struct PasswordHash(Box<[u8; 16]>);

/// The MD5 is the credential: it is wiped from memory when dropped. It is
/// kept in a box of its own, so that moving a hash around moves a pointer
/// and leaves no copies of the bytes behind.
impl Drop for PasswordHash {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut *self.0);
    }
}

/// Compared in constant time (a server compares credentials).
impl PartialEq for PasswordHash {
    fn eq(&self, other: &Self) -> bool {
        self.0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |differ, (a, b)| differ | (a ^ b))
            == 0
    }
}

impl PasswordHash {
    /// Hashes a password's UTF-8 bytes.
    pub fn from_password(password: &str) -> Self {
        let mut hash = PasswordHash(Box::new([0; 16]));
        let mut digest = Md5::digest(password.as_bytes());
        hash.0.copy_from_slice(&digest);
        zeroize::Zeroize::zeroize(digest.as_mut_slice());
        hash
    }

    /// Takes an MD5 already computed, as 32 hex digits (either case), for
    /// callers that store the hash rather than the password. `None` if the
    /// text is not 32 hex digits.
    ///
    /// ```
    /// use httpqq::PasswordHash;
    /// let stored = PasswordHash::from_md5_hex("FE01CE2A7FBAC8FAFAED7C982A04E229").unwrap();
    /// assert_eq!(stored, PasswordHash::from_password("demo"));
    /// ```
    pub fn from_md5_hex(hex: &str) -> Option<Self> {
        let bytes = hex.as_bytes();
        if bytes.len() != 32 {
            return None;
        }
        let mut hash = PasswordHash(Box::new([0; 16]));
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let high = (pair[0] as char).to_digit(16)?;
            let low = (pair[1] as char).to_digit(16)?;
            hash.0[i] = (high * 16 + low) as u8;
        }
        Some(hash)
    }

    /// The 16 bytes of the MD5 (what a server stores a salted slow hash
    /// of: the MD5 is what the protocol sends, so it is the credential).
    /// Borrowed, so that no copy outlives the hash, which is wiped when
    /// dropped.
    pub fn md5(&self) -> &[u8; 16] {
        &self.0
    }

    /// The 32 lower-case hex digits the protocol sends.
    ///
    /// ```
    /// let hash = httpqq::PasswordHash::from_password("demo");
    /// assert_eq!(hash.to_md5_hex(), "fe01ce2a7fbac8fafaed7c982a04e229");
    /// ```
    pub fn to_md5_hex(&self) -> String {
        let mut out = String::with_capacity(32);
        self.write_hex(&mut out);
        out
    }

    /// Writes the 32 lower-case hex digits the protocol sends.
    pub(crate) fn write_hex(&self, out: &mut String) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for &byte in self.0.iter() {
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 0x0f)] as char);
        }
    }

    /// Whether `hex` (32 hex digits, either case) is this hash: how a server
    /// checks `PS`.
    ///
    /// ```
    /// let hash = httpqq::PasswordHash::from_password("demo");
    /// assert!(hash.matches_hex("fe01ce2a7fbac8fafaed7c982a04e229"));
    /// assert!(!hash.matches_hex("not a hash"));
    /// ```
    pub fn matches_hex(&self, hex: &str) -> bool {
        PasswordHash::from_md5_hex(hex).is_some_and(|other| other == *self)
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// A successful Login (`RS=0`).
///
/// A refused login is [`Error::LoginFailed`](crate::Error::LoginFailed), not
/// an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginOutcome {
    /// `HI`: how often the client should poll to stay logged in.
    pub heartbeat: Duration,
    /// `LI`: how long the server keeps a silent session.
    pub idle_timeout: Duration,
}

impl LoginOutcome {
    /// What a login reply without `HI`/`LI` means: the original's 60 s and
    /// 300 s. \[decision\]
    pub const DEFAULT: LoginOutcome = LoginOutcome {
        heartbeat: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(300),
    };
}
