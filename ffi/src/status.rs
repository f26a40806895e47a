//! What every fallible C function returns, and the thread-local last error
//! that carries the detail.
//!
//! The mapping from the Rust errors to [`httpqq_status`] is written once, in
//! `FfiError::status`.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CString};
use std::time::Duration;

/// The result of every fallible `httpqq_` function.
///
/// `HTTPQQ_STATUS_OK` is 0; every other value is a failure, described in
/// words by `httpqq_last_error_message()` on the same thread.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum httpqq_status {
    /// Success; the out-parameters were written.
    Ok = 0,
    /// The server closed the connection without a reply (the protocol's
    /// "NULL"): it could not accept the request.
    NoReply = 1,
    /// `RES=20`: not logged in from this address, or the session expired.
    /// Log in again (or enable auto-relogin).
    NotLoggedIn = 2,
    /// `RES=3`: refused for now (too fast, a repeated removal, an unexpected
    /// verification). Slow down and retry later.
    Throttled = 3,
    /// `RES=5`: the UIN is invalid or unknown.
    InvalidUin = 4,
    /// The server refused the login; `httpqq_last_error_reason()` gives the
    /// server's reason.
    LoginFailed = 5,
    /// The reply does not follow the protocol.
    Protocol = 6,
    /// The network failed: the connection could not be made, or broke.
    Transport = 7,
    /// No complete reply within the configured time.
    Timeout = 8,
    /// A client builder setting cannot be used (e.g. an endpoint that is not
    /// `host:port`, a zero timeout).
    InvalidConfig = 9,
    /// An argument is unusable: a NULL pointer, text that is not UTF-8, a
    /// code out of range, a result of another kind.
    InvalidArgument = 10,
    /// The reference server could not start (address taken, bad accounts
    /// file, unusable state file).
    Server = 11,
    /// A bug in httpqq (a caught panic). Please report it with the message.
    Internal = 12,
    /// The agent has stopped (it was told to, or its login was refused):
    /// nothing was sent, and no event will come.
    Stopped = 13,
}

impl httpqq_status {
    /// The status for a C `int`, if it is one.
    pub(crate) fn from_int(value: c_int) -> Option<Self> {
        use httpqq_status::*;
        [
            Ok,
            NoReply,
            NotLoggedIn,
            Throttled,
            InvalidUin,
            LoginFailed,
            Protocol,
            Transport,
            Timeout,
            InvalidConfig,
            InvalidArgument,
            Server,
            Internal,
            Stopped,
        ]
        .into_iter()
        .find(|s| *s as c_int == value)
    }

    /// A short lower-case description.
    pub(crate) fn describe(self) -> &'static std::ffi::CStr {
        use httpqq_status::*;
        match self {
            Ok => c"ok",
            NoReply => c"no reply",
            NotLoggedIn => c"not logged in",
            Throttled => c"throttled",
            InvalidUin => c"invalid uin",
            LoginFailed => c"login failed",
            Protocol => c"protocol error",
            Transport => c"transport error",
            Timeout => c"timeout",
            InvalidConfig => c"invalid configuration",
            InvalidArgument => c"invalid argument",
            Server => c"server error",
            Internal => c"internal error",
            Stopped => c"stopped",
        }
    }
}

/// Why a C call failed: a core error, a bad argument, a server that could
/// not start, or a caught panic.
#[derive(Debug)]
pub(crate) enum FfiError {
    Core(httpqq::Error),
    InvalidArgument(String),
    Server(httpqq_server::ServerError),
    Internal(String),
}

impl FfiError {
    /// The one mapping from errors to C statuses.
    pub(crate) fn status(&self) -> httpqq_status {
        use httpqq::Error as E;
        match self {
            FfiError::Core(err) => match err {
                E::NoReply => httpqq_status::NoReply,
                E::NotLoggedIn => httpqq_status::NotLoggedIn,
                E::Throttled { .. } => httpqq_status::Throttled,
                E::InvalidUin => httpqq_status::InvalidUin,
                E::LoginFailed { .. } => httpqq_status::LoginFailed,
                E::Protocol(_) => httpqq_status::Protocol,
                E::Transport { .. } => httpqq_status::Transport,
                E::Timeout { .. } => httpqq_status::Timeout,
                E::InvalidConfig(_) => httpqq_status::InvalidConfig,
                E::Stopped => httpqq_status::Stopped,
                // A variant added to the core later: still an error, never OK.
                _ => httpqq_status::Internal,
            },
            FfiError::InvalidArgument(_) => httpqq_status::InvalidArgument,
            FfiError::Server(_) => httpqq_status::Server,
            FfiError::Internal(_) => httpqq_status::Internal,
        }
    }

