//! Commands and the request bodies that carry them (docs/PROTOCOL.md §5).

use std::fmt::Write as _;
use std::time::Duration;

use super::encoding::encode_value;
use crate::model::{InfoLevel, PasswordHash, Status, Uin, Verification};

/// The protocol version this library speaks.
pub const VERSION: &str = "1.1";

/// The fixed `LC` value Login must carry, else the server answers NULL.
pub const LOGIN_CODE: &str = "9326B87B234E7235";

/// The reason (`RA`) the reference server gives with `RES=3` when the
/// recipient's queue is full (DECISIONS.md 74): the sender must wait for
/// the recipient to fetch, not only slow down.
pub const QUEUE_FULL: &str = "the recipient's queue is full";

/// What a period client asks for by default with List and Query_Stat (`TN`).
pub const DEFAULT_MAX_ENTRIES: u32 = 160;

/// The field keys of requests, written by
/// [`encode_request`] and read by
/// [`decode_request`](super::decode_request): one home for both.
pub(crate) mod key {
    /// `VER`.
    pub const VERSION: &str = "VER";
    /// `CMD`.
    pub const COMMAND: &str = "CMD";
    /// `SEQ`.
    pub const SEQ: &str = "SEQ";
    /// `UIN`: the sender.
    pub const UIN: &str = "UIN";
    /// `UN`: the user a request is about.
    pub const TARGET: &str = "UN";
    /// `TN`: the most entries of a list (0: the count).
    pub const MAX: &str = "TN";
    /// `LV`: a profile's level.
    pub const LEVEL: &str = "LV";
    /// `CD`: a verification's action.
    pub const ACTION: &str = "CD";
    /// `RS`: a verification's reason.
    pub const REASON: &str = "RS";
    /// `ST`: a status.
    pub const STATUS: &str = "ST";
    /// `MG`: a message's text.
    pub const TEXT: &str = "MG";
    /// `PS`: a Login's password MD5.
    pub const PASSWORD: &str = "PS";
    /// `M5`: a Login's "PS is an MD5" flag.
    pub const MD5: &str = "M5";
    /// `LC`: a Login's fixed code.
    pub const LOGIN_CODE: &str = "LC";
}

/// The eleven commands.
///
/// ```
/// use httpqq::codec::Command;
/// assert_eq!(Command::QueryStat.wire_name(), "Query_Stat");
/// assert_eq!(Command::from_wire("change_STAT"), Some(Command::ChangeStat));
/// assert_eq!(Command::from_wire("Nope"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// `Login`.
    Login,
    /// `List`: the friend list or its size.
    List,
    /// `Query_Stat`: online friends or their number.
    QueryStat,
    /// `GetInfo`: a profile.
    GetInfo,
    /// `AddToList`: add a friend.
    AddToList,
    /// `Ack_AddToList`: verification messages.
    AckAddToList,
    /// `DelFromList`: remove a friend.
    DelFromList,
    /// `Change_Stat`: set your status.
    ChangeStat,
    /// `GetMsgEx`: fetch pending messages.
    GetMsgEx,
    /// `CLTMSG`: send a text message.
    CltMsg,
    /// `Logout`.
    Logout,
}

impl Command {
    /// All eleven, in the order of docs/PROTOCOL.md §5.
    pub const ALL: [Command; 11] = [
        Command::Login,
        Command::List,
        Command::QueryStat,
        Command::GetInfo,
        Command::AddToList,
        Command::AckAddToList,
        Command::DelFromList,
        Command::ChangeStat,
        Command::GetMsgEx,
        Command::CltMsg,
        Command::Logout,
    ];

