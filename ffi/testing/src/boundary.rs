//! libhttpqq_testing's side of the C boundary: a fallible entry point's
//! panic guard and its report, written through libhttpqq's
//! `httpqq_error_set` (so the caller's error object and the thread's last
//! error hold it, as for any libhttpqq call). The conversions of what C
//! passes in, and why they are sound, are the shared crate's
//! (`httpqq-ffi-boundary`).

pub(crate) use httpqq_ffi_boundary::{
    free_handle, into_handle, null, optional_ref, optional_text, run_value, text, try_ref, with,
    CText, InvalidArgument,
};
use std::ffi::{c_char, CString};

/// libhttpqq's error object: opaque here, filled only through its
/// functions.
#[repr(C)]
pub struct httpqq_error {
    _opaque: [u8; 0],
}

extern "C" {
    /// libhttpqq's: fills `error` and the thread's last error (status 0
    /// clears them).
    fn httpqq_error_set(error: *mut httpqq_error, status: i32, message: *const c_char) -> i32;
}

/// Why a call of this library failed. The numbers are libhttpqq's
/// `httpqq_status` values (`httpqq.h`; the C suite checks each).
#[derive(Debug)]
pub(crate) enum Failure {
    /// `HTTPQQ_STATUS_INVALID_ARGUMENT`.
    InvalidArgument(String),
    /// `HTTPQQ_STATUS_SERVER`: the server could not start.
    Server(httpqq_server::ServerError),
    /// `HTTPQQ_STATUS_INTERNAL`: a caught panic.
    Internal(String),
}

impl Failure {
    fn status(&self) -> i32 {
        match self {
            Failure::InvalidArgument(_) => 10,
            Failure::Server(_) => 11,
            Failure::Internal(_) => 12,
        }
    }

    fn message(&self) -> String {
        match self {
            Failure::InvalidArgument(why) => format!("invalid argument: {why}"),
            Failure::Server(err) => format!("the server could not start: {err}"),
            Failure::Internal(why) => {
                format!("internal error in httpqq (please report it): {why}")
            }
        }
    }
}

impl From<InvalidArgument> for Failure {
    fn from(err: InvalidArgument) -> Self {
        Failure::InvalidArgument(err.0)
    }
}

impl From<httpqq_server::ServerError> for Failure {
    fn from(err: httpqq_server::ServerError) -> Self {
        Failure::Server(err)
    }
}

/// Runs a fallible entry point: a panic is `HTTPQQ_STATUS_INTERNAL`; the
/// result goes into `error` (cleared on success) through libhttpqq.
/// Returns the status.
pub(crate) fn run(error: *mut httpqq_error, body: impl FnOnce() -> Result<(), Failure>) -> i32 {
    let failure = match httpqq_ffi_boundary::catch(body) {
        Ok(Ok(())) => None,
        Ok(Err(failure)) => Some(failure),
        Err(panic) => Some(Failure::Internal(panic)),
    };
    let (status, message) = match &failure {
        None => (0, CString::default()),
        Some(failure) => (
            failure.status(),
            CString::new(failure.message().replace('\0', "\u{FFFD}")).unwrap_or_default(),
        ),
    };
    // SAFETY: a call into libhttpqq with `error` as the caller gave it
    // (NULL or live: the shared crate's contract) and a string live for
    // the call.
    unsafe { httpqq_error_set(error, status, message.as_ptr()) }
}

/// As [`run`], for an entry point with one out-parameter: checks `out` is
/// not NULL before doing any work and writes the value only on success.
pub(crate) fn run_out<T>(
    out: *mut T,
    error: *mut httpqq_error,
    body: impl FnOnce() -> Result<T, Failure>,
) -> i32 {
    run(error, || {
        if out.is_null() {
            return Err(null("the out-parameter").into());
        }
        httpqq_ffi_boundary::write_out(out, body()?);
        Ok(())
    })
}
