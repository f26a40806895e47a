//! The C boundary, as rustls-ffi draws it: one panic guard and one set of
//! checked conversions of what C passes in, with the reasoning written
//! once, here. Every entry point goes through these; the `unsafe` that
//! reads through C's pointers lives in this module and nowhere else.
//!
//! # Why this is sound (the one argument)
//!
//! The header is the contract, as in any C API: each pointer an entry
//! point receives is NULL or points to a live object of the type the
//! header declares for it (a handle this library made and has not freed,
//! not used from another thread at the same time where the header says
//! so); a text pointer is NULL or a NUL-terminated string; an
//! out-parameter is NULL or writable; and each lives at least until the
//! call returns. Passing anything else is the caller's undefined
//! behaviour, as with `free` or `strlen`. Under that contract:
//!
//! - [`try_ref`], [`try_mut`], [`with`] turn a pointer into a reference
//!   only after a NULL check, and only for the length of the call (the
//!   references never escape the closure or the call);
//! - [`text`] reads a C string only after a NULL check, and checks UTF-8;
//!   [`bytes`] a buffer and its length;
//! - [`run_out`] and [`write_out`] write an out-parameter only after a NULL
//!   check, and only once the work succeeded;
//! - [`free_handle`] takes back a pointer made by [`into_handle`] (a
//!   `Box::into_raw`), and [`free_owned_string`] one made by
//!   [`owned_string`], which the header says are freed once.
//!
//! Outside this module, `unsafe` remains only where C code is called: the
//! callbacks a caller gives (`httpqq_agent_run`, `httpqq_session_run`), and
//! the system calls of readiness (`ready.rs`), each with its own reason.
//!
//! The entry points stay `unsafe extern "C" fn`s with a `# Safety`
//! section (what their pointers must be, in the header too): a Rust
//! caller is held to the same contract. Their bodies need no `unsafe` of
//! their own: these functions are called only with the pointers an entry
//! point received, which is why they are `pub(crate)` and not `unsafe`
//! (as rustls-ffi's `try_ref_from_ptr!` is not).
//!
//! And no panic crosses into C: [`run`] and [`run_out`] turn one into
//! `HTTPQQ_STATUS_INTERNAL`, [`with`] and [`run_value`] into the
//! accessor's fallback.

#[cfg(test)]
use crate::status::httpqq_status;
use crate::status::{httpqq_error, report, FfiError};
use std::any::Any;
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

/// Runs a fallible entry point: catches any panic (as
/// `HTTPQQ_STATUS_INTERNAL`), and reports the result into `error` (when
/// not NULL) and as the thread's last error. Returns the status.
pub(crate) fn run(error: *mut httpqq_error, body: impl FnOnce() -> Result<(), FfiError>) -> i32 {
    let failure = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => None,
        Ok(Err(err)) => Some(err),
        Err(panic) => Some(FfiError::Internal(panic_message(&*panic))),
    };
    // SAFETY: NULL or a live error object (the module's contract); used
    // for this call only.
    report(unsafe { error.as_mut() }, failure.as_ref())
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
            return Err(null("the out-parameter"));
        }
        let value = body()?;
        write_out(out, value);
        Ok(())
    })
}

/// Writes `value` through an out-parameter, unless it is NULL.
pub(crate) fn write_out<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: non-NULL, so writable (the module's contract).
        unsafe { out.write(value) };
    }
}

