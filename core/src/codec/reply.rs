//! Typed replies and the decoder that produces them (docs/PROTOCOL.md §3, §5).

use super::encoding::{decode_text, decode_value};
use super::fields::{number, Fields, List};
use super::request::{Command, Request};
use super::result::ResultCode;
use crate::error::{excerpt, Error, ProtocolError};
use crate::model::{
    AddFriendOutcome, BloodType, Constellation, Face, Gender, LoginOutcome, Message, OnlineFriend,
    Status, Uin, UserInfo, Zodiac,
};
use std::time::Duration;

/// A successful reply, typed by the request it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reply {
    /// Login succeeded (`RS=0`).
    Login(LoginOutcome),
    /// List with `TN=0`: the number of friends (`FN`).
    FriendCount(u32),
    /// List with `TN>0`: the friends' UINs.
    FriendList(Vec<Uin>),
    /// Query_Stat with `TN=0`: the number of friends online (`FN`).
    OnlineCount(u32),
    /// Query_Stat with `TN>0`: the friends online.
    OnlineFriends(Vec<OnlineFriend>),
    /// GetInfo.
    UserInfo(Box<UserInfo>),
    /// AddToList.
    AddFriend(AddFriendOutcome),
    /// GetMsgEx: the pending messages, oldest first.
    Messages(Vec<Message>),
    /// Ack_AddToList, DelFromList, Change_Stat, CLTMSG and Logout: accepted.
    Done,
}

/// Reads a reply body as the answer to `request`, sent with sequence number
/// `seq`.
///
/// Checks that `CMD` (case-insensitively) and `SEQ` echo the request, maps
/// the result codes to errors, and reads the command's fields.
///
/// # Errors
/// [`Error::NoReply`] for an empty body (the server's NULL);
/// [`Error::Throttled`], [`Error::InvalidUin`], [`Error::NotLoggedIn`] for
/// `RES` 3, 5, 20; [`Error::LoginFailed`] for a refused login;
/// [`Error::Protocol`] for anything malformed or inconsistent.
///
/// ```
/// use httpqq::{codec, Message, Reply, Request, Uin};
///
/// let body = b"VER=1.1&CMD=GETMSGEX&SEQ=4321&UIN=106814&RES=0&MN=1&MT=9,&UN=3814526,&MG=a%2cb,";
/// let reply = codec::decode_reply(&Request::FetchMessages, 4321, body)?;
/// assert_eq!(reply, Reply::Messages(vec![Message::Text { from: Uin::new(3814526), text: "a,b".into() }]));
/// # Ok::<(), httpqq::Error>(())
/// ```
pub fn decode_reply(request: &Request, seq: u16, body: &[u8]) -> Result<Reply, Error> {
    if body.iter().all(|&b| b == b'\r' || b == b'\n') {
        return Err(Error::NoReply);
    }
    let fields = Fields::parse(body)?;
    check_echo(&fields, request.command(), seq)?;
    let code = fields.require_number("RES")?;
    match ResultCode::from_code(code) {
        Some(ResultCode::Ok) => {}
        Some(ResultCode::Throttled) => {
            return Err(Error::Throttled {
                retry_after: request.command().penalty(),
                reason: fields.text("RA").map(|r| r.into_owned()),
            })
        }
        Some(ResultCode::InvalidUin) => return Err(Error::InvalidUin),
        Some(ResultCode::NotLoggedIn) => return Err(Error::NotLoggedIn),
        None => {
            return Err(ProtocolError::UnknownResult {
                code: u32::try_from(code).unwrap_or(u32::MAX),
            }
            .into())
        }
    }
    Ok(match request {
        Request::Login { .. } => login(&fields)?,
        Request::FriendCount => Reply::FriendCount(count(&fields, "FN")?),
        Request::FriendList { .. } => Reply::FriendList(friend_list(&fields)?),
        Request::OnlineCount => Reply::OnlineCount(count(&fields, "FN")?),
        Request::OnlineFriends { .. } => Reply::OnlineFriends(online_friends(&fields)?),
        Request::UserInfo { .. } => Reply::UserInfo(Box::new(user_info(&fields)?)),
        Request::AddFriend { .. } => {
            Reply::AddFriend(AddFriendOutcome::from_code(count(&fields, "CD")?))
        }
        Request::FetchMessages => Reply::Messages(messages(&fields)?),
        Request::Verify { .. }
        | Request::RemoveFriend { .. }
        | Request::SetStatus { .. }
        | Request::SendMessage { .. }
        | Request::Logout => Reply::Done,
    })
}

