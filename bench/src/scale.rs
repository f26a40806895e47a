//! Row 6: the server with 100,000 accounts and 10,000 logged-in sessions,
//! each with 10 queued messages, against the same server with 10 sessions:
//! GetMsgEx latency (p99) must not grow with the sessions, and an idle
//! session must cost little memory.

use crate::alloc;
use crate::measure::percentile;
use httpqq::codec::encode_request;
use httpqq::{PasswordHash, Request, Uin};
use httpqq_server::{Account, Accounts, Config, RateLimit, Server};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const ACCOUNTS: u64 = 100_000;
const FIRST: u64 = 1_000_000;
const QUEUED: usize = 10;

fn config() -> Config {
    let accounts = (0..ACCOUNTS)
        .map(|n| Account::new(FIRST + n, "pw", "user"))
        .collect();
    Config {
        accounts: Accounts { accounts },
        idle_timeout: Duration::from_secs(3600),
        send_limit: RateLimit {
            count: u32::MAX,
            window: Duration::from_secs(1),
        },
        ..Config::default()
    }
}

/// One request on a new connection, read to EOF: returns the reply.
fn post(addr: SocketAddr, body: &str) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).expect("connect");
    let request = format!(
        "POST / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("write");
    let mut reply = Vec::with_capacity(4096);
    stream.read_to_end(&mut reply).expect("read");
    assert!(
        reply.windows(5).any(|w| w == b"RES=0"),
        "{}",
        String::from_utf8_lossy(&reply)
    );
    reply
}

fn login(addr: SocketAddr, uin: u64) {
    let request = Request::Login {
        password: PasswordHash::from_password("pw"),
    };
    post(addr, &encode_request(Uin::new(uin), 1, &request));
}

/// Queues `QUEUED` messages for `target` from `sender`.
fn fill(addr: SocketAddr, sender: u64, target: u64) {
    for n in 0..QUEUED {
        let request = Request::SendMessage {
            target: Uin::new(target),
            text: format!("message {n} for you, 你好"),
        };
        post(addr, &encode_request(Uin::new(sender), 1, &request));
    }
}

/// Times one GetMsgEx, checking it brought the queued messages.
fn fetch(addr: SocketAddr, uin: u64) -> Duration {
    let body = encode_request(Uin::new(uin), 1, &Request::FetchMessages);
    let started = Instant::now();
    let reply = post(addr, &body);
    let took = started.elapsed();
    assert!(
        reply.windows(5).any(|w| w == b"MN=10"),
        "{}",
        String::from_utf8_lossy(&reply)
    );
    took
}

pub struct Scale {
    pub sessions: usize,
    pub p99_many: Duration,
    pub p99_few: Duration,
    pub p50_many: Duration,
    pub p50_few: Duration,
    pub heap_per_session: f64,
    pub rss_per_session: f64,
}

pub fn run(sessions: u64, samples: usize) -> Scale {
    // Each sample empties one session's queue: no more samples than queues.
    let samples = samples.min(sessions as usize);
    let sender = FIRST + ACCOUNTS - 1;
    let many = Server::start(config()).expect("server");
    let addr = many.local_addr();
    login(addr, sender);

    // Memory of idle sessions: heap bytes kept, and resident memory.
    let rss_before = alloc::resident_bytes();
    alloc::counting(true);
    let heap_before = alloc::live_bytes();
    for n in 0..sessions {
        login(addr, FIRST + n);
    }
    let heap_after = alloc::live_bytes();
    alloc::counting(false);
    let rss_after = alloc::resident_bytes();

    for n in 0..sessions {
        fill(addr, sender, FIRST + n);
    }

    let few = Server::start(config()).expect("server");
    let few_addr = few.local_addr();
    login(few_addr, sender);
    for n in 0..10 {
        login(few_addr, FIRST + n);
    }

    // Alternate batches between the two servers; each GetMsgEx empties a
    // queue of 10, the small server's queues are filled again untimed.
    let (mut many_times, mut few_times) = (Vec::new(), Vec::new());
    let mut next_many = 0;
    let step = (sessions / samples as u64).max(1);
    for batch in 0..10 {
        for _ in 0..samples / 10 {
            many_times.push(fetch(addr, FIRST + (next_many * step) % sessions));
            next_many += 1;
        }
        for n in 0..(samples / 10) as u64 {
            let uin = FIRST + (n + batch) % 10;
            fill(few_addr, sender, uin);
            few_times.push(fetch(few_addr, uin));
        }
    }
    few.stop();
    many.stop();
    Scale {
        sessions: sessions as usize,
        p99_many: percentile(&mut many_times, 99.0),
        p99_few: percentile(&mut few_times, 99.0),
        p50_many: percentile(&mut many_times, 50.0),
        p50_few: percentile(&mut few_times, 50.0),
        heap_per_session: (heap_after as f64 - heap_before as f64) / sessions as f64,
        rss_per_session: (rss_after as f64 - rss_before as f64) / sessions as f64,
    }
}
