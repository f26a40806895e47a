//! The sans-I/O codec for C: build a request body and read a reply body,
//! for callers that bring their own HTTP.
//!
//! ```c
//! httpqq_request *req = NULL;
//! httpqq_request_fetch_messages(&req);
//! char *body = NULL;
//! httpqq_request_encode(req, 10001, 7, &body);   // POST it to the server
//! httpqq_reply *reply = NULL;
//! if (httpqq_reply_decode(req, 7, reply_bytes, reply_len, &reply) == HTTPQQ_STATUS_OK) { ... }
//! ```

use crate::boundary::with;
use crate::boundary::{free_handle, into_handle, owned_string, run, run_out, text, try_ref};
use crate::client::password_hash;
use crate::model::{httpqq_friend_list, httpqq_message_list, httpqq_online_list, httpqq_user_info};
use crate::status::{httpqq_error, FfiError};
use httpqq::{
    codec, InfoLevel, LoginOutcome, PasswordHash, Reply, Request, Status, Uin, Verification,
};
use std::ffi::c_char;

/// A request to encode, made by one of the `httpqq_request_` constructors.
/// Free with `httpqq_request_free`. Immutable: safe to share between
/// threads.
pub struct httpqq_request {
    request: Request,
}

/// What a reply holds, as `httpqq_reply_get_kind` gives it.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum httpqq_reply_kind {
    /// Login succeeded: `httpqq_reply_login`.
    Login = 0,
    /// The number of friends: `httpqq_reply_count`.
    FriendCount = 1,
    /// The friends: `httpqq_reply_friend_list`.
    FriendList = 2,
    /// The number of friends online: `httpqq_reply_count`.
    OnlineCount = 3,
    /// The friends online: `httpqq_reply_online_friends`.
    OnlineFriends = 4,
    /// A profile: `httpqq_reply_user_info`.
    UserInfo = 5,
    /// The outcome of adding a friend: `httpqq_reply_add_friend`.
    AddFriend = 6,
    /// Messages: `httpqq_reply_messages`.
    Messages = 7,
    /// Accepted, with nothing more to read.
    Done = 8,
}

/// A decoded reply, made by `httpqq_reply_decode`. Free with
/// `httpqq_reply_free`.
pub struct httpqq_reply {
    content: ReplyContent,
}

enum ReplyContent {
    Login(LoginOutcome),
    FriendCount(u32),
    FriendList(httpqq_friend_list),
    OnlineCount(u32),
    OnlineFriends(httpqq_online_list),
    UserInfo(Box<httpqq_user_info>),
    AddFriend(u32),
    Messages(httpqq_message_list),
    Done,
}

impl ReplyContent {
    fn new(reply: Reply) -> Result<Self, FfiError> {
        Ok(match reply {
            Reply::Login(outcome) => ReplyContent::Login(outcome),
            Reply::FriendCount(n) => ReplyContent::FriendCount(n),
            Reply::FriendList(uins) => ReplyContent::FriendList(httpqq_friend_list::new(&uins)),
            Reply::OnlineCount(n) => ReplyContent::OnlineCount(n),
            Reply::OnlineFriends(f) => ReplyContent::OnlineFriends(httpqq_online_list::new(f)),
            Reply::UserInfo(info) => ReplyContent::UserInfo(Box::new(httpqq_user_info::new(*info))),
            Reply::AddFriend(outcome) => ReplyContent::AddFriend(outcome.code()),
            Reply::Messages(m) => ReplyContent::Messages(httpqq_message_list::new(m)),
            Reply::Done => ReplyContent::Done,
            other => {
                return Err(FfiError::Internal(format!(
                    "a reply this C API does not know: {other:?}"
                )))
            }
        })
    }

