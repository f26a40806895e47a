//! The C boundary of httpqq's libraries (`libhttpqq` and
//! `libhttpqq_testing`), as rustls-ffi draws it: the checked conversions
//! of what C passes in, and the panic guard, with the reasoning written
//! once, here. Each library's entry points go through these; the `unsafe`
//! that reads through C's pointers lives in this crate and nowhere else.
//! It exports no C function of its own, so either library can use it.
//!
//! # Why this is sound (the one argument)
//!
//! The header is the contract, as in any C API: each pointer an entry
//! point receives is NULL or points to a live object of the type the
//! header declares for it (a handle the library made and has not freed,
//! not used from another thread at the same time where the header says
//! so); a text pointer is NULL or a NUL-terminated string; a buffer
//! pointer is NULL or valid for the length given with it; an
//! out-parameter is NULL or writable; and each lives at least until the
//! call returns. Passing anything else is the caller's undefined
//! behaviour, as with `free` or `strlen`. Under that contract:
//!
//! - [`try_ref`], [`try_mut`], [`optional_ref`] and [`with`] turn a
//!   pointer into a reference only after a NULL check, and only for the
//!   length of the call (the references never escape the closure or the
//!   call);
//! - [`text`] reads a C string only after a NULL check, and checks UTF-8;
//!   [`bytes`] a buffer and its length;
//! - [`write_out`] writes an out-parameter only after a NULL check;
//! - [`free_handle`] takes back a pointer made by [`into_handle`] (a
//!   `Box::into_raw`), which the header says is freed once.
//!
//! The entry points stay `unsafe extern "C" fn`s with a `# Safety`
//! section (what their pointers must be, in the header too): a Rust
//! caller is held to the same contract. Their bodies need no `unsafe` of
//! their own: these functions are called only with the pointers an entry
//! point received, which is why they are not `unsafe` (as rustls-ffi's
//! `try_ref_from_ptr!` is not) and why this crate is not published.
//!
//! And no panic crosses into C: [`catch`] turns one into its message for
//! the library to report, [`with`] and [`run_value`] into the accessor's
//! fallback.

// The functions below read through pointers without being `unsafe fn`s:
// that is this crate's design, argued once above (they take only the
// pointers C gave an entry point, under the header's contract).
#![allow(clippy::not_unsafe_ptr_arg_deref)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

use std::any::Any;
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// An argument C gave that cannot be used: a NULL pointer, text that is
/// not UTF-8. Each library reports it as `HTTPQQ_STATUS_INVALID_ARGUMENT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidArgument(pub String);

/// Runs `body`, catching a panic: `Err` with the panic's message.
pub fn catch<T>(body: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(body)).map_err(|panic| panic_message(&*panic))
}

/// Writes `value` through an out-parameter, unless it is NULL.
pub fn write_out<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: non-NULL, so writable (the crate's contract).
        unsafe { out.write(value) };
    }
}