    fn message(&self) -> String {
        match self {
            FfiError::Core(err) => err.to_string(),
            FfiError::InvalidArgument(why) => format!("invalid argument: {why}"),
            FfiError::Server(err) => format!("the server could not start: {err}"),
            FfiError::Internal(why) => {
                format!("internal error in httpqq (please report it): {why}")
            }
        }
    }

    fn reason(&self) -> Option<&str> {
        match self {
            FfiError::Core(httpqq::Error::LoginFailed { reason }) => Some(reason),
            FfiError::Core(httpqq::Error::Throttled {
                reason: Some(reason),
                ..
            }) => Some(reason),
            _ => None,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            FfiError::Core(httpqq::Error::Throttled { retry_after, .. }) => Some(*retry_after),
            _ => None,
        }
    }

    /// Whether the request may have been carried out: only a core error
    /// can say "unknown"; the others sent nothing.
    fn outcome(&self) -> httpqq::Outcome {
        match self {
            FfiError::Core(err) => err.outcome(),
            _ => httpqq::Outcome::Refused,
        }
    }
}

impl From<httpqq::Error> for FfiError {
    fn from(err: httpqq::Error) -> Self {
        FfiError::Core(err)
    }
}

impl From<httpqq_server::ServerError> for FfiError {
    fn from(err: httpqq_server::ServerError) -> Self {
        FfiError::Server(err)
    }
}

/// The last failure on this thread.
struct LastError {
    message: CString,
    reason: Option<CString>,
    retry_after: Option<Duration>,
    outcome: httpqq::Outcome,
}

thread_local! {
    static LAST_ERROR: RefCell<Option<LastError>> = const { RefCell::new(None) };
}

/// A C string of `text`, with any NUL (which C cannot hold) shown as U+FFFD.
pub(crate) fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', "\u{FFFD}")).unwrap_or_default()
}

/// Records `err` as this thread's last error.
pub(crate) fn set_last_error(err: &FfiError) {
    let last = LastError {
        message: c_string(&err.message()),
        reason: err.reason().map(c_string),
        retry_after: err.retry_after(),
        outcome: err.outcome(),
    };
    LAST_ERROR.with(|cell| *cell.borrow_mut() = Some(last));
}

/// Forgets this thread's last error (every entry point starts with this).
pub(crate) fn clear_last_error() {
    LAST_ERROR.with(|cell| *cell.borrow_mut() = None);
}

/// Reads this thread's last error.
fn with_last_error(read: impl FnOnce(Option<&LastError>) -> *const c_char) -> *const c_char {
    LAST_ERROR
        .try_with(|cell| read(cell.borrow().as_ref()))
        .unwrap_or(c"".as_ptr())
}

/// What went wrong in the last `httpqq_` call on this thread that failed,
/// in English, e.g. `"login refused by the server: 密码错误"`.
///
/// Returns "" (never NULL) when the last call succeeded.
///
/// Borrowed: valid until the next `httpqq_` call on this thread; copy it to
/// keep it.
#[no_mangle]
pub extern "C" fn httpqq_last_error_message() -> *const c_char {
    with_last_error(|last| last.map_or(c"".as_ptr(), |e| e.message.as_ptr()))
}

/// The server's own reason (UTF-8, as sent; Chinese on the original server)
/// when the last call on this thread failed with `HTTPQQ_STATUS_LOGIN_FAILED`,
/// or with `HTTPQQ_STATUS_THROTTLED` when the server gave one (the
/// reference server says "the recipient's queue is full"); NULL otherwise.
///
/// Borrowed: valid until the next `httpqq_` call on this thread.
#[no_mangle]
pub extern "C" fn httpqq_last_error_reason() -> *const c_char {
    with_last_error(|last| {
        last.and_then(|e| e.reason.as_ref())
            .map_or(std::ptr::null(), |r| r.as_ptr())
    })
}

