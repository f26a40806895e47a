//! The client against misbehaving peers: each fault gives its own error
//! kind, within the configured time. The peers here are scripted raw TCP
//! servers, not the reference server: they do what no correct server does.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use httpqq::{Client, Error, HttpError, ProtocolError, Request, Uin};

/// Accepts `connections` connections and runs `script` on each, after
/// reading the request head and body.
fn peer(connections: usize, script: fn(&mut TcpStream, &[u8])) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming().take(connections) {
            let Ok(mut stream) = stream else { continue };
            let request = read_request(&mut stream);
            script(&mut stream, &request);
        }
    });
    addr
}

/// Reads one request (head and Content-Length body) and returns the body.
fn read_request(stream: &mut TcpStream) -> Vec<u8> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            while data.len() < end + 4 + length {
                let n = stream.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                data.extend_from_slice(&buf[..n]);
            }
            return data[end + 4..].to_vec();
        }
        let n = stream.read(&mut buf).unwrap_or(0);
        if n == 0 {
            return data;
        }
        data.extend_from_slice(&buf[..n]);
    }
}

/// The request's SEQ, to echo it.
fn seq_of(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .find_map(|p| p.strip_prefix("SEQ="))
        .unwrap_or("0")
        .to_owned()
}

fn reply(stream: &mut TcpStream, status: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nServer: tencent imserver/1.0.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
}

fn client(addr: SocketAddr, timeout: Duration) -> Client {
    Client::builder()
        .endpoint(addr.to_string())
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .unwrap()
}

const SHORT: Duration = Duration::from_millis(600);

/// The error a Logout sent to `addr` fails with (timeouts of [`SHORT`]).
fn logout_error(addr: SocketAddr) -> Error {
    client(addr, SHORT)
        .call(Uin::new(10001), &Request::Logout)
        .expect_err("the peer misbehaves, so the call must fail")
}

#[test]
fn connection_closed_without_bytes_is_no_reply() {
    let addr = peer(1, |_, _| {});
    let err = logout_error(addr);
    assert!(matches!(err, Error::NoReply), "{err:?}");
}

#[test]
fn well_formed_reply_is_decoded() {
    let addr = peer(1, |s, body| {
        let seq = seq_of(body);
        reply(
            s,
            "200 OK",
            &format!("VER=1.1&CMD=LOGOUT&SEQ={seq}&UIN=1&RES=0"),
        );
    });
    let result = client(addr, SHORT).call(Uin::new(10001), &Request::Logout);
    assert_eq!(result.unwrap(), httpqq::Reply::Done);
}

#[test]
fn silent_server_times_out_within_the_limit() {
    let addr = peer(1, |s, _| {
        thread::sleep(Duration::from_secs(3));
        let _ = s.write_all(b"");
    });
    assert_times_out_on_time(addr);
}

/// A Logout to `addr` fails with `Timeout` within ±10% of [`SHORT`].
fn assert_times_out_on_time(addr: SocketAddr) {
    let started = Instant::now();
    let err = logout_error(addr);
    let elapsed = started.elapsed();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(
        elapsed >= SHORT.mul_f32(0.9) && elapsed <= SHORT.mul_f32(1.1),
        "{elapsed:?} for a timeout of {SHORT:?}"
    );
}

#[test]
fn half_a_reply_then_a_stall_times_out() {
    let addr = peer(1, |s, _| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nVER=1.1&CMD=");
        thread::sleep(Duration::from_secs(3));
    });
    assert_times_out_on_time(addr);
}

#[test]
fn close_in_the_middle_of_the_body_is_a_transport_error() {
    let addr = peer(1, |s, _| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nVER=1.1&CMD=");
    });
    let err = logout_error(addr);
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
}

#[test]
fn garbage_instead_of_http_is_an_http_error() {
    let addr = peer(1, |s, _| {
        let _ = s.write_all(b"\x00\x01garbage that is not HTTP at all\r\n\r\n");
    });
    let err = logout_error(addr);
    assert!(
        matches!(err, Error::Http(HttpError::Malformed { .. })),
        "{err:?}"
    );
}

