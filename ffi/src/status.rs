//! What every fallible C function returns (an `httpqq_status`, as an
//! `int32_t`), and the error object that carries the detail: the caller's
//! own (`httpqq_error`, any thread), and the thread's last error (a
//! convenience).
//!
//! The mapping from the Rust errors to [`httpqq_status`] is written once, in
//! `FfiError::status`.

use crate::boundary::with;
use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::time::Duration;

/// The result of every fallible `httpqq_` function, returned as an
/// `int32_t`.
///
/// `HTTPQQ_STATUS_OK` is 0; every other value is a failure, described in
/// the error object the call was given (`httpqq_error_message`) and by
/// `httpqq_last_error_message()` on the same thread.
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
    /// The server refused the login; `httpqq_error_reason` gives the
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
    /// The request was cut short by a stop (`httpqq_agent_stop` during a
    /// send); `httpqq_error_outcome` says whether it was sent.
    Cancelled = 14,
    /// An agent's send found no session: the agent had not logged in yet
    /// (or was logging in again) and could not within the client's
    /// timeout. Nothing was sent.
    NotOnline = 15,
    /// The request would be longer than a server reads (64 KiB once
    /// encoded; a message too long, most likely): nothing was sent. Send
    /// it in parts.
    TooLarge = 16,
}

impl httpqq_status {
    /// The status for its number, if it is one.
    pub(crate) fn from_int(value: i32) -> Option<Self> {
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
            Cancelled,
            NotOnline,
            TooLarge,
        ]
        .into_iter()
        .find(|s| *s as i32 == value)
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
            Cancelled => c"cancelled",
            NotOnline => c"not online",
            TooLarge => c"too large",
        }
    }
}

/// Why a C call failed: a core error, a bad argument, a caught panic, or
/// a failure a library built on this one reports (`httpqq_error_set`).
#[derive(Debug)]
pub(crate) enum FfiError {
    Core(httpqq::Error),
    InvalidArgument(String),
    Internal(String),
    Reported {
        status: httpqq_status,
        message: String,
    },
}

impl FfiError {
    /// The one mapping from errors to C statuses.
    pub(crate) fn status(&self) -> httpqq_status {
        use httpqq::Error as E;
        match self {
            FfiError::Core(err) => match err {
                E::NoReply => httpqq_status::NoReply,
                E::NotLoggedIn | E::SessionDropped => httpqq_status::NotLoggedIn,
                E::Throttled { .. } => httpqq_status::Throttled,
                E::InvalidUin => httpqq_status::InvalidUin,
                E::LoginFailed { .. } => httpqq_status::LoginFailed,
                E::Protocol(_) | E::Http(_) => httpqq_status::Protocol,
                E::Internal(_) => httpqq_status::Internal,
                E::Transport { .. } => httpqq_status::Transport,
                E::Timeout { .. } => httpqq_status::Timeout,
                E::InvalidConfig(_) => httpqq_status::InvalidConfig,
                E::Stopped => httpqq_status::Stopped,
                E::Cancelled { .. } => httpqq_status::Cancelled,
                E::NotOnline { .. } => httpqq_status::NotOnline,
                E::TooLarge { .. } => httpqq_status::TooLarge,
                // A variant added to the core later: still an error, never OK.
                _ => httpqq_status::Internal,
            },
            FfiError::InvalidArgument(_) => httpqq_status::InvalidArgument,
            FfiError::Internal(_) => httpqq_status::Internal,
            FfiError::Reported { status, .. } => *status,
        }
    }

