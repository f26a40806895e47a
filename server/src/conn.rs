//! One request on a connection, without the socket: HTTP/1.x framing with
//! `httparse`, bounded in size, and the bytes of the answer. The event loop
//! (`reactor`) moves the bytes and keeps the time.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use crate::config::Config;
use crate::handler::{self, Gated, PasswordCheck, PasswordJob, Written};
use crate::Shared;

/// One framed request. Its body is wiped when dropped: a Login's holds the
/// credential.
pub(crate) struct Request {
    body: Zeroizing<Vec<u8>>,
    form: bool,
    /// The client allows the connection to stay open after the reply.
    pub(crate) keep_alive: bool,
}

/// What to write for one request.
pub(crate) struct Response {
    /// The HTTP reply (or two); empty for the NULL.
    pub(crate) bytes: Vec<u8>,
    /// Whether the connection may carry another request afterwards.
    pub(crate) keep_open: bool,
    /// How long to hold the reply back (the original's penalty).
    pub(crate) delay: Duration,
}

impl Response {
    /// The NULL: close without a byte.
    pub(crate) fn null() -> Response {
        Response {
            bytes: Vec::new(),
            keep_open: false,
            delay: Duration::ZERO,
        }
    }
}

/// What to do with a request: answer it now, or check its password on
/// the hashing pool first (then [`respond_checked`]).
pub(crate) enum Step {
    Answer(Response),
    Hash(PasswordJob),
}

/// Handles one request and builds its answer, unless it is a Login whose
/// password must be checked against its slow hash first: that is never
/// done here, on an event loop. Whether a password may be checked at all
/// is decided first (the lockout), under the world's lock. The request's
/// changes are committed before anything is answered; if they cannot be,
/// the answer is the NULL and nothing changed.
///
/// `secure`: the request came over TLS (`--login-requires-tls` refuses a
/// Login that did not, unless it came from this machine).
pub(crate) fn respond(shared: &Shared, ip: IpAddr, secure: bool, request: &Request) -> Step {
    let started = Instant::now();
    let outcome = match handler::parse(&request.body, request.form, shared.config.escapes()) {
        Err(why) => handler::Handled::null(&why.to_string(), None),
        Ok(parsed)
            if parsed.command == httpqq::codec::Command::Login
                && shared.config.login_requires_tls
                && !secure
                && !ip.is_loopback() =>
        {
            handler::refuse_login(&parsed, handler::TLS_REQUIRED)
        }
        Ok(parsed) => {
            let mut world = shared.lock_world();
            let now = Instant::now();
            let password = match handler::gate_login(&mut world, &shared.config, &parsed, ip, now) {
                None => PasswordCheck::NotNeeded,
                Some(Gated::Decided(check)) => check,
                Some(Gated::Hash(job)) => return Step::Hash(job),
            };
            handler::handle(
                &mut world,
                &shared.config,
                &shared.controls,
                ip,
                &parsed,
                password,
                now,
            )
        }
    };
    Step::Answer(finish(shared, ip, request, outcome, started))
}

/// Handles a Login whose password was checked on the hashing pool.
pub(crate) fn respond_checked(
    shared: &Shared,
    ip: IpAddr,
    request: &Request,
    check: PasswordCheck,
) -> Response {
    let started = Instant::now();
    let outcome = match handler::parse(&request.body, request.form, shared.config.escapes()) {
        Err(why) => handler::Handled::null(&why.to_string(), None),
        Ok(parsed) => {
            let mut world = shared.lock_world();
            handler::handle(
                &mut world,
                &shared.config,
                &shared.controls,
                ip,
                &parsed,
                check,
                Instant::now(),
            )
        }
    };
    finish(shared, ip, request, outcome, started)
}

