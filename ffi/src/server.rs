//! The in-process reference server, for C programs' own tests and demos.

use crate::boundary::{free_handle, into_handle, optional_text, run_out, CText};
use crate::status::{httpqq_status, FfiError};
use ::httpqq_server::{Accounts, Config, Server};
use std::ffi::c_char;
use std::path::Path;

/// A running reference server, made by `httpqq_server_start`. Stop it with
/// `httpqq_server_free`.
pub struct httpqq_server {
    server: Option<Server>,
    endpoint: CText,
}

impl Drop for httpqq_server {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop();
        }
    }
}

/// Starts the reference server in this process, on its own threads.
///
/// `listen` is the address to listen on (NULL: `"127.0.0.1:0"`, a free
/// port on loopback; see `httpqq_server_endpoint`). `accounts_path` is an
/// accounts file in TOML (see the repository's
/// `server/accounts.example.toml`); NULL serves the demo accounts 10001 to
/// 10005, password `"demo"`: 10001 and 10002 are friends, 10003 wants
/// verification, 10004 refuses to be added, 10005 accepts anyone.
///
/// On success the caller owns `*server_out` and stops and frees it with
/// `httpqq_server_free`. `HTTPQQ_STATUS_SERVER` when the address is taken
/// or the accounts file is unusable.
///
/// # Safety
/// `listen` and `accounts_path` are NULL or NUL-terminated strings;
/// `server_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn httpqq_server_start(
    listen: *const c_char,
    accounts_path: *const c_char,
    server_out: *mut *mut httpqq_server,
) -> httpqq_status {
    unsafe {
        run_out(server_out, || {
            let mut config = Config::default();
            if let Some(listen) = optional_text(listen, "listen")? {
                config.listen = listen.parse().map_err(|_| {
                    FfiError::InvalidArgument(format!(
                        "listen {listen:?} is not an address such as 127.0.0.1:8000"
                    ))
                })?;
            }
            if let Some(path) = optional_text(accounts_path, "accounts_path")? {
                config.accounts =
                    Accounts::load(Path::new(path)).map_err(|err| FfiError::Server(err.into()))?;
            }
            let server = Server::start(config)?;
            let endpoint = CText::new(&server.local_addr().to_string());
            Ok(into_handle(httpqq_server {
                server: Some(server),
                endpoint,
            }))
        })
    }
}

/// The address the server listens on, as `host:port` (e.g.
/// `"127.0.0.1:40123"`): give it to `httpqq_client_new`. NULL for NULL.
///
/// Borrowed: valid until the server is freed.
///
/// # Safety
/// `server` is NULL or a live server.
#[no_mangle]
pub unsafe extern "C" fn httpqq_server_endpoint(server: *const httpqq_server) -> *const c_char {
    unsafe { server.as_ref() }.map_or(std::ptr::null(), |s| s.endpoint.as_ptr())
}

/// The port the server listens on; 0 for NULL.
///
/// # Safety
/// `server` is NULL or a live server.
#[no_mangle]
pub unsafe extern "C" fn httpqq_server_port(server: *const httpqq_server) -> u16 {
    unsafe { server.as_ref() }
        .and_then(|s| s.server.as_ref())
        .map_or(0, |s| s.local_addr().port())
}

/// Stops the server (requests in flight finish, connections close) and
/// frees it; NULL is a no-op.
///
/// # Safety
/// `server` is NULL or a server from this library, not freed yet.
#[no_mangle]
pub unsafe extern "C" fn httpqq_server_free(server: *mut httpqq_server) {
    unsafe { free_handle(server) }
}