/// Runs an entry point that cannot fail (an accessor), returning `fallback`
/// if it panics. Leaves the last error alone.
pub fn run_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// Reads through a handle pointer that may be NULL: the one way every
/// accessor (a function that cannot fail) reads a handle. NULL gives
/// `fallback`, and so does a panic in `read` (which never crosses into C).
pub fn with<T, R>(handle: *const T, fallback: R, read: impl FnOnce(&T) -> R) -> R {
    // SAFETY: NULL or live (the crate's contract), so `as_ref` gives a
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

/// The error for a NULL `what`.
pub fn null(what: &str) -> InvalidArgument {
    InvalidArgument(format!("{what} is NULL"))
}

/// The object behind a pointer from C, for this call; NULL is an
/// `InvalidArgument` error naming `what`.
pub fn try_ref<'a, T>(ptr: *const T, what: &str) -> Result<&'a T, InvalidArgument> {
    // SAFETY: NULL or live for the call (the crate's contract).
    unsafe { ptr.as_ref() }.ok_or_else(|| null(what))
}

/// As [`try_ref`], with NULL meaning "not given".
pub fn optional_ref<'a, T>(ptr: *const T) -> Option<&'a T> {
    // SAFETY: NULL or live for the call (the crate's contract).
    unsafe { ptr.as_ref() }
}

/// `len` bytes from C, for this call (NULL is allowed when `len` is 0).
pub fn bytes<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a [u8], InvalidArgument> {
    match (ptr.is_null(), len) {
        (_, 0) => Ok(&[]),
        (true, _) => Err(null(what)),
        // SAFETY: non-NULL, so valid for reading `len` bytes for the call
        // (the crate's contract: the header says so of every buffer and
        // its length).
        (false, len) => Ok(unsafe { std::slice::from_raw_parts(ptr, len) }),
    }
}

/// As [`try_ref`], for an object the entry point changes (the header says
/// no other thread uses it meanwhile).
pub fn try_mut<'a, T>(ptr: *mut T, what: &str) -> Result<&'a mut T, InvalidArgument> {
    // SAFETY: NULL or live and not shared for the call (the crate's
    // contract).
    unsafe { ptr.as_mut() }.ok_or_else(|| null(what))
}

/// A NUL-terminated UTF-8 string from C, for this call; NULL or invalid
/// UTF-8 is an `InvalidArgument` error naming `what`.
pub fn text<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, InvalidArgument> {
    if ptr.is_null() {
        return Err(null(what));
    }
    // SAFETY: non-NULL, so a NUL-terminated string live for the call (the
    // crate's contract).
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    std::str::from_utf8(bytes).map_err(|err| {
        InvalidArgument(format!(
            "{what} is not valid UTF-8 (bad byte at offset {})",
            err.valid_up_to()
        ))
    })
}

/// As [`text`], with NULL meaning "not given".
pub fn optional_text<'a>(
    ptr: *const c_char,
    what: &str,
) -> Result<Option<&'a str>, InvalidArgument> {
    if ptr.is_null() {
        Ok(None)
    } else {
        text(ptr, what).map(Some)
    }
}

/// Hands a new object to C.
pub fn into_handle<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Takes back and drops an object handed to C; NULL is a no-op.
pub fn free_handle<T>(ptr: *mut T) {
    if !ptr.is_null() {
        run_value((), || {
            // SAFETY: made by `into_handle` and not freed yet (the
            // crate's contract: a handle is freed once).
            drop(unsafe { Box::from_raw(ptr) });
        });
    }
}

/// Text handed to C: UTF-8 bytes followed by a NUL, with the length known
/// so that text holding a NUL (possible in a message) is not cut short for
/// callers that ask for the length.
#[derive(Debug, Clone)]
pub struct CText(Box<[u8]>);

impl CText {
    pub fn new(text: &str) -> Self {
        let mut bytes = Vec::with_capacity(text.len() + 1);
        bytes.extend_from_slice(text.as_bytes());
        bytes.push(0);
        CText(bytes.into_boxed_slice())
    }

    pub fn as_ptr(&self) -> *const c_char {
        self.0.as_ptr().cast()
    }

    /// The length in bytes, without the final NUL.
    pub fn len(&self) -> usize {
        self.0.len() - 1
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Gives the pointer, writing the length through `len` when it is not
    /// NULL.
    pub fn with_len(&self, len: *mut usize) -> *const c_char {
        write_out(len, self.len());
        self.as_ptr()
    }
}

/// As [`optional_ref`], for an object the entry point changes.
pub fn optional_mut<'a, T>(ptr: *mut T) -> Option<&'a mut T> {
    // SAFETY: NULL or live and not shared for the call (the crate's
    // contract).
    unsafe { ptr.as_mut() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rejects_null_and_invalid_utf8_and_names_the_argument() {
        let err = text(std::ptr::null(), "the password").unwrap_err();
        assert!(matches!(&err, InvalidArgument(m) if m == "the password is NULL"));
        let bad = c"ok\xff";
        let err = text(bad.as_ptr(), "the text").unwrap_err();
        assert!(
            matches!(&err, InvalidArgument(m) if m.contains("offset 2")),
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
}
