//! Friends: who is online, what adding one gave, and the verification steps.

use super::{Face, Status, Uin};

/// One entry of the online-friends list (Query_Stat).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OnlineFriend {
    /// The friend's face (`FC`).
    pub face: Face,
    /// Their status (`ST`): online or busy in practice.
    pub status: Status,
    /// Their QQ number (`UN`).
    pub uin: Uin,
    /// Their nickname (`NK`).
    pub nickname: String,
}

/// What AddToList answered (`CD`).
///
/// ```
/// use httpqq::AddFriendOutcome;
/// assert_eq!(AddFriendOutcome::from_code(1), AddFriendOutcome::NeedsVerification);
/// assert_eq!(AddFriendOutcome::from_code(3), AddFriendOutcome::Refused { code: 3 });
/// assert_eq!(AddFriendOutcome::from_code(3).code(), 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddFriendOutcome {
    /// `CD=0`: the target allows anyone; they are now in your friend list.
    Added,
    /// `CD=1`: the target wants verification: send
    /// [`Verification::Request`] with a reason.
    NeedsVerification,
    /// `CD=2` (or any higher code, which one period client also read as a
    /// refusal): the target refuses to be added.
    Refused {
        /// The code received.
        code: u32,
    },
}

impl AddFriendOutcome {
    /// Reads a `CD` code; any code ≥ 2 is a refusal. \[decision\]
    pub const fn from_code(code: u32) -> Self {
        match code {
            0 => AddFriendOutcome::Added,
            1 => AddFriendOutcome::NeedsVerification,
            code => AddFriendOutcome::Refused { code },
        }
    }

    /// The `CD` code received.
    pub const fn code(self) -> u32 {
        match self {
            AddFriendOutcome::Added => 0,
            AddFriendOutcome::NeedsVerification => 1,
            AddFriendOutcome::Refused { code } => code,
        }
    }
}

/// The three verification messages of Ack_AddToList (`CD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verification {
    /// `CD=0`: approve the peer's request; they get you in their list and
    /// receive an approval message.
    Approve,
    /// `CD=1`: reject the peer's request; they receive the reason.
    Reject,
    /// `CD=2`: ask the peer to let you add them; they receive the reason.
    Request,
}

impl Verification {
    /// The `CD` code sent.
    pub const fn code(self) -> u32 {
        match self {
            Verification::Approve => 0,
            Verification::Reject => 1,
            Verification::Request => 2,
        }
    }

    /// The action for a `CD` code, if it is one of the three.
    pub const fn from_code(code: u32) -> Option<Self> {
        match code {
            0 => Some(Verification::Approve),
            1 => Some(Verification::Reject),
            2 => Some(Verification::Request),
            _ => None,
        }
    }
}

/// Exactly the three `CD` codes; what a caller asks for.
impl TryFrom<u32> for Verification {
    type Error = super::UnknownCode;

    fn try_from(code: u32) -> Result<Self, Self::Error> {
        Verification::from_code(code).ok_or(super::UnknownCode {
            code,
            what: "a Verification (0, 1 or 2)",
        })
    }
}
