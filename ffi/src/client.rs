//! The client and its builder, and logging in.

use crate::boundary::{free_handle, into_handle, run, run_out, text, try_ref, with};
use crate::session::httpqq_session;
use crate::status::{httpqq_error, FfiError};
use httpqq::{Client, ClientBuilder, PasswordHash, Uin};
use std::ffi::c_char;
use std::time::Duration;

/// Client settings, made by `httpqq_client_builder_new`. Free with
/// `httpqq_client_builder_free`. Not for use from several threads at once.
pub struct httpqq_client_builder {
    builder: ClientBuilder,
}

/// A client of one server. Safe to use from several threads at once. Free
/// with `httpqq_client_free` once no session made from it is in use.
pub struct httpqq_client {
    client: Client,
}

impl httpqq_client {
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }
}

/// Makes a builder with the defaults: endpoint `tqq.tencent.com:8000`,
/// connect timeout 10 s, overall timeout 30 s, keep-alive off, auto-relogin
/// off, replies capped at 16 MiB.
///
/// The caller owns the builder and frees it with `httpqq_client_builder_free`.
#[no_mangle]
pub extern "C" fn httpqq_client_builder_new() -> *mut httpqq_client_builder {
    into_handle(httpqq_client_builder {
        builder: Client::builder(),
    })
}

/// Frees the builder; NULL is a no-op.
///
/// # Safety
/// `builder` is NULL or a builder from this library, not freed yet.
#[no_mangle]
pub unsafe extern "C" fn httpqq_client_builder_free(builder: *mut httpqq_client_builder) {
    free_handle(builder)
}

/// Changes one setting of a builder from C.
fn update(
    builder: *mut httpqq_client_builder,
    error: *mut httpqq_error,
    change: impl FnOnce(ClientBuilder) -> Result<ClientBuilder, FfiError>,
) -> i32 {
    run(error, || {
        let handle = crate::boundary::try_mut(builder, "builder")?;
        handle.builder = change(handle.builder.clone())?;
        Ok(())
    })
}

/// Sets the server: `host:port` or `host` (port 8000), e.g.
/// `"127.0.0.1:8000"`; `http://` in front is accepted, and `https://`
/// (port 443 if none) turns TLS on. Checked by
/// `httpqq_client_builder_build`.
///
/// Returns `HTTPQQ_STATUS_INVALID_ARGUMENT` for NULL or text that is not
/// UTF-8.
///
/// # Safety
/// `builder` is NULL or a live builder; `endpoint` is NULL or a
/// NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn httpqq_client_builder_set_endpoint(
    builder: *mut httpqq_client_builder,
    endpoint: *const c_char,
    error: *mut httpqq_error,
) -> i32 {
    update(builder, error, |b| {
        let endpoint = text(endpoint, "endpoint")?;
        Ok(b.endpoint(endpoint))
    })
}

/// Turns TLS on or off (default: off, unless the endpoint starts with
/// `https://`): this project's extension, served by `httpqq-server
/// --tls-listen`. The server's certificate is verified against Mozilla's
/// roots unless `httpqq_client_builder_set_ca_file` names the authority
/// to trust. A TLS failure is `HTTPQQ_STATUS_TRANSPORT` with phase "tls"
/// in its message and outcome `HTTPQQ_OUTCOME_REFUSED` (nothing was sent).
///
/// # Safety
/// `builder` is NULL or a live builder.
#[no_mangle]
pub unsafe extern "C" fn httpqq_client_builder_set_tls(
    builder: *mut httpqq_client_builder,
    on: bool,
    error: *mut httpqq_error,
) -> i32 {
    update(builder, error, |b| Ok(b.tls(on)))
}

/// Trusts the certificate authorities in this PEM file (UTF-8 path)
/// instead of Mozilla's roots, for a private server; the file is read by
/// `httpqq_client_builder_build`, which fails with
/// `HTTPQQ_STATUS_INVALID_CONFIG` if it cannot be read, holds no
/// certificate, or TLS is off.
///
/// # Safety
/// `builder` is NULL or a live builder; `path` is NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn httpqq_client_builder_set_ca_file(
    builder: *mut httpqq_client_builder,
    path: *const c_char,
    error: *mut httpqq_error,
) -> i32 {
    update(builder, error, |b| {
        let path = text(path, "path")?;
        Ok(b.ca_file(path))
    })
}

