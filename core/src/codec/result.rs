//! The protocol's result codes (`RES`, docs/PROTOCOL.md §4): the one table that
//! the decoder, [`Error::result_code`](crate::Error::result_code) and the
//! reference server's replies all read.

/// A reply's `RES`.
///
/// ```
/// use httpqq::codec::ResultCode;
/// assert_eq!(ResultCode::from_code(20), Some(ResultCode::NotLoggedIn));
/// assert_eq!(ResultCode::Throttled.code(), 3);
/// assert_eq!(ResultCode::from_code(7), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResultCode {
    /// `RES=0`: done (a refused login is also `RES=0`, with `RS=1`).
    Ok,
    /// `RES=3`: refused for now: too fast, a repeated removal, an
    /// unexpected verification, a full queue.
    Throttled,
    /// `RES=5`: the UIN is invalid or unknown.
    InvalidUin,
    /// `RES=20`: not logged in from this address, or the session expired.
    NotLoggedIn,
}

impl ResultCode {
    /// Every code, in code order.
    pub const ALL: [ResultCode; 4] = [
        ResultCode::Ok,
        ResultCode::Throttled,
        ResultCode::InvalidUin,
        ResultCode::NotLoggedIn,
    ];

    /// The number on the wire.
    pub const fn code(self) -> u32 {
        match self {
            ResultCode::Ok => 0,
            ResultCode::Throttled => 3,
            ResultCode::InvalidUin => 5,
            ResultCode::NotLoggedIn => 20,
        }
    }

    /// The code for a number on the wire; `None` for one the protocol does
    /// not list.
    pub const fn from_code(code: u64) -> Option<ResultCode> {
        match code {
            0 => Some(ResultCode::Ok),
            3 => Some(ResultCode::Throttled),
            5 => Some(ResultCode::InvalidUin),
            20 => Some(ResultCode::NotLoggedIn),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for code in ResultCode::ALL {
            assert_eq!(ResultCode::from_code(u64::from(code.code())), Some(code));
        }
    }
}
