//! A logged-in session: every command of the protocol, the keep-alive poll
//! and a loop delivering incoming messages to a callback.

use crate::boundary::with;
use crate::boundary::{free_handle, into_handle, run, run_out, text, try_ref};
use crate::millis;
use crate::model::{
    httpqq_friend_list, httpqq_message, httpqq_message_list, httpqq_online_list, httpqq_user_info,
};
use crate::status::{httpqq_error, FfiError};
use httpqq::{Agent, EventKind, InfoLevel, Session, Status, Uin, Verification};
use std::ffi::{c_char, c_void};
use std::sync::Arc;
use std::time::Duration;

/// A logged-in session, made by `httpqq_client_login`. Safe to use from
/// several threads at once (each call is one request). Free with
/// `httpqq_session_free`, after `httpqq_session_logout` if you want the
/// server to know at once.
pub struct httpqq_session {
    session: Arc<Session>,
}

impl httpqq_session {
    pub(crate) fn new(session: Session) -> Self {
        httpqq_session {
            session: Arc::new(session),
        }
    }
}

/// Called by `httpqq_session_listen` for each incoming message, oldest
/// first, on the listening thread. `message` is borrowed for the call only.
/// Return 0 to go on listening, nonzero to stop.
#[allow(non_camel_case_types)]
pub type httpqq_message_callback =
    Option<unsafe extern "C" fn(message: *const httpqq_message, user_data: *mut c_void) -> i32>;

/// Runs a session command that returns nothing.
fn command(
    session: *const httpqq_session,
    error: *mut httpqq_error,
    body: impl FnOnce(&Session) -> Result<(), FfiError>,
) -> i32 {
    run(error, || body(&try_ref(session, "session")?.session))
}

/// Runs a session command that returns a value through `out`.
fn query<T>(
    session: *const httpqq_session,
    out: *mut T,
    error: *mut httpqq_error,
    body: impl FnOnce(&Session) -> Result<T, FfiError>,
) -> i32 {
    run_out(out, error, || body(&try_ref(session, "session")?.session))
}

/// Shuts down the client the session was made from, as
/// `httpqq_client_shutdown` does (this session's calls, the client's and
/// those of its other sessions end now with `HTTPQQ_STATUS_CANCELLED`, and
/// later ones fail at once), also when that client was freed already: for
/// an exit hook that holds sessions only. Returns at once; callable from
/// any thread, also while others are inside calls on the session. NULL is
/// a no-op.
///
/// # Safety
/// `session` is NULL or a live session.
#[no_mangle]
pub unsafe extern "C" fn httpqq_session_shutdown(session: *const httpqq_session) {
    with(session, (), |s| s.session.client().shutdown())
}

/// Frees the session; NULL is a no-op. Does not log out: call
/// `httpqq_session_logout` first to end the session on the server at once
/// (otherwise it expires after its idle timeout).
///
/// # Safety
/// `session` is NULL or a session from this library, not freed yet and not
/// in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn httpqq_session_free(session: *mut httpqq_session) {
    free_handle(session)
}

/// The session's UIN; 0 for NULL.
///
/// # Safety
/// `session` is NULL or a live session.
#[no_mangle]
pub unsafe extern "C" fn httpqq_session_uin(session: *const httpqq_session) -> u64 {
    with(session, 0, |s| s.session.uin().get())
}

/// How often the server wants to be polled (`HI`), in milliseconds; 0 for
/// NULL.
///
/// # Safety
/// `session` is NULL or a live session.
#[no_mangle]
pub unsafe extern "C" fn httpqq_session_heartbeat_ms(session: *const httpqq_session) -> u64 {
    with(session, 0, |s| millis(s.session.heartbeat()))
}

/// How long the session may stay silent before the server ends it (`LI`),
/// in milliseconds; 0 for NULL.
///
/// # Safety
/// `session` is NULL or a live session.
#[no_mangle]
pub unsafe extern "C" fn httpqq_session_idle_timeout_ms(session: *const httpqq_session) -> u64 {
    with(session, 0, |s| millis(s.session.idle_timeout()))
}