    fn kind(&self) -> httpqq_reply_kind {
        match self {
            ReplyContent::Login(_) => httpqq_reply_kind::Login,
            ReplyContent::FriendCount(_) => httpqq_reply_kind::FriendCount,
            ReplyContent::FriendList(_) => httpqq_reply_kind::FriendList,
            ReplyContent::OnlineCount(_) => httpqq_reply_kind::OnlineCount,
            ReplyContent::OnlineFriends(_) => httpqq_reply_kind::OnlineFriends,
            ReplyContent::UserInfo(_) => httpqq_reply_kind::UserInfo,
            ReplyContent::AddFriend(_) => httpqq_reply_kind::AddFriend,
            ReplyContent::Messages(_) => httpqq_reply_kind::Messages,
            ReplyContent::Done => httpqq_reply_kind::Done,
        }
    }
}

/// Hands a new request to C.
fn make(
    out: *mut *mut httpqq_request,
    error: *mut httpqq_error,
    build: impl FnOnce() -> Result<Request, FfiError>,
) -> i32 {
    run_out(out, error, || {
        Ok(into_handle(httpqq_request { request: build()? }))
    })
}

/// Login with a password (UTF-8; only its MD5 is encoded).
///
/// On success the caller owns `*request_out`; free it with
/// `httpqq_request_free`. The same holds for every `httpqq_request_`
/// constructor.
///
/// # Safety
/// `password` is NULL or a NUL-terminated string; `request_out` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_request_login(
    password: *const c_char,
    request_out: *mut *mut httpqq_request,
    error: *mut httpqq_error,
) -> i32 {
    make(request_out, error, || {
        Ok(Request::Login {
            password: PasswordHash::from_password(text(password, "password")?),
        })
    })
}

/// Login with the password's MD5 as 32 hex digits.
///
/// # Safety
/// As `httpqq_request_login`.
#[no_mangle]
pub unsafe extern "C" fn httpqq_request_login_md5(
    password_md5_hex: *const c_char,
    request_out: *mut *mut httpqq_request,
    error: *mut httpqq_error,
) -> i32 {
    make(request_out, error, || {
        Ok(Request::Login {
            password: password_hash(text(password_md5_hex, "password_md5_hex")?)?,
        })
    })
}

/// List with `TN=0`: the number of friends.
///
/// # Safety
/// `request_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_request_friend_count(
    request_out: *mut *mut httpqq_request,
    error: *mut httpqq_error,
) -> i32 {
    make(request_out, error, || Ok(Request::FriendCount))
}

/// List: at most `max` friends; `max` 0 means the default (160). (For the
/// number of friends, use `httpqq_request_friend_count`.)
///
/// # Safety
/// `request_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_request_friend_list(
    max: u32,
    request_out: *mut *mut httpqq_request,
    error: *mut httpqq_error,
) -> i32 {
    make(request_out, error, || Ok(Request::FriendList { max }))
}

/// Query_Stat with `TN=0`: the number of friends online.
///
/// # Safety
/// `request_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_request_online_count(
    request_out: *mut *mut httpqq_request,
    error: *mut httpqq_error,
) -> i32 {
    make(request_out, error, || Ok(Request::OnlineCount))
}

/// Query_Stat: at most `max` friends online; `max` 0 means the default
/// (160).
///
/// # Safety
/// `request_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_request_online_friends(
    max: u32,
    request_out: *mut *mut httpqq_request,
    error: *mut httpqq_error,
) -> i32 {
    make(request_out, error, || Ok(Request::OnlineFriends { max }))
}

/// GetInfo of `target` at `level` (0, 2 or 3, see `httpqq_info_level`).
///
/// # Safety
/// `request_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_request_user_info(
    target: u64,
    level: u32,
    request_out: *mut *mut httpqq_request,
    error: *mut httpqq_error,
) -> i32 {
    make(request_out, error, || {
        let level = InfoLevel::try_from(level)?;
        Ok(Request::UserInfo {
            target: Uin::new(target),
            level,
        })
    })
}

