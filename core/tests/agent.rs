//! The agent against scripted peers that do what the reference server
//! never does: drop every session right after its login (as a NAT that
//! changes the client's address per connection makes a real server do),
//! or never answer at all. Each test names what the agent must still do.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use httpqq::{Agent, Backoff, Client, Error, EventKind, StopReason, Uin};

/// A peer that answers each request by `answer(command, seq, uin)` (a
/// reply body, or `None` to hold the connection silent for a while), and
/// counts the requests.
fn peer(answer: fn(&str, &str, &str) -> Option<String>) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&count);
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let counted = Arc::clone(&counted);
            thread::spawn(move || {
                let mut data = Vec::new();
                let mut buf = [0u8; 4096];
                let body = loop {
                    let n = stream.read(&mut buf).unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    data.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&data).into_owned();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length: usize = head
                            .to_ascii_lowercase()
                            .lines()
                            .find_map(|l| {
                                l.strip_prefix("content-length:")
                                    .map(str::trim)
                                    .map(str::to_owned)
                            })
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0);
                        if body.len() >= length {
                            break body.to_owned();
                        }
                    }
                };
                counted.fetch_add(1, Ordering::SeqCst);
                let field = |key: &str| {
                    body.split('&')
                        .find_map(|p| p.strip_prefix(&format!("{key}=")))
                        .unwrap_or("")
                        .to_owned()
                };
                match answer(&field("CMD"), &field("SEQ"), &field("UIN")) {
                    Some(reply) => {
                        let _ = write!(
                            stream,
                            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{reply}",
                            reply.len()
                        );
                    }
                    None => thread::sleep(Duration::from_secs(20)),
                }
            });
        }
    });
    (addr, count)
}

fn client(addr: SocketAddr) -> Client {
    Client::builder()
        .endpoint(addr.to_string())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Logs in, then ends the session before every poll can be answered.
fn drops_every_session(command: &str, seq: &str, uin: &str) -> Option<String> {
    Some(match command {
        "Login" => format!("VER=1.1&CMD=LOGIN&SEQ={seq}&UIN={uin}&RES=0&RS=0&HI=60&LI=300"),
        "Logout" => format!("VER=1.1&CMD=LOGOUT&SEQ={seq}&UIN={uin}&RES=0"),
        other => format!("VER=1.1&CMD={other}&SEQ={seq}&UIN={uin}&RES=20"),
    })
}

#[test]
fn a_server_that_drops_every_session_after_login_is_backed_off_not_flooded() {
    let (addr, requests) = peer(drops_every_session);
    let client = client(addr);
    let agent = Agent::builder(&client, Uin::new(10001), "demo")
        .poll_interval(Duration::from_millis(100))
        .backoff(Backoff {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(1),
            factor: 2.0,
            jitter: 0.2,
        })
        .start()
        .unwrap();
    let mut dropped = 0;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        if let Ok(event) = agent.next_event_timeout(Duration::from_millis(50)) {
            if let EventKind::Reconnecting { error, .. } = &event.kind {
                assert!(matches!(error, Error::SessionDropped), "{event}");
                assert!(event.to_string().contains("does not keep"), "{event}");
                dropped += 1;
            }
        }
    }
    let made = requests.load(Ordering::SeqCst);
    agent.stop();
    // 200 ms, 400 ms, then 800 ms and 1 s (±20%): at most about six
    // rounds of login and poll in 3 s. Without the backoff the agent made
    // tens of thousands.
    assert!(made <= 20, "{made} requests in 3 s");
    assert!(dropped >= 2, "{dropped} drops reported");
}

/// Logs in, then never answers a poll.
fn answers_only_logins(command: &str, seq: &str, uin: &str) -> Option<String> {
    (command == "Login")
        .then(|| format!("VER=1.1&CMD=LOGIN&SEQ={seq}&UIN={uin}&RES=0&RS=0&HI=60&LI=300"))
}

#[test]
fn stop_cuts_a_request_in_flight_short_and_does_not_wait_for_a_logout() {
    let (addr, _requests) = peer(answers_only_logins);
    let client = client(addr);
    let agent = Arc::new(
        Agent::builder(&client, Uin::new(10001), "demo")
            .poll_interval(Duration::from_millis(100))
            .start()
            .unwrap(),
    );
    assert!(matches!(
        agent
            .next_event_timeout(Duration::from_secs(5))
            .unwrap()
            .kind,
        EventKind::Online
    ));
    // A poll is in flight now (and would wait out the 10 s timeout); a send
    // from another thread waits too.
    let sender = {
        let agent = Arc::clone(&agent);
        thread::spawn(move || agent.send(Uin::new(10002), "hello"))
    };
    thread::sleep(Duration::from_millis(300));
    let asked = Instant::now();
    agent.stop();
    assert!(agent.wait_stopped(Duration::from_secs(5)));
    let took = asked.elapsed();
    let sent = sender.join().unwrap();
    // Well before the poll's 10 s timeout (how long a stop takes, against
    // its 100 ms stop timeout, is bench row 19).
    assert!(took < Duration::from_secs(2), "stopped after {took:?}");
    match sent {
        Err(err @ Error::Cancelled { .. }) => {
            assert_eq!(err.outcome(), httpqq::Outcome::Unknown, "{err}")
        }
        other => panic!("the send in flight: {other:?}"),
    }
    let last = std::iter::from_fn(|| agent.next_event_timeout(Duration::ZERO).ok()).last();
    assert!(
        matches!(
            last.map(|e| e.kind),
            Some(EventKind::Stopped(StopReason::Requested))
        ),
        "the last event"
    );
}
