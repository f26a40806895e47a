//! Rows 13 to 15: what an anonymous client can cost the server (the second
//! attack review's findings, measured against their goals).
//!
//! - 13: a bystander's GetMsgEx p99 while 64 connections send wrong-password
//!   Logins against strong hashes, against its p99 on a quiet server; and
//!   the right-password logins made during the flood, answered.
//! - 14: how often a normal client gets in while 4 addresses × 128 sockets
//!   that each sent one byte hold every connection slot (and reopen what is
//!   closed).
//! - 15: the server's CPU per Login its lockout refuses (the server in a
//!   process of its own, its CPU time read from /proc).

use crate::measure::percentile;
use httpqq::{Client, Uin};
use httpqq_server::{Account, Accounts, Config, HashCost, Server};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A connection to `addr` from another loopback address (127.0.0.x).
fn connect_from(ip: IpAddr, addr: SocketAddr) -> Option<TcpStream> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).ok()?;
    socket.bind(&SocketAddr::new(ip, 0).into()).ok()?;
    socket.connect(&addr.into()).ok()?;
    Some(socket.into())
}

/// One request on a new connection from `ip`; the reply's bytes (empty
/// for the NULL).
fn post_from(ip: IpAddr, addr: SocketAddr, body: &str) -> Vec<u8> {
    let Some(mut stream) = connect_from(ip, addr) else {
        return Vec::new();
    };
    let request = format!(
        "POST / HTTP/1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    if stream.write_all(request.as_bytes()).is_err() {
        return Vec::new();
    }
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    reply
}

fn login_body(uin: u64, md5: &str) -> String {
    format!("VER=1.1&CMD=Login&SEQ=1&UIN={uin}&PS={md5}&M5=1&LC=9326B87B234E7235")
}

fn ends_with(reply: &[u8], tail: &[u8]) -> bool {
    reply.ends_with(tail)
}

const WRONG: &str = "00000000000000000000000000000000";
const FIRST: u64 = 2_000_000;
const TARGETS: u64 = 400;

/// Row 13's figures.
pub struct LoginFlood {
    pub quiet: Duration,
    pub flooded: Duration,
    pub checked: u64,
    pub refused: u64,
    pub right_answered: u64,
    pub right_tried: u64,
}

/// A bystander's GetMsgEx round trips, one every 2 ms.
fn probe(session: &httpqq::Session, samples: usize) -> Vec<Duration> {
    (0..samples)
        .map(|_| {
            let started = Instant::now();
            session.fetch_messages().expect("GetMsgEx");
            let took = started.elapsed();
            std::thread::sleep(Duration::from_millis(2));
            took
        })
        .collect()
}