/// Turns automatic re-login on `RES=20` on (nonzero) or off for this
/// session.
///
/// # Safety
/// `session` is NULL or a live session.
#[no_mangle]
pub unsafe extern "C" fn httpqq_session_set_auto_relogin(
    session: *const httpqq_session,
    on: bool,
    error: *mut httpqq_error,
) -> i32 {
    command(session, error, |s| {
        s.set_auto_relogin(on);
        Ok(())
    })
}

/// Logs in again with the session's credentials (after `RES=20`).
///
/// # Safety
/// `session` is NULL or a live session.
#[no_mangle]
pub unsafe extern "C" fn httpqq_session_relogin(
    session: *const httpqq_session,
    error: *mut httpqq_error,
) -> i32 {
    command(session, error, |s| Ok(s.relogin()?))
}

/// Writes the number of friends (List, `TN=0`) to `*count_out`.
///
/// # Safety
/// `session` is NULL or a live session; `count_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_session_friend_count(
    session: *const httpqq_session,
    count_out: *mut u32,
    error: *mut httpqq_error,
) -> i32 {
    query(session, count_out, error, |s| Ok(s.friend_count()?))
}

/// Fetches the friends' UINs (List), at most `max` of them; `max` 0 means
/// the default (160).
///
/// On success the caller owns `*list_out` and frees it with
/// `httpqq_friend_list_free`.
///
/// # Safety
/// `session` is NULL or a live session; `list_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_session_friends(
    session: *const httpqq_session,
    max: u32,
    list_out: *mut *mut httpqq_friend_list,
    error: *mut httpqq_error,
) -> i32 {
    query(session, list_out, error, |s| {
        let uins = s.friends_max(max)?;
        Ok(into_handle(httpqq_friend_list::new(&uins)))
    })
}

/// Writes the number of friends online (Query_Stat, `TN=0`) to
/// `*count_out`.
///
/// # Safety
/// `session` is NULL or a live session; `count_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_session_online_count(
    session: *const httpqq_session,
    count_out: *mut u32,
    error: *mut httpqq_error,
) -> i32 {
    query(session, count_out, error, |s| Ok(s.online_count()?))
}

/// Fetches the friends online (Query_Stat), at most `max` of them; `max` 0
/// means the default (160).
///
/// On success the caller owns `*list_out` and frees it with
/// `httpqq_online_list_free`.
///
/// # Safety
/// `session` is NULL or a live session; `list_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_session_online_friends(
    session: *const httpqq_session,
    max: u32,
    list_out: *mut *mut httpqq_online_list,
    error: *mut httpqq_error,
) -> i32 {
    query(session, list_out, error, |s| {
        let friends = s.online_friends_max(max)?;
        Ok(into_handle(httpqq_online_list::new(friends)))
    })
}

/// Fetches `target`'s profile (GetInfo) at `level` (an
/// `httpqq_info_level`: 0, 2 or 3; anything else is
/// `HTTPQQ_STATUS_INVALID_ARGUMENT`).
///
/// On success the caller owns `*info_out` and frees it with
/// `httpqq_user_info_free`.
///
/// # Safety
/// `session` is NULL or a live session; `info_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_session_user_info(
    session: *const httpqq_session,
    target: u64,
    level: u32,
    info_out: *mut *mut httpqq_user_info,
    error: *mut httpqq_error,
) -> i32 {
    query(session, info_out, error, |s| {
        let level = InfoLevel::try_from(level)?;
        let info = s.user_info(Uin::new(target), level)?;
        Ok(into_handle(httpqq_user_info::new(info)))
    })
}

/// Adds `target` to your friend list (AddToList) and writes the outcome
/// code (`CD`, see `httpqq_add_friend_outcome`; 2 or more is a refusal) to
/// `*outcome_out`.
///
/// # Safety
/// `session` is NULL or a live session; `outcome_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_session_add_friend(
    session: *const httpqq_session,
    target: u64,
    outcome_out: *mut u32,
    error: *mut httpqq_error,
) -> i32 {
    query(session, outcome_out, error, |s| {
        Ok(s.add_friend(Uin::new(target))?.code())
    })
}