/// AddToList of `target`.
///
/// # Safety
/// `request_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_request_add_friend(
    target: u64,
    request_out: *mut *mut httpqq_request,
    error: *mut httpqq_error,
) -> i32 {
    make(request_out, error, || {
        Ok(Request::AddFriend {
            target: Uin::new(target),
        })
    })
}

/// Ack_AddToList: `action` 0 approve, 1 reject, 2 request; `reason` UTF-8.
///
/// # Safety
/// `reason` is NULL or a NUL-terminated string; `request_out` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_request_verify(
    target: u64,
    action: u32,
    reason: *const c_char,
    request_out: *mut *mut httpqq_request,
    error: *mut httpqq_error,
) -> i32 {
    make(request_out, error, || {
        let action = Verification::try_from(action)?;
        Ok(Request::Verify {
            target: Uin::new(target),
            action,
            reason: text(reason, "reason")?.to_owned(),
        })
    })
}

/// DelFromList of `target`.
///
/// # Safety
/// `request_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_request_remove_friend(
    target: u64,
    request_out: *mut *mut httpqq_request,
    error: *mut httpqq_error,
) -> i32 {
    make(request_out, error, || {
        Ok(Request::RemoveFriend {
            target: Uin::new(target),
        })
    })
}

/// Change_Stat to `status` (see `httpqq_online_status`).
///
/// # Safety
/// `request_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_request_set_status(
    status: u32,
    request_out: *mut *mut httpqq_request,
    error: *mut httpqq_error,
) -> i32 {
    make(request_out, error, || {
        Ok(Request::SetStatus {
            status: Status::from_code(status),
        })
    })
}

/// GetMsgEx: fetch the pending messages.
///
/// # Safety
/// `request_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_request_fetch_messages(
    request_out: *mut *mut httpqq_request,
    error: *mut httpqq_error,
) -> i32 {
    make(request_out, error, || Ok(Request::FetchMessages))
}

/// CLTMSG: send `message` (UTF-8) to `target`.
///
/// # Safety
/// `message` is NULL or a NUL-terminated string; `request_out` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_request_send_message(
    target: u64,
    message: *const c_char,
    request_out: *mut *mut httpqq_request,
    error: *mut httpqq_error,
) -> i32 {
    make(request_out, error, || {
        Ok(Request::SendMessage {
            target: Uin::new(target),
            text: text(message, "message")?.to_owned(),
        })
    })
}

/// Logout.
///
/// # Safety
/// `request_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_request_logout(
    request_out: *mut *mut httpqq_request,
    error: *mut httpqq_error,
) -> i32 {
    make(request_out, error, || Ok(Request::Logout))
}

/// Frees the request; NULL is a no-op.
///
/// # Safety
/// `request` is NULL or a request from this library, not freed yet.
#[no_mangle]
pub unsafe extern "C" fn httpqq_request_free(request: *mut httpqq_request) {
    free_handle(request)
}

/// Whether the request must go on a connection of its own, closed after the
/// reply (send `Connection: close`): Query_Stat with `TN=0`, which the
/// original server answered twice. False for NULL.
///
/// # Safety
/// `request` is NULL or a live request.
#[no_mangle]
pub unsafe extern "C" fn httpqq_request_closes_connection(request: *const httpqq_request) -> bool {
    with(request, false, |r| r.request.closes_connection())
}

/// Encodes the request as the body to POST, from `uin` with sequence number
/// `seq` (use a new nonzero one per request and pass it to
/// `httpqq_reply_decode`).
///
/// On success the caller owns `*body_out` (UTF-8, NUL-terminated) and frees
/// it with `httpqq_string_free`.
///
/// # Safety
/// `request` is NULL or a live request; `body_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_request_encode(
    request: *const httpqq_request,
    uin: u64,
    seq: u16,
    body_out: *mut *mut c_char,
    error: *mut httpqq_error,
) -> i32 {
    run_out(body_out, error, || {
        let request = try_ref(request, "request")?;
        Ok(owned_string(&codec::encode_request(
            Uin::new(uin),
            seq,
            &request.request,
        )))
    })
}

