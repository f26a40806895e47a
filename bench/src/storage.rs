//! Rows 10 to 12: the server's storage and fairness.
//!
//! - 10: acknowledged sends per second with a database on disk, at 100,000
//!   accounts against 10 accounts, and against the disk's own limit: single
//!   row SQLite WAL commits with `synchronous=FULL`, in the same run.
//! - 11: a well-behaved client's GetMsgEx p99 while four connections flood
//!   the server with pipelined requests, against its p99 on a quiet server.
//! - 12: how long a server takes to start on a database of 1,000,000
//!   accounts, and the database's size.

use crate::measure::percentile;
use httpqq::{Client, Uin};
use httpqq_server::{Account, Accounts, Config, RateLimit, Server};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A scratch folder on the same disk as the target directory, removed when
/// dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../target/bench")
            .join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch folder");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn accounts(count: u64, first: u64) -> Accounts {
    Accounts {
        accounts: (0..count)
            .map(|n| Account::new(first + n, "pw", "user"))
            .collect(),
    }
}

const SENDERS: u64 = 8;
const FIRST: u64 = 1_000_000;

/// Acknowledged sends per second over `seconds`, `SENDERS` clients on kept
/// connections, each sending to the next, with `count` accounts in a
/// database on disk.
fn sends_per_second(count: u64, seconds: f64) -> f64 {
    let dir = Scratch::new("sends");
    let server = Server::start(Config {
        accounts: accounts(count.max(SENDERS), FIRST),
        state: Some(dir.0.join("qq.db")),
        idle_timeout: Duration::from_secs(3600),
        send_limit: RateLimit {
            count: u32::MAX,
            window: Duration::from_secs(1),
        },
        max_queued_messages: usize::MAX,
        max_queued_bytes: usize::MAX,
        ..Config::default()
    })
    .expect("server");
    let endpoint = server.local_addr().to_string();
    let acked = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..SENDERS)
        .map(|n| {
            let (endpoint, acked, stop) = (endpoint.clone(), acked.clone(), stop.clone());
            std::thread::spawn(move || {
                let client = Client::builder()
                    .endpoint(endpoint)
                    .keep_alive(true)
                    .build()
                    .expect("client");
                let me = client.login(Uin::new(FIRST + n), "pw").expect("login");
                let to = Uin::new(FIRST + (n + 1) % SENDERS);
                while !stop.load(Ordering::Relaxed) {
                    if me.send_message(to, "hello, 你好, 1+1=2").is_ok() {
                        acked.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let before = acked.load(Ordering::Relaxed);
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    let sent = acked.load(Ordering::Relaxed) - before;
    let rate = sent as f64 / started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for sender in senders {
        let _ = sender.join();
    }
    server.stop();
    rate
}

/// Single-row SQLite WAL commits with `synchronous=FULL` per second: the
/// disk's limit for commits that are not grouped.
fn commits_per_second(seconds: f64) -> f64 {
    let dir = Scratch::new("commits");
    let db = rusqlite::Connection::open(dir.0.join("plain.db")).expect("sqlite");
    db.pragma_update(None, "journal_mode", "WAL").expect("wal");
    db.pragma_update(None, "synchronous", "FULL").expect("full");
    db.execute_batch("CREATE TABLE message (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
        .expect("table");
    let started = Instant::now();
    let mut commits = 0u64;
    while started.elapsed().as_secs_f64() < seconds {
        db.execute(
            "INSERT INTO message (text) VALUES ('hello, 你好, 1+1=2')",
            [],
        )
        .expect("insert");
        commits += 1;
    }
    commits as f64 / started.elapsed().as_secs_f64()
}

/// Row 10's figures.
pub struct Sends {
    pub many: f64,
    pub few: f64,
    pub commits: f64,
}

/// Row 10: three rounds, alternating, each figure the median.
pub fn sends(rounds: usize) -> Sends {
    let (mut many, mut few, mut commits) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        commits.push(commits_per_second(2.0));
        few.push(sends_per_second(10, 2.0));
        many.push(sends_per_second(100_000, 2.0));
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Sends {
        many: median(many),
        few: median(few),
        commits: median(commits),
    }
}

/// Row 11's figures: the probe's p99 quiet and under the flood.
pub struct Flood {
    pub quiet: Duration,
    pub flooded: Duration,
    pub flood_replies: u64,
}

/// A kept-alive GetMsgEx probe: `samples` round trips, their times.
fn probe(addr: SocketAddr, samples: usize) -> Vec<Duration> {
    let client = Client::builder()
        .endpoint(addr.to_string())
        .keep_alive(true)
        .build()
        .expect("client");
    let me = client.login(Uin::new(FIRST), "pw").expect("login");
    (0..samples)
        .map(|_| {
            let started = Instant::now();
            me.fetch_messages().expect("GetMsgEx");
            let took = started.elapsed();
            std::thread::sleep(Duration::from_millis(2));
            took
        })
        .collect()
}

/// Row 11.
pub fn flood(samples: usize) -> Flood {
    let server = Server::start(Config {
        accounts: accounts(10, FIRST),
        ..Config::default()
    })
    .expect("server");
    let addr = server.local_addr();
    let mut quiet = probe(addr, samples);
    let one = format!(
        "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\nVER=1.1&CMD=GetMsgEx&SEQ=1&UIN={}",
        format!("VER=1.1&CMD=GetMsgEx&SEQ=1&UIN={}", FIRST + 5).len(),
        FIRST + 5
    );
    let burst = one.repeat(2000).into_bytes();
    let stop = Arc::new(AtomicBool::new(false));
    let replies = Arc::new(AtomicU64::new(0));
    let flooders: Vec<_> = (0..4)
        .map(|_| {
            let (burst, stop, replies) = (burst.clone(), stop.clone(), replies.clone());
            std::thread::spawn(move || {
                let mut stream = TcpStream::connect(addr).expect("connect");
                let mut reader = stream.try_clone().expect("clone");
                let drain = std::thread::spawn(move || {
                    let mut sink = vec![0u8; 1 << 16];
                    while let Ok(n) = reader.read(&mut sink) {
                        if n == 0 {
                            break;
                        }
                        let got = sink[..n].windows(4).filter(|w| w == b"RES=").count();
                        replies.fetch_add(got as u64, Ordering::Relaxed);
                    }
                });
                while !stop.load(Ordering::Relaxed) {
                    if stream.write_all(&burst).is_err() {
                        break;
                    }
                }
                let _ = stream.shutdown(std::net::Shutdown::Both);
                let _ = drain.join();
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut flooded = probe(addr, samples);
    let flood_replies = replies.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    server.stop();
    for flooder in flooders {
        let _ = flooder.join();
    }
    Flood {
        quiet: percentile(&mut quiet, 99.0),
        flooded: percentile(&mut flooded, 99.0),
        flood_replies,
    }
}

/// Row 12's figures.
pub struct Startup {
    pub accounts: u64,
    pub seconds: f64,
    pub bytes: u64,
    pub seed_seconds: f64,
}

/// Row 12: seeds a database of `count` accounts once, then times a start
/// on it (the median of three).
pub fn startup(count: u64) -> Startup {
    let dir = Scratch::new("startup");
    let path = dir.0.join("qq.db");
    let config = || Config {
        state: Some(path.clone()),
        accounts: accounts(count, FIRST),
        ..Config::default()
    };
    let seeding = Instant::now();
    Server::start(config()).expect("seed").stop();
    let seed_seconds = seeding.elapsed().as_secs_f64();
    let mut times: Vec<Duration> = (0..3)
        .map(|_| {
            let config = Config {
                state: Some(path.clone()),
                ..Config::default()
            };
            let started = Instant::now();
            let server = Server::start(config).expect("start");
            let took = started.elapsed();
            server.stop();
            took
        })
        .collect();
    let bytes = ["", "-wal"]
        .iter()
        .map(|suffix| {
            let mut name = path.clone().into_os_string();
            name.push(suffix);
            std::fs::metadata(name).map_or(0, |m| m.len())
        })
        .sum();
    Startup {
        accounts: count,
        seconds: percentile(&mut times, 50.0).as_secs_f64(),
        bytes,
        seed_seconds,
    }
}
