//! `httpqq-bench`: httpqq's benchmarks, each figure beside its baseline
//! measured in the same run.
//!
//! `httpqq-bench rust` measures the in-process rows (1, 2, 4, 6) and prints
//! them as rows of the results table; the other subcommands are the helper
//! processes of `bench/run.sh`, which measures the whole-process rows and
//! prints the whole table (`make bench`).

mod agents;
mod alloc;
mod attacks;
mod codec;
mod measure;
mod roundtrip;
mod scale;
mod stops;
mod storage;
mod tls;

use clap::{Parser, Subcommand};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

#[derive(Parser)]
#[command(about = "httpqq's benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The in-process rows 1, 2, 4 and 6, as table rows.
    Rust {
        /// Rounds per figure (the median is reported).
        #[arg(long, default_value_t = 7)]
        rounds: u32,
        /// Round trips per round.
        #[arg(long, default_value_t = 2000)]
        iterations: u32,
        /// Sessions of row 6.
        #[arg(long, default_value_t = 10_000)]
        sessions: u64,
        /// Only these rows (for profiling), e.g. `--only 4` or `--only 1,2`.
        #[arg(long, value_delimiter = ',', default_values_t = [1, 2, 4, 6])]
        only: Vec<u32>,
    },
    /// GetMsgEx round trips of the Rust client against a running server
    /// (row 8's baseline): prints the median time per round trip in ns.
    Client {
        #[arg(long)]
        endpoint: String,
        #[arg(long, default_value_t = 10001)]
        uin: u64,
        #[arg(long, default_value = "demo")]
        password: String,
        #[arg(long, default_value_t = 7)]
        rounds: u32,
        #[arg(long, default_value_t = 2000)]
        iterations: u32,
        /// One kept-alive connection instead of one per request.
        #[arg(long)]
        keep_alive: bool,
    },
    /// Logs in (and stays logged in), for load generators that then send
    /// GetMsgEx for this UIN.
    Login {
        #[arg(long)]
        endpoint: String,
        #[arg(long, default_value_t = 10001)]
        uin: u64,
        #[arg(long, default_value = "demo")]
        password: String,
    },
    /// A stand-in server for client-side benchmarks of large replies: a
    /// user with 500 friends and 500 pending messages (prints its port).
    Canned,
    /// Row 9: many agents polling every 2 s against replies 100 ms late.
    Agents {
        /// How many agents, one run each.
        #[arg(long, value_delimiter = ',', default_values_t = [100, 1000, 5000])]
        counts: Vec<u64>,
        /// The runtime's bound on requests in flight (so on threads).
        #[arg(long, default_value_t = 60)]
        max_in_flight: usize,
        /// Seconds measured, after the agents settled.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
    },
    /// Row 9's server, in its own process (see `bench/src/agents.rs`).
    AgentServer {
        #[arg(long)]
        accounts: u64,
    },
    /// Rows 10 to 12: the storage and fairness (sends per second with a
    /// database, a client under a pipelined flood, start-up on 1,000,000
    /// accounts).
    Storage {
        /// Accounts in row 12's database.
        #[arg(long, default_value_t = 1_000_000)]
        accounts: u64,
    },
    /// Row 18: the client over TLS against a bare rustls client, against
    /// a server's TLS listener at `addr` whose certificate is in `ca`.
    TlsClient {
        #[arg(long)]
        addr: String,
        #[arg(long)]
        ca: std::path::PathBuf,
        #[arg(long, default_value_t = 7)]
        rounds: u32,
        #[arg(long, default_value_t = 2000)]
        iterations: u32,
    },
    /// Row 19: how long an agent's stop takes, waiting, in backoff and
    /// with a poll in flight.
    Stops {
        /// Stops timed in each state.
        #[arg(long, default_value_t = 40)]
        rounds: u32,
    },
    /// Rows 13 to 15: a wrong-password login flood, one-byte sockets in
    /// every slot, the CPU of a login the lockout refuses.
    Attacks {
        /// The release `httpqq-server` binary (row 15 runs it).
        #[arg(long)]
        server: std::path::PathBuf,
    },
}