    /// The name clients send in `CMD`.
    pub const fn wire_name(self) -> &'static str {
        match self {
            Command::Login => "Login",
            Command::List => "List",
            Command::QueryStat => "Query_Stat",
            Command::GetInfo => "GetInfo",
            Command::AddToList => "AddToList",
            Command::AckAddToList => "Ack_AddToList",
            Command::DelFromList => "DelFromList",
            Command::ChangeStat => "Change_Stat",
            Command::GetMsgEx => "GetMsgEx",
            Command::CltMsg => "CLTMSG",
            Command::Logout => "Logout",
        }
    }

    /// The `CMD` the original server wrote in its replies (docs/PROTOCOL.md §5:
    /// `LOGIN`, `AddToList`, `Change_Stat`, …); clients compare it
    /// case-insensitively, the reference server writes exactly this.
    ///
    /// ```
    /// use httpqq::codec::Command;
    /// assert_eq!(Command::GetMsgEx.reply_name(), "GETMSGEX");
    /// assert_eq!(Command::AckAddToList.reply_name(), "Ack_AddToList");
    /// ```
    pub const fn reply_name(self) -> &'static str {
        match self {
            Command::Login => "LOGIN",
            Command::List => "LIST",
            Command::QueryStat => "QUERY_STAT",
            Command::GetInfo => "GETINFO",
            Command::AddToList => "AddToList",
            Command::AckAddToList => "Ack_AddToList",
            Command::DelFromList => "DelFromList",
            Command::ChangeStat => "Change_Stat",
            Command::GetMsgEx => "GETMSGEX",
            Command::CltMsg => "CLTMSG",
            Command::Logout => "LOGOUT",
        }
    }

    /// How long the original server penalised a session after answering
    /// this command `RES=3`: about 20 s, 30 s for DelFromList (docs/PROTOCOL.md
    /// §3, \[seen\]). What [`Error::Throttled`](crate::Error::Throttled)
    /// carries as `retry_after`.
    ///
    /// ```
    /// use httpqq::codec::Command;
    /// use std::time::Duration;
    /// assert_eq!(Command::CltMsg.penalty(), Duration::from_secs(20));
    /// assert_eq!(Command::DelFromList.penalty(), Duration::from_secs(30));
    /// ```
    pub const fn penalty(self) -> Duration {
        match self {
            Command::DelFromList => Duration::from_secs(30),
            _ => Duration::from_secs(20),
        }
    }

    /// The command a `CMD` value names, compared case-insensitively as the
    /// original server did.
    pub fn from_wire(name: &str) -> Option<Command> {
        Command::ALL
            .into_iter()
            .find(|c| c.wire_name().eq_ignore_ascii_case(name))
    }
}

/// One request, typed. [`encode_request`] turns it into a body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// Login with the password's MD5.
    Login {
        /// The password's MD5.
        password: PasswordHash,
    },
    /// List with `TN=0`: the number of friends.
    FriendCount,
    /// List with `TN=max`: the friends' UINs, at most `max` of them; `max`
    /// 0 asks for the default, [`DEFAULT_MAX_ENTRIES`] (`TN=0` would ask
    /// for the count: that is [`Request::FriendCount`]). The one home of
    /// this rule: every skin passes 0 through.
    FriendList {
        /// The most entries to return (`TN`).
        max: u32,
    },
    /// Query_Stat with `TN=0`: the number of friends online. The server
    /// answers this one with two HTTP replies; see
    /// [`Request::closes_connection`].
    OnlineCount,
    /// Query_Stat with `TN=max`: the friends online, at most `max`; 0 asks
    /// for the default, as for [`Request::FriendList`].
    OnlineFriends {
        /// The most entries to return (`TN`).
        max: u32,
    },
    /// GetInfo: a user's profile.
    UserInfo {
        /// Whose profile (`UN`).
        target: Uin,
        /// How much of it (`LV`).
        level: InfoLevel,
    },
    /// AddToList: add a friend.
    AddFriend {
        /// Whom (`UN`).
        target: Uin,
    },
    /// Ack_AddToList: approve, reject or request a verification.
    Verify {
        /// The peer (`UN`).
        target: Uin,
        /// Which message (`CD`).
        action: Verification,
        /// The reason shown to the peer (`RS`); may be empty.
        reason: String,
    },
    /// DelFromList: remove a friend.
    RemoveFriend {
        /// Whom (`UN`).
        target: Uin,
    },
    /// Change_Stat: set your status.
    SetStatus {
        /// The new status (`ST`).
        status: Status,
    },
    /// GetMsgEx: fetch (and so remove) pending messages.
    FetchMessages,
    /// CLTMSG: send a text message.
    SendMessage {
        /// To whom (`UN`).
        target: Uin,
        /// The text (`MG`), any Unicode; it arrives byte-identical.
        text: String,
    },
    /// Logout.
    Logout,
}