/// Decodes `body` (`len` bytes, as received; no NUL needed) as the reply to
/// `request` sent with `seq`. An empty body (the server closed without a
/// reply) is `HTTPQQ_STATUS_NO_REPLY`; result codes map to their statuses
/// (`RES=20`: `HTTPQQ_STATUS_NOT_LOGGED_IN`, …); anything malformed is
/// `HTTPQQ_STATUS_PROTOCOL`.
///
/// On success the caller owns `*reply_out` and frees it with
/// `httpqq_reply_free`.
///
/// # Safety
/// `request` is NULL or a live request; `body` is valid for reading `len`
/// bytes (or NULL when `len` is 0); `reply_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_reply_decode(
    request: *const httpqq_request,
    seq: u16,
    body: *const u8,
    len: usize,
    reply_out: *mut *mut httpqq_reply,
    error: *mut httpqq_error,
) -> i32 {
    run_out(reply_out, error, || {
        let request = try_ref(request, "request")?;
        let body = crate::boundary::bytes(body, len, "body")?;
        let reply = codec::decode_reply(&request.request, seq, body)?;
        Ok(into_handle(httpqq_reply {
            content: ReplyContent::new(reply)?,
        }))
    })
}

/// Frees the reply and everything borrowed from it; NULL is a no-op.
///
/// # Safety
/// `reply` is NULL or a reply from this library, not freed yet.
#[no_mangle]
pub unsafe extern "C" fn httpqq_reply_free(reply: *mut httpqq_reply) {
    free_handle(reply)
}

/// What the reply holds, an `httpqq_reply_kind`; `HTTPQQ_REPLY_KIND_DONE`
/// for NULL.
///
/// # Safety
/// `reply` is NULL or a live reply.
#[no_mangle]
pub unsafe extern "C" fn httpqq_reply_get_kind(reply: *const httpqq_reply) -> u32 {
    with(reply, httpqq_reply_kind::Done, |r| r.content.kind()) as u32
}

/// Reads the reply's content of one kind.
fn read<T>(
    reply: *const httpqq_reply,
    out: *mut T,
    want: &str,
    error: *mut httpqq_error,
    pick: impl FnOnce(&ReplyContent) -> Option<T>,
) -> i32 {
    run_out(out, error, || {
        let reply = try_ref(reply, "reply")?;
        pick(&reply.content).ok_or_else(|| {
            FfiError::InvalidArgument(format!(
                "the reply holds {:?}, not {want}",
                reply.content.kind()
            ))
        })
    })
}

/// For a login reply, writes the poll interval (`HI`) and the idle timeout
/// (`LI`) in milliseconds. Either out-pointer may be NULL when not wanted;
/// `HTTPQQ_STATUS_INVALID_ARGUMENT` for a reply of another kind.
///
/// # Safety
/// `reply` is NULL or a live reply; the out-pointers are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_reply_login(
    reply: *const httpqq_reply,
    heartbeat_ms_out: *mut u64,
    idle_timeout_ms_out: *mut u64,
    error: *mut httpqq_error,
) -> i32 {
    run(error, || {
        let reply = try_ref(reply, "reply")?;
        let ReplyContent::Login(outcome) = &reply.content else {
            return Err(FfiError::InvalidArgument(format!(
                "the reply holds {:?}, not a login",
                reply.content.kind()
            )));
        };
        let millis = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        crate::boundary::write_out(heartbeat_ms_out, millis(outcome.heartbeat));
        crate::boundary::write_out(idle_timeout_ms_out, millis(outcome.idle_timeout));
        Ok(())
    })
}