/// Logs a handled request and writes its answer.
fn finish(
    shared: &Shared,
    ip: IpAddr,
    request: &Request,
    outcome: handler::Handled,
    started: Instant,
) -> Response {
    log::info!(
        target: "httpqq::server",
        "{} from {ip} elapsed={:?}",
        outcome.summary,
        started.elapsed()
    );
    shared
        .controls
        .record(ip, outcome.request, outcome.result_code());
    let keep_open = request.keep_alive && !shared.config.always_close;
    let (bytes, keep_open) = match outcome.answer {
        Written::Reply { body, .. } => (http_reply(&body), keep_open),
        Written::Double { first, second } => {
            let mut both = http_reply(&first);
            both.extend_from_slice(&http_reply(&second));
            (both, false)
        }
        Written::Null => (Vec::new(), false),
    };
    let delay = if bytes.is_empty() {
        outcome.delay
    } else {
        outcome.delay + shared.controls.latency()
    };
    Response {
        bytes,
        keep_open,
        delay,
    }
}

/// The original's reply: three headers, no trailing newline.
fn http_reply(body: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + body.len());
    out.extend_from_slice(b"HTTP/1.1 200 OK\r\nServer: tencent imserver/1.0.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: ");
    out.extend_from_slice(body.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(body.as_bytes());
    out
}

/// Takes one whole request off the front of `buffer`: `Ok(None)` while it
/// is incomplete, `Err` (the NULL: close without a reply) when it breaks a
/// rule of size or framing.
pub(crate) fn take_request(
    buffer: &mut Vec<u8>,
    config: &Config,
) -> Result<Option<Request>, &'static str> {
    skip_stray_newlines(buffer);
    // 22 starts a TLS handshake record: a TLS client on the plain port,
    // refused at once rather than at the read timeout.
    if buffer.first() == Some(&22) {
        return Err("a TLS handshake on the plain port");
    }
    let Some(end) = find(buffer, b"\r\n\r\n") else {
        if buffer.len() > config.max_header_bytes {
            return Err("request head too large");
        }
        return Ok(None);
    };
    let head_len = end + 4;
    if head_len > config.max_header_bytes {
        return Err("request head too large");
    }
    let head = normalise_request_line(&buffer[..head_len]);
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut parsed = httparse::Request::new(&mut headers);
    match parsed.parse(&head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err("malformed request head"),
    }
    if parsed.method != Some("POST") {
        return Err("not a POST");
    }
    let mut length = None;
    let mut form = false;
    let mut close = parsed.version != Some(1);
    for header in parsed.headers.iter() {
        let value = std::str::from_utf8(header.value).unwrap_or("").trim();
        if header.name.eq_ignore_ascii_case("content-length") {
            // Digits only: `+59` or ` 5` are not lengths (RFC 9110 §8.6).
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err("bad Content-Length");
            }
            let n: usize = value.parse().map_err(|_| "bad Content-Length")?;
            if length.is_some_and(|l| l != n) {
                return Err("conflicting Content-Length");
            }
            length = Some(n);
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            return Err("chunked bodies are not supported");
        } else if header.name.eq_ignore_ascii_case("content-type") {
            form = value
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded");
        } else if header.name.eq_ignore_ascii_case("connection") {
            close |= value
                .split(',')
                .any(|token| token.trim().eq_ignore_ascii_case("close"));
        }
    }
    let length = length.unwrap_or(0);
    if length > config.max_body_bytes {
        return Err("request body too large");
    }
    if buffer.len() < head_len + length {
        return Ok(None);
    }
    let body = Zeroizing::new(buffer[head_len..head_len + length].to_vec());
    take_front(buffer, head_len + length);
    Ok(Some(Request {
        body,
        form,
        keep_alive: !close,
    }))
}

impl Request {
    /// A request with this body, as if framed from a connection (for the
    /// fuzzing entry point, which has no socket).
    #[cfg(fuzzing)]
    pub(crate) fn from_body(body: &[u8], form: bool) -> Request {
        Request {
            body: Zeroizing::new(body.to_vec()),
            form,
            keep_alive: true,
        }
    }
}

/// Removes the first `n` bytes of `buffer`, wiping the place the rest moved
/// away from (a request taken off the front may hold a credential).
fn take_front(buffer: &mut Vec<u8>, n: usize) {
    let before = buffer.len();
    buffer.drain(..n);
    let after = buffer.len();
    zeroize::Zeroize::zeroize(&mut buffer.spare_capacity_mut()[..before - after]);
}