/// Trusts the certificate authorities in this PEM text (as
/// `httpqq_client_builder_set_ca_file`, from memory: a test server's
/// `httpqq_server_tls_ca_pem` from libhttpqq_testing, say).
///
/// # Safety
/// `builder` is NULL or a live builder; `pem` is NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn httpqq_client_builder_set_ca_pem(
    builder: *mut httpqq_client_builder,
    pem: *const c_char,
    error: *mut httpqq_error,
) -> i32 {
    update(builder, error, |b| {
        let pem = text(pem, "pem")?;
        Ok(b.ca_pem(pem.as_bytes().to_vec()))
    })
}

/// Sets how long connecting may take, in milliseconds (must be > 0).
///
/// # Safety
/// `builder` is NULL or a live builder.
#[no_mangle]
pub unsafe extern "C" fn httpqq_client_builder_set_connect_timeout_ms(
    builder: *mut httpqq_client_builder,
    milliseconds: u64,
    error: *mut httpqq_error,
) -> i32 {
    update(builder, error, |b| {
        Ok(b.connect_timeout(Duration::from_millis(milliseconds)))
    })
}

/// Sets how long a whole request may take, connecting included, in
/// milliseconds (must be > 0). Every call returns within it.
///
/// # Safety
/// `builder` is NULL or a live builder.
#[no_mangle]
pub unsafe extern "C" fn httpqq_client_builder_set_timeout_ms(
    builder: *mut httpqq_client_builder,
    milliseconds: u64,
    error: *mut httpqq_error,
) -> i32 {
    update(builder, error, |b| {
        Ok(b.timeout(Duration::from_millis(milliseconds)))
    })
}

/// Turns HTTP keep-alive on (nonzero) or off (0, the default, as the
/// original server closed every connection).
///
/// # Safety
/// `builder` is NULL or a live builder.
#[no_mangle]
pub unsafe extern "C" fn httpqq_client_builder_set_keep_alive(
    builder: *mut httpqq_client_builder,
    on: bool,
    error: *mut httpqq_error,
) -> i32 {
    update(builder, error, |b| Ok(b.keep_alive(on)))
}

/// Turns automatic re-login on `RES=20` on (nonzero) or off (0, the
/// default) for the sessions this client makes.
///
/// # Safety
/// `builder` is NULL or a live builder.
#[no_mangle]
pub unsafe extern "C" fn httpqq_client_builder_set_auto_relogin(
    builder: *mut httpqq_client_builder,
    on: bool,
    error: *mut httpqq_error,
) -> i32 {
    update(builder, error, |b| Ok(b.auto_relogin(on)))
}

/// Sets the largest reply accepted, in bytes (default 16 MiB); a larger one
/// fails with `HTTPQQ_STATUS_PROTOCOL`.
///
/// # Safety
/// `builder` is NULL or a live builder.
#[no_mangle]
pub unsafe extern "C" fn httpqq_client_builder_set_max_reply_size(
    builder: *mut httpqq_client_builder,
    bytes: u64,
    error: *mut httpqq_error,
) -> i32 {
    update(builder, error, |b| Ok(b.max_reply_size(bytes)))
}

/// Makes a client from the builder's settings. The builder is left as it
/// was (free it, or build more clients).
///
/// On success the caller owns `*client_out` and frees it with
/// `httpqq_client_free`. `HTTPQQ_STATUS_INVALID_CONFIG` when a setting
/// cannot be used.
///
/// # Safety
/// `builder` is NULL or a live builder; `client_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_client_builder_build(
    builder: *const httpqq_client_builder,
    client_out: *mut *mut httpqq_client,
    error: *mut httpqq_error,
) -> i32 {
    run_out(client_out, error, || {
        let builder = try_ref(builder, "builder")?;
        let client = builder.builder.clone().build()?;
        Ok(into_handle(httpqq_client { client }))
    })
}

