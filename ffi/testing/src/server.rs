//! The in-process reference server, for C programs' own tests and demos.

pub use crate::boundary::httpqq_error;
use crate::boundary::{
    free_handle, into_handle, optional_ref, optional_text, run_out, with, CText, Failure,
};
use ::httpqq_server::{Accounts, Config, Server, TlsCertificate, TlsListen, TlsSource};
use httpqq::Uin;
use std::ffi::c_char;
use std::path::Path;
use std::time::Duration;

/// How many requests the in-process server's log keeps.
const REQUEST_LOG: usize = 10_000;

/// A running reference server, made by `httpqq_server_start`. Stop it with
/// `httpqq_server_free`. Safe to use from several threads at once.
pub struct httpqq_server {
    server: Option<Server>,
    endpoint: CText,
    /// `https://host:port` and the certificate's PEM, with a TLS listener.
    tls: Option<(CText, CText)>,
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
    error: *mut httpqq_error,
) -> i32 {
    start(listen, accounts_path, false, server_out, error)
}

/// Starts the reference server as `httpqq_server_start` does, with a
/// second listener that speaks TLS (on a free port on loopback) with a
/// certificate made for it now, for `localhost` and `127.0.0.1`: test your
/// TLS code offline with `httpqq_server_tls_endpoint` and
/// `httpqq_server_tls_ca_pem` (give it to
/// `httpqq_client_builder_set_ca_pem`).
///
/// # Safety
/// As `httpqq_server_start`.
#[no_mangle]
pub unsafe extern "C" fn httpqq_server_start_tls(
    listen: *const c_char,
    accounts_path: *const c_char,
    server_out: *mut *mut httpqq_server,
    error: *mut httpqq_error,
) -> i32 {
    start(listen, accounts_path, true, server_out, error)
}

