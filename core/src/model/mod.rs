//! The typed model: identifiers, codes and one type per reply.

mod codes;
mod contacts;
mod login;
mod message;
mod profile;

use std::fmt;
use std::str::FromStr;

pub use codes::{BloodType, Constellation, Gender, Status, Zodiac};
pub use contacts::{AddFriendOutcome, OnlineFriend, Verification};
pub use login::{LoginOutcome, PasswordHash};
pub use message::{Message, MessageKind};
pub use profile::{InfoLevel, UserInfo};

/// A code a caller gave that names none of a type's values: what
/// `TryFrom<u32>` for [`InfoLevel`] and [`Verification`] returns. The
/// message lists the codes there are.
///
/// ```
/// use httpqq::InfoLevel;
/// let err = InfoLevel::try_from(1).unwrap_err();
/// assert_eq!(err.to_string(), "1 is not an InfoLevel (0, 2 or 3)");
/// assert_eq!(httpqq::Verification::try_from(2), Ok(httpqq::Verification::Request));
/// assert!(httpqq::Verification::try_from(3).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} is not {what}")]
pub struct UnknownCode {
    /// The code given.
    pub code: u32,
    /// What was expected, with its codes: "an InfoLevel (0, 2 or 3)".
    pub what: &'static str,
}

/// A QQ number (UIN).
///
/// Any number read off the wire is kept as it is; what a caller gives to
/// be sent, and what a server stores, must be a *valid* UIN:
/// [`Uin::FIRST`] (10000) to [`Uin::LAST`] (4294967295). QQ numbers had 5
/// to 10 digits, the first was 10000, and the QQ protocols carried them as
/// unsigned 32-bit numbers \[decision, docs/PROTOCOL.md\]; the original
/// server answered `RES=5` for the UIN `100`.
///
/// ```
/// use httpqq::Uin;
///
/// let uin: Uin = "106814".parse()?;
/// assert_eq!(uin, Uin::new(106814));
/// assert_eq!(uin.to_string(), "106814");
/// assert!(uin.is_valid());
/// for bad in ["10 6814", "+42", " 10001", "010001", "100", "4294967296", ""] {
///     assert!(bad.parse::<Uin>().is_err(), "{bad:?}");
/// }
/// assert_eq!(Uin::checked(100), None);
/// # Ok::<(), httpqq::ParseUinError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Uin(u64);

impl Uin {
    /// The smallest valid UIN.
    pub const FIRST: u64 = 10_000;
    /// The largest valid UIN (`u32::MAX`).
    pub const LAST: u64 = 4_294_967_295;

    /// Wraps a number as a UIN, valid or not (see [`Uin::checked`]).
    pub const fn new(number: u64) -> Self {
        Uin(number)
    }

    /// The number as a UIN if it is a valid one (from [`Uin::FIRST`] to
    /// [`Uin::LAST`]).
    pub const fn checked(number: u64) -> Option<Uin> {
        if number >= Uin::FIRST && number <= Uin::LAST {
            Some(Uin(number))
        } else {
            None
        }
    }

    /// Whether this is a valid UIN (see [`Uin::checked`]): the only kind a
    /// client sends and a server stores.
    pub const fn is_valid(self) -> bool {
        Uin::checked(self.0).is_some()
    }

    /// The number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl From<u64> for Uin {
    fn from(number: u64) -> Self {
        Uin(number)
    }
}

impl From<Uin> for u64 {
    fn from(uin: Uin) -> u64 {
        uin.0
    }
}

impl fmt::Display for Uin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The text given is not a valid UIN: only ASCII digits, no sign, spaces or
/// leading zero, from 10000 to 4294967295.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a UIN (a QQ number: digits only, from 10000 to 4294967295, e.g. 106814)")]
pub struct ParseUinError(String);

/// Reads a UIN strictly, as a caller or an administrator gives one: ASCII
/// digits only (no sign, no spaces, no leading zero), a valid UIN (see
/// [`Uin::checked`]); so a UIN read is written back as it was typed.
impl FromStr for Uin {
    type Err = ParseUinError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let digits = !text.is_empty()
            && text.len() <= 10
            && !text.starts_with('0')
            && text.bytes().all(|b| b.is_ascii_digit());
        digits
            .then(|| text.parse::<u64>().ok())
            .flatten()
            .and_then(Uin::checked)
            .ok_or_else(|| ParseUinError(crate::error::excerpt(text.as_bytes())))
    }
}

/// A face (avatar) id (`FC`). Its picture is number `id / 3 + 1`.
///
/// ```
/// let face = httpqq::Face::new(270);
/// assert_eq!(face.picture(), 91);
/// assert_eq!(face.picture_file(), "91.bmp");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Face(u32);

impl Face {
    /// Wraps a face id.
    pub const fn new(id: u32) -> Self {
        Face(id)
    }

    /// The face id as sent.
    pub const fn id(self) -> u32 {
        self.0
    }

    /// The picture number: `id / 3 + 1` (integer division).
    pub const fn picture(self) -> u32 {
        self.0 / 3 + 1
    }

    /// The picture's file name in the period clients, e.g. `91.bmp`.
    pub fn picture_file(self) -> String {
        format!("{}.bmp", self.picture())
    }
}

impl From<u32> for Face {
    fn from(id: u32) -> Self {
        Face(id)
    }
}

impl fmt::Display for Face {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
