//! # httpqq-ffi — the C ABI of httpqq
//!
//! Builds `libhttpqq.so` and `libhttpqq.a` with the header `include/httpqq.h`
//! (generated from this crate by cbindgen; `make header` regenerates it, and
//! the tests fail when the committed one is stale).
//!
//! Conventions, as the header states them for each function:
//! - every function and type is prefixed `httpqq_`, every constant
//!   `HTTPQQ_`;
//! - fallible functions return an [`httpqq_status`](status::httpqq_status)
//!   and write their results through out-parameters, only on success;
//!   `httpqq_last_error_message()` says what went wrong;
//! - every object you receive has one `_free` function, and freeing NULL
//!   does nothing; returned strings are borrowed from the object that holds
//!   them unless the function says the caller owns them (then
//!   `httpqq_string_free` frees them);
//! - NULL pointers and text that is not UTF-8 are
//!   `HTTPQQ_STATUS_INVALID_ARGUMENT`, and a panic inside the library is
//!   `HTTPQQ_STATUS_INTERNAL`: nothing crashes the caller;
//! - clients, sessions and requests may be used from several threads at
//!   once.
//!
//! ```c
//! #include <httpqq.h>
//!
//! httpqq_client *client = NULL;
//! httpqq_session *session = NULL;
//! if (httpqq_client_new("127.0.0.1:8000", &client) != HTTPQQ_STATUS_OK ||
//!     httpqq_client_login(client, 10001, "demo", &session) != HTTPQQ_STATUS_OK) {
//!     fprintf(stderr, "%s\n", httpqq_last_error_message());
//! }
//! httpqq_session_send_message(session, 10002, "你好, Bob");
//! httpqq_session_logout(session);
//! httpqq_session_free(session);
//! httpqq_client_free(client);
//! ```

#![allow(non_camel_case_types)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod agent;
mod boundary;
pub mod client;
pub mod codec;
pub mod model;
pub mod server;
pub mod session;
pub mod status;

use std::ffi::{c_char, CString};

/// The library's major version.
pub const HTTPQQ_VERSION_MAJOR: u32 = 0;
/// The library's minor version.
pub const HTTPQQ_VERSION_MINOR: u32 = 2;
/// The library's patch version.
pub const HTTPQQ_VERSION_PATCH: u32 = 0;

/// The library's version, e.g. `"0.1.0"`: compare it with the
/// `HTTPQQ_VERSION_*` macros of the header you compiled against.
///
/// Static: never freed.
#[no_mangle]
pub extern "C" fn httpqq_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// A duration in whole milliseconds, saturating.
pub(crate) fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Frees a string this library gave you to own (such as the body from
/// `httpqq_request_encode`); NULL is a no-op. Never pass a borrowed string.
///
/// # Safety
/// `text` is NULL or an owned string from this library, not freed yet.
#[no_mangle]
pub unsafe extern "C" fn httpqq_string_free(text: *mut c_char) {
    if !text.is_null() {
        // SAFETY: the caller's promise: it came from CString::into_raw.
        drop(unsafe { CString::from_raw(text) });
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_constants_follow_cargo() {
        assert_eq!(
            super::HTTPQQ_VERSION_MAJOR.to_string(),
            env!("CARGO_PKG_VERSION_MAJOR")
        );
        assert_eq!(
            super::HTTPQQ_VERSION_MINOR.to_string(),
            env!("CARGO_PKG_VERSION_MINOR")
        );
        assert_eq!(
            super::HTTPQQ_VERSION_PATCH.to_string(),
            env!("CARGO_PKG_VERSION_PATCH")
        );
        let version = unsafe { std::ffi::CStr::from_ptr(super::httpqq_version()) };
        assert_eq!(version.to_str(), Ok(env!("CARGO_PKG_VERSION")));
    }
}