impl Request {
    /// The command this request sends.
    pub fn command(&self) -> Command {
        match self {
            Request::Login { .. } => Command::Login,
            Request::FriendCount | Request::FriendList { .. } => Command::List,
            Request::OnlineCount | Request::OnlineFriends { .. } => Command::QueryStat,
            Request::UserInfo { .. } => Command::GetInfo,
            Request::AddFriend { .. } => Command::AddToList,
            Request::Verify { .. } => Command::AckAddToList,
            Request::RemoveFriend { .. } => Command::DelFromList,
            Request::SetStatus { .. } => Command::ChangeStat,
            Request::FetchMessages => Command::GetMsgEx,
            Request::SendMessage { .. } => Command::CltMsg,
            Request::Logout => Command::Logout,
        }
    }

    /// The user this request is about (`UN`), for the requests that name
    /// one.
    pub fn target(&self) -> Option<Uin> {
        match self {
            Request::UserInfo { target, .. }
            | Request::AddFriend { target }
            | Request::Verify { target, .. }
            | Request::RemoveFriend { target }
            | Request::SendMessage { target, .. } => Some(*target),
            _ => None,
        }
    }

    /// Whether the connection must not be used again after this request's
    /// reply: true for [`Request::OnlineCount`], which the server answers
    /// with two HTTP replies (§5.3).
    pub fn closes_connection(&self) -> bool {
        matches!(self, Request::OnlineCount)
    }
}

/// Builds a request body: `VER`, `CMD`, `SEQ`, `UIN` first, then the
/// command's fields, text values percent-encoded as §2.2 says, so that no
/// value can add or change a field.
///
/// ```
/// use httpqq::{codec, Request, Uin};
///
/// let body = codec::encode_request(
///     Uin::new(10001),
///     42,
///     &Request::SendMessage { target: Uin::new(10002), text: "a&UIN=1, 好".into() },
/// );
/// assert_eq!(body, "VER=1.1&CMD=CLTMSG&SEQ=42&UIN=10001&UN=10002&MG=a%26UIN%3d1%2c 好");
/// ```
pub fn encode_request(uin: Uin, seq: u16, request: &Request) -> String {
    use key::*;
    let mut body = String::with_capacity(64 + text_len(request));
    // Writing to a String cannot fail.
    let _ = write!(
        body,
        "{VERSION}={}&{COMMAND}={}&{SEQ}={seq}&{UIN}={uin}",
        self::VERSION,
        request.command().wire_name()
    );
    let _ = match request {
        Request::Login { password } => {
            let _ = write!(body, "&{PASSWORD}=");
            password.write_hex(&mut body);
            write!(body, "&{MD5}=1&{LOGIN_CODE}={}", self::LOGIN_CODE)
        }
        Request::FriendCount | Request::OnlineCount => write!(body, "&{MAX}=0&{TARGET}=0"),
        Request::FriendList { max } | Request::OnlineFriends { max } => {
            write!(body, "&{MAX}={}&{TARGET}=0", list_limit(*max))
        }
        Request::UserInfo { target, level } => {
            write!(body, "&{LEVEL}={}&{TARGET}={target}", level.code())
        }
        Request::AddFriend { target } | Request::RemoveFriend { target } => {
            write!(body, "&{TARGET}={target}")
        }
        Request::Verify {
            target,
            action,
            reason,
        } => {
            let _ = write!(
                body,
                "&{TARGET}={target}&{ACTION}={}&{REASON}=",
                action.code()
            );
            encode_value(reason, &mut body);
            Ok(())
        }
        Request::SetStatus { status } => write!(body, "&{STATUS}={}", status.code()),
        Request::SendMessage { target, text } => {
            let _ = write!(body, "&{TARGET}={target}&{TEXT}=");
            encode_value(text, &mut body);
            Ok(())
        }
        Request::FetchMessages | Request::Logout => Ok(()),
    };
    body
}