fn check_echo(fields: &Fields<'_>, command: Command, seq: u16) -> Result<(), ProtocolError> {
    let cmd = fields
        .raw("CMD")
        .ok_or(ProtocolError::MissingField { key: "CMD" })?;
    let cmd = super::fields::trim_spaces(cmd);
    if !cmd.eq_ignore_ascii_case(command.wire_name().as_bytes()) {
        return Err(ProtocolError::CommandMismatch {
            expected: command.wire_name(),
            received: excerpt(cmd),
        });
    }
    let echoed = fields
        .raw("SEQ")
        .ok_or(ProtocolError::MissingField { key: "SEQ" })?;
    if number("SEQ", echoed).ok() != Some(u64::from(seq)) {
        return Err(ProtocolError::SeqMismatch {
            expected: seq,
            received: excerpt(echoed),
        });
    }
    Ok(())
}

fn login(fields: &Fields<'_>) -> Result<Reply, Error> {
    if fields.require_number("RS")? != 0 {
        let reason = fields.text("RA").unwrap_or_default().into_owned();
        return Err(Error::LoginFailed { reason });
    }
    let seconds = |key, default: Duration| -> Result<Duration, ProtocolError> {
        Ok(fields.number(key)?.map_or(default, Duration::from_secs))
    };
    Ok(Reply::Login(LoginOutcome {
        heartbeat: seconds("HI", LoginOutcome::DEFAULT.heartbeat)?,
        idle_timeout: seconds("LI", LoginOutcome::DEFAULT.idle_timeout)?,
    }))
}

/// A required field holding a number that fits `u32`.
fn count(fields: &Fields<'_>, key: &'static str) -> Result<u32, ProtocolError> {
    let value = fields.require_number(key)?;
    to_u32(key, value)
}

fn to_u32(key: &str, value: u64) -> Result<u32, ProtocolError> {
    u32::try_from(value).map_err(|_| ProtocolError::InvalidNumber {
        key: key.to_owned(),
        value: value.to_string(),
    })
}

/// The raw items of a list field; an absent list is empty.
fn items<'a>(fields: &Fields<'a>, key: &str) -> List<'a> {
    fields.list(key).unwrap_or_else(|| List::new(b""))
}

/// The decoded items of a list of text (`MG`, `NK`). The value is checked
/// as UTF-8 once, as a whole; then an item without escapes is copied
/// straight out of it, cut at the (ASCII) commas, with no second check.
enum TextItems<'a> {
    Text { text: &'a str, at: usize },
    Bytes(List<'a>),
}

impl<'a> TextItems<'a> {
    fn new(fields: &Fields<'a>, key: &str) -> Self {
        let raw = fields.raw(key).unwrap_or_default();
        match std::str::from_utf8(raw) {
            Ok(text) => TextItems::Text { text, at: 0 },
            Err(_) => TextItems::Bytes(List::new(raw)),
        }
    }
}

impl Iterator for TextItems<'_> {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        match self {
            TextItems::Text { text, at } => {
                let bytes = text.as_bytes();
                if *at >= bytes.len() {
                    // The end, or the one trailing empty item §2.3 drops.
                    return None;
                }
                let start = *at;
                // One search finds the item's end or its first escape.
                let (end, escaped) = match memchr::memchr2(b',', b'%', &bytes[start..]) {
                    None => (bytes.len(), false),
                    Some(n) if bytes[start + n] == b',' => (start + n, false),
                    Some(n) => {
                        let comma = memchr::memchr(b',', &bytes[start + n..]);
                        (comma.map_or(bytes.len(), |c| start + n + c), true)
                    }
                };
                *at = end + 1;
                let item = text.get(start..end).unwrap_or_default();
                Some(if escaped {
                    decode_text(item).into_owned()
                } else {
                    item.to_owned()
                })
            }
            TextItems::Bytes(items) => Some(decode_value(items.next()?).into_owned()),
        }
    }
}

/// Checks that parallel lists have one length, and that the count field, if
/// present, agrees with it. Returns the length.
fn same_length(
    fields: &Fields<'_>,
    count_key: &'static str,
    lists: &[(&str, usize)],
) -> Result<usize, ProtocolError> {
    let len = lists.first().map_or(0, |&(_, len)| len);
    let mismatch = lists.iter().any(|&(_, l)| l != len);
    let declared = fields.number(count_key)?;
    if mismatch || declared.is_some_and(|n| n != len as u64) {
        return Err(list_mismatch(count_key, declared, lists));
    }
    Ok(len)
}