/// Row 13.
pub fn login_flood(samples: usize) -> LoginFlood {
    let mut accounts = Accounts {
        accounts: (0..TARGETS)
            .map(|n| Account::new(FIRST + n, "pw", "target"))
            .collect(),
    };
    accounts
        .accounts
        .push(Account::new(FIRST - 1, "pw", "bystander"));
    for n in 0..8 {
        accounts
            .accounts
            .push(Account::new(FIRST - 100 + n, "right", "owner"));
    }
    let server = Server::start(Config {
        accounts,
        hash_cost: HashCost::Strong,
        ..Config::default()
    })
    .expect("server");
    // Strong hashes everywhere (seeding stores cheap ones to upgrade).
    for n in 0..TARGETS {
        server.change_password(Uin::new(FIRST + n), "pw");
    }
    for n in 0..8 {
        server.change_password(Uin::new(FIRST - 100 + n), "right");
    }
    let addr = server.local_addr();
    let client = Client::builder()
        .endpoint(addr.to_string())
        .keep_alive(true)
        .build()
        .expect("client");
    let bystander = client.login(Uin::new(FIRST - 1), "pw").expect("login");
    let mut quiet = probe(&bystander, samples);
    let stop = Arc::new(AtomicBool::new(false));
    let refused = Arc::new(AtomicU64::new(0));
    let checked_before = server.password_checks();
    let flooders: Vec<_> = (0..64u64)
        .map(|t| {
            let (stop, refused) = (stop.clone(), refused.clone());
            std::thread::spawn(move || {
                // 16 addresses, 4 connections each, across the targets.
                let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 1, 1 + (t % 16) as u8));
                let mut n = t;
                while !stop.load(Ordering::Relaxed) {
                    let reply = post_from(ip, addr, &login_body(FIRST + n % TARGETS, WRONG));
                    if ends_with(&reply, b"&RES=3") {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                    n += 64;
                }
            })
        })
        .collect();
    // The owners of eight accounts log in with the right password during
    // the flood, from the bystander's address.
    let right_answered = Arc::new(AtomicU64::new(0));
    let right_tried = Arc::new(AtomicU64::new(0));
    let owners = {
        let (stop, answered, tried) = (stop.clone(), right_answered.clone(), right_tried.clone());
        std::thread::spawn(move || {
            let md5 = httpqq::PasswordHash::from_password("right").to_md5_hex();
            let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
            while !stop.load(Ordering::Relaxed) {
                for n in 0..8 {
                    tried.fetch_add(1, Ordering::Relaxed);
                    let reply = post_from(ip, addr, &login_body(FIRST - 100 + n, &md5));
                    if ends_with(&reply, b"&RS=0&HI=60&LI=300") {
                        answered.fetch_add(1, Ordering::Relaxed);
                    }
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    let mut flooded = probe(&bystander, samples);
    stop.store(true, Ordering::Relaxed);
    for flooder in flooders {
        let _ = flooder.join();
    }
    let _ = owners.join();
    let checked = server.password_checks() - checked_before;
    server.stop();
    LoginFlood {
        quiet: percentile(&mut quiet, 99.0),
        flooded: percentile(&mut flooded, 99.0),
        checked,
        refused: refused.load(Ordering::Relaxed),
        right_answered: right_answered.load(Ordering::Relaxed),
        right_tried: right_tried.load(Ordering::Relaxed),
    }
}

/// Row 14's figures.
pub struct OneByte {
    pub served: usize,
    pub tried: usize,
    pub held: usize,
}

/// Row 14: 4 addresses × 128 sockets, each sending one byte, reopened by
/// their threads as the server closes them; a normal client logs in and
/// out `tries` times meanwhile.
pub fn one_byte_sockets(tries: usize) -> OneByte {
    let server = Server::start(Config {
        read_timeout: Duration::from_secs(60),
        ..Config::default()
    })
    .expect("server");
    let addr = server.local_addr();
    let stop = Arc::new(AtomicBool::new(false));
    let open = move |ip: IpAddr| {
        let mut stream = connect_from(ip, addr)?;
        stream.write_all(b"P").ok()?;
        stream.set_nonblocking(true).ok()?;
        Some(stream)
    };
    let attackers: Vec<_> = (2..6u8)
        .map(|last| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, last));
                let mut held: Vec<TcpStream> = (0..128).filter_map(|_| open(ip)).collect();
                while !stop.load(Ordering::Relaxed) {
                    for stream in held.iter_mut() {
                        let closed = !matches!(stream.read(&mut [0u8; 8]), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
                        if closed {
                            if let Some(again) = open(ip) {
                                *stream = again;
                            }
                        }
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                held.len()
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let client = Client::builder()
        .endpoint(addr.to_string())
        .timeout(Duration::from_secs(2))
        .build()
        .expect("client");
    let mut served = 0;
    for _ in 0..tries {
        if let Ok(session) = client.login(Uin::new(10001), "demo") {
            if session.logout().is_ok() {
                served += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    let held = attackers.into_iter().map(|a| a.join().unwrap_or(0)).sum();
    server.stop();
    OneByte {
        served,
        tried: tries,
        held,
    }
}

/// The CPU time (user + system) a process has used.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command's closing parenthesis: utime is the 12th,
    // stime the 13th (counting from the state, the 1st), in clock ticks.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let ticks = fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0);
    // SAFETY: sysconf takes a plain integer and returns one.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_nanos(ticks * 1_000_000_000 / per_second)
}

/// Row 15's figures.
pub struct RefusedLogin {
    pub cpu_per_login: Duration,
    pub logins: u64,
    pub cpu_per_getmsgex: Duration,
}

/// Row 15: the release server in a process of its own (`server` is its
/// binary); one address locked out of one account, then `logins` more
/// Logins from it, each on a new connection, against as many GetMsgEx
/// (answered `RES=20`) for the same cost of a request on a new connection.
pub fn refused_login_cost(server: &std::path::Path, logins: u64) -> RefusedLogin {
    let mut child = std::process::Command::new(server)
        .args(["--listen", "127.0.0.1:0", "--demo"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the server binary");
    let mut line = String::new();
    let _ = BufReader::new(child.stdout.take().expect("its stdout")).read_line(&mut line);
    let addr: SocketAddr = line
        .trim()
        .rsplit(' ')
        .next()
        .and_then(|a| a.parse().ok())
        .expect("the address it printed");
    let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 50));
    let guess = login_body(10003, WRONG);
    for _ in 0..10 {
        post_from(ip, addr, &guess);
    }
    let measure = |body: &str, tail: &[u8]| {
        let before = cpu_time(child.id());
        for _ in 0..logins {
            let reply = post_from(ip, addr, body);
            assert!(
                ends_with(&reply, tail),
                "{:?}",
                String::from_utf8_lossy(&reply)
            );
        }
        (cpu_time(child.id()) - before) / u32::try_from(logins).unwrap_or(u32::MAX)
    };
    let cpu_per_login = measure(&guess, b"&RES=3");
    let cpu_per_getmsgex = measure("VER=1.1&CMD=GetMsgEx&SEQ=1&UIN=10003", b"&RES=20");
    let _ = child.kill();
    let _ = child.wait();
    RefusedLogin {
        cpu_per_login,
        logins,
        cpu_per_getmsgex,
    }
}