/// Approves `target`'s request to add you (Ack_AddToList, `CD=0`).
///
/// # Safety
/// `session` is NULL or a live session.
#[no_mangle]
pub unsafe extern "C" fn httpqq_session_approve(
    session: *const httpqq_session,
    target: u64,
    error: *mut httpqq_error,
) -> i32 {
    command(session, error, |s| Ok(s.approve(Uin::new(target))?))
}

/// Rejects `target`'s request to add you, with a reason in UTF-8
/// (Ack_AddToList, `CD=1`).
///
/// # Safety
/// `session` is NULL or a live session; `reason` is NULL or a
/// NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn httpqq_session_reject(
    session: *const httpqq_session,
    target: u64,
    reason: *const c_char,
    error: *mut httpqq_error,
) -> i32 {
    command(session, error, |s| {
        let reason = text(reason, "reason")?;
        Ok(s.reject(Uin::new(target), reason)?)
    })
}

/// Asks `target`, who wants verification, to accept you, with a reason in
/// UTF-8 (Ack_AddToList, `CD=2`).
///
/// # Safety
/// `session` is NULL or a live session; `reason` is NULL or a
/// NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn httpqq_session_request_verification(
    session: *const httpqq_session,
    target: u64,
    reason: *const c_char,
    error: *mut httpqq_error,
) -> i32 {
    command(session, error, |s| {
        let reason = text(reason, "reason")?;
        Ok(s.request_verification(Uin::new(target), reason)?)
    })
}

/// Sends any verification step (Ack_AddToList): `action` 0 approve, 1
/// reject, 2 request; anything else is `HTTPQQ_STATUS_INVALID_ARGUMENT`.
///
/// # Safety
/// `session` is NULL or a live session; `reason` is NULL or a
/// NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn httpqq_session_verify(
    session: *const httpqq_session,
    target: u64,
    action: u32,
    reason: *const c_char,
    error: *mut httpqq_error,
) -> i32 {
    command(session, error, |s| {
        let step = Verification::try_from(action)?;
        let reason = text(reason, "reason")?;
        Ok(s.verify(Uin::new(target), step, reason)?)
    })
}

/// Removes `target` from your friend list (DelFromList).
/// `HTTPQQ_STATUS_THROTTLED` when repeated.
///
/// # Safety
/// `session` is NULL or a live session.
#[no_mangle]
pub unsafe extern "C" fn httpqq_session_remove_friend(
    session: *const httpqq_session,
    target: u64,
    error: *mut httpqq_error,
) -> i32 {
    command(session, error, |s| Ok(s.remove_friend(Uin::new(target))?))
}

/// Changes your status (Change_Stat) to `status` (see
/// `httpqq_online_status`: online 10, offline 20, busy 30, invisible 40).
///
/// # Safety
/// `session` is NULL or a live session.
#[no_mangle]
pub unsafe extern "C" fn httpqq_session_set_status(
    session: *const httpqq_session,
    status: u32,
    error: *mut httpqq_error,
) -> i32 {
    command(session, error, |s| {
        Ok(s.set_status(Status::from_code(status))?)
    })
}

/// Fetches the pending messages (GetMsgEx), oldest first; each message is
/// delivered once. The list may be empty.
///
/// On success the caller owns `*messages_out` and frees it with
/// `httpqq_message_list_free`.
///
/// # Safety
/// `session` is NULL or a live session; `messages_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_session_fetch_messages(
    session: *const httpqq_session,
    messages_out: *mut *mut httpqq_message_list,
    error: *mut httpqq_error,
) -> i32 {
    query(session, messages_out, error, |s| {
        Ok(into_handle(httpqq_message_list::new(s.fetch_messages()?)))
    })
}

/// The keep-alive poll: call it every `httpqq_session_heartbeat_ms`
/// milliseconds to keep the session alive. It is `httpqq_session_fetch_messages`
/// (the protocol has no other keep-alive); the messages it gets are yours.
///
/// # Safety
/// As `httpqq_session_fetch_messages`.
#[no_mangle]
pub unsafe extern "C" fn httpqq_session_poll(
    session: *const httpqq_session,
    messages_out: *mut *mut httpqq_message_list,
    error: *mut httpqq_error,
) -> i32 {
    query(session, messages_out, error, |s| {
        Ok(into_handle(httpqq_message_list::new(s.poll()?)))
    })
}

