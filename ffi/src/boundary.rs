//! The C boundary: the panic guard, the checks of pointers and text coming
//! from C, and the boxing of handles going out. Every entry point goes
//! through these; the `unsafe` of the crate lives here.
//!
//! Invariants the callers rely on:
//! - a handle pointer given to C is a `Box::into_raw` of its type and is
//!   turned back into a `Box` exactly once, by its `_free`;
//! - a pointer from C is only read after a NULL check, and only as the type
//!   the header declares for it (the header is the contract: passing
//!   anything else is the caller's undefined behaviour, as in any C API);
//! - out-parameters are written only after the work succeeded.

#[cfg(test)]
use crate::status::httpqq_status;
use crate::status::{httpqq_error, report, FfiError};
use std::any::Any;
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

/// Runs a fallible entry point: catches any panic (as
/// `HTTPQQ_STATUS_INTERNAL`), and reports the result into `error` (when
/// given) and as the thread's last error. Returns the status.
pub(crate) fn run(error: ErrorOut<'_>, body: impl FnOnce() -> Result<(), FfiError>) -> i32 {
    let failure = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => None,
        Ok(Err(err)) => Some(err),
        Err(panic) => Some(FfiError::Internal(panic_message(&*panic))),
    };
    report(error, failure.as_ref())
}

/// Where a fallible entry point reports its failure: the caller's error
/// object, if it gave one.
pub(crate) type ErrorOut<'a> = Option<&'a mut httpqq_error>;

/// As [`run`], for an entry point with one out-parameter: checks `out` is
/// not NULL before doing any work and writes the value only on success.
///
/// # Safety
/// `out` is NULL or valid for writing a `T`.
pub(crate) unsafe fn run_out<T>(
    out: *mut T,
    error: ErrorOut<'_>,
    body: impl FnOnce() -> Result<T, FfiError>,
) -> i32 {
    run(error, || {
        if out.is_null() {
            return Err(null("the out-parameter"));
        }
        let value = body()?;
        // SAFETY: checked non-NULL above; the caller promises it is writable.
        unsafe { out.write(value) };
        Ok(())
    })
}

/// Runs an entry point that cannot fail (an accessor), returning `fallback`
/// if it panics. Leaves the last error alone.
pub(crate) fn run_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// Reads through a handle pointer that may be NULL: the one way every
/// accessor (a function that cannot fail) reads a handle. NULL gives
/// `fallback`, and so does a panic in `read` (which never crosses into C).
///
/// # Safety
/// `handle` is NULL or a live handle of type `T` (each accessor's
/// `# Safety` contract, kept by its caller).
pub(crate) unsafe fn with<T, R>(handle: *const T, fallback: R, read: impl FnOnce(&T) -> R) -> R {
    // SAFETY: `handle` is NULL or live (this function's contract), so
    // `as_ref` gives a valid reference or `None`.
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

/// Borrows the object behind a pointer from C.
///
/// # Safety
/// `ptr` is NULL or points to a live `T` that outlives `'a`.
pub(crate) unsafe fn borrow<'a, T>(ptr: *const T, what: &str) -> Result<&'a T, FfiError> {
    // SAFETY: the caller's promise.
    unsafe { ptr.as_ref() }.ok_or_else(|| null(what))
}

/// Borrows a NUL-terminated UTF-8 string from C.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn text<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, FfiError> {
    if ptr.is_null() {
        return Err(null(what));
    }
    // SAFETY: non-NULL, and the caller promises NUL termination.
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    std::str::from_utf8(bytes).map_err(|err| {
        FfiError::InvalidArgument(format!(
            "{what} is not valid UTF-8 (bad byte at offset {})",
            err.valid_up_to()
        ))
    })
}

/// As [`text`], with NULL meaning "not given".
///
/// # Safety
/// As [`text`].
pub(crate) unsafe fn optional_text<'a>(
    ptr: *const c_char,
    what: &str,
) -> Result<Option<&'a str>, FfiError> {
    if ptr.is_null() {
        Ok(None)
    } else {
        // SAFETY: the caller's promise.
        unsafe { text(ptr, what) }.map(Some)
    }
}

/// Hands a new object to C.
pub(crate) fn into_handle<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Takes back and drops an object handed to C; NULL is a no-op.
///
/// # Safety
/// `ptr` is NULL or came from [`into_handle`] and was not freed yet.
pub(crate) unsafe fn free_handle<T>(ptr: *mut T) {
    if !ptr.is_null() {
        run_value((), || {
            // SAFETY: the caller's promise: ours, and not freed yet.
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
    ///
    /// # Safety
    /// `len` is NULL or valid for writing.
    pub(crate) unsafe fn with_len(&self, len: *mut usize) -> *const c_char {
        if !len.is_null() {
            // SAFETY: non-NULL, and the caller promises it is writable.
            unsafe { len.write(self.len()) };
        }
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

/// Gives C an owned copy of `text`, freed with `httpqq_string_free`.
pub(crate) fn owned_string(text: &str) -> *mut c_char {
    crate::status::c_string(text).into_raw()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_internal_with_its_message() {
        let status = run(None, || panic!("boom"));
        assert_eq!(status, httpqq_status::Internal as i32);
        // SAFETY: the pointer is a NUL-terminated string the library returned and still owns.
        let message = unsafe { CStr::from_ptr(crate::status::httpqq_last_error_message()) };
        assert!(message.to_str().unwrap().contains("boom"), "{message:?}");
    }

    #[test]
    fn out_parameters_are_written_only_on_success() {
        let mut out = 7u32;
        // SAFETY: the test passes objects it made and has not freed, or NULL, as `run_out` allows.
        let status = unsafe { run_out(&mut out, None, || Err(null("x"))) };
        assert_eq!(status, httpqq_status::InvalidArgument as i32);
        assert_eq!(out, 7);
        // SAFETY: the test passes objects it made and has not freed, or NULL, as `run_out` allows.
        let status = unsafe { run_out(&mut out, None, || Ok(9)) };
        assert_eq!(status, httpqq_status::Ok as i32);
        assert_eq!(out, 9);
        let mut ran = false;
        // SAFETY: the test passes objects it made and has not freed, or NULL, as `run_out` allows.
        let status = unsafe {
            run_out(std::ptr::null_mut::<u32>(), None, || {
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
        // SAFETY: `text` takes NULL or a NUL-terminated string; these are.
        let err = unsafe { text(std::ptr::null(), "the password") }.unwrap_err();
        assert!(matches!(&err, FfiError::InvalidArgument(m) if m == "the password is NULL"));
        let bad = c"ok\xff";
        // SAFETY: `text` takes NULL or a NUL-terminated string; these are.
        let err = unsafe { text(bad.as_ptr(), "the text") }.unwrap_err();
        assert!(
            matches!(&err, FfiError::InvalidArgument(m) if m.contains("offset 2")),
            "{err:?}"
        );
        // SAFETY: `text` takes NULL or a NUL-terminated string; these are.
        assert_eq!(unsafe { text(c"好".as_ptr(), "t") }.unwrap(), "好");
    }

    #[test]
    fn ctext_keeps_interior_nul_in_its_length() {
        let text = CText::new("a\0b");
        let mut len = 0usize;
        // SAFETY: `text` takes NULL or a NUL-terminated string; these are.
        let ptr = unsafe { text.with_len(&mut len) };
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
