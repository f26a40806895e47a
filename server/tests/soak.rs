//! Soak: many clients sending many messages through the reference server,
//! with random logouts and logins, checked message by message: every
//! acknowledged message delivered exactly once, in order per sender. Then
//! the same against the command, SIGKILLed and restarted on `--state` in the
//! middle: nothing acknowledged with RES=0 is lost (a batch in flight at the
//! kill may arrive twice).
//!
//! `make test` runs a short soak (8 clients × 150 messages); `make soak`
//! runs the long one (`HTTPQQ_SOAK_CLIENTS=50 HTTPQQ_SOAK_MESSAGES=2000`).
//! The figures are printed (`-- --nocapture`).

mod support;

use httpqq::{Client, Message, Session, Uin};
use httpqq_server::{Account, Accounts, Config, RateLimit, Server};
use std::collections::HashMap;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const FIRST: u64 = 40_000;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic random source (xorshift), one per client.
struct Random(u64);

impl Random {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn accounts(clients: usize) -> Accounts {
    Accounts {
        accounts: (0..clients as u64)
            .map(|n| Account::new(FIRST + n, "pw", &format!("soak {n}")))
            .collect(),
    }
}

/// What every client sent (acknowledged or not) and received, per pair.
#[derive(Default)]
struct Ledger {
    /// (from, to) -> sequence numbers acknowledged with RES=0, in order.
    acked: HashMap<(u64, u64), Vec<u64>>,
    /// (from, to) -> sequence numbers sent without an acknowledgement.
    unacked: HashMap<(u64, u64), Vec<u64>>,
    /// (from, to) -> sequence numbers received, in arrival order.
    received: HashMap<(u64, u64), Vec<u64>>,
    /// Why sends failed: each error's text, counted.
    failures: HashMap<String, usize>,
    /// In a run with a kill: clients that reach two thirds of their
    /// messages wait for it (so that it lands mid-run however fast the
    /// server is): `Some(false)` until the server was killed and restarted.
    restarted: Option<bool>,
}

fn record(ledger: &Mutex<Ledger>, me: u64, batch: Vec<Message>) {
    let mut ledger = ledger.lock().unwrap();
    for message in batch {
        if let Message::Text { from, text } = message {
            let seq: u64 = text
                .rsplit(' ')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("not a soak message: {text:?}"));
            ledger
                .received
                .entry((from.get(), me))
                .or_default()
                .push(seq);
        }
    }
}