#[test]
fn http_error_status_is_reported_with_its_code() {
    let addr = peer(1, |s, _| reply(s, "503 Service Unavailable", "busy"));
    let err = logout_error(addr);
    assert!(
        matches!(err, Error::Http(HttpError::Status { status: 503 })),
        "{err:?}"
    );
}

#[test]
fn oversized_reply_is_refused_at_the_limit() {
    let addr = peer(1, |s, _| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n");
        let chunk = vec![b'A'; 64 * 1024];
        for _ in 0..1600 {
            if s.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    let client = Client::builder()
        .endpoint(addr.to_string())
        .max_reply_size(1024 * 1024)
        .build()
        .unwrap();
    let err = client.call(Uin::new(10001), &Request::Logout).unwrap_err();
    assert!(
        matches!(err, Error::Http(HttpError::TooLarge { limit: 1048576 })),
        "{err:?}"
    );
}

#[test]
fn reply_to_another_sequence_number_is_rejected() {
    let addr = peer(1, |s, _| {
        reply(s, "200 OK", "VER=1.1&CMD=LOGOUT&SEQ=0&UIN=1&RES=0")
    });
    let err = logout_error(addr);
    assert!(
        matches!(err, Error::Protocol(ProtocolError::SeqMismatch { .. })),
        "{err:?}"
    );
}

#[test]
fn refused_connection_is_a_transport_error() {
    let addr = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let err = logout_error(addr);
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
}

#[test]
fn request_is_a_post_with_the_protocol_headers() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut data = Vec::new();
        let mut buf = [0u8; 4096];
        while !data.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).unwrap();
            data.extend_from_slice(&buf[..n]);
        }
        let head = String::from_utf8_lossy(&data).into_owned();
        let _ = s.shutdown(std::net::Shutdown::Both);
        head
    });
    let _ = client(addr, SHORT).call(Uin::new(10001), &Request::Logout);
    let head = server.join().unwrap().to_ascii_lowercase();
    assert!(head.starts_with("post / http/1.1\r\n"), "{head}");
    assert!(
        head.contains("content-type: text/plain; charset=utf-8\r\n"),
        "{head}"
    );
    assert!(head.contains("connection: close\r\n"), "{head}");
    assert!(head.contains(&format!("host: {addr}\r\n")), "{head}");
}

/// A keep-alive peer: answers every request on a connection until the
/// client closes it, writing the Query_Stat TN=0 double reply as the
/// original did. Returns its address and a counter of connections accepted.
fn keep_alive_peer() -> (SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    thread::spawn(move || {
        for stream in listener.incoming().take(8) {
            let Ok(mut s) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            thread::spawn(move || loop {
                let body = read_request(&mut s);
                if body.is_empty() {
                    return;
                }
                let text = String::from_utf8_lossy(&body).into_owned();
                let seq = seq_of(&body);
                if text.contains("CMD=Query_Stat") {
                    reply(
                        &mut s,
                        "200 OK",
                        &format!("VER=1.1&CMD=QUERY_STAT&SEQ={seq}&UIN=1&RES=0&FN=1"),
                    );
                    // Late: a client that reused this connection at once
                    // would read this as the reply to its next request.
                    thread::sleep(Duration::from_millis(150));
                    reply(&mut s, "200 OK", &format!("VER=1.1&CMD=QUERY_STAT&SEQ={seq}&UIN=1&RES=0&FC=&FN=1&SN=0&ST=&UN=&NK="));
                } else {
                    reply(
                        &mut s,
                        "200 OK",
                        &format!("VER=1.1&CMD=LOGOUT&SEQ={seq}&UIN=1&RES=0"),
                    );
                }
            });
        }
    });
    (addr, accepted)
}

#[test]
fn keep_alive_reuses_one_connection() {
    let (addr, accepted) = keep_alive_peer();
    let client = Client::builder()
        .endpoint(addr.to_string())
        .keep_alive(true)
        .build()
        .unwrap();
    for _ in 0..3 {
        client.call(Uin::new(10001), &Request::Logout).unwrap();
    }
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[test]
fn double_reply_connection_is_never_reused() {
    let (addr, accepted) = keep_alive_peer();
    let client = Client::builder()
        .endpoint(addr.to_string())
        .keep_alive(true)
        .build()
        .unwrap();
    let count = client.call(Uin::new(10001), &Request::OnlineCount).unwrap();
    assert_eq!(count, httpqq::Reply::OnlineCount(1));
    // Were the double reply's connection reused, this would read its second
    // reply (CMD=QUERY_STAT) and fail.
    assert_eq!(
        client.call(Uin::new(10001), &Request::Logout).unwrap(),
        httpqq::Reply::Done
    );
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 2);
}