fn main() {
    match Cli::parse().command {
        Command::Rust {
            rounds,
            iterations,
            sessions,
            only,
        } => rust(rounds, iterations, sessions, &only),
        Command::Client {
            endpoint,
            uin,
            password,
            rounds,
            iterations,
            keep_alive,
        } => {
            let client = httpqq::Client::builder()
                .endpoint(endpoint)
                .keep_alive(keep_alive)
                .build()
                .expect("client");
            let session = client
                .login(httpqq::Uin::new(uin), &password)
                .expect("login");
            let per_op = measure::median(
                (0..rounds)
                    .map(|_| {
                        measure::per_op(iterations, || {
                            session.fetch_messages().expect("GetMsgEx");
                        })
                    })
                    .collect(),
            );
            println!("{}", per_op.as_nanos());
        }
        Command::Login {
            endpoint,
            uin,
            password,
        } => {
            let client = httpqq::Client::new(endpoint).expect("client");
            client
                .login(httpqq::Uin::new(uin), &password)
                .expect("login");
        }
        Command::Canned => canned(),
        Command::Agents {
            counts,
            max_in_flight,
            seconds,
        } => agent_rows(&counts, max_in_flight, Duration::from_secs(seconds)),
        Command::AgentServer { accounts } => agents::serve(accounts),
        Command::Storage { accounts } => storage_rows(accounts),
        Command::Attacks { server } => attack_rows(&server),
        Command::Stops { rounds } => stop_rows(rounds),
        Command::TlsClient {
            addr,
            ca,
            rounds,
            iterations,
        } => tls::row(&addr, &ca, rounds, iterations),
    }
}

fn attack_rows(server: &std::path::Path) {
    let f = attacks::login_flood(1000);
    let ratio = f.flooded.as_secs_f64() / f.quiet.as_secs_f64();
    let answered = f.right_answered == f.right_tried && f.right_tried > 0;
    println!(
        "| 13 | a bystander's GetMsgEx p99 while 64 connections send wrong-password Logins against strong hashes ({} checked, {} refused without a hash; right-password logins meanwhile: {} of {} answered) | {:.0} µs | the same client, quiet server | {:.0} µs | {ratio:.2}× | ≤ 5×, every right login answered | {} |",
        f.checked,
        f.refused,
        f.right_answered,
        f.right_tried,
        f.flooded.as_secs_f64() * 1e6,
        f.quiet.as_secs_f64() * 1e6,
        verdict(ratio <= 5.0 && answered)
    );
    let b = attacks::one_byte_sockets(80);
    let share = b.served as f64 / b.tried as f64;
    println!(
        "| 14 | a normal client's logins while 4 addresses × 128 sockets that sent one byte hold every slot ({} held, reopened as closed) | {} of {} | — | — | {:.0}% | ≥ 95% | {} |",
        b.held,
        b.served,
        b.tried,
        share * 100.0,
        verdict(share >= 0.95)
    );
    let r = attacks::refused_login_cost(server, 3000);
    println!(
        "| 15 | the server's CPU per Login its lockout refuses (new connection each, {} of them) | {:.1} µs | a GetMsgEx answered RES=20, new connection each | {:.1} µs | {:.2}× | ≤ 0.1 ms | {} |",
        r.logins,
        r.cpu_per_login.as_secs_f64() * 1e6,
        r.cpu_per_getmsgex.as_secs_f64() * 1e6,
        r.cpu_per_login.as_secs_f64() / r.cpu_per_getmsgex.as_secs_f64().max(1e-9),
        verdict(r.cpu_per_login <= Duration::from_micros(100))
    );
}

fn stop_rows(rounds: u32) {
    for state in [
        stops::State::Waiting,
        stops::State::Backoff,
        stops::State::InFlight,
    ] {
        let s = stops::run(state, rounds);
        println!(
            "| 19 | an agent's stop, {}: p50 / p99 / max of {} stops | {:.1} / {:.1} / {:.1} ms | the stop timeout (default) | {:.0} ms | {:.2}× (max) | max ≤ the stop timeout | {} |",
            state.label(),
            s.stops,
            s.p50.as_secs_f64() * 1e3,
            s.p99.as_secs_f64() * 1e3,
            s.max.as_secs_f64() * 1e3,
            stops::PROMISE.as_secs_f64() * 1e3,
            s.max.as_secs_f64() / stops::PROMISE.as_secs_f64(),
            verdict(s.max <= stops::PROMISE),
        );
    }
}

