//! libhttpqq's side of the C boundary: running a fallible entry point
//! (its panic guard and its report into `httpqq_error`), and the strings
//! it hands out. The conversions of what C passes in, and the one argument
//! for why they are sound, are in the shared crate `httpqq-ffi-boundary`
//! (`ffi/boundary/`), re-exported here; outside that crate, `unsafe`
//! remains only where C code is called: the callbacks a caller gives
//! (`httpqq_agent_run`, `httpqq_session_run`), and the system calls of
//! readiness (`ready.rs`), each with its own reason.

pub(crate) use httpqq_ffi_boundary::{
    bytes, free_handle, into_handle, null, optional_mut, optional_ref, text, try_mut, try_ref,
    with, write_out, CText, InvalidArgument,
};

#[cfg(test)]
use crate::status::httpqq_status;
use crate::status::{httpqq_error, report, FfiError};
use std::ffi::{c_char, CStr};
use std::sync::Mutex;

/// Runs a fallible entry point: catches any panic (as
/// `HTTPQQ_STATUS_INTERNAL`), and reports the result into `error` (when
/// not NULL) and as the thread's last error. Returns the status.
pub(crate) fn run(error: *mut httpqq_error, body: impl FnOnce() -> Result<(), FfiError>) -> i32 {
    let failure = match httpqq_ffi_boundary::catch(body) {
        Ok(Ok(())) => None,
        Ok(Err(err)) => Some(err),
        Err(panic) => Some(FfiError::Internal(panic)),
    };
    // The error object, like every pointer, is read through the shared
    // boundary: NULL or live for the call.
    let error = optional_mut(error);
    report(error, failure.as_ref())
}

/// As [`run`], for an entry point with one out-parameter: checks `out` is
/// not NULL before doing any work and writes the value only on success.
pub(crate) fn run_out<T>(
    out: *mut T,
    error: *mut httpqq_error,
    body: impl FnOnce() -> Result<T, FfiError>,
) -> i32 {
    run(error, || {
        if out.is_null() {
            return Err(null("the out-parameter").into());
        }
        let value = body()?;
        write_out(out, value);
        Ok(())
    })
}

/// A `'static` C string for one of the library's fixed names (enum names
/// and the like), made once per distinct name and kept for the process's
/// life; the set of names is finite (about seventy), so is the memory.
///
/// A list rather than a hash map: its blocks are plainly reachable, so leak
/// checkers (valgrind) do not report them as "possibly lost".
pub(crate) fn static_name(name: &'static str) -> *const c_char {
    static NAMES: Mutex<Vec<(&'static str, &'static CStr)>> = Mutex::new(Vec::new());
    let mut names = NAMES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, known)) = names.iter().find(|(n, _)| *n == name) {
        return known.as_ptr();
    }
    let made: &'static CStr = Box::leak(crate::status::c_string(name).into_boxed_c_str());
    names.push((name, made));
    made.as_ptr()
}

/// Gives C an owned copy of `text`, freed with `httpqq_string_free`
/// ([`free_owned_string`]).
pub(crate) fn owned_string(text: &str) -> *mut c_char {
    crate::status::c_string(text).into_raw()
}

/// Takes back a string made by [`owned_string`]; NULL is a no-op.
pub(crate) fn free_owned_string(text: *mut c_char) {
    if !text.is_null() {
        // SAFETY: made by `owned_string` (`CString::into_raw`) and not
        // freed yet (the module's contract: what C owns is freed once).
        drop(unsafe { std::ffi::CString::from_raw(text) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_internal_with_its_message() {
        let status = run(std::ptr::null_mut(), || panic!("boom"));
        assert_eq!(status, httpqq_status::Internal as i32);
        // SAFETY: the pointer is a NUL-terminated string the library returned and still owns.
        let message = unsafe { CStr::from_ptr(crate::status::httpqq_last_error_message()) };
        assert!(message.to_str().unwrap().contains("boom"), "{message:?}");
    }

    #[test]
    fn out_parameters_are_written_only_on_success() {
        let mut out = 7u32;
        let status = run_out(&mut out, std::ptr::null_mut(), || Err(null("x").into()));
        assert_eq!(status, httpqq_status::InvalidArgument as i32);
        assert_eq!(out, 7);
        let status = run_out(&mut out, std::ptr::null_mut(), || Ok(9));
        assert_eq!(status, httpqq_status::Ok as i32);
        assert_eq!(out, 9);
        let mut ran = false;
        let status = {
            run_out(std::ptr::null_mut::<u32>(), std::ptr::null_mut(), || {
                ran = true;
                Ok(1)
            })
        };
        assert_eq!(status, httpqq_status::InvalidArgument as i32);
        assert!(
            !ran,
            "no work may be done when the result cannot be returned"
        );
    }

    #[test]
    fn static_names_are_interned() {
        assert_eq!(static_name("online"), static_name("online"));
        // SAFETY: the pointer is a NUL-terminated string the library returned and still owns.
        let name = unsafe { CStr::from_ptr(static_name("上线")) };
        assert_eq!(name.to_str(), Ok("上线"));
    }
}