/// A listener whose accept queue is full, and what fills it (keep it): it
/// never completes another handshake (the kernel drops further SYNs).
#[cfg(target_os = "linux")]
fn full_accept_queue() -> (SocketAddr, Vec<socket2::Socket>) {
    use socket2::{Domain, Socket, Type};
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    listener
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    listener.listen(0).unwrap();
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    // Backlog 0 holds one; a few more to be sure.
    let mut held = vec![listener];
    for _ in 0..4 {
        let filler = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        filler.set_nonblocking(true).unwrap();
        let _ = filler.connect(&addr.into());
        held.push(filler);
    }
    thread::sleep(Duration::from_millis(100));
    (addr, held)
}

/// The connect to a full accept queue must end at the connect timeout.
#[cfg(target_os = "linux")]
#[test]
fn a_server_that_never_accepts_is_a_timeout_while_connecting() {
    let (addr, held) = full_accept_queue();
    let limit = Duration::from_millis(500);
    let client = Client::builder()
        .endpoint(addr.to_string())
        .connect_timeout(limit)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.call(Uin::new(10001), &Request::Logout).unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: httpqq::Phase::Connecting,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        took >= limit.mul_f32(0.9) && took <= limit.mul_f32(1.1),
        "{took:?} for a connect timeout of {limit:?}"
    );
    drop(held);
}

/// Cancels `cancel` after `after`, from another thread.
fn cancel_after(cancel: &httpqq::Cancel, after: Duration) {
    let cancel = cancel.clone();
    thread::spawn(move || {
        thread::sleep(after);
        cancel.cancel();
    });
}

#[test]
fn a_cancel_ends_a_request_waiting_for_its_reply_at_once() {
    let addr = peer(1, |s, _| {
        thread::sleep(Duration::from_secs(5));
        let _ = s.write_all(b"");
    });
    let client = client(addr, Duration::from_secs(10));
    let cancel = httpqq::Cancel::new();
    cancel_after(&cancel, Duration::from_millis(200));
    let started = Instant::now();
    let err = cancel
        .run(|| client.call(Uin::new(10001), &Request::Logout))
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(
            err,
            Error::Cancelled {
                phase: httpqq::Phase::Receiving
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.outcome(), httpqq::Outcome::Unknown, "it was sent");
    assert!(took < Duration::from_millis(1_500), "took {took:?}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_cancel_ends_a_connect_that_hangs_and_nothing_is_sent() {
    let (addr, _held) = full_accept_queue();
    let client = client(addr, Duration::from_secs(10));
    let cancel = httpqq::Cancel::new();
    cancel_after(&cancel, Duration::from_millis(200));
    let started = Instant::now();
    let err = cancel
        .run(|| client.call(Uin::new(10001), &Request::Logout))
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(
            err,
            Error::Cancelled {
                phase: httpqq::Phase::Connecting
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.outcome(), httpqq::Outcome::Refused);
    assert!(took < Duration::from_millis(1_500), "took {took:?}");
}

/// `err` says nothing was sent (cancelled while connecting), and the
/// (non-blocking) `listener` got no connection.
fn refused_unsent(err: &Error, listener: &TcpListener) {
    assert!(
        matches!(
            err,
            Error::Cancelled {
                phase: httpqq::Phase::Connecting
            }
        ),
        "{err:?}"
    );
    thread::sleep(Duration::from_millis(50));
    assert!(listener.accept().is_err(), "no connection was made");
}

#[test]
fn a_cancelled_token_sends_nothing() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let client = client(listener.local_addr().unwrap(), Duration::from_secs(5));
    let cancel = httpqq::Cancel::new();
    cancel.cancel();
    let err = cancel
        .run(|| client.call(Uin::new(10001), &Request::Logout))
        .unwrap_err();
    refused_unsent(&err, &listener);
}

#[test]
fn a_check_that_asks_to_stop_ends_the_wait_within_a_slice() {
    let addr = peer(1, |s, _| {
        thread::sleep(Duration::from_secs(5));
        let _ = s.write_all(b"");
    });
    let client = client(addr, Duration::from_secs(10));
    let started = Instant::now();
    let check = move || started.elapsed() > Duration::from_millis(300);
    let err = httpqq::Cancel::new()
        .run_checked(check, || client.call(Uin::new(10001), &Request::Logout))
        .unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, Error::Cancelled { .. }), "{err:?}");
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(1_500),
        "took {took:?}"
    );
}