/// Runs an entry point that cannot fail (an accessor), returning `fallback`
/// if it panics. Leaves the last error alone.
pub(crate) fn run_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// Reads through a handle pointer that may be NULL: the one way every
/// accessor (a function that cannot fail) reads a handle. NULL gives
/// `fallback`, and so does a panic in `read` (which never crosses into C).
pub(crate) fn with<T, R>(handle: *const T, fallback: R, read: impl FnOnce(&T) -> R) -> R {
    // SAFETY: NULL or live (the module's contract), so `as_ref` gives a
    // valid reference or `None`; it does not outlive `read`.
    match unsafe { handle.as_ref() } {
        Some(handle) => run_value(fallback, || read(handle)),
        None => fallback,
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

pub(crate) fn null(what: &str) -> FfiError {
    FfiError::InvalidArgument(format!("{what} is NULL"))
}

/// The object behind a pointer from C, for this call; NULL is an
/// `InvalidArgument` error naming `what`.
pub(crate) fn try_ref<'a, T>(ptr: *const T, what: &str) -> Result<&'a T, FfiError> {
    // SAFETY: NULL or live for the call (the module's contract).
    unsafe { ptr.as_ref() }.ok_or_else(|| null(what))
}

/// As [`try_ref`], with NULL meaning "not given".
pub(crate) fn optional_ref<'a, T>(ptr: *const T) -> Option<&'a T> {
    // SAFETY: NULL or live for the call (the module's contract).
    unsafe { ptr.as_ref() }
}

/// `len` bytes from C, for this call (NULL is allowed when `len` is 0).
pub(crate) fn bytes<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a [u8], FfiError> {
    match (ptr.is_null(), len) {
        (_, 0) => Ok(&[]),
        (true, _) => Err(null(what)),
        // SAFETY: non-NULL, so valid for reading `len` bytes for the call
        // (the module's contract: the header says so of every buffer and
        // its length).
        (false, len) => Ok(unsafe { std::slice::from_raw_parts(ptr, len) }),
    }
}

/// As [`try_ref`], for an object the entry point changes (the header says
/// no other thread uses it meanwhile).
pub(crate) fn try_mut<'a, T>(ptr: *mut T, what: &str) -> Result<&'a mut T, FfiError> {
    // SAFETY: NULL or live and not shared for the call (the module's
    // contract).
    unsafe { ptr.as_mut() }.ok_or_else(|| null(what))
}

/// A NUL-terminated UTF-8 string from C, for this call; NULL or invalid
/// UTF-8 is an `InvalidArgument` error naming `what`.
pub(crate) fn text<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, FfiError> {
    if ptr.is_null() {
        return Err(null(what));
    }
    // SAFETY: non-NULL, so a NUL-terminated string live for the call (the
    // module's contract).
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    std::str::from_utf8(bytes).map_err(|err| {
        FfiError::InvalidArgument(format!(
            "{what} is not valid UTF-8 (bad byte at offset {})",
            err.valid_up_to()
        ))
    })
}

/// As [`text`], with NULL meaning "not given".
pub(crate) fn optional_text<'a>(
    ptr: *const c_char,
    what: &str,
) -> Result<Option<&'a str>, FfiError> {
    if ptr.is_null() {
        Ok(None)
    } else {
        text(ptr, what).map(Some)
    }
}

/// Hands a new object to C.
pub(crate) fn into_handle<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Takes back and drops an object handed to C; NULL is a no-op.
pub(crate) fn free_handle<T>(ptr: *mut T) {
    if !ptr.is_null() {
        run_value((), || {
            // SAFETY: made by `into_handle` and not freed yet (the
            // module's contract: a handle is freed once).
            drop(unsafe { Box::from_raw(ptr) });
        });
    }
}

/// Text handed to C: UTF-8 bytes followed by a NUL, with the length known
/// so that text holding a NUL (possible in a message) is not cut short for
/// callers that ask for the length.
#[derive(Debug, Clone)]
pub(crate) struct CText(Box<[u8]>);

impl CText {
    pub(crate) fn new(text: &str) -> Self {
        let mut bytes = Vec::with_capacity(text.len() + 1);
        bytes.extend_from_slice(text.as_bytes());
        bytes.push(0);
        CText(bytes.into_boxed_slice())
    }

    pub(crate) fn as_ptr(&self) -> *const c_char {
        self.0.as_ptr().cast()
    }

    /// The length in bytes, without the final NUL.
    pub(crate) fn len(&self) -> usize {
        self.0.len() - 1
    }

    /// Gives the pointer, writing the length through `len` when it is not
    /// NULL.
    pub(crate) fn with_len(&self, len: *mut usize) -> *const c_char {
        write_out(len, self.len());
        self.as_ptr()
    }
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
        let status = run_out(&mut out, std::ptr::null_mut(), || Err(null("x")));
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
    fn text_rejects_null_and_invalid_utf8_and_names_the_argument() {
        let err = text(std::ptr::null(), "the password").unwrap_err();
        assert!(matches!(&err, FfiError::InvalidArgument(m) if m == "the password is NULL"));
        let bad = c"ok\xff";
        let err = text(bad.as_ptr(), "the text").unwrap_err();
        assert!(
            matches!(&err, FfiError::InvalidArgument(m) if m.contains("offset 2")),
            "{err:?}"
        );
        assert_eq!(text(c"好".as_ptr(), "t").unwrap(), "好");
    }

    #[test]
    fn ctext_keeps_interior_nul_in_its_length() {
        let text = CText::new("a\0b");
        let mut len = 0usize;
        let ptr = text.with_len(&mut len);
        assert_eq!(len, 3);
        // SAFETY: `ptr` points to the text's bytes, `len` of them, alive while `text` is.
        let bytes = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), 4) };
        assert_eq!(bytes, b"a\0b\0");
    }

    #[test]
    fn static_names_are_interned() {
        assert_eq!(static_name("online"), static_name("online"));
        // SAFETY: the pointer is a NUL-terminated string the library returned and still owns.
        let name = unsafe { CStr::from_ptr(static_name("上线")) };
        assert_eq!(name.to_str(), Ok("上线"));
    }
}