/// The error for parallel lists that do not agree (with each other, or
/// with their count): what each holds.
fn list_mismatch(
    count_key: &'static str,
    declared: Option<u64>,
    lists: &[(&str, usize)],
) -> ProtocolError {
    let mut detail: Vec<String> = lists
        .iter()
        .map(|(key, l)| format!("{key} has {l}"))
        .collect();
    if let Some(n) = declared {
        detail.push(format!("{count_key}={n}"));
    }
    ProtocolError::ListLengthMismatch {
        detail: detail.join(", "),
    }
}

fn uin_item(key: &str, raw: &[u8]) -> Result<Uin, ProtocolError> {
    number(key, raw).map(Uin::new)
}

fn friend_list(fields: &Fields<'_>) -> Result<Vec<Uin>, ProtocolError> {
    let uins = items(fields, "UN");
    let len = same_length(fields, "SN", &[("UN", uins.remaining())])?;
    let mut out = Vec::with_capacity(len);
    for raw in uins {
        out.push(uin_item("UN", raw)?);
    }
    Ok(out)
}

fn online_friends(fields: &Fields<'_>) -> Result<Vec<OnlineFriend>, ProtocolError> {
    let (faces, statuses, uins, nicks) = (
        items(fields, "FC"),
        items(fields, "ST"),
        items(fields, "UN"),
        items(fields, "NK"),
    );
    let len = same_length(
        fields,
        "SN",
        &[
            ("FC", faces.remaining()),
            ("ST", statuses.remaining()),
            ("UN", uins.remaining()),
            ("NK", nicks.remaining()),
        ],
    )?;
    let mut out = Vec::with_capacity(len);
    let nicks = TextItems::new(fields, "NK");
    for (((face, status), uin), nickname) in faces.zip(statuses).zip(uins).zip(nicks) {
        out.push(OnlineFriend {
            face: Face::new(to_u32("FC", number("FC", face)?)?),
            status: Status::from_code(to_u32("ST", number("ST", status)?)?),
            uin: uin_item("UN", uin)?,
            nickname,
        });
    }
    Ok(out)
}

fn messages(fields: &Fields<'_>) -> Result<Vec<Message>, ProtocolError> {
    let declared = fields.number("MN")?;
    let (mut kinds, mut senders, mut contents) = (
        items(fields, "MT"),
        items(fields, "UN"),
        TextItems::new(fields, "MG"),
    );
    // The lists are counted as they are read, not in a pass of their own
    // (MG is most of a large reply); MN only sizes the result, and never
    // beyond what the MT list could hold.
    let most = fields.raw("MT").map_or(0, |raw| raw.len() + 1);
    let mut out = Vec::with_capacity(declared.map_or(0, |n| n.min(most as u64) as usize));
    // Found while streaming: counted again, to say what each list holds.
    let mismatch = || {
        list_mismatch(
            "MN",
            declared,
            &[
                ("MT", items(fields, "MT").remaining()),
                ("UN", items(fields, "UN").remaining()),
                ("MG", items(fields, "MG").remaining()),
            ],
        )
    };
    loop {
        match (kinds.next(), senders.next(), contents.next()) {
            (Some(kind), Some(from), Some(content)) => {
                let kind = to_u32("MT", number("MT", kind)?)?;
                out.push(Message::from_wire(kind, uin_item("UN", from)?, content));
            }
            (None, None, None) => break,
            _ => return Err(mismatch()),
        }
    }
    if declared.is_some_and(|n| n != out.len() as u64) {
        return Err(mismatch());
    }
    Ok(out)
}

/// A profile from the fields of its reply after `RES`, decoded (as
/// [`UserInfo::fields`] holds them), read by the same rules as a reply:
/// how a profile is rebuilt (a pickled one, one made for a test).
///
/// ```
/// let fields = vec![("UN".to_owned(), "10001".to_owned()), ("NK".to_owned(), "a&b".to_owned())];
/// let info = httpqq::codec::user_info_from_fields(&fields)?;
/// assert_eq!((info.uin.get(), info.nickname.as_str()), (10001, "a&b"));
/// assert_eq!(info.fields, fields);
/// # Ok::<(), httpqq::ProtocolError>(())
/// ```
///
/// # Errors
/// As [`decode_reply`] for a profile: [`ProtocolError::MissingField`]
/// without `UN`, [`ProtocolError::InvalidNumber`] for a numeric field
/// that is not a number, [`ProtocolError::MalformedPair`] for a key that is
/// not letters, digits and `_`.
pub fn user_info_from_fields(fields: &[(String, String)]) -> Result<UserInfo, ProtocolError> {
    let mut body = String::from("RES=0");
    for (key, value) in fields {
        body.push('&');
        body.push_str(key);
        body.push('=');
        super::encode_value(value, &mut body);
    }
    user_info(&Fields::parse(body.as_bytes())?)
}