/// For a friend-count or online-count reply, writes the count.
///
/// # Safety
/// `reply` is NULL or a live reply; `count_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_reply_count(
    reply: *const httpqq_reply,
    count_out: *mut u32,
    error: *mut httpqq_error,
) -> i32 {
    read(reply, count_out, "a count", error, |c| match c {
        ReplyContent::FriendCount(n) | ReplyContent::OnlineCount(n) => Some(*n),
        _ => None,
    })
}

/// For an add-friend reply, writes the outcome code (`CD`, see
/// `httpqq_add_friend_outcome`).
///
/// # Safety
/// `reply` is NULL or a live reply; `outcome_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_reply_add_friend(
    reply: *const httpqq_reply,
    outcome_out: *mut u32,
    error: *mut httpqq_error,
) -> i32 {
    read(
        reply,
        outcome_out,
        "an add-friend outcome",
        error,
        |c| match c {
            ReplyContent::AddFriend(code) => Some(*code),
            _ => None,
        },
    )
}

/// For a friend-list reply, writes the list.
///
/// Borrowed: `*list_out` is valid until the reply is freed; do not free it.
///
/// # Safety
/// `reply` is NULL or a live reply; `list_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_reply_friend_list(
    reply: *const httpqq_reply,
    list_out: *mut *const httpqq_friend_list,
    error: *mut httpqq_error,
) -> i32 {
    read(reply, list_out, "a friend list", error, |c| match c {
        ReplyContent::FriendList(list) => Some(list as *const _),
        _ => None,
    })
}

/// For an online-friends reply, writes the list.
///
/// Borrowed: `*list_out` is valid until the reply is freed; do not free it.
///
/// # Safety
/// `reply` is NULL or a live reply; `list_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_reply_online_friends(
    reply: *const httpqq_reply,
    list_out: *mut *const httpqq_online_list,
    error: *mut httpqq_error,
) -> i32 {
    read(reply, list_out, "online friends", error, |c| match c {
        ReplyContent::OnlineFriends(list) => Some(list as *const _),
        _ => None,
    })
}

/// For a user-info reply, writes the profile.
///
/// Borrowed: `*info_out` is valid until the reply is freed; do not free it.
///
/// # Safety
/// `reply` is NULL or a live reply; `info_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_reply_user_info(
    reply: *const httpqq_reply,
    info_out: *mut *const httpqq_user_info,
    error: *mut httpqq_error,
) -> i32 {
    read(reply, info_out, "a profile", error, |c| match c {
        ReplyContent::UserInfo(info) => Some(&**info as *const _),
        _ => None,
    })
}