/// Makes a client of `endpoint` (as in `httpqq_client_builder_set_endpoint`)
/// with the default settings.
///
/// On success the caller owns `*client_out` and frees it with
/// `httpqq_client_free`.
///
/// # Safety
/// `endpoint` is NULL or a NUL-terminated string; `client_out` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_client_new(
    endpoint: *const c_char,
    client_out: *mut *mut httpqq_client,
    error: *mut httpqq_error,
) -> i32 {
    run_out(client_out, error, || {
        let endpoint = text(endpoint, "endpoint")?;
        Ok(into_handle(httpqq_client {
            client: Client::new(endpoint)?,
        }))
    })
}

/// Frees the client; NULL is a no-op. Sessions made from it stay usable
/// (they share its connection pool).
///
/// # Safety
/// `client` is NULL or a client from this library, not freed yet and not
/// in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn httpqq_client_free(client: *mut httpqq_client) {
    free_handle(client)
}

/// Shuts the client down: every call in flight on it or on a session made
/// from it ends now with `HTTPQQ_STATUS_CANCELLED` (its outcome says
/// whether anything was sent), and every later one fails so at once,
/// sending nothing. Returns at once; idempotent; callable from any thread,
/// also while others are inside calls on the client (not from a signal
/// handler). It does not free the client. NULL is a no-op.
///
/// For a program on its way out: an exit hook calls it so that a thread
/// still inside a call does not hold the exit up to the call's timeout
/// (Node's `process.exit` waits for its thread pool; Ruby's `exit` for
/// its threads). Stop the agents made from the client first.
///
/// # Safety
/// `client` is NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn httpqq_client_shutdown(client: *const httpqq_client) {
    with(client, (), |c| c.client.shutdown())
}

/// Logs in as `uin` with its password (UTF-8; only its MD5 is sent).
///
/// On success the caller owns `*session_out` and frees it with
/// `httpqq_session_free`. `HTTPQQ_STATUS_LOGIN_FAILED` when the server
/// refuses (its reason: `httpqq_last_error_reason()`),
/// `HTTPQQ_STATUS_THROTTLED` after too many wrong passwords.
///
/// # Safety
/// `client` is NULL or a live client; `password` is NULL or a
/// NUL-terminated string; `session_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_client_login(
    client: *const httpqq_client,
    uin: u64,
    password: *const c_char,
    session_out: *mut *mut httpqq_session,
    error: *mut httpqq_error,
) -> i32 {
    run_out(session_out, error, || {
        let client = try_ref(client, "client")?;
        let password = text(password, "password")?;
        let session = client.client.login(Uin::new(uin), password)?;
        Ok(into_handle(httpqq_session::new(session)))
    })
}

/// Logs in as `uin` with the password's MD5 as 32 hex digits, for callers
/// that keep only the hash.
///
/// As `httpqq_client_login`; `HTTPQQ_STATUS_INVALID_ARGUMENT` when
/// `password_md5_hex` is not 32 hex digits.
///
/// # Safety
/// As `httpqq_client_login`.
#[no_mangle]
pub unsafe extern "C" fn httpqq_client_login_md5(
    client: *const httpqq_client,
    uin: u64,
    password_md5_hex: *const c_char,
    session_out: *mut *mut httpqq_session,
    error: *mut httpqq_error,
) -> i32 {
    run_out(session_out, error, || {
        let client = try_ref(client, "client")?;
        let hash = password_hash(text(password_md5_hex, "password_md5_hex")?)?;
        let session = client.client.login_with_hash(Uin::new(uin), hash)?;
        Ok(into_handle(httpqq_session::new(session)))
    })
}

/// Reads a password MD5 given as hex.
pub(crate) fn password_hash(hex: &str) -> Result<PasswordHash, FfiError> {
    PasswordHash::from_md5_hex(hex).ok_or_else(|| {
        FfiError::InvalidArgument("password_md5_hex is not 32 hexadecimal digits".into())
    })
}