fn user_info(fields: &Fields<'_>) -> Result<UserInfo, ProtocolError> {
    let text = |key: &str| fields.text(key).map(|t| t.into_owned());
    // An empty numeric profile field means "not given". \[decision\]
    let code = |key: &'static str| -> Result<Option<u32>, ProtocolError> {
        match fields.raw(key) {
            Some(raw) if super::fields::trim_spaces(raw).is_empty() => Ok(None),
            Some(raw) => number(key, raw).and_then(|n| to_u32(key, n)).map(Some),
            None => Ok(None),
        }
    };
    let extra = fields
        .iter()
        .skip_while(|(key, _)| *key != "RES")
        .skip(1)
        .map(|(key, raw)| (key.to_owned(), decode_value(raw).into_owned()))
        .collect();
    Ok(UserInfo {
        level: code("LV")?.unwrap_or_default(),
        uin: Uin::new(fields.require_number("UN")?),
        nickname: text("NK").unwrap_or_default(),
        address: text("AD"),
        age: code("AG")?,
        blood_type: code("BT")?.map(BloodType::from_code),
        constellation: code("CO")?.map(Constellation::from_code),
        city: text("CT"),
        country: text("CY"),
        email: text("EM"),
        face: code("FC")?.map(Face::new),
        homepage: text("HP"),
        occupation: text("JB"),
        mobile: text("MO"),
        postal_code: text("PC"),
        phone: text("PH"),
        introduction: text("PR"),
        province: text("PV"),
        real_name: text("RN"),
        school: text("SC"),
        zodiac: code("SH")?.map(Zodiac::from_code),
        gender: code("SX")?.map(Gender::from_code),
        fields: extra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "VER=1.1&CMD=GETMSGEX&SEQ=1&UIN=106814";

    #[test]
    fn empty_body_is_no_reply() {
        assert!(matches!(
            decode_reply(&Request::Logout, 1, b""),
            Err(Error::NoReply)
        ));
    }

    #[test]
    fn unknown_result_code_is_a_protocol_error() {
        let body = format!("{HEAD}&RES=7");
        assert!(matches!(
            decode_reply(&Request::FetchMessages, 1, body.as_bytes()),
            Err(Error::Protocol(ProtocolError::UnknownResult { code: 7 }))
        ));
    }

    #[test]
    fn command_echo_is_checked() {
        let err = decode_reply(&Request::Logout, 1, format!("{HEAD}&RES=0").as_bytes());
        assert!(matches!(
            err,
            Err(Error::Protocol(ProtocolError::CommandMismatch { .. }))
        ));
    }

    #[test]
    fn message_count_must_agree_with_the_lists() {
        let body = format!("{HEAD}&RES=0&MN=2&MT=9,&UN=1,&MG=a,");
        assert!(matches!(
            decode_reply(&Request::FetchMessages, 1, body.as_bytes()),
            Err(Error::Protocol(ProtocolError::ListLengthMismatch { .. }))
        ));
    }

    #[test]
    fn status_change_with_text_content_is_kept_as_other() {
        let body = format!("{HEAD}&RES=0&MN=1&MT=99,&UN=5,&MG=x,");
        let reply = decode_reply(&Request::FetchMessages, 1, body.as_bytes()).unwrap();
        assert_eq!(
            reply,
            Reply::Messages(vec![Message::Other {
                kind: 99,
                from: Uin::new(5),
                content: "x".into()
            }])
        );
    }

    #[test]
    fn login_without_timers_uses_the_originals() {
        let body = b"VER=1.1&CMD=Login&SEQ=1&UIN=1&RES=0&RS=0";
        let reply = decode_reply(
            &Request::Login {
                password: crate::PasswordHash::from_password("x"),
            },
            1,
            body,
        )
        .unwrap();
        assert_eq!(reply, Reply::Login(LoginOutcome::DEFAULT));
    }
}
