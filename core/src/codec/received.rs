//! A request, read: the server's half of [`request`](super::request).
//! [`encode_request`](super::encode_request) writes a typed [`Request`];
//! [`decode_request`] reads any client's body back into a typed
//! [`Received`], keeping what a reply must echo as it came (`VER`, `SEQ`).
//! Both read their field keys from one place ([`super::request::key`]).
//!
//! A server reads values a client of this library never sends (a `UN`
//! outside the UIN range, an unknown `ST`, `LV` or `CD`): they are read
//! here as numbers, and what they mean is the server's to answer.
//! [`Received::to_request`] gives the [`Request`] a client would have
//! sent, when there is one.

use std::borrow::Cow;
use std::fmt;

use super::encoding::{decode_form_value, decode_value_strict};
use super::fields::{parse_decimal, trim_spaces, Fields};
use super::request::{key, Command, Request, LOGIN_CODE};
use crate::error::ProtocolError;
use crate::model::{InfoLevel, PasswordHash, Status, Uin, Verification};

/// How a body's text values treat `+`: literally (the protocol's own
/// bodies, §2.2), or as a space (a body sent as
/// `application/x-www-form-urlencoded`, §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Plus {
    /// `+` is a plus.
    #[default]
    Literal,
    /// `+` is a space (a form body).
    Space,
}

/// A request as a server reads it: the envelope and the command's own
/// fields, typed.
#[derive(Debug)]
pub struct Received<'a> {
    /// `VER`: `1.0`, `1.1` or `1.2` (echoed by the reply).
    pub version: &'a str,
    /// `SEQ` exactly as sent (spaces trimmed; a leading zero kept), checked
    /// to be a decimal number: the reply echoes it as it came (§2.4).
    pub seq: &'a str,
    /// `UIN`: who sends it (any number: the server decides whether it is
    /// an account).
    pub uin: u64,
    /// The command and its fields.
    pub asked: Asked<'a>,
}

/// What a request asks, with its fields read (absent optional numbers are
/// 0, as the original read them).
#[derive(Debug)]
#[non_exhaustive]
pub enum Asked<'a> {
    /// `Login`: `LC` was the login code and `PS` was present.
    Login {
        /// `PS`, read.
        password: Credential,
    },
    /// `List`: `TN=0` asks for the count, else at most `max` UINs.
    List {
        /// `TN`.
        max: u64,
    },
    /// `Query_Stat`: `TN=0` asks for the count (two replies), else at most
    /// `max` friends online.
    QueryStat {
        /// `TN`.
        max: u64,
    },
    /// `GetInfo`.
    GetInfo {
        /// `UN`.
        target: u64,
        /// `LV` (any code; unknown ones read as [`InfoLevel::from_code`]).
        level: u64,
    },
    /// `AddToList`.
    AddToList {
        /// `UN`.
        target: u64,
    },
    /// `Ack_AddToList`.
    AckAddToList {
        /// `UN`.
        target: u64,
        /// `CD` (0 approve, 1 reject, 2 request; others are the server's to
        /// refuse).
        action: u64,
        /// `RS`, decoded (empty when absent).
        reason: Cow<'a, str>,
    },
    /// `DelFromList`.
    DelFromList {
        /// `UN`.
        target: u64,
    },
    /// `Change_Stat`.
    ChangeStat {
        /// `ST` (any code).
        status: u64,
    },
    /// `GetMsgEx`.
    GetMsgEx,
    /// `CLTMSG`.
    CltMsg {
        /// `UN`.
        target: u64,
        /// `MG`, decoded.
        text: Cow<'a, str>,
    },
    /// `Logout`.
    Logout,
}

/// A Login's `PS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// 32 hex digits: an MD5 to check.
    Md5(PasswordHash),
    /// Anything else: it matches no password (the original answered a
    /// wrong password, not the NULL).
    NotAHash,
}