/// For a messages reply, writes the messages.
///
/// Borrowed: `*messages_out` is valid until the reply is freed; do not free
/// it.
///
/// # Safety
/// `reply` is NULL or a live reply; `messages_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_reply_messages(
    reply: *const httpqq_reply,
    messages_out: *mut *const httpqq_message_list,
    error: *mut httpqq_error,
) -> i32 {
    read(reply, messages_out, "messages", error, |c| match c {
        ReplyContent::Messages(list) => Some(list as *const _),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::httpqq_status;
    use std::ffi::CStr;
    use std::ptr;

    const OK: i32 = httpqq_status::Ok as i32;
    const INVALID_ARGUMENT: i32 = httpqq_status::InvalidArgument as i32;

    #[test]
    fn encodes_a_message_with_reserved_characters() {
        let mut request = ptr::null_mut();
        // SAFETY: the test passes objects it made and has not freed, or NULL, as `httpqq_request_send_message` allows.
        let status = unsafe {
            httpqq_request_send_message(
                10002,
                c"a&b=c,d%e+f 好".as_ptr(),
                &mut request,
                ptr::null_mut(),
            )
        };
        assert_eq!(status, OK);
        let mut body = ptr::null_mut();
        assert_eq!(
            // SAFETY: the test passes objects it made and has not freed, or NULL, as `httpqq_request_encode` allows.
            unsafe { httpqq_request_encode(request, 10001, 7, &mut body, ptr::null_mut()) },
            OK
        );
        // SAFETY: the pointer is a NUL-terminated string the library returned and still owns.
        let text = unsafe { CStr::from_ptr(body) }.to_str().unwrap().to_owned();
        assert_eq!(
            text,
            codec::encode_request(
                Uin::new(10001),
                7,
                &Request::SendMessage {
                    target: Uin::new(10002),
                    text: "a&b=c,d%e+f 好".into()
                }
            )
        );
        // SAFETY: the test passes objects it made and has not freed, or NULL, as `crate::httpqq_string_free` allows.
        unsafe {
            crate::httpqq_string_free(body);
            httpqq_request_free(request);
        }
    }

    #[test]
    fn decodes_messages_and_refuses_the_wrong_kind() {
        let mut request = ptr::null_mut();
        // SAFETY: the test passes objects it made and has not freed, or NULL, as `httpqq_request_fetch_messages` allows.
        unsafe { httpqq_request_fetch_messages(&mut request, ptr::null_mut()) };
        let body = b"VER=1.1&CMD=GETMSGEX&SEQ=4&UIN=1&RES=0&MN=1&MT=9,&UN=2,&MG=hi,";
        let mut reply = ptr::null_mut();
        // SAFETY: the test passes objects it made and has not freed, or NULL, as `httpqq_reply_decode` allows.
        let status = unsafe {
            httpqq_reply_decode(
                request,
                4,
                body.as_ptr(),
                body.len(),
                &mut reply,
                ptr::null_mut(),
            )
        };
        assert_eq!(status, OK);
        assert_eq!(
            // SAFETY: the test passes objects it made and has not freed, or NULL, as `httpqq_reply_get_kind` allows.
            unsafe { httpqq_reply_get_kind(reply) },
            httpqq_reply_kind::Messages as u32
        );
        let mut count = 77;
        assert_eq!(
            // SAFETY: the test passes objects it made and has not freed, or NULL, as `httpqq_reply_count` allows.
            unsafe { httpqq_reply_count(reply, &mut count, ptr::null_mut()) },
            INVALID_ARGUMENT
        );
        assert_eq!(count, 77);
        let mut list = ptr::null();
        assert_eq!(
            // SAFETY: the test passes objects it made and has not freed, or NULL, as `httpqq_reply_messages` allows.
            unsafe { httpqq_reply_messages(reply, &mut list, ptr::null_mut()) },
            OK
        );
        // SAFETY: `list` is borrowed from `reply`, freed below.
        assert_eq!(unsafe { crate::model::httpqq_message_list_len(list) }, 1);
        // SAFETY: the test passes objects it made and has not freed, or NULL, as `httpqq_reply_free` allows.
        unsafe {
            httpqq_reply_free(reply);
            httpqq_request_free(request);
        }
    }

    #[test]
    fn an_empty_body_is_no_reply_and_null_body_with_length_is_invalid() {
        let mut request = ptr::null_mut();
        // SAFETY: the test passes objects it made and has not freed, or NULL, as `httpqq_request_logout` allows.
        unsafe { httpqq_request_logout(&mut request, ptr::null_mut()) };
        let mut reply = ptr::null_mut();
        let status =
            // SAFETY: the test passes objects it made and has not freed, or NULL, as `httpqq_reply_decode` allows.
            unsafe { httpqq_reply_decode(request, 1, ptr::null(), 0, &mut reply, ptr::null_mut()) };
        assert_eq!(status, httpqq_status::NoReply as i32);
        let status =
            // SAFETY: the test passes objects it made and has not freed, or NULL, as `httpqq_reply_decode` allows.
            unsafe { httpqq_reply_decode(request, 1, ptr::null(), 5, &mut reply, ptr::null_mut()) };
        assert_eq!(status, INVALID_ARGUMENT);
        assert!(reply.is_null());
        // SAFETY: the test passes objects it made and has not freed, or NULL, as `httpqq_request_free` allows.
        unsafe { httpqq_request_free(request) };
    }
}