fn storage_rows(accounts: u64) {
    let s = storage::sends(3);
    let scale = s.many / s.few;
    let disk = s.many / s.commits;
    println!(
        "| 10 | acknowledged sends per second, database on disk, 100,000 accounts (8 senders, kept connections) | {:.0}/s | the same server with 10 accounts | {:.0}/s | {scale:.2}× | ≥ 0.9× | {} |",
        s.many,
        s.few,
        verdict(scale >= 0.9)
    );
    println!(
        "| 10 | the same, against the disk | {:.0}/s | single-row SQLite WAL commits, `synchronous=FULL` | {:.0}/s | {disk:.2}× | ≥ 0.5× | {} |",
        s.many,
        s.commits,
        verdict(disk >= 0.5)
    );
    let f = storage::flood(2000);
    let ratio = f.flooded.as_secs_f64() / f.quiet.as_secs_f64();
    println!(
        "| 11 | a client's GetMsgEx p99 while 4 connections pipeline GetMsgEx ({} flood replies meanwhile) | {:.0} µs | the same client, quiet server | {:.0} µs | {ratio:.2}× | ≤ 2× | {} |",
        f.flood_replies,
        f.flooded.as_secs_f64() * 1e6,
        f.quiet.as_secs_f64() * 1e6,
        verdict(ratio <= 2.0)
    );
    let up = storage::startup(accounts);
    println!(
        "| 12 | start-up on a database of {} accounts ({:.0} MB; seeded in {:.0} s) | {:.2} s | — | — | — | ≤ 2 s | {} |",
        up.accounts,
        up.bytes as f64 / 1e6,
        up.seed_seconds,
        up.seconds,
        verdict(up.seconds <= 2.0)
    );
}

fn agent_rows(counts: &[u64], max_in_flight: usize, window: Duration) {
    for &count in counts {
        let a = agents::run(count, max_in_flight, window);
        let goals = a.count == 1000;
        let met = a.lateness_p99 <= Duration::from_secs(1) && a.threads <= 64 && a.cpu <= 0.10;
        println!(
            "| 9 | {} agents, each polling every {} s, replies {} ms late, at most {} requests in flight: poll lateness p50 / p99 / max; threads; CPU; heap per agent | {:.0} / {:.0} / {:.0} ms over {} polls; {} threads; {:.1}% of a core; {} B | the schedule itself | 0 ms | — | {} | {} |",
            a.count,
            agents::INTERVAL.as_secs(),
            agents::LATENCY.as_millis(),
            a.max_in_flight,
            a.lateness_p50.as_secs_f64() * 1e3,
            a.lateness_p99.as_secs_f64() * 1e3,
            a.lateness_max.as_secs_f64() * 1e3,
            a.polls,
            a.threads,
            a.cpu * 100.0,
            a.heap_per_agent,
            if goals { "p99 ≤ 1 s, ≤ 64 threads, ≤ 10% of a core; memory reported" } else { "(reported)" },
            if goals { verdict(met) } else { "—" },
        );
        let _ = a.window;
    }
}

fn rust(rounds: u32, iterations: u32, sessions: u64, only: &[u32]) {
    if only.contains(&1) || only.contains(&2) {
        round_trips(rounds, iterations);
    }
    if only.contains(&4) {
        codec_rows(rounds);
    }
    if only.contains(&6) {
        scale_rows(sessions);
    }
}

fn round_trips(rounds: u32, iterations: u32) {
    let trips = roundtrip::run(rounds, iterations);
    row(
        "1",
        "GetMsgEx round trip, Rust client, new connection",
        trips.close.subject,
        "raw TCP, same bytes",
        trips.close.baseline,
        trips.close.ratio,
        "≤ 1.15×",
        trips.close.ratio <= 1.15,
    );
    row(
        "2",
        "GetMsgEx round trip, Rust client, keep-alive",
        trips.keep_alive.subject,
        "raw TCP, one connection",
        trips.keep_alive.baseline,
        trips.keep_alive.ratio,
        "≤ 1.15×",
        trips.keep_alive.ratio <= 1.15,
    );
}

fn codec_rows(rounds: u32) {
    for (label, f) in [
        ("short chat messages", codec::run(rounds, codec::Mix::Short)),
        ("1 KiB messages", codec::run(rounds, codec::Mix::Long)),
    ] {
        let rate = 1.0 / f.decode.ratio;
        println!(
            "| 4 | decode a {:.2} MiB GetMsgEx reply ({} {label}, mixed ASCII and Chinese) | {:.0} µs ({:.0} MB/s) | `std::str::from_utf8` | {:.0} µs ({:.0} MB/s) | {rate:.2}× the rate; {} allocations for {} messages | ≥ 0.2× the rate, no allocation beyond the strings | {} |",
            f.bytes as f64 / 1048576.0,
            f.messages,
            f.decode.subject.as_secs_f64() * 1e6,
            f.bytes as f64 / f.decode.subject.as_secs_f64() / 1e6,
            f.decode.baseline.as_secs_f64() * 1e6,
            f.bytes as f64 / f.decode.baseline.as_secs_f64() / 1e6,
            f.allocations,
            f.messages,
            verdict(rate >= 0.2 && f.allocations <= f.string_allocations + 2),
        );
        if label == "short chat messages" {
            println!(
                "| 4 | encode 10,000 CLTMSG requests | {:.0} µs ({:.0} ns each) | copying the same bytes | {:.0} µs | {:.1}× | (no goal) | — |",
                f.encode.subject.as_secs_f64() * 1e6,
                f.encode.subject.as_secs_f64() * 1e9 / 10_000.0,
                f.encode.baseline.as_secs_f64() * 1e6,
                f.encode.ratio,
            );
        }
    }
}