/// When the last call on this thread failed with `HTTPQQ_STATUS_THROTTLED`
/// (`RES=3`): how long to send nothing more for that session, in
/// milliseconds (the original server's penalty, 20 000, or what is left of
/// an agent's running penalty); 0 otherwise.
#[no_mangle]
pub extern "C" fn httpqq_last_error_retry_after_ms() -> u64 {
    LAST_ERROR
        .try_with(|cell| {
            cell.borrow()
                .as_ref()
                .and_then(|e| e.retry_after)
                .map_or(0, crate::millis)
        })
        .unwrap_or(0)
}

/// What became of the request of the last call on this thread that failed:
/// `HTTPQQ_OUTCOME_REFUSED` (certainly not carried out: a result code, a
/// server that could not be reached, a bad argument) or
/// `HTTPQQ_OUTCOME_UNKNOWN` (sent, but no reply came: it may have been
/// carried out; this library never resends by itself).
/// `HTTPQQ_OUTCOME_ACCEPTED` when the last call succeeded.
#[no_mangle]
pub extern "C" fn httpqq_last_error_outcome() -> u32 {
    LAST_ERROR
        .try_with(|cell| {
            cell.borrow()
                .as_ref()
                .map_or(httpqq::Outcome::Accepted, |e| e.outcome)
        })
        .unwrap_or(httpqq::Outcome::Refused)
        .code()
}

/// What became of a request (see `httpqq_last_error_outcome` and
/// `httpqq_agent_send`).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum httpqq_outcome {
    /// The server answered success.
    Accepted = 0,
    /// Certainly not carried out: the server refused it (a result code), or
    /// it never left this machine.
    Refused = 1,
    /// Sent, but no reply could be read: it may or may not have been
    /// carried out.
    Unknown = 2,
}

/// A short English description of a status ("ok", "not logged in", …);
/// "unknown status" for a value that is not an `httpqq_status`.
///
/// Static: never freed.
#[no_mangle]
pub extern "C" fn httpqq_status_name(status: c_int) -> *const c_char {
    httpqq_status::from_int(status)
        .map_or(c"unknown status", httpqq_status::describe)
        .as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn every_status_round_trips_through_int_and_has_a_name() {
        for value in 0..14 {
            let status = httpqq_status::from_int(value).expect("a status");
            assert_eq!(status as c_int, value);
            assert!(!status.describe().is_empty());
        }
        assert_eq!(httpqq_status::from_int(14), None);
        let unknown = unsafe { CStr::from_ptr(httpqq_status_name(-1)) };
        assert_eq!(unknown.to_str(), Ok("unknown status"));
    }

    #[test]
    fn core_errors_map_to_their_own_status() {
        let cases = [
            (httpqq::Error::NoReply, httpqq_status::NoReply),
            (httpqq::Error::NotLoggedIn, httpqq_status::NotLoggedIn),
            (
                httpqq::Error::Throttled {
                    retry_after: Duration::from_secs(20),
                    reason: None,
                },
                httpqq_status::Throttled,
            ),
            (httpqq::Error::Stopped, httpqq_status::Stopped),
            (httpqq::Error::InvalidUin, httpqq_status::InvalidUin),
            (
                httpqq::Error::LoginFailed { reason: "x".into() },
                httpqq_status::LoginFailed,
            ),
            (
                httpqq::Error::InvalidConfig("x".into()),
                httpqq_status::InvalidConfig,
            ),
        ];
        for (err, status) in cases {
            assert_eq!(FfiError::from(err).status(), status);
        }
    }

    #[test]
    fn login_failure_keeps_the_reason_and_nul_cannot_truncate_it() {
        set_last_error(&FfiError::from(httpqq::Error::LoginFailed {
            reason: "密码\0错误".into(),
        }));
        let reason = unsafe { CStr::from_ptr(httpqq_last_error_reason()) };
        assert_eq!(reason.to_str(), Ok("密码\u{FFFD}错误"));
        clear_last_error();
        assert!(httpqq_last_error_reason().is_null());
        let message = unsafe { CStr::from_ptr(httpqq_last_error_message()) };
        assert_eq!(message.to_bytes(), b"");
    }
}
