//! One client connection: HTTP/1.x framing with `httparse`, bounded in
//! size and time, keep-alive, and the NULL.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, TcpStream};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::handler::{self, Answer};
use crate::Shared;

/// How often a blocked read wakes to check for shutdown.
const TICK: Duration = Duration::from_millis(100);

/// One framed request.
struct Request {
    body: Vec<u8>,
    form: bool,
    keep_alive: bool,
}

/// Why no request could be read.
enum ReadEnd {
    /// The peer closed, went idle past the limit, or the server is stopping,
    /// between requests.
    Quiet,
    /// The request broke a rule (size, time, framing): close without reply.
    Refused(&'static str),
}

/// Serves a connection until it closes.
pub(crate) fn serve(mut stream: TcpStream, shared: &Shared) {
    let ip = match stream.peer_addr() {
        Ok(addr) => addr.ip(),
        Err(_) => return,
    };
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(TICK));
    let _ = stream.set_write_timeout(Some(shared.config.read_timeout));
    let mut buffer = Vec::with_capacity(1024);
    loop {
        let request = match read_request(&mut stream, &mut buffer, shared) {
            Ok(request) => request,
            Err(ReadEnd::Quiet) => break,
            Err(ReadEnd::Refused(why)) => {
                log::info!(target: "httpqq::server", "NULL to {ip}: {why}");
                break;
            }
        };
        let keep_alive = request.keep_alive && !shared.config.always_close;
        match respond(&mut stream, shared, ip, &request) {
            Ok(true) if keep_alive => continue,
            _ => break,
        }
    }
    close(stream, shared);
}

/// Handles one request and writes its answer; `Ok(true)` if the connection
/// may carry another.
fn respond(
    stream: &mut TcpStream,
    shared: &Shared,
    ip: IpAddr,
    request: &Request,
) -> io::Result<bool> {
    let started = Instant::now();
    let (mut outcome, snapshot) = {
        let mut world = shared.lock_world();
        let before = world.generation;
        let outcome = handler::handle(
            &mut world,
            &shared.config,
            ip,
            &request.body,
            request.form,
            Instant::now(),
        );
        let snapshot = match &shared.state {
            Some(_) if world.generation != before => {
                Some((world.generation, world.snapshot_toml()))
            }
            _ => None,
        };
        (outcome, snapshot)
    };
    if let (Some(state), Some((generation, text))) = (&shared.state, snapshot) {
        let saved = text
            .map_err(|e| io::Error::other(e.to_string()))
            .and_then(|text| state.save(generation, &text));
        if let Err(err) = saved {
            // Never acknowledge what is not on disk.
            log::error!(target: "httpqq::server", "cannot write {}: {err}", state.path().display());
            outcome.answer = Answer::Null;
        }
    }
    if !outcome.delay.is_zero() {
        std::thread::sleep(outcome.delay);
    }
    log::info!(
        target: "httpqq::server",
        "{} from {ip} elapsed={:?}",
        outcome.summary,
        started.elapsed()
    );
    match outcome.answer {
        Answer::Reply(body) => {
            stream.write_all(&http_reply(&body))?;
            Ok(true)
        }
        Answer::Double(first, second) => {
            let mut both = http_reply(&first);
            both.extend_from_slice(&http_reply(&second));
            stream.write_all(&both)?;
            Ok(false)
        }
        Answer::Null => Ok(false),
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

/// Reads one request from the buffer and the socket.
fn read_request(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    shared: &Shared,
) -> Result<Request, ReadEnd> {
    let config = &shared.config;
    let deadline = Instant::now() + config.read_timeout;
    skip_stray_newlines(buffer);
    let head_len = loop {
        if let Some(end) = find(buffer, b"\r\n\r\n") {
            break end + 4;
        }
        if buffer.len() > config.max_header_bytes {
            return Err(ReadEnd::Refused("request head too large"));
        }
        let idle = buffer.is_empty();
        match fill(stream, buffer, deadline, shared)? {
            0 if idle => return Err(ReadEnd::Quiet),
            0 => return Err(ReadEnd::Refused("closed in the middle of a request")),
            _ => {}
        }
        skip_stray_newlines(buffer);
    };
    if head_len > config.max_header_bytes {
        return Err(ReadEnd::Refused("request head too large"));
    }
    let head = normalise_request_line(&buffer[..head_len]);
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut parsed = httparse::Request::new(&mut headers);
    match parsed.parse(&head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err(ReadEnd::Refused("malformed request head")),
    }
    if parsed.method != Some("POST") {
        return Err(ReadEnd::Refused("not a POST"));
    }
    let mut length = None;
    let mut form = false;
    let mut close = parsed.version != Some(1);
    for header in parsed.headers.iter() {
        let value = std::str::from_utf8(header.value).unwrap_or("").trim();
        if header.name.eq_ignore_ascii_case("content-length") {
            let n: usize = value
                .parse()
                .map_err(|_| ReadEnd::Refused("bad Content-Length"))?;
            if length.is_some_and(|l| l != n) {
                return Err(ReadEnd::Refused("conflicting Content-Length"));
            }
            length = Some(n);
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(ReadEnd::Refused("chunked bodies are not supported"));
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
        return Err(ReadEnd::Refused("request body too large"));
    }
    while buffer.len() < head_len + length {
        if fill(stream, buffer, deadline, shared)? == 0 {
            return Err(ReadEnd::Refused("closed in the middle of a body"));
        }
    }
    let body = buffer[head_len..head_len + length].to_vec();
    buffer.drain(..head_len + length);
    Ok(Request {
        body,
        form,
        keep_alive: !close,
    })
}

/// Drops CR/LF before a request: the probe sent `\r\n\r\n` after each body,
/// not counted in its Content-Length.
fn skip_stray_newlines(buffer: &mut Vec<u8>) {
    let skip = buffer
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(buffer.len());
    buffer.drain(..skip);
}

/// Reads what the socket has into `buffer` before `deadline`; 0 at EOF.
fn fill(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    deadline: Instant,
    shared: &Shared,
) -> Result<usize, ReadEnd> {
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(n) => {
                buffer.extend_from_slice(&chunk[..n]);
                return Ok(n);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                if buffer.is_empty() && shared.stopping.load(Ordering::Relaxed) {
                    return Err(ReadEnd::Quiet);
                }
                if Instant::now() >= deadline {
                    return Err(if buffer.is_empty() {
                        ReadEnd::Quiet
                    } else {
                        ReadEnd::Refused("request too slow")
                    });
                }
            }
            Err(_) => return Err(ReadEnd::Quiet),
        }
    }
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

/// Closes politely: no more writes, then drain what the client still sends
/// (briefly), so that the close is a FIN and not a reset that could destroy
/// the reply in flight.
fn close(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Write);
    let until = Instant::now() + Duration::from_millis(500).min(shared.config.read_timeout);
    let mut sink = [0u8; 4096];
    let mut drained = 0usize;
    while Instant::now() < until && drained < 64 * 1024 {
        match stream.read(&mut sink) {
            Ok(0) => break,
            Ok(n) => drained += n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
}
