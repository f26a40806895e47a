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
//!   as an `int32_t`, write their results through out-parameters only on
//!   success, and take a last argument `httpqq_error *error` (NULL, or an
//!   error object that receives what went wrong whatever the thread);
//!   `httpqq_last_error_message()` is a convenience for one thread;
//! - every object you receive has one `_free` function, and freeing NULL
//!   does nothing; returned strings are borrowed from the object that holds
//!   them unless the function says the caller owns them (then
//!   `httpqq_string_free` frees them);
//! - NULL pointers and text that is not UTF-8 are
//!   `HTTPQQ_STATUS_INVALID_ARGUMENT`, and a panic inside the library is
//!   `HTTPQQ_STATUS_INTERNAL`: nothing crashes the caller;
//! - clients, sessions, agents and requests may be used from
//!   several threads at once.
//!
//! In Rust, every entry point that takes a pointer is an `unsafe fn` whose
//! `# Safety` section says what the pointer must be (NULL or live, NULL or
//! writable). Their bodies read C's pointers only through the `boundary`
//! module, where the reasoning is written once (and every `unsafe` block
//! says why it holds: `clippy::undocumented_unsafe_blocks` is denied).
//!
//! ```c
//! #include <httpqq.h>
//!
//! httpqq_error *error = httpqq_error_new();
//! httpqq_client *client = NULL;
//! httpqq_session *session = NULL;
//! if (httpqq_client_new("127.0.0.1:8000", &client, error) != HTTPQQ_STATUS_OK ||
//!     httpqq_client_login(client, 10001, "demo", &session, error) != HTTPQQ_STATUS_OK) {
//!     fprintf(stderr, "%s\n", httpqq_error_message(error));
//! }
//! httpqq_session_send_message(session, 10002, "你好, Bob", error);
//! httpqq_session_logout(session, error);
//! httpqq_session_free(session);
//! httpqq_client_free(client);
//! httpqq_error_free(error);
//! ```

#![allow(non_camel_case_types)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

pub mod agent;
mod boundary;
pub mod client;
pub mod codec;
pub mod model;
pub mod ready;
pub mod session;
pub mod status;

use std::ffi::c_char;

/// The library's major version.
pub const HTTPQQ_VERSION_MAJOR: u32 = 0;
/// The library's minor version.
pub const HTTPQQ_VERSION_MINOR: u32 = 3;
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
    boundary::free_owned_string(text);
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
        // SAFETY: the pointer is a NUL-terminated string the library returned and still owns.
        let version = unsafe { std::ffi::CStr::from_ptr(super::httpqq_version()) };
        assert_eq!(version.to_str(), Ok(env!("CARGO_PKG_VERSION")));
    }
}