/// Both starts.
fn start(
    listen: *const c_char,
    accounts_path: *const c_char,
    tls: bool,
    server_out: *mut *mut httpqq_server,
    error: *mut httpqq_error,
) -> i32 {
    {
        run_out(server_out, error, || {
            let mut config = Config {
                request_log: REQUEST_LOG,
                ..Config::default()
            };
            if tls {
                let certificate = TlsCertificate::self_signed()
                    .map_err(|e| Failure::Server(::httpqq_server::ServerError::Tls(e)))?;
                config.tls = Some(TlsListen {
                    listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                    certificate: TlsSource::Given(certificate),
                });
            }
            if let Some(listen) = optional_text(listen, "listen")? {
                config.listen = listen.parse().map_err(|_| {
                    Failure::InvalidArgument(format!(
                        "listen {listen:?} is not an address such as 127.0.0.1:8000"
                    ))
                })?;
            }
            if let Some(path) = optional_text(accounts_path, "accounts_path")? {
                config.accounts =
                    Accounts::load(Path::new(path)).map_err(|err| Failure::Server(err.into()))?;
            }
            let pem = match &config.tls {
                Some(TlsListen {
                    certificate: TlsSource::Given(c),
                    ..
                }) => Some(String::from_utf8_lossy(&c.chain_pem).into_owned()),
                _ => None,
            };
            let server = Server::start(config)?;
            let endpoint = CText::new(&server.local_addr().to_string());
            let tls = match (server.tls_addr(), pem) {
                (Some(addr), Some(pem)) => {
                    Some((CText::new(&format!("https://{addr}")), CText::new(&pem)))
                }
                _ => None,
            };
            Ok(into_handle(httpqq_server {
                server: Some(server),
                endpoint,
                tls,
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
    with(server, std::ptr::null(), |s| s.endpoint.as_ptr())
}

/// The TLS listener's endpoint, `https://127.0.0.1:PORT`, for a server
/// from `httpqq_server_start_tls`; NULL otherwise.
///
/// Borrowed: valid until the server is freed.
///
/// # Safety
/// `server` is NULL or a live server.
#[no_mangle]
pub unsafe extern "C" fn httpqq_server_tls_endpoint(server: *const httpqq_server) -> *const c_char {
    with(server, std::ptr::null(), |s| {
        s.tls
            .as_ref()
            .map_or(std::ptr::null(), |(endpoint, _)| endpoint.as_ptr())
    })
}

/// The TLS listener's certificate (PEM) of a server from
/// `httpqq_server_start_tls`, for `httpqq_client_builder_set_ca_pem`;
/// NULL otherwise.
///
/// Borrowed: valid until the server is freed.
///
/// # Safety
/// `server` is NULL or a live server.
#[no_mangle]
pub unsafe extern "C" fn httpqq_server_tls_ca_pem(server: *const httpqq_server) -> *const c_char {
    with(server, std::ptr::null(), |s| {
        s.tls
            .as_ref()
            .map_or(std::ptr::null(), |(_, pem)| pem.as_ptr())
    })
}

/// The port the server listens on; 0 for NULL.
///
/// # Safety
/// `server` is NULL or a live server.
#[no_mangle]
pub unsafe extern "C" fn httpqq_server_port(server: *const httpqq_server) -> u16 {
    with(server, 0, |s| {
        s.server.as_ref().map_or(0, |s| s.local_addr().port())
    })
}

/// Stops the server (requests in flight finish, connections close) and
/// frees it; NULL is a no-op.
///
/// # Safety
/// `server` is NULL or a server from this library, not freed yet.
#[no_mangle]
pub unsafe extern "C" fn httpqq_server_free(server: *mut httpqq_server) {
    free_handle(server)
}

/// Runs a test control on a live server; false for NULL.
fn control(server: *const httpqq_server, act: impl FnOnce(&Server) -> bool) -> bool {
    with(server, false, |s| s.server.as_ref().is_some_and(act))
}

/// Test control: ends `uin`'s session now, as its idle timeout would (its
/// next request gets `RES=20`). Whether it had one.
///
/// # Safety
/// `server` is NULL or a live server.
#[no_mangle]
pub unsafe extern "C" fn httpqq_server_expire_session(
    server: *const httpqq_server,
    uin: u64,
) -> bool {
    control(server, |s| s.expire_session(Uin::new(uin)))
}

/// Test control: answers every request of `uin` but Logout with `RES=3`
/// for `duration_ms` milliseconds (0: stop doing so).
///
/// # Safety
/// `server` is NULL or a live server.
#[no_mangle]
pub unsafe extern "C" fn httpqq_server_throttle(
    server: *const httpqq_server,
    uin: u64,
    duration_ms: u64,
) {
    control(server, |s| {
        s.throttle(Uin::new(uin), Duration::from_millis(duration_ms));
        true
    });
}

/// Test control: holds every reply back `latency_ms` milliseconds longer
/// (0: no more).
///
/// # Safety
/// `server` is NULL or a live server.
#[no_mangle]
pub unsafe extern "C" fn httpqq_server_set_latency_ms(
    server: *const httpqq_server,
    latency_ms: u64,
) {
    control(server, |s| {
        s.set_latency(Duration::from_millis(latency_ms));
        true
    });
}

/// Test control: accepts connections but answers nothing until
/// `httpqq_server_resume` (a black hole: clients time out).
///
/// # Safety
/// `server` is NULL or a live server.
#[no_mangle]
pub unsafe extern "C" fn httpqq_server_pause(server: *const httpqq_server) {
    control(server, |s| {
        s.pause();
        true
    });
}

/// Test control: answers again after `httpqq_server_pause`.
///
/// # Safety
/// `server` is NULL or a live server.
#[no_mangle]
pub unsafe extern "C" fn httpqq_server_resume(server: *const httpqq_server) {
    control(server, |s| {
        s.resume();
        true
    });
}

/// Test control: stops listening as a crashed server would (connections
/// close, sessions are forgotten; accounts and queued messages stay) until
/// `httpqq_server_restart`.
///
/// # Safety
/// `server` is NULL or a live server.
#[no_mangle]
pub unsafe extern "C" fn httpqq_server_stop_listening(server: *const httpqq_server) {
    control(server, |s| {
        s.stop_listening();
        true
    });
}

/// Test control: listens again on the same address after
/// `httpqq_server_stop_listening`. `HTTPQQ_STATUS_SERVER` if the address
/// cannot be taken again.
///
/// # Safety
/// `server` is NULL or a live server.
#[no_mangle]
pub unsafe extern "C" fn httpqq_server_restart(
    server: *const httpqq_server,
    error: *mut httpqq_error,
) -> i32 {
    crate::boundary::run(error, || {
        let server = crate::boundary::try_ref(server, "server")?
            .server
            .as_ref()
            .ok_or_else(|| crate::boundary::null("server"))?;
        Ok(server.restart()?)
    })
}

/// Changes `uin`'s password (UTF-8), as an administrator would. Whether the
/// account exists; false for NULL or text that is not UTF-8.
///
/// # Safety
/// `server` is NULL or a live server; `password` is NULL or a
/// NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn httpqq_server_change_password(
    server: *const httpqq_server,
    uin: u64,
    password: *const c_char,
) -> bool {
    let Ok(password) = crate::boundary::text(password, "password") else {
        return false;
    };
    control(server, |s| s.change_password(Uin::new(uin), password))
}

/// Test control: while `on`, answers every request but Login and Logout
/// with `RES=20`, as a server does for a client whose address changes with
/// every connection (a NAT or proxy in between): each login succeeds, and
/// the session is unknown at once. An agent backs off from it.
///
/// # Safety
/// `server` is NULL or a live server.
#[no_mangle]
pub unsafe extern "C" fn httpqq_server_drop_sessions(server: *const httpqq_server, on: bool) {
    control(server, |s| {
        s.drop_sessions(on);
        true
    });
}

/// How many passwords the server checked against their slow hash since it
/// started (logins refused by its lockout cost none). 0 for NULL.
///
/// # Safety
/// `server` is NULL or a live server.
#[no_mangle]
pub unsafe extern "C" fn httpqq_server_password_checks(server: *const httpqq_server) -> u64 {
    with(server, 0, |s| {
        s.server.as_ref().map_or(0, Server::password_checks)
    })
}

/// The connections the server accepted since it started: with keep-alive
/// off, one per request a client made, answered or not. 0 for NULL.
///
/// # Safety
/// `server` is NULL or a live server.
#[no_mangle]
pub unsafe extern "C" fn httpqq_server_connections_accepted(server: *const httpqq_server) -> u64 {
    with(server, 0, |s| {
        s.server.as_ref().map_or(0, Server::connections_accepted)
    })
}

/// How many requests of `uin` the server answered (or refused with the
/// NULL) since it started, counting only the command `command` (its wire
/// name, e.g. `"Login"`, compared case-insensitively) unless it is NULL,
/// and only replies with result `res` unless it is -1 (-2: only the NULL).
/// The server keeps the latest 10 000 requests. 0 for NULL.
///
/// # Safety
/// `server` is NULL or a live server; `command` is NULL or a
/// NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn httpqq_server_request_count(
    server: *const httpqq_server,
    uin: u64,
    command: *const c_char,
    res: i64,
) -> u64 {
    let Ok(command) = optional_text(command, "command") else {
        return 0;
    };
    let Some(server) = optional_ref(server).and_then(|s| s.server.as_ref()) else {
        return 0;
    };
    crate::boundary::run_value(0, || {
        server
            .requests()
            .iter()
            .filter(|r| r.uin == Some(Uin::new(uin)))
            .filter(|r| {
                command.is_none_or(|c| {
                    r.command
                        .is_some_and(|rc| rc.wire_name().eq_ignore_ascii_case(c))
                })
            })
            .filter(|r| match res {
                -1 => true,
                -2 => r.result.is_none(),
                code => r.result.map(i64::from) == Some(code),
            })
            .count() as u64
    })
}