/// Sends `text` (UTF-8) to `target` (CLTMSG). Any text is carried exactly,
/// `&=,%+`, newlines and non-ASCII included.
///
/// # Safety
/// `session` is NULL or a live session; `text` is NULL or a NUL-terminated
/// string.
#[no_mangle]
pub unsafe extern "C" fn httpqq_session_send_message(
    session: *const httpqq_session,
    target: u64,
    message: *const c_char,
    error: *mut httpqq_error,
) -> i32 {
    command(session, error, |s| {
        let message = text(message, "message")?;
        Ok(s.send_message(Uin::new(target), message)?)
    })
}

/// Logs out. The session handle still needs `httpqq_session_free`.
///
/// # Safety
/// `session` is NULL or a live session.
#[no_mangle]
pub unsafe extern "C" fn httpqq_session_logout(
    session: *const httpqq_session,
    error: *mut httpqq_error,
) -> i32 {
    command(session, error, |s| Ok(s.logout()?))
}

/// Polls for messages every `interval_ms` milliseconds while none arrive
/// (which also keeps the session alive) and calls `callback` for each one,
/// oldest first, with `user_data`. Blocks the calling thread.
///
/// It is an agent on this session (see `httpqq_agent_start`) that reports
/// messages only: it rides out network failures and server restarts with
/// backoff, waits out `RES=3` penalties and logs in again after `RES=20`,
/// so it does not return on a failed poll.
///
/// Returns `HTTPQQ_STATUS_OK` as soon as the callback returns nonzero: the
/// messages already fetched and not yet delivered stay with the session
/// and come first from the next `httpqq_session_listen` or
/// `httpqq_session_fetch_messages` (none is lost, none repeated).
/// Returns an error status when the session cannot go on (the login was
/// refused when renewing it, say). `HTTPQQ_STATUS_INVALID_ARGUMENT` for an
/// interval under 100 ms. To stop a listener from another thread, use an
/// agent instead (`httpqq_agent_stop`).
///
/// The callback must not unwind (e.g. `longjmp`, or a C++ exception) out of
/// this call: catch inside it and return nonzero.
///
/// # Safety
/// `session` is NULL or a live session; `callback` is NULL or a function of
/// that type; `user_data` is whatever the callback expects.
#[no_mangle]
pub unsafe extern "C" fn httpqq_session_listen(
    session: *const httpqq_session,
    interval_ms: u64,
    callback: httpqq_message_callback,
    user_data: *mut c_void,
    error: *mut httpqq_error,
) -> i32 {
    run(error, || {
        let session = &try_ref(session, "session")?.session;
        let callback = callback.ok_or_else(|| crate::boundary::null("callback"))?;
        let interval = Duration::from_millis(interval_ms);
        if interval < httpqq::MIN_POLL_INTERVAL {
            return Err(FfiError::InvalidArgument(format!(
                "interval_ms must be at least {}, not {interval_ms}",
                httpqq::MIN_POLL_INTERVAL.as_millis()
            )));
        }
        let agent = Agent::for_session(Arc::clone(session))
            .poll_interval(interval)
            .start()?;
        loop {
            let Some(event) = agent.next_event() else {
                return Ok(());
            };
            match event.kind {
                EventKind::Message(message) => {
                    let message = httpqq_message::new(message);
                    // SAFETY: the caller's promise about the callback.
                    if unsafe { callback(&message, user_data) } != 0 {
                        // Let a poll in flight land, so that its messages
                        // go back to the session with the rest.
                        agent.stop();
                        agent.wait_stopped(Duration::from_secs(24 * 3600));
                        return Ok(());
                    }
                }
                EventKind::Stopped(reason) => {
                    return match reason.error() {
                        Some(err) => Err(err.into()),
                        None => Ok(()),
                    };
                }
                _ => {}
            }
        }
    })
}