/// Whether `request`, sent by `uin`, fits the bodies a server reads
/// ([`MAX_BODY_BYTES`](super::MAX_BODY_BYTES)) once encoded: `Err` with
/// its encoded length (at the longest `SEQ`) when it does not. A client
/// checks this before sending, since the reference server answers a
/// longer body with nothing.
///
/// ```
/// use httpqq::codec::{fits_body_limit, Request};
/// use httpqq::Uin;
/// let short = Request::SendMessage { target: Uin::new(2), text: "hi".into() };
/// assert!(fits_body_limit(Uin::new(1), &short).is_ok());
/// let long = Request::SendMessage { target: Uin::new(2), text: "&".repeat(30_000) };
/// assert!(fits_body_limit(Uin::new(1), &long).unwrap_err() > 90_000);
/// ```
///
/// # Errors
/// The encoded length, when it passes the limit.
pub fn fits_body_limit(uin: Uin, request: &Request) -> Result<(), usize> {
    let length = encode_request(uin, u16::MAX, request).len();
    if length > super::MAX_BODY_BYTES {
        Err(length)
    } else {
        Ok(())
    }
}

/// The `TN` of a list request: `max`, or [`DEFAULT_MAX_ENTRIES`] for 0.
const fn list_limit(max: u32) -> u32 {
    if max == 0 {
        DEFAULT_MAX_ENTRIES
    } else {
        max
    }
}

fn text_len(request: &Request) -> usize {
    match request {
        Request::Verify { reason: text, .. } | Request::SendMessage { text, .. } => text.len(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(request: Request) -> String {
        encode_request(Uin::new(106814), 4321, &request)
    }

    #[test]
    fn login_matches_the_probe() {
        assert_eq!(
            enc(Request::Login {
                password: PasswordHash::from_password("demo")
            }),
            "VER=1.1&CMD=Login&SEQ=4321&UIN=106814&PS=fe01ce2a7fbac8fafaed7c982a04e229&M5=1&LC=9326B87B234E7235"
        );
    }

    #[test]
    fn every_command_has_its_fields() {
        let h = "VER=1.1&CMD=";
        let cases = [
            (Request::FriendCount, "List&SEQ=4321&UIN=106814&TN=0&UN=0"),
            (
                Request::FriendList { max: 160 },
                "List&SEQ=4321&UIN=106814&TN=160&UN=0",
            ),
            (
                Request::FriendList { max: 0 },
                "List&SEQ=4321&UIN=106814&TN=160&UN=0",
            ),
            (
                Request::OnlineCount,
                "Query_Stat&SEQ=4321&UIN=106814&TN=0&UN=0",
            ),
            (
                Request::OnlineFriends { max: 50 },
                "Query_Stat&SEQ=4321&UIN=106814&TN=50&UN=0",
            ),
            (
                Request::UserInfo {
                    target: Uin::new(1),
                    level: InfoLevel::Normal,
                },
                "GetInfo&SEQ=4321&UIN=106814&LV=2&UN=1",
            ),
            (
                Request::AddFriend {
                    target: Uin::new(7),
                },
                "AddToList&SEQ=4321&UIN=106814&UN=7",
            ),
            (
                Request::Verify {
                    target: Uin::new(7),
                    action: Verification::Reject,
                    reason: "no, thanks".into(),
                },
                "Ack_AddToList&SEQ=4321&UIN=106814&UN=7&CD=1&RS=no%2c thanks",
            ),
            (
                Request::RemoveFriend {
                    target: Uin::new(7),
                },
                "DelFromList&SEQ=4321&UIN=106814&UN=7",
            ),
            (
                Request::SetStatus {
                    status: Status::Invisible,
                },
                "Change_Stat&SEQ=4321&UIN=106814&ST=40",
            ),
            (Request::FetchMessages, "GetMsgEx&SEQ=4321&UIN=106814"),
            (Request::Logout, "Logout&SEQ=4321&UIN=106814"),
        ];
        for (request, tail) in cases {
            assert_eq!(enc(request), format!("{h}{tail}"));
        }
    }

    #[test]
    fn only_the_double_reply_request_closes_the_connection() {
        assert!(Request::OnlineCount.closes_connection());
        assert!(!Request::OnlineFriends { max: 1 }.closes_connection());
    }
}