/// Why a body is not a request (the original server answered each with the
/// NULL).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestError {
    /// The body does not split into `KEY=value` fields.
    Malformed(ProtocolError),
    /// A field the command needs is absent (or empty, for `PS`).
    Missing(&'static str),
    /// `VER` is not 1.0, 1.1 or 1.2.
    UnknownVersion,
    /// `CMD` names no command.
    UnknownCommand,
    /// A numeric field (`SEQ`, `UIN`, `UN`, `TN`, `LV`, `CD`, `ST`) is not a
    /// decimal number.
    NotANumber(&'static str),
    /// A text field (`MG`, `RS`) does not decode to UTF-8.
    NotText(&'static str),
    /// A Login whose `LC` is not [`LOGIN_CODE`].
    WrongLoginCode,
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::Malformed(err) => write!(f, "malformed body: {err}"),
            RequestError::Missing(key) => write!(f, "no {key}"),
            RequestError::UnknownVersion => f.write_str("unknown VER"),
            RequestError::UnknownCommand => f.write_str("unknown CMD"),
            RequestError::NotANumber(key) => write!(f, "{key} is not a number"),
            RequestError::NotText(key) => write!(f, "{key} is not UTF-8"),
            RequestError::WrongLoginCode => f.write_str("wrong LC"),
        }
    }
}

impl std::error::Error for RequestError {}

/// The numeric fields a request may carry besides `SEQ` and `UIN`: each
/// must be a decimal number when present, whichever the command (a
/// `GetMsgEx` with `UN=x` gets the NULL, as any request with a
/// non-number there).
const NUMERIC: [&str; 5] = [key::TARGET, key::MAX, key::LEVEL, key::ACTION, key::STATUS];

/// Reads a request body.
///
/// ```
/// use httpqq::codec::{decode_request, encode_request, Asked, Plus, Request};
/// use httpqq::Uin;
/// let sent = Request::SendMessage { target: Uin::new(10002), text: "1+1=2, 好".into() };
/// let body = encode_request(Uin::new(10001), 7, &sent);
/// let received = decode_request(body.as_bytes(), Plus::Literal)?;
/// assert_eq!((received.version, received.seq, received.uin), ("1.1", "7", 10001));
/// assert!(matches!(&received.asked, Asked::CltMsg { target: 10002, text } if text == "1+1=2, 好"));
/// assert_eq!(received.to_request(), Some(sent));
/// # Ok::<(), httpqq::codec::RequestError>(())
/// ```
///
/// # Errors
/// A [`RequestError`] for each way a body is not a request.
pub fn decode_request(body: &[u8], plus: Plus) -> Result<Received<'_>, RequestError> {
    let fields = Fields::parse(body).map_err(RequestError::Malformed)?;
    let field = |key: &'static str| {
        fields
            .raw(key)
            .map(trim_spaces)
            .ok_or(RequestError::Missing(key))
    };
    let version = match field(key::VERSION)? {
        b"1.0" => "1.0",
        b"1.1" => "1.1",
        b"1.2" => "1.2",
        _ => return Err(RequestError::UnknownVersion),
    };
    let command = std::str::from_utf8(field(key::COMMAND)?)
        .ok()
        .and_then(Command::from_wire)
        .ok_or(RequestError::UnknownCommand)?;
    let seq = field(key::SEQ)?;
    parse_decimal(seq).ok_or(RequestError::NotANumber(key::SEQ))?;
    // Digits only (checked just now), so UTF-8.
    let seq = std::str::from_utf8(seq).map_err(|_| RequestError::NotANumber(key::SEQ))?;
    let uin = parse_decimal(field(key::UIN)?).ok_or(RequestError::NotANumber(key::UIN))?;

    // Each numeric field, parsed once: absent is `None`.
    let mut numbers = [None; NUMERIC.len()];
    for (slot, key) in numbers.iter_mut().zip(NUMERIC) {
        if let Some(raw) = fields.raw(key) {
            *slot = Some(parse_decimal(trim_spaces(raw)).ok_or(RequestError::NotANumber(key))?);
        }
    }
    let [target, max, level, action, status] = numbers;
    let required = |value: Option<u64>, key| value.ok_or(RequestError::Missing(key));
    let text = |key: &'static str| -> Result<Option<Cow<'_, str>>, RequestError> {
        let Some(raw) = fields.raw(key) else {
            return Ok(None);
        };
        let decoded = match plus {
            Plus::Space => decode_form_value(raw).map(Cow::Owned),
            Plus::Literal => decode_value_strict(raw),
        };
        decoded.map(Some).ok_or(RequestError::NotText(key))
    };

    let asked = match command {
        Command::Login => {
            if fields.raw(key::LOGIN_CODE) != Some(LOGIN_CODE.as_bytes()) {
                return Err(RequestError::WrongLoginCode);
            }
            let ps = fields
                .raw(key::PASSWORD)
                .map(trim_spaces)
                .unwrap_or_default();
            if ps.is_empty() {
                return Err(RequestError::Missing(key::PASSWORD));
            }
            let password = std::str::from_utf8(ps)
                .ok()
                .and_then(PasswordHash::from_md5_hex)
                .map_or(Credential::NotAHash, Credential::Md5);
            Asked::Login { password }
        }
        Command::List => Asked::List {
            max: max.unwrap_or(0),
        },
        Command::QueryStat => Asked::QueryStat {
            max: max.unwrap_or(0),
        },
        Command::GetInfo => Asked::GetInfo {
            level: required(level, key::LEVEL)?,
            target: required(target, key::TARGET)?,
        },
        Command::AddToList => Asked::AddToList {
            target: required(target, key::TARGET)?,
        },
        Command::AckAddToList => Asked::AckAddToList {
            target: required(target, key::TARGET)?,
            action: required(action, key::ACTION)?,
            reason: text(key::REASON)?.unwrap_or_default(),
        },
        Command::DelFromList => Asked::DelFromList {
            target: required(target, key::TARGET)?,
        },
        Command::ChangeStat => Asked::ChangeStat {
            status: required(status, key::STATUS)?,
        },
        Command::GetMsgEx => Asked::GetMsgEx,
        Command::CltMsg => Asked::CltMsg {
            target: required(target, key::TARGET)?,
            text: text(key::TEXT)?.ok_or(RequestError::Missing(key::TEXT))?,
        },
        Command::Logout => Asked::Logout,
    };
    Ok(Received {
        version,
        seq,
        uin,
        asked,
    })
}

