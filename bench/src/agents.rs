//! Row 9: many agents in one process, each polling every 2 s, against the
//! reference server with 100 ms added to every reply (real networks are not
//! loopback). The agents run in this process (its threads, CPU time and
//! heap are theirs); the server runs in a child process (`agent-server`)
//! that measures how late each poll came from its request log: the gap
//! between two polls of one account, less the interval and the latency.

use crate::alloc;
use crate::measure::percentile;
use httpqq::{Agent, Client, EventKind, Runtime, Uin};
use httpqq_server::{Account, Accounts, Config, Server};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The first UIN of the bench accounts.
const FIRST: u64 = 5_000_000;
/// Every agent's poll interval.
pub const INTERVAL: Duration = Duration::from_secs(2);
/// Added to every reply.
pub const LATENCY: Duration = Duration::from_millis(100);

/// What one run measured.
pub struct Agents {
    pub count: u64,
    pub max_in_flight: usize,
    pub lateness_p50: Duration,
    pub lateness_p99: Duration,
    pub lateness_max: Duration,
    pub polls: usize,
    pub threads: usize,
    /// Of one core, over the window.
    pub cpu: f64,
    pub heap_per_agent: usize,
    pub window: Duration,
}

/// Starts `count` agents (their starts spread over one interval, as bots
/// started at different times would be), lets them settle, and measures a
/// `window`.
pub fn run(count: u64, max_in_flight: usize, window: Duration) -> Agents {
    let exe = std::env::current_exe().expect("the bench binary");
    let mut server = Command::new(exe)
        .args(["agent-server", "--accounts", &count.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the server process");
    let mut from_server = BufReader::new(server.stdout.take().expect("stdout"));
    let mut line = String::new();
    from_server
        .read_line(&mut line)
        .expect("the server's address");
    let endpoint = line.trim().to_owned();

    let client = Client::builder()
        .endpoint(endpoint)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let runtime = Runtime::new(max_in_flight);
    alloc::counting(true);
    let live_before = alloc::live_bytes();
    let mut agents = Vec::with_capacity(count as usize);
    let spread = INTERVAL / u32::try_from(count.max(1)).unwrap_or(u32::MAX);
    for n in 0..count {
        let agent = Agent::builder(&client, Uin::new(FIRST + n), "pw")
            .poll_interval(INTERVAL)
            .runtime(&runtime)
            .start()
            .expect("agent");
        agents.push(agent);
        std::thread::sleep(spread);
    }
    // Settle: every agent online and polling.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut online = std::collections::HashSet::new();
    while (online.len() as u64) < count && Instant::now() < deadline {
        for agent in &agents {
            while let Ok(event) = agent.next_event_timeout(Duration::ZERO) {
                if matches!(event.kind, EventKind::Online) {
                    online.insert(event.uin);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(online.len() as u64, count, "agents online");
    std::thread::sleep(INTERVAL * 2);
    let heap_per_agent = alloc::live_bytes().saturating_sub(live_before) / count.max(1) as usize;
    alloc::counting(false);

    let cpu_before = cpu_time();
    let started = Instant::now();
    let mut threads = 0;
    while started.elapsed() < window {
        threads = threads.max(thread_count());
        // Nothing comes (nobody writes to them) but the state events.
        for agent in &agents {
            while agent.next_event_timeout(Duration::ZERO).is_ok() {}
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let cpu = (cpu_time() - cpu_before).as_secs_f64() / started.elapsed().as_secs_f64();

    let mut to_server = server.stdin.take().expect("stdin");
    writeln!(to_server, "report {}", window.as_millis()).expect("ask for the report");
    line.clear();
    from_server.read_line(&mut line).expect("the report");
    let figures: Vec<u64> = line
        .split_whitespace()
        .map(|f| f.parse().expect("a number"))
        .collect();
    for agent in &agents {
        agent.stop();
    }
    for agent in &agents {
        agent.wait_stopped(Duration::from_secs(30));
    }
    drop(to_server);
    let _ = server.wait();
    Agents {
        count,
        max_in_flight,
        lateness_p50: Duration::from_micros(figures[0]),
        lateness_p99: Duration::from_micros(figures[1]),
        lateness_max: Duration::from_micros(figures[2]),
        polls: figures[3] as usize,
        threads,
        cpu,
        heap_per_agent,
        window,
    }
}

/// The child process: a server with `accounts` accounts and [`LATENCY`];
/// prints its address, then answers `report WINDOW_MS` on standard input
/// with the p50, p99 and largest lateness (µs) of the polls in that window,
/// and their number.
pub fn serve(accounts: u64) {
    let server = Server::start(Config {
        accounts: Accounts {
            accounts: (0..accounts)
                .map(|n| Account::new(FIRST + n, "pw", "bot"))
                .collect(),
        },
        idle_timeout: Duration::from_secs(3600),
        request_log: 1_000_000,
        // Every agent comes from one address.
        max_connections: 10_000,
        max_connections_per_ip: 10_000,
        ..Config::default()
    })
    .expect("server");
    server.set_latency(LATENCY);
    println!("{}", server.local_addr());
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let Some(window) = line.strip_prefix("report ") else {
            continue;
        };
        let window = Duration::from_millis(window.trim().parse().expect("a window in ms"));
        let requests = server.requests();
        let now = requests.last().map_or(Duration::ZERO, |r| r.at);
        let since = now.saturating_sub(window);
        let mut last: HashMap<Uin, Duration> = HashMap::new();
        let mut lateness = Vec::new();
        for request in requests {
            if request.command != Some(httpqq::codec::Command::GetMsgEx) {
                continue;
            }
            let Some(uin) = request.uin else { continue };
            if let Some(previous) = last.insert(uin, request.at) {
                if previous >= since {
                    let gap = request.at - previous;
                    lateness.push(gap.saturating_sub(INTERVAL + LATENCY));
                }
            }
        }
        let polls = lateness.len();
        let p50 = percentile(&mut lateness, 50.0);
        let p99 = percentile(&mut lateness, 99.0);
        let max = lateness.iter().max().copied().unwrap_or_default();
        println!(
            "{} {} {} {polls}",
            p50.as_micros(),
            p99.as_micros(),
            max.as_micros()
        );
    }
    server.stop();
}

/// The process's CPU time so far (user and system, all threads).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command's closing parenthesis; utime and stime
    // are the 12th and 13th of them, in clock ticks (100 a second here).
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| {
        fields
            .get(n)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Linux counts in ticks of 10 ms (USER_HZ = 100).
    Duration::from_millis((field(11) + field(12)) * 10)
}

/// The process's threads now.
fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, Iterator::count)
}