fn scale_rows(sessions: u64) {
    let s = scale::run(sessions, 2000);
    let ratio = s.p99_many.as_secs_f64() / s.p99_few.as_secs_f64();
    println!(
        "| 6 | GetMsgEx p99, 100,000 accounts, {} sessions × 10 queued (p50 {:.0} µs) | {:.0} µs | the same server with 10 sessions (p50 {:.0} µs) | {:.0} µs | {ratio:.2}× | ≤ 1.5× | {} |",
        s.sessions,
        s.p50_many.as_secs_f64() * 1e6,
        s.p99_many.as_secs_f64() * 1e6,
        s.p50_few.as_secs_f64() * 1e6,
        s.p99_few.as_secs_f64() * 1e6,
        verdict(ratio <= 1.5),
    );
    println!(
        "| 6 | memory per idle session | {:.0} B resident, {:.0} B heap | — | — | — | ≤ 2 KiB | {} |",
        s.rss_per_session,
        s.heap_per_session,
        verdict(s.rss_per_session <= 2048.0 && s.heap_per_session <= 2048.0),
    );
}

#[allow(clippy::too_many_arguments)]
fn row(
    n: &str,
    what: &str,
    subject: Duration,
    baseline_name: &str,
    baseline: Duration,
    ratio: f64,
    goal: &str,
    met: bool,
) {
    println!(
        "| {n} | {what} | {:.1} µs | {baseline_name} | {:.1} µs | {ratio:.3}× | {goal} | {} |",
        subject.as_secs_f64() * 1e6,
        baseline.as_secs_f64() * 1e6,
        verdict(met),
    );
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "**missed**"
    }
}

/// Answers every request as the server would for a user with 500 friends
/// and 500 pending messages: Login, List and GetMsgEx, echoing `SEQ`.
/// Prints the port, then serves until killed.
fn canned() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    println!("{}", listener.local_addr().expect("addr").port());
    let (messages, _) = codec::messages_reply_of(500);
    let messages = String::from_utf8(messages).expect("UTF-8");
    let friends: String = (0..500).map(|n| format!("{},", 20_000 + n)).collect();
    let bodies = Canned {
        // Everything after `SEQ=1`, to follow the request's own SEQ.
        messages: messages["VER=1.1&CMD=GETMSGEX&SEQ=1".len()..].to_owned(),
        friends: format!("&UIN=10001&RES=0&FN=1&SN=500&UN={friends}"),
    };
    // One connection at a time, in this thread: the clients of row 3 make
    // one request per connection, one after another, and a thread started
    // per connection cost more than either client's own work (it doubled
    // the time of a List of 500 friends for both).
    for stream in listener.incoming().flatten() {
        serve_canned(stream, &bodies);
    }
}

struct Canned {
    messages: String,
    friends: String,
}

impl Canned {
    fn reply(&self, request: &str) -> String {
        let field = |key: &str| {
            request
                .split('&')
                .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
                .unwrap_or("")
        };
        let seq = field("SEQ");
        let body = match field("CMD").to_ascii_lowercase().as_str() {
            "login" => format!("VER=1.1&CMD=LOGIN&SEQ={seq}&UIN=10001&RES=0&RS=0&HI=60&LI=300"),
            "list" => format!("VER=1.1&CMD=LIST&SEQ={seq}{}", self.friends),
            _ => format!("VER=1.1&CMD=GETMSGEX&SEQ={seq}{}", self.messages),
        };
        format!(
            "HTTP/1.1 200 OK\r\nServer: tencent imserver/1.0.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    }
}

fn serve_canned(mut stream: std::net::TcpStream, bodies: &Canned) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        // One request: the head, then Content-Length bytes.
        let (head_end, length, close) = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                break (end + 4, length, head.contains("connection: close"));
            }
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        while buf.len() < head_end + length {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let request = String::from_utf8_lossy(&buf[head_end..head_end + length]).into_owned();
        if stream.write_all(bodies.reply(&request).as_bytes()).is_err() || close {
            return;
        }
        buf.drain(..head_end + length);
    }
}