/// Polls `session` until its queue is empty, retrying transient failures.
fn drain(session: &Session, ledger: &Mutex<Ledger>) {
    let started = Instant::now();
    let mut empty = 0;
    while empty < 2 && started.elapsed() < Duration::from_secs(60) {
        match session.fetch_messages() {
            Ok(batch) if batch.is_empty() => empty += 1,
            Ok(batch) => record(ledger, session.uin().get(), batch),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// One client: sends `messages` to random others (each pair numbered in
/// order), polls now and then, and logs out and in again at random.
fn client_run(
    endpoint: String,
    me: u64,
    clients: usize,
    messages: usize,
    ledger: Arc<Mutex<Ledger>>,
) {
    let client = Client::builder()
        .endpoint(endpoint)
        .timeout(Duration::from_secs(10))
        .auto_relogin(true)
        .build()
        .unwrap();
    let login = || loop {
        match client.login(Uin::new(me), "pw") {
            Ok(session) => return session,
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    let mut session = login();
    let mut random = Random(me * 2_654_435_761 + 1);
    let mut next_seq: HashMap<u64, u64> = HashMap::new();
    for n in 0..messages {
        if n == messages * 2 / 3 {
            let waiting = Instant::now();
            while ledger.lock().unwrap().restarted == Some(false)
                && waiting.elapsed() < Duration::from_secs(30)
            {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let to = FIRST + (me - FIRST + 1 + random.below(clients as u64 - 1)) % clients as u64;
        let seq = next_seq.entry(to).or_insert(0);
        let text = format!("from {me} to {to}: 你好 & 1+1=2, #{n} {seq}");
        match session.send_message(Uin::new(to), &text) {
            Ok(()) => ledger
                .lock()
                .unwrap()
                .acked
                .entry((me, to))
                .or_default()
                .push(*seq),
            Err(err) => {
                let mut ledger = ledger.lock().unwrap();
                ledger.unacked.entry((me, to)).or_default().push(*seq);
                *ledger.failures.entry(err.to_string()).or_default() += 1;
                drop(ledger);
                // The server may be down: give it a moment.
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        *seq += 1;
        if random.below(8) == 0 {
            if let Ok(batch) = session.fetch_messages() {
                record(&ledger, me, batch);
            }
        }
        if random.below(100) == 0 {
            // Log out and back in: messages sent meanwhile wait offline.
            let _ = session.logout();
            std::thread::sleep(Duration::from_millis(random.below(20)));
            session = login();
        }
    }
    drain(&session, &ledger);
}

/// Runs every client to the end, then drains every queue once more.
fn run_clients(endpoint: &str, clients: usize, messages: usize, ledger: &Arc<Mutex<Ledger>>) {
    let threads: Vec<_> = (0..clients as u64)
        .map(|n| {
            let (endpoint, ledger) = (endpoint.to_owned(), Arc::clone(ledger));
            std::thread::spawn(move || client_run(endpoint, FIRST + n, clients, messages, ledger))
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let client = Client::new(endpoint).unwrap();
    for n in 0..clients as u64 {
        let session = client.login(Uin::new(FIRST + n), "pw").unwrap();
        drain(&session, ledger);
    }
}

#[test]
fn every_acknowledged_message_arrives_exactly_once_in_order() {
    let clients = setting("HTTPQQ_SOAK_CLIENTS", 8);
    let messages = setting("HTTPQQ_SOAK_MESSAGES", 150);
    let server = Server::start(Config {
        accounts: accounts(clients),
        send_limit: RateLimit {
            count: u32::MAX,
            window: Duration::from_secs(1),
        },
        ..Config::default()
    })
    .unwrap();
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let started = Instant::now();
    run_clients(&server.local_addr().to_string(), clients, messages, &ledger);
    let ledger = ledger.lock().unwrap();

    let acked: usize = ledger.acked.values().map(Vec::len).sum();
    let unacked: usize = ledger.unacked.values().map(Vec::len).sum();
    assert_eq!(
        unacked, 0,
        "an in-process server refused sends: {:?}",
        ledger.failures
    );
    for (pair, sent) in &ledger.acked {
        let got = ledger.received.get(pair).cloned().unwrap_or_default();
        assert_eq!(
            &got, sent,
            "{pair:?}: received != sent (exactly once, in order)"
        );
    }
    let received: usize = ledger.received.values().map(Vec::len).sum();
    assert_eq!(received, acked);
    eprintln!(
        "soak: {clients} clients × {messages} messages: {acked} acknowledged, {received} delivered exactly once and in order, 0 lost, in {:?}",
        started.elapsed()
    );
}

/// The command on a fixed port with a state file.
fn start_command(listen: &str, accounts_file: &std::path::Path, state: &std::path::Path) -> Child {
    support::command([
        "--listen".as_ref(),
        listen.as_ref(),
        "--send-limit".as_ref(),
        "1000000000".as_ref(),
        "--accounts".as_ref(),
        accounts_file.as_os_str(),
        "--state".as_ref(),
        state.as_os_str(),
    ])
    .0
}

#[test]
fn a_sigkilled_server_loses_nothing_it_acknowledged() {
    let clients = setting("HTTPQQ_SOAK_KILL_CLIENTS", 6);
    let messages = setting("HTTPQQ_SOAK_KILL_MESSAGES", 80);
    let dir = std::env::temp_dir().join(format!("httpqq-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let accounts_file = dir.join("accounts.toml");
    let text: String = (0..clients as u64)
        .map(|n| {
            format!(
                "[[account]]\nuin = {}\npassword = \"pw\"\nnickname = \"soak {n}\"\n\n",
                FIRST + n
            )
        })
        .collect();
    std::fs::write(&accounts_file, text).unwrap();
    let state = dir.join("state.toml");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");

    let mut child = start_command(&listen, &accounts_file, &state);
    let ledger = Arc::new(Mutex::new(Ledger {
        restarted: Some(false),
        ..Ledger::default()
    }));
    let killer = {
        let (listen, accounts_file, state) = (listen.clone(), accounts_file.clone(), state.clone());
        let ledger = Arc::clone(&ledger);
        std::thread::spawn(move || {
            // Kill it a third of the way through, restart it on the same
            // port and state.
            let third = clients * messages / 3;
            while ledger
                .lock()
                .unwrap()
                .acked
                .values()
                .map(Vec::len)
                .sum::<usize>()
                < third
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            std::thread::sleep(Duration::from_millis(300));
            let restarted = start_command(&listen, &accounts_file, &state);
            ledger.lock().unwrap().restarted = Some(true);
            restarted
        })
    };
    run_clients(&listen, clients, messages, &ledger);
    let mut restarted = killer.join().unwrap();
    let ledger = ledger.lock().unwrap();

    let (mut acked, mut lost, mut duplicated) = (0, 0, 0);
    for (pair, sent) in &ledger.acked {
        let got = ledger.received.get(pair).cloned().unwrap_or_default();
        acked += sent.len();
        lost += sent.iter().filter(|seq| !got.contains(seq)).count();
        // A batch delivered just before the kill comes again after the
        // restart; what arrives for the first time must still be in order.
        let mut first = Vec::new();
        for seq in &got {
            if !first.contains(seq) {
                first.push(*seq);
            }
        }
        duplicated += got.len() - first.len();
        assert!(
            first.windows(2).all(|w| w[0] < w[1]),
            "{pair:?} out of order: {got:?}"
        );
    }
    let unacked: usize = ledger.unacked.values().map(Vec::len).sum();
    restarted.kill().unwrap();
    restarted.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "soak with SIGKILL: {clients} clients × {messages} messages: {acked} acknowledged, {lost} lost, {duplicated} duplicated; {unacked} sends failed while the server was down"
    );
    assert_eq!(lost, 0, "acknowledged messages were lost");
    // One kill: at most the one batch (32 messages) each recipient had in
    // flight comes twice.
    assert!(
        duplicated <= clients * 32,
        "{duplicated} duplicates: more than one batch per recipient"
    );
    assert!(unacked > 0, "the kill did not land during the run");
}