impl Received<'_> {
    /// The command.
    pub fn command(&self) -> Command {
        match self.asked {
            Asked::Login { .. } => Command::Login,
            Asked::List { .. } => Command::List,
            Asked::QueryStat { .. } => Command::QueryStat,
            Asked::GetInfo { .. } => Command::GetInfo,
            Asked::AddToList { .. } => Command::AddToList,
            Asked::AckAddToList { .. } => Command::AckAddToList,
            Asked::DelFromList { .. } => Command::DelFromList,
            Asked::ChangeStat { .. } => Command::ChangeStat,
            Asked::GetMsgEx => Command::GetMsgEx,
            Asked::CltMsg { .. } => Command::CltMsg,
            Asked::Logout => Command::Logout,
        }
    }

    /// The [`Request`] a client of this library would have sent to say
    /// this: `None` when a value is one it never sends (an unknown code, a
    /// `PS` that is no MD5, a `TN` past `u32`). UINs are taken as they
    /// are: whether one is in the range is checked where a client sends.
    /// [`encode_request`](super::encode_request) writes it back as the same
    /// fields (a list's `TN` of 0 aside, which is the count request).
    pub fn to_request(&self) -> Option<Request> {
        let uin = |number: u64| Some(Uin::new(number));
        let code = |number: u64| u32::try_from(number).ok();
        let listed = |max: u64| code(max).filter(|&max| max != 0);
        Some(match &self.asked {
            Asked::Login { password } => match password {
                Credential::Md5(password) => Request::Login {
                    password: password.clone(),
                },
                Credential::NotAHash => return None,
            },
            Asked::List { max: 0 } => Request::FriendCount,
            Asked::List { max } => Request::FriendList { max: listed(*max)? },
            Asked::QueryStat { max: 0 } => Request::OnlineCount,
            Asked::QueryStat { max } => Request::OnlineFriends { max: listed(*max)? },
            Asked::GetInfo { target, level } => Request::UserInfo {
                target: uin(*target)?,
                level: InfoLevel::try_from(code(*level)?).ok()?,
            },
            Asked::AddToList { target } => Request::AddFriend {
                target: uin(*target)?,
            },
            Asked::AckAddToList {
                target,
                action,
                reason,
            } => Request::Verify {
                target: uin(*target)?,
                action: Verification::from_code(code(*action)?)?,
                reason: reason.clone().into_owned(),
            },
            Asked::DelFromList { target } => Request::RemoveFriend {
                target: uin(*target)?,
            },
            Asked::ChangeStat { status } => {
                let status = Status::from_code(code(*status)?);
                status
                    .is_settable()
                    .then_some(Request::SetStatus { status })?
            }
            Asked::GetMsgEx => Request::FetchMessages,
            Asked::CltMsg { target, text } => Request::SendMessage {
                target: uin(*target)?,
                text: text.clone().into_owned(),
            },
            Asked::Logout => Request::Logout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: &str) -> Result<Received<'_>, RequestError> {
        decode_request(body.as_bytes(), Plus::Literal)
    }

    const HEAD: &str = "VER=1.1&CMD=";

    #[test]
    fn each_way_a_body_is_not_a_request_is_told_apart() {
        let cases: [(&str, RequestError); 10] = [
            ("VER=1.1&CMD=List&SEQ=1", RequestError::Missing("UIN")),
            (
                "VER=2.0&CMD=List&SEQ=1&UIN=10001",
                RequestError::UnknownVersion,
            ),
            ("VER=1.1&CMD=Nope&SEQ=1&UIN=1", RequestError::UnknownCommand),
            (
                "VER=1.1&CMD=List&SEQ=-1&UIN=1",
                RequestError::NotANumber("SEQ"),
            ),
            (
                "VER=1.1&CMD=GetMsgEx&SEQ=1&UIN=1&UN=x",
                RequestError::NotANumber("UN"),
            ),
            (
                "VER=1.1&CMD=GetInfo&SEQ=1&UIN=1&UN=2",
                RequestError::Missing("LV"),
            ),
            (
                "VER=1.1&CMD=CLTMSG&SEQ=1&UIN=1&UN=2",
                RequestError::Missing("MG"),
            ),
            (
                "VER=1.1&CMD=CLTMSG&SEQ=1&UIN=1&UN=2&MG=%ff",
                RequestError::NotText("MG"),
            ),
            (
                "VER=1.1&CMD=Login&SEQ=1&UIN=1&PS=x&LC=0",
                RequestError::WrongLoginCode,
            ),
            (
                "VER=1.1&CMD=Login&SEQ=1&UIN=1&PS= &LC=9326B87B234E7235",
                RequestError::Missing("PS"),
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(read(body).unwrap_err(), expected, "{body}");
        }
    }

    #[test]
    fn values_a_client_never_sends_are_read_for_the_server_to_answer() {
        let received = read("VER=1.0&CMD=change_stat&SEQ=0675360&UIN=1&ST=55").unwrap();
        assert_eq!((received.version, received.seq), ("1.0", "0675360"));
        assert!(matches!(received.asked, Asked::ChangeStat { status: 55 }));
        assert_eq!(received.to_request(), None);
        let login = format!("{HEAD}Login&SEQ=1&UIN=1&PS=not-an-md5&LC=9326B87B234E7235");
        let received = read(&login).unwrap();
        assert!(matches!(
            received.asked,
            Asked::Login {
                password: Credential::NotAHash
            }
        ));
        assert_eq!(received.to_request(), None);
        // Absent TN is 0: the count.
        let received = read("VER=1.1&CMD=List&SEQ=1&UIN=1").unwrap();
        assert_eq!(received.to_request(), Some(Request::FriendCount));
    }

    #[test]
    fn a_form_body_reads_plus_as_a_space_and_ours_as_a_plus() {
        let body = "VER=1.1&CMD=CLTMSG&SEQ=1&UIN=1&UN=2&MG=1+1%3d2";
        for (plus, expected) in [(Plus::Literal, "1+1=2"), (Plus::Space, "1 1=2")] {
            let received = decode_request(body.as_bytes(), plus).unwrap();
            assert!(
                matches!(&received.asked, Asked::CltMsg { text, .. } if text == expected),
                "{plus:?}"
            );
        }
    }
}