/// Drops CR/LF before a request: the probe sent `\r\n\r\n` after each body,
/// not counted in its Content-Length.
pub(crate) fn skip_stray_newlines(buffer: &mut Vec<u8>) {
    let skip = buffer
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(buffer.len());
    buffer.drain(..skip);
}

/// `POST HTTP/1.1` (the probe's line, no target) becomes `POST / HTTP/1.1`.
fn normalise_request_line(head: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let line_end = find(head, b"\r\n").unwrap_or(head.len());
    let line = &head[..line_end];
    let parts: Vec<&[u8]> = line
        .split(|&b| b == b' ')
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() == 2 && parts[1].starts_with(b"HTTP/") {
        let mut fixed = Vec::with_capacity(head.len() + 2);
        fixed.extend_from_slice(parts[0]);
        fixed.extend_from_slice(b" / ");
        fixed.extend_from_slice(parts[1]);
        fixed.extend_from_slice(&head[line_end..]);
        std::borrow::Cow::Owned(fixed)
    } else {
        std::borrow::Cow::Borrowed(head)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: &str, extra: &str) -> Vec<u8> {
        format!(
            "POST / HTTP/1.1\r\nContent-Length: {}\r\n{extra}\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    #[test]
    fn requests_are_taken_whole_one_at_a_time() {
        let config = Config::default();
        let mut buffer = request("VER=1.1&A=1", "");
        buffer.extend_from_slice(b"\r\n\r\n"); // the probe's stray bytes
        buffer.extend_from_slice(&request("B=2", "Connection: close\r\n"));
        let whole = buffer.clone();
        // Byte by byte: nothing until the first is whole.
        let mut fed = Vec::new();
        let mut taken = Vec::new();
        for &byte in &whole {
            fed.push(byte);
            while let Some(request) = take_request(&mut fed, &config).unwrap() {
                taken.push(request);
            }
        }
        assert_eq!(taken.len(), 2);
        assert_eq!(taken[0].body[..], b"VER=1.1&A=1"[..]);
        assert!(taken[0].keep_alive);
        assert_eq!(taken[1].body[..], b"B=2"[..]);
        assert!(!taken[1].keep_alive);
        assert!(fed.is_empty());
        // All at once (pipelined): the same two.
        assert_eq!(
            take_request(&mut buffer, &config).unwrap().unwrap().body[..],
            b"VER=1.1&A=1"[..]
        );
        assert_eq!(
            take_request(&mut buffer, &config).unwrap().unwrap().body[..],
            b"B=2"[..]
        );
        assert!(take_request(&mut buffer, &config).unwrap().is_none());
    }

    #[test]
    fn rules_broken_are_refused() {
        let config = Config {
            max_header_bytes: 64,
            max_body_bytes: 8,
            ..Config::default()
        };
        let refused = |bytes: &[u8]| take_request(&mut bytes.to_vec(), &config).err();
        assert_eq!(refused(&[b'x'; 65]), Some("request head too large"));
        assert_eq!(
            refused(b"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\n"),
            Some("request body too large")
        );
        assert_eq!(refused(b"GET / HTTP/1.1\r\n\r\n"), Some("not a POST"));
        assert_eq!(
            refused(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Some("chunked bodies are not supported")
        );
        assert_eq!(
            refused(b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            Some("conflicting Content-Length")
        );
        for length in ["+5", "-5", "5 5", "0x5", "", "5.0"] {
            let head = format!("POST / HTTP/1.1\r\nContent-Length: {length}\r\n\r\nA=1&B");
            assert_eq!(
                refused(head.as_bytes()),
                Some("bad Content-Length"),
                "{length:?}"
            );
        }
        // The probe's line without a target is a request like any other.
        let mut probe = b"POST HTTP/1.1\r\nContent-Length: 2\r\n\r\nA=".to_vec();
        assert!(take_request(&mut probe, &config).unwrap().is_some());
    }
}