    fn message(&self) -> String {
        match self {
            FfiError::Core(err) => err.to_string(),
            FfiError::InvalidArgument(why) => format!("invalid argument: {why}"),
            FfiError::Reported { message, .. } => message.clone(),
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

/// A code that names none of a type's values, given by C: refused.
impl From<httpqq::UnknownCode> for FfiError {
    fn from(err: httpqq::UnknownCode) -> Self {
        FfiError::InvalidArgument(err.to_string())
    }
}

impl From<httpqq::Error> for FfiError {
    fn from(err: httpqq::Error) -> Self {
        FfiError::Core(err)
    }
}

impl From<crate::boundary::InvalidArgument> for FfiError {
    fn from(err: crate::boundary::InvalidArgument) -> Self {
        FfiError::InvalidArgument(err.0)
    }
}

/// What went wrong in a call: a status, a message for people, and what
/// the server said. Made by `httpqq_error_new` and filled by every fallible
/// function it is given to (the last argument, `error`), cleared by the
/// ones that succeed. The caller owns it and frees it with
/// `httpqq_error_free`.
///
/// Give each thread (goroutine, worker…) its own, or one per call: unlike
/// the last error of `httpqq_last_error_message`, it does not depend on
/// which thread the call ran on.
pub struct httpqq_error {
    status: httpqq_status,
    message: CString,
    reason: Option<CString>,
    retry_after: Option<Duration>,
    outcome: httpqq::Outcome,
}

impl httpqq_error {
    fn ok() -> Self {
        httpqq_error {
            status: httpqq_status::Ok,
            message: CString::default(),
            reason: None,
            retry_after: None,
            outcome: httpqq::Outcome::Accepted,
        }
    }

    fn of(err: &FfiError) -> Self {
        httpqq_error {
            status: err.status(),
            message: c_string(&err.message()),
            reason: err.reason().map(c_string),
            retry_after: err.retry_after(),
            outcome: err.outcome(),
        }
    }
}

thread_local! {
    /// The last failure on this thread (a convenience for single-threaded
    /// callers).
    static LAST_ERROR: RefCell<httpqq_error> = RefCell::new(httpqq_error::ok());
}

/// A C string of `text`, with any NUL (which C cannot hold) shown as U+FFFD.
pub(crate) fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', "\u{FFFD}")).unwrap_or_default()
}

/// Reports a call's result: into `error` when given, and as this thread's
/// last error. Returns the status.
pub(crate) fn report(error: Option<&mut httpqq_error>, result: Option<&FfiError>) -> i32 {
    let filled = result.map_or_else(httpqq_error::ok, httpqq_error::of);
    let status = filled.status;
    if let Some(error) = error {
        *error = result.map_or_else(httpqq_error::ok, httpqq_error::of);
    }
    let _ = LAST_ERROR.try_with(|cell| *cell.borrow_mut() = filled);
    status as i32
}

/// Reads this thread's last error.
fn with_last_error<T>(read: impl FnOnce(&httpqq_error) -> T, fallback: T) -> T {
    LAST_ERROR
        .try_with(|cell| read(&cell.borrow()))
        .unwrap_or(fallback)
}

/// Makes an error object (status `HTTPQQ_STATUS_OK`) to pass to fallible
/// calls.
///
/// The caller owns it and frees it with `httpqq_error_free`.
#[no_mangle]
pub extern "C" fn httpqq_error_new() -> *mut httpqq_error {
    crate::boundary::into_handle(httpqq_error::ok())
}

/// Fills `error` (when not NULL) and this thread's last error with a
/// failure: `status` and `message` (UTF-8; NULL or invalid UTF-8 gives a
/// message saying so); `HTTPQQ_STATUS_OK` clears them instead, as a
/// success does. A number that is no status is reported as
/// `HTTPQQ_STATUS_INTERNAL`. Returns the status reported.
///
/// For libraries built on this one that report through its error objects,
/// such as `libhttpqq_testing` (the in-process test server); a program
/// has no need of it.
///
/// # Safety
/// `error` is NULL or a live error object; `message` is NULL or a
/// NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn httpqq_error_set(
    error: *mut httpqq_error,
    status: i32,
    message: *const c_char,
) -> i32 {
    let error = crate::boundary::optional_mut(error);
    let status = httpqq_status::from_int(status).unwrap_or(httpqq_status::Internal);
    if status == httpqq_status::Ok {
        return report(error, None);
    }
    let message = match crate::boundary::text(message, "message") {
        Ok(message) => message.to_owned(),
        Err(err) => format!("(no message: {})", err.0),
    };
    report(error, Some(&FfiError::Reported { status, message }))
}

/// Frees an error object; NULL is a no-op.
///
/// # Safety
/// `error` is NULL or an error object from `httpqq_error_new`, not freed
/// yet.
#[no_mangle]
pub unsafe extern "C" fn httpqq_error_free(error: *mut httpqq_error) {
    crate::boundary::free_handle(error)
}

/// The status of the last call the error object was given to: an
/// `httpqq_status`, `HTTPQQ_STATUS_OK` after a success; -1 for NULL.
///
/// # Safety
/// `error` is NULL or a live error object.
#[no_mangle]
pub unsafe extern "C" fn httpqq_error_status(error: *const httpqq_error) -> i32 {
    with(error, -1, |e| e.status as i32)
}

/// What went wrong, in English, e.g. `"login refused by the server: 密码错误"`;
/// "" after a success (never NULL but for a NULL error).
///
/// Borrowed: valid until the error object is given to another call or
/// freed. Runtimes that marshal strings (C#'s `string`, say) must copy it
/// and never free it: declare it as a pointer (`IntPtr`) and copy.
///
/// # Safety
/// `error` is NULL or a live error object.
#[no_mangle]
pub unsafe extern "C" fn httpqq_error_message(error: *const httpqq_error) -> *const c_char {
    with(error, std::ptr::null(), |e| e.message.as_ptr())
}

/// The server's own reason (UTF-8, as sent) when the call failed with
/// `HTTPQQ_STATUS_LOGIN_FAILED` (e.g. `"密码错误"`, "wrong password"), or
/// with `HTTPQQ_STATUS_THROTTLED` when the server gave one (the reference
/// server says "the recipient's queue is full"); NULL otherwise.
///
/// Borrowed: as `httpqq_error_message`.
///
/// # Safety
/// `error` is NULL or a live error object.
#[no_mangle]
pub unsafe extern "C" fn httpqq_error_reason(error: *const httpqq_error) -> *const c_char {
    with(error, std::ptr::null(), |e| {
        e.reason.as_ref().map_or(std::ptr::null(), |r| r.as_ptr())
    })
}

/// After `HTTPQQ_STATUS_THROTTLED` (`RES=3`): how long to send nothing more
/// for that session, in milliseconds (the original server's penalty,
/// 20 000, or what is left of an agent's running penalty); 0 otherwise.
///
/// # Safety
/// `error` is NULL or a live error object.
#[no_mangle]
pub unsafe extern "C" fn httpqq_error_retry_after_ms(error: *const httpqq_error) -> u64 {
    with(error, 0, |e| e.retry_after.map_or(0, crate::millis))
}

/// What became of the request of the call that failed, an
/// `httpqq_outcome`: `HTTPQQ_OUTCOME_REFUSED` (certainly not carried out: a
/// result code, a server that could not be reached, a bad argument) or
/// `HTTPQQ_OUTCOME_UNKNOWN` (sent, but no reply came: it may have been
/// carried out; this library never resends by itself);
/// `HTTPQQ_OUTCOME_ACCEPTED` after a success.
///
/// # Safety
/// `error` is NULL or a live error object.
#[no_mangle]
pub unsafe extern "C" fn httpqq_error_outcome(error: *const httpqq_error) -> u32 {
    with(error, httpqq::Outcome::Refused, |e| e.outcome).code()
}

/// The message of the last call on this thread that failed, as
/// `httpqq_error_message` (a convenience for single-threaded programs;
/// runtimes that move calls between threads pass an error object instead).
/// "" when the last call succeeded.
///
/// Borrowed: valid until the next `httpqq_` call on this thread.
#[no_mangle]
pub extern "C" fn httpqq_last_error_message() -> *const c_char {
    with_last_error(|e| e.message.as_ptr(), c"".as_ptr())
}

/// The reason of the last call on this thread that failed, as
/// `httpqq_error_reason`.
///
/// Borrowed: valid until the next `httpqq_` call on this thread.
#[no_mangle]
pub extern "C" fn httpqq_last_error_reason() -> *const c_char {
    with_last_error(
        |e| e.reason.as_ref().map_or(std::ptr::null(), |r| r.as_ptr()),
        std::ptr::null(),
    )
}

/// As `httpqq_error_retry_after_ms`, for the last call on this thread.
#[no_mangle]
pub extern "C" fn httpqq_last_error_retry_after_ms() -> u64 {
    with_last_error(|e| e.retry_after.map_or(0, crate::millis), 0)
}

/// As `httpqq_error_outcome`, for the last call on this thread.
#[no_mangle]
pub extern "C" fn httpqq_last_error_outcome() -> u32 {
    with_last_error(|e| e.outcome, httpqq::Outcome::Refused).code()
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
pub extern "C" fn httpqq_status_name(status: i32) -> *const c_char {
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
        for value in 0..=16 {
            let status = httpqq_status::from_int(value).expect("a status");
            assert_eq!(status as i32, value);
            assert!(!status.describe().is_empty());
        }
        assert_eq!(httpqq_status::from_int(17), None);
        // SAFETY: the pointer is a NUL-terminated string the library returned and still owns.
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
            (
                httpqq::Error::Cancelled {
                    phase: httpqq::Phase::Receiving,
                },
                httpqq_status::Cancelled,
            ),
            (httpqq::Error::SessionDropped, httpqq_status::NotLoggedIn),
            (
                httpqq::Error::NotOnline {
                    waited: Duration::from_secs(10),
                },
                httpqq_status::NotOnline,
            ),
            (
                httpqq::Error::TooLarge {
                    size: 70_000,
                    limit: 65_536,
                },
                httpqq_status::TooLarge,
            ),
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
        let err = FfiError::from(httpqq::Error::LoginFailed {
            reason: "密码\0错误".into(),
        });
        let object = httpqq_error_new();
        assert_eq!(
            // SAFETY: the test passes objects it made and has not freed, or NULL, as `object` allows.
            report(unsafe { object.as_mut() }, Some(&err)),
            httpqq_status::LoginFailed as i32
        );
        // SAFETY: the pointer is a NUL-terminated string the library returned and still owns.
        let reason = unsafe { CStr::from_ptr(httpqq_error_reason(object)) };
        assert_eq!(reason.to_str(), Ok("密码\u{FFFD}错误"));
        // SAFETY: the pointer is a NUL-terminated string the library returned and still owns.
        let reason = unsafe { CStr::from_ptr(httpqq_last_error_reason()) };
        assert_eq!(reason.to_str(), Ok("密码\u{FFFD}错误"));
        // SAFETY: the test passes objects it made and has not freed, or NULL, as `object` allows.
        report(unsafe { object.as_mut() }, None);
        // SAFETY: the test passes objects it made and has not freed, or NULL, as `httpqq_error_reason` allows.
        assert!(unsafe { httpqq_error_reason(object) }.is_null());
        // SAFETY: the test passes objects it made and has not freed, or NULL, as `httpqq_error_status` allows.
        assert_eq!(unsafe { httpqq_error_status(object) }, 0);
        // SAFETY: the test passes objects it made and has not freed, or NULL, as `httpqq_error_free` allows.
        unsafe { httpqq_error_free(object) };
        assert!(httpqq_last_error_reason().is_null());
        // SAFETY: the pointer is a NUL-terminated string the library returned and still owns.
        let message = unsafe { CStr::from_ptr(httpqq_last_error_message()) };
        assert_eq!(message.to_bytes(), b"");
    }
}