#[test]
fn a_scope_deadline_ends_the_request_then() {
    let addr = peer(1, |s, _| {
        thread::sleep(Duration::from_secs(5));
        let _ = s.write_all(b"");
    });
    let client = client(addr, Duration::from_secs(10));
    let started = Instant::now();
    let err = httpqq::Cancel::new()
        .run_until(started + Duration::from_millis(200), || {
            client.call(Uin::new(10001), &Request::Logout)
        })
        .unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, Error::Cancelled { .. }), "{err:?}");
    assert!(
        took >= Duration::from_millis(200) && took < Duration::from_millis(1_500),
        "took {took:?}"
    );
}

#[test]
fn a_uin_outside_the_range_is_refused_before_anything_is_sent() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let client = client(listener.local_addr().unwrap(), Duration::from_secs(5));
    for (uin, target) in [
        (0, 10002),
        (9_999, 10002),
        (4_294_967_296, 10002),
        (10001, 0),
        (10001, u64::MAX),
    ] {
        let request = Request::SendMessage {
            target: Uin::new(target),
            text: "hi".into(),
        };
        let err = client.call(Uin::new(uin), &request).unwrap_err();
        assert!(
            matches!(err, Error::InvalidUin),
            "{uin} → {target}: {err:?}"
        );
        assert_eq!(err.outcome(), httpqq::Outcome::Refused);
    }
    thread::sleep(Duration::from_millis(50));
    assert!(listener.accept().is_err(), "nothing was sent");
}

#[test]
fn an_unresolvable_host_is_a_failure_while_connecting_on_any_thread() {
    let client = Client::builder()
        .endpoint("no-such-host.invalid:8000")
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let call = move || client.call(Uin::new(10001), &Request::Logout).unwrap_err();
    for err in [call.clone()(), thread::spawn(call).join().unwrap()] {
        assert!(
            matches!(
                err,
                Error::Transport {
                    phase: httpqq::Phase::Connecting,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(err.outcome(), httpqq::Outcome::Refused);
    }
}

#[test]
fn a_shutdown_ends_every_call_in_flight_and_refuses_later_ones_unsent() {
    // A peer that takes each request and never answers.
    let addr = peer(8, |_, _| thread::sleep(Duration::from_secs(10)));
    let client = client(addr, Duration::from_secs(10));
    let waiting: Vec<_> = (0..2)
        .map(|_| {
            let client = client.clone();
            thread::spawn(move || {
                let started = Instant::now();
                (
                    client.call(Uin::new(10001), &Request::Logout),
                    started.elapsed(),
                )
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(300));
    assert!(!client.is_shut_down());
    client.shutdown();
    assert!(client.is_shut_down());
    for call in waiting {
        let (result, took) = call.join().unwrap();
        // Sent, so cut short while waiting for the reply: its outcome is unknown.
        let err = result.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Cancelled {
                    phase: httpqq::Phase::Receiving | httpqq::Phase::Sending
                }
            ),
            "{err:?}"
        );
        assert_eq!(err.outcome(), httpqq::Outcome::Unknown);
        assert!(took < Duration::from_secs(5), "held up {took:?}");
    }
    // Later: nothing is sent.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let fresh = self::client(listener.local_addr().unwrap(), Duration::from_secs(5));
    let clone = fresh.clone();
    fresh.shutdown();
    let err = clone.call(Uin::new(10001), &Request::Logout).unwrap_err();
    refused_unsent(&err, &listener);
}
