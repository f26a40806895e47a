//! Replies, written: what a server sends for each command, byte for byte
//! as the original server wrote it (field order, casing, the trailing `&`
//! of some commands, the lists' trailing commas). The reference server
//! writes every reply through [`encode_reply`], and [`decode_reply`]
//! (its counterpart, in `reply.rs`) reads them back.
//!
//! [`decode_reply`]: super::decode_reply

use super::encoding::{encode_value_with, Escapes};
use super::request::Command;
use super::result::ResultCode;
use crate::model::{AddFriendOutcome, LoginOutcome, Message, OnlineFriend, Uin, UserInfo};
use std::fmt::Write;

/// The echo every reply starts with: `VER=…&CMD=…&SEQ=…&UIN=…`, the
/// command in the casing of replies ([`Command::reply_name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyHead<'a> {
    /// The request's `VER`, echoed (`1.0`, `1.1` or `1.2`).
    pub version: &'a str,
    /// The request's command.
    pub command: Command,
    /// The request's `SEQ`, echoed exactly as it was sent (`0675360`
    /// comes back as `0675360`).
    pub seq: &'a str,
    /// The request's `UIN`, echoed.
    pub uin: u64,
    /// Which bytes of text values are percent-encoded.
    pub escapes: Escapes,
}

/// What a reply says after its echo.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Answer<'a> {
    /// `RES=0`: done, nothing more (DelFromList, Change_Stat and CLTMSG
    /// add the original's trailing `&`).
    Done,
    /// `RES=3`, `5` or `20` (or a bare `RES=0` given as `ResultCode::Ok`),
    /// with `RA` for a `RES=3` that says why.
    Refused {
        /// The result code.
        code: ResultCode,
        /// `RA`: why (sent with `RES=3` only).
        reason: Option<&'a str>,
    },
    /// Login accepted: `RES=0&RS=0&HI=…&LI=…` (whole seconds).
    Login(&'a LoginOutcome),
    /// Login refused: `RES=0&RS=1&RA=…`.
    LoginRefused {
        /// `RA`: the server's reason (`密码错误`).
        reason: &'a str,
    },
    /// A count (`FN`): List or Query_Stat with `TN=0`.
    Count(u32),
    /// List: the friends' UINs.
    FriendList(&'a [Uin]),
    /// Query_Stat: the friends online. Empty, it is also the second reply
    /// the original sent to a Query_Stat with `TN=0`.
    OnlineFriends(&'a [OnlineFriend]),
    /// GetInfo: the fields present in the profile, in the original's
    /// order (alphabetical, `NK` last); `CV`, `ID`, `MT` and `MV` are read
    /// from [`UserInfo::fields`].
    UserInfo(&'a UserInfo),
    /// AddToList: the outcome (`CD`) and whom it was about (`UN`).
    AddFriend {
        /// `CD`.
        outcome: AddFriendOutcome,
        /// `UN`: the UIN asked for.
        target: Uin,
    },
    /// GetMsgEx: the messages, oldest first.
    Messages(&'a [Message]),
}

impl Answer<'_> {
    /// The reply's `RES` (a refused Login is `RES=0` with `RS=1`).
    ///
    /// ```
    /// use httpqq::codec::{Answer, ResultCode};
    /// assert_eq!(Answer::Done.result_code(), 0);
    /// let refused = Answer::Refused { code: ResultCode::NotLoggedIn, reason: None };
    /// assert_eq!(refused.result_code(), 20);
    /// ```
    pub fn result_code(&self) -> u32 {
        match self {
            Answer::Refused { code, .. } => code.code(),
            _ => 0,
        }
    }
}

/// The reply body for `answer` to the request `head` echoes.
///
/// ```
/// use httpqq::codec::{encode_reply, Answer, Command, ReplyHead, ResultCode};
/// use httpqq::codec::Escapes;
/// let head = ReplyHead {
///     version: "1.1",
///     command: Command::GetMsgEx,
///     seq: "7",
///     uin: 10001,
///     escapes: Escapes::Safe,
/// };
/// let refused = Answer::Refused { code: ResultCode::NotLoggedIn, reason: None };
/// assert_eq!(encode_reply(&head, &refused), "VER=1.1&CMD=GETMSGEX&SEQ=7&UIN=10001&RES=20");
/// ```
pub fn encode_reply(head: &ReplyHead<'_>, answer: &Answer<'_>) -> String {
    let mut out = String::with_capacity(64);
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "VER={}&CMD={}&SEQ={}&UIN={}",
        head.version,
        head.command.reply_name(),
        head.seq,
        head.uin
    );
    match answer {
        Answer::Done => {
            out.push_str("&RES=0");
            if matches!(
                head.command,
                Command::DelFromList | Command::ChangeStat | Command::CltMsg
            ) {
                out.push('&');
            }
        }
        Answer::Refused { code, reason } => {
            let _ = write!(out, "&RES={}", code.code());
            if let (ResultCode::Throttled, Some(reason)) = (code, reason) {
                text(&mut out, head.escapes, "RA", reason);
            }
        }
        Answer::Login(outcome) => {
            let _ = write!(
                out,
                "&RES=0&RS=0&HI={}&LI={}",
                outcome.heartbeat.as_secs(),
                outcome.idle_timeout.as_secs()
            );
        }
        Answer::LoginRefused { reason } => {
            out.push_str("&RES=0&RS=1");
            text(&mut out, head.escapes, "RA", reason);
        }
        Answer::Count(count) => {
            let _ = write!(out, "&RES=0&FN={count}");
        }
        Answer::FriendList(uins) => {
            let _ = write!(out, "&RES=0&FN=1&SN={}&UN=", uins.len());
            for uin in *uins {
                let _ = write!(out, "{uin},");
            }
        }
        Answer::OnlineFriends(friends) => online_friends(&mut out, head.escapes, friends),
        Answer::UserInfo(info) => user_info(&mut out, head.escapes, info),
        Answer::AddFriend { outcome, target } => {
            let _ = write!(out, "&RES=0&CD={}&UN={target}", outcome.code());
        }
        Answer::Messages(messages) => {
            let (mut mt, mut un, mut mg) = (String::new(), String::new(), String::new());
            for message in *messages {
                let _ = write!(mt, "{},", message.kind().code());
                let _ = write!(un, "{},", message.sender());
                encode_value_with(&message.content(), head.escapes, &mut mg);
                mg.push(',');
            }
            let _ = write!(out, "&RES=0&MN={}&MT={mt}&UN={un}&MG={mg}", messages.len());
        }
    }
    out
}

/// `&KEY=value`, the value percent-encoded.
fn text(out: &mut String, escapes: Escapes, key: &str, value: &str) {
    out.push('&');
    out.push_str(key);
    out.push('=');
    encode_value_with(value, escapes, out);
}

fn online_friends(out: &mut String, escapes: Escapes, friends: &[OnlineFriend]) {
    let (mut fc, mut st, mut un, mut nk) =
        (String::new(), String::new(), String::new(), String::new());
    for friend in friends {
        let _ = write!(fc, "{},", friend.face.id());
        let _ = write!(st, "{},", friend.status.code());
        let _ = write!(un, "{},", friend.uin);
        encode_value_with(&friend.nickname, escapes, &mut nk);
        nk.push(',');
    }
    let _ = write!(
        out,
        "&RES=0&FC={fc}&FN=1&SN={}&ST={st}&UN={un}&NK={nk}",
        friends.len()
    );
}

/// GetInfo's fields: what the profile has, alphabetical, `NK` last.
fn user_info(out: &mut String, escapes: Escapes, info: &UserInfo) {
    out.push_str("&RES=0");
    let number = |out: &mut String, key: &str, value: Option<u32>| {
        if let Some(value) = value {
            let _ = write!(out, "&{key}={value}");
        }
    };
    let optional = |out: &mut String, key: &str, value: Option<&str>| {
        if let Some(value) = value {
            text(out, escapes, key, value);
        }
    };
    optional(out, "AD", info.address.as_deref());
    number(out, "AG", info.age);
    number(out, "BT", info.blood_type.map(|v| v.code()));
    number(out, "CO", info.constellation.map(|v| v.code()));
    optional(out, "CT", info.city.as_deref());
    optional(out, "CV", info.get("CV"));
    optional(out, "CY", info.country.as_deref());
    optional(out, "EM", info.email.as_deref());
    number(out, "FC", info.face.map(|f| f.id()));
    optional(out, "HP", info.homepage.as_deref());
    optional(out, "ID", info.get("ID"));
    optional(out, "JB", info.occupation.as_deref());
    let _ = write!(out, "&LV={}", info.level);
    optional(out, "MO", info.mobile.as_deref());
    optional(out, "MT", info.get("MT"));
    optional(out, "MV", info.get("MV"));
    optional(out, "PC", info.postal_code.as_deref());
    optional(out, "PH", info.phone.as_deref());
    optional(out, "PR", info.introduction.as_deref());
    optional(out, "PV", info.province.as_deref());
    optional(out, "RN", info.real_name.as_deref());
    optional(out, "SC", info.school.as_deref());
    number(out, "SH", info.zodiac.map(|v| v.code()));
    number(out, "SX", info.gender.map(|v| v.code()));
    let _ = write!(out, "&UN={}", info.uin);
    text(out, escapes, "NK", &info.nickname);
}
