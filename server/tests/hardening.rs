//! The holes an attack review found in the reference server, each a test
//! that fails without its fix: a pipelined flood, a failed write, limits
//! that enqueueing commands escaped, idle sockets that kept others out, a
//! lockout that locked out the owner, a state file that started empty, a
//! lax Content-Length. And the database: private, checked, no secrets,
//! one server's at a time, never lost without a word (Round 2).

mod support;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use httpqq::codec::QUEUE_FULL;
use httpqq::{Client, Error, Message, Uin};
use httpqq_server::{Config, RateLimit, Server, ServerError};
use support::{
    command, connect_from, demo, login_body, post, post_from, raw, request, split_reply, Scratch,
};

/// The command (demo accounts, cheap hashes) on the database `state`.
fn command_on(state: &std::path::Path) -> (std::process::Child, SocketAddr) {
    command([
        "--listen".as_ref(),
        "127.0.0.1:0".as_ref(),
        "--fast-hashing".as_ref(),
        "--state".as_ref(),
        state.as_os_str(),
    ])
}

const ALICE: Uin = Uin::new(10001);
const BOB: Uin = Uin::new(10002);
const CAROL: Uin = Uin::new(10003);
const ERIN: Uin = Uin::new(10005);

#[test]
fn four_pipelining_connections_do_not_freeze_other_clients() {
    let (server, client) = demo(|_| {});
    let addr = server.local_addr();
    let alice = client.login(ALICE, "demo").unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let one = request("VER=1.1&CMD=GetMsgEx&SEQ=1&UIN=10003")
        .into_iter()
        .filter(|_| true)
        .collect::<Vec<u8>>();
    // Keep-alive, pipelined: 2,000 requests per write, replies drained.
    let burst: Vec<u8> = String::from_utf8(one)
        .unwrap()
        .replace("Connection: close\r\n", "")
        .repeat(2000)
        .into_bytes();
    let flooders: Vec<_> = (0..4)
        .map(|_| {
            let (burst, stop) = (burst.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut stream = TcpStream::connect(addr).unwrap();
                let mut reader = stream.try_clone().unwrap();
                std::thread::spawn(move || {
                    let mut sink = vec![0u8; 1 << 16];
                    while matches!(reader.read(&mut sink), Ok(n) if n > 0) {}
                });
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    if stream.write_all(&burst).is_err() {
                        break;
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut slowest = Duration::ZERO;
    for _ in 0..30 {
        let started = Instant::now();
        alice.fetch_messages().unwrap();
        slowest = slowest.max(started.elapsed());
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    drop(server);
    for flooder in flooders {
        let _ = flooder.join();
    }
    // Unfair, the probe waited for a flood's whole length (7 s in the review).
    assert!(
        slowest < Duration::from_millis(500),
        "a probe waited {slowest:?}"
    );
}

#[test]
fn a_failed_write_changes_nothing_and_loses_nothing() {
    let (server, client) = demo(|_| {});
    let alice = client.login(ALICE, "demo").unwrap();
    let bob = client.login(BOB, "demo").unwrap();
    alice.add_friend(ERIN).unwrap();
    for n in 0..3 {
        alice
            .send_message(BOB, &format!("before the outage {n}"))
            .unwrap();
    }
    server.fail_storage(true);
    // A poll that would take (and mark) a batch gets the NULL…
    assert!(matches!(bob.fetch_messages(), Err(Error::NoReply)));
    // …a send too; and a login that would tell a friend (Alice lists Erin)
    // creates no session.
    assert!(matches!(
        alice.send_message(BOB, "lost?"),
        Err(Error::NoReply)
    ));
    assert!(matches!(client.login(ERIN, "demo"), Err(Error::NoReply)));
    // What changes nothing stored still works.
    assert_eq!(alice.friends().unwrap(), [BOB, ERIN]);
    server.fail_storage(false);
    alice.send_message(BOB, "later").unwrap();
    let texts: Vec<String> = bob
        .fetch_messages()
        .unwrap()
        .iter()
        .filter(|m| matches!(m, Message::Text { .. }))
        .map(|m| m.content().into_owned())
        .collect();
    assert_eq!(
        texts,
        [
            "before the outage 0",
            "before the outage 1",
            "before the outage 2",
            "later"
        ]
    );
    let list = format!("VER=1.1&CMD=List&SEQ=1&UIN={ERIN}&TN=0&UN=0");
    assert!(
        post(server.local_addr(), &list).ends_with("&RES=20"),
        "no session was created"
    );
}

#[test]
fn verification_requests_are_held_to_the_senders_limit_and_the_recipients_caps() {
    let (_server, client) = demo(|c| {
        c.send_limit = RateLimit {
            count: 3,
            window: Duration::from_secs(60),
        };
        c.max_queued_bytes = 1000;
    });
    let alice = client.login(ALICE, "demo").unwrap();
    let big = "x".repeat(600);
    alice.request_verification(CAROL, &big).unwrap();
    // The recipient's bytes cap: its own answer.
    match alice.request_verification(CAROL, &big) {
        Err(Error::Throttled { reason, .. }) => assert_eq!(reason.as_deref(), Some(QUEUE_FULL)),
        other => panic!("{other:?}"),
    }
    // The sender's rate limit counts CLTMSG and Ack_AddToList together.
    alice.send_message(BOB, "one").unwrap();
    match alice.request_verification(CAROL, "short") {
        Err(Error::Throttled { reason, .. }) => assert_eq!(reason, None),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        alice.send_message(BOB, "two"),
        Err(Error::Throttled { .. })
    ));
}

#[test]
fn login_churn_leaves_one_status_notice_per_friend() {
    let (_server, client) = demo(|_| {});
    let bob = client.login(BOB, "demo").unwrap();
    for _ in 0..200 {
        client.login(ALICE, "demo").unwrap().logout().unwrap();
    }
    let notices: Vec<Message> = bob
        .fetch_messages()
        .unwrap()
        .into_iter()
        .filter(|m| m.sender() == ALICE)
        .collect();
    assert_eq!(
        notices,
        [Message::StatusChange {
            from: ALICE,
            status: httpqq::Status::Offline
        }],
        "only the latest"
    );
}

#[test]
fn a_full_queue_has_its_own_answer() {
    let (server, client) = demo(|c| c.max_queued_messages = 2);
    let alice = client.login(ALICE, "demo").unwrap();
    alice.send_message(Uin::new(10005), "1").unwrap();
    alice.send_message(Uin::new(10005), "2").unwrap();
    let login = login_body(10001).replace(
        "5ebe2294ecd0e0f08eab7690d2a6ee69",
        "fe01ce2a7fbac8fafaed7c982a04e229",
    );
    assert!(post(server.local_addr(), &login).contains("RS=0"));
    let reply = post(
        server.local_addr(),
        "VER=1.1&CMD=CLTMSG&SEQ=9&UIN=10001&UN=10005&MG=3",
    );
    assert_eq!(
        reply,
        "VER=1.1&CMD=CLTMSG&SEQ=9&UIN=10001&RES=3&RA=the recipient's queue is full"
    );
    match alice.send_message(Uin::new(10005), "3") {
        Err(Error::Throttled {
            reason: Some(reason),
            ..
        }) => assert_eq!(reason, QUEUE_FULL),
        other => panic!("{other:?}"),
    }
}

#[test]
fn idle_sockets_from_other_addresses_cannot_keep_a_client_out() {
    let (server, client) = demo(|c| {
        c.max_connections = 64;
        c.max_connections_per_ip = 16;
        c.read_timeout = Duration::from_secs(60);
    });
    let addr = server.local_addr();
    let attackers: Vec<IpAddr> = (2..6)
        .map(|n| IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)))
        .collect();
    let mut held: Vec<(IpAddr, TcpStream)> = attackers
        .iter()
        .flat_map(|&ip| (0..16).filter_map(move |_| connect_from(ip, addr).map(|s| (ip, s))))
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    let mut served = 0;
    for _ in 0..10 {
        // The attackers reopen what was closed.
        for (ip, stream) in held.iter_mut() {
            stream.set_nonblocking(true).unwrap();
            let closed = !matches!(stream.read(&mut [0u8; 8]), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
            if closed {
                if let Some(again) = connect_from(*ip, addr) {
                    *stream = again;
                }
            }
        }
        match client.login(ALICE, "demo") {
            Ok(_) => served += 1,
            Err(e) => eprintln!("DEBUG login failed: {e:?}"),
        }
    }
    assert_eq!(served, 10, "a client on another address was kept out");
}

#[test]
fn guessing_from_one_address_does_not_lock_out_the_owner() {
    let (server, _client) = demo(|_| {});
    let addr = server.local_addr();
    let guesser = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 66));
    let wrong = "VER=1.1&CMD=Login&SEQ=1&UIN=10003&PS=00000000000000000000000000000000&M5=1&LC=9326B87B234E7235";
    for _ in 0..20 {
        post_from(guesser, addr, wrong);
    }
    assert!(
        post_from(guesser, addr, wrong).ends_with("&RES=3"),
        "the guesser is locked out"
    );
    let right = wrong.replace(
        "00000000000000000000000000000000",
        "fe01ce2a7fbac8fafaed7c982a04e229",
    );
    assert!(
        post(addr, &right).ends_with("&RS=0&HI=60&LI=300"),
        "the owner is not"
    );
}

#[test]
fn content_length_must_be_digits() {
    let (server, _client) = demo(|_| {});
    let body = "VER=1.1&CMD=Logout&SEQ=1&UIN=10001";
    let plus = format!(
        "POST / HTTP/1.1\r\nContent-Length: +{}\r\n\r\n{body}",
        body.len()
    );
    assert_eq!(raw(server.local_addr(), plus.as_bytes()), b"");
    assert!(split_reply(&raw(server.local_addr(), &request(body))).ends_with("&RES=0"));
}

#[test]
fn an_empty_database_file_is_refused_rather_than_started_empty() {
    let dir = Scratch::new("hardening-empty");
    std::fs::write(dir.0.join("state.db"), b"").unwrap();
    match dir.start("state.db") {
        Err(ServerError::Database { reason, .. }) => assert!(reason.contains("empty"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_truncated_database_is_refused() {
    let dir = Scratch::new("hardening-truncated");
    {
        let server = Server::start(Config {
            state: Some(dir.0.join("state.db")),
            accounts: httpqq_server::Accounts {
                accounts: (0..3000)
                    .map(|n| httpqq_server::Account::new(100_000 + n, "pw", &"nickname ".repeat(7)))
                    .collect(),
            },
            ..Config::default()
        })
        .unwrap();
        server.stop();
    }
    let path = dir.0.join("state.db");
    let _ = std::fs::remove_file(dir.0.join("state.db-wal"));
    let len = std::fs::metadata(&path).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(len / 2).unwrap();
    match dir.start("state.db") {
        Err(ServerError::Database { reason, .. }) => {
            assert!(reason.contains("damaged"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_old_state_file_is_refused_with_how_to_import_it() {
    let dir = Scratch::new("hardening-toml");
    std::fs::write(
        dir.0.join("state.toml"),
        "[[account]]\nuin = 1\npassword = \"a\"\n",
    )
    .unwrap();
    match dir.start("state.toml") {
        Err(ServerError::Database { reason, .. }) => {
            assert!(reason.contains("import-state"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_database_named_like_a_temporary_file_survives_restarts() {
    let dir = Scratch::new("hardening-tmp");
    {
        let server = dir.start("state.tmp").unwrap();
        let client = Client::new(server.local_addr().to_string()).unwrap();
        client
            .login(ALICE, "demo")
            .unwrap()
            .send_message(BOB, "kept")
            .unwrap();
    }
    let server = dir.start("state.tmp").unwrap();
    let client = Client::new(server.local_addr().to_string()).unwrap();
    let got = client.login(BOB, "demo").unwrap().fetch_messages().unwrap();
    assert!(got.iter().any(|m| m.content() == "kept"), "{got:?}");
}

#[test]
fn the_database_is_private_and_holds_no_usable_secret() {
    let dir = Scratch::new("hardening-private");
    let server = dir.start("state.db").unwrap();
    let client = Client::new(server.local_addr().to_string()).unwrap();
    client
        .login(ALICE, "demo")
        .unwrap()
        .send_message(BOB, "hello")
        .unwrap();
    server.stop();
    let path = dir.0.join("state.db");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend(std::fs::read(dir.0.join("state.db-wal")).unwrap_or_default());
    let md5 = httpqq::PasswordHash::from_password("demo");
    let find = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(!find(md5.to_md5_hex().as_bytes()), "the MD5 as hex");
    assert!(
        !find(md5.to_md5_hex().to_uppercase().as_bytes()),
        "the MD5 as HEX"
    );
    assert!(!find(md5.md5()), "the MD5's bytes");
    assert!(find(b"$argon2id$"), "salted slow hashes");
}

#[test]
fn an_interrupted_server_keeps_every_acknowledged_message() {
    // A crash between commits (SIGKILL): whatever was acknowledged is in
    // the file.
    let dir = Scratch::new("hardening-crash");
    let state = dir.0.join("state.db");
    let (mut child, addr) = command_on(&state);
    let client = Client::new(addr.to_string()).unwrap();
    let alice = client.login(ALICE, "demo").unwrap();
    for n in 0..50 {
        alice.send_message(BOB, &format!("m{n}")).unwrap();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let again = Server::start(Config {
        state: Some(dir.0.join("state.db")),
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..Config::default()
    })
    .unwrap();
    let client = Client::new(again.local_addr().to_string()).unwrap();
    let bob = client.login(BOB, "demo").unwrap();
    let mut got = Vec::new();
    loop {
        let batch = bob.fetch_messages().unwrap();
        if batch.is_empty() {
            break;
        }
        got.extend(
            batch
                .into_iter()
                .filter(|m| matches!(m, Message::Text { .. }))
                .map(|m| m.content().into_owned()),
        );
    }
    assert_eq!(got, (0..50).map(|n| format!("m{n}")).collect::<Vec<_>>());
}

#[test]
fn a_second_server_on_a_database_in_use_is_refused_naming_the_first() {
    let dir = Scratch::new("hardening-second");
    let first = dir.start("qq.db").unwrap();
    match dir.start("qq.db") {
        Err(ServerError::Database { reason, .. }) => {
            assert!(reason.contains("in use by another server"), "{reason}");
            assert!(
                reason.contains(&format!("listening on {}", first.local_addr())),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    // The command too, with the message and a failure status.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_httpqq-server"))
        .args(["--listen", "127.0.0.1:0", "--state"])
        .arg(dir.0.join("qq.db"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("in use by another server"));
    // Administration goes on beside it.
    let listed = std::process::Command::new(env!("CARGO_BIN_EXE_httpqq-server"))
        .args(["accounts", "--state"])
        .arg(dir.0.join("qq.db"))
        .arg("list")
        .output()
        .unwrap();
    assert!(listed.status.success());
    first.stop();
    dir.start("qq.db").unwrap();
}

/// A server on `dir`'s qq.db, and Alice logged in to it with a message
/// already acknowledged (so written to the database).
fn serving_alice(dir: &Scratch) -> (Server, httpqq::Session) {
    let server = dir.start("qq.db").unwrap();
    let client = Client::new(server.local_addr().to_string()).unwrap();
    let alice = client.login(ALICE, "demo").unwrap();
    alice.send_message(BOB, "before").unwrap();
    (server, alice)
}

// Unix: there a file in use can be deleted. Windows refuses it (the next
// test), so no server there acknowledges into a deleted file.
#[test]
#[cfg(unix)]
fn a_database_deleted_under_a_running_server_stops_its_acknowledgements() {
    let dir = Scratch::new("hardening-deleted");
    let (server, alice) = serving_alice(&dir);
    std::fs::remove_file(dir.0.join("qq.db")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    while server.fault().is_none() {
        assert!(Instant::now() < deadline, "not noticed");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(server.fault().unwrap().contains("deleted"));
    // Nothing is acknowledged into the unlinked file any more.
    assert!(matches!(
        alice.send_message(BOB, "after"),
        Err(Error::NoReply)
    ));
}

#[test]
#[cfg(windows)]
fn windows_refuses_to_delete_or_replace_the_database_of_a_running_server() {
    let dir = Scratch::new("hardening-deleted-windows");
    let (server, alice) = serving_alice(&dir);
    let db = dir.0.join("qq.db");
    assert!(std::fs::remove_file(&db).is_err(), "deleted while in use");
    let other = dir.0.join("other.db");
    std::fs::write(&other, b"x").unwrap();
    assert!(
        std::fs::rename(&other, &db).is_err(),
        "replaced while in use"
    );
    alice.send_message(BOB, "after").unwrap();
    assert!(server.fault().is_none());
}

#[test]
#[cfg(unix)]
fn the_command_exits_with_a_failure_when_its_database_is_deleted() {
    let dir = Scratch::new("hardening-deleted-command");
    let state = dir.0.join("qq.db");
    let (mut child, _addr) = support::command_capturing([
        "--listen".as_ref(),
        "127.0.0.1:0".as_ref(),
        "--fast-hashing".as_ref(),
        "--state".as_ref(),
        state.as_os_str(),
    ]);
    std::fs::remove_file(&state).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "still running");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(1));
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.contains("was deleted while the server ran"),
        "{stderr}"
    );
}

#[test]
fn a_missing_write_ahead_log_is_named_as_such() {
    let dir = Scratch::new("hardening-wal");
    let state = dir.0.join("qq.db");
    // Killed at once: everything it wrote is still in the log.
    let (mut child, _addr) = command_on(&state);
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::remove_file(dir.0.join("qq.db-wal")).unwrap();
    match dir.start("qq.db") {
        Err(ServerError::Database { reason, .. }) => {
            assert!(reason.contains("write-ahead log"), "{reason}");
            assert!(reason.contains("qq.db-wal"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_changed_password_ends_the_session_and_the_old_one_is_refused() {
    let (server, client) = demo(|_| {});
    let alice = client.login(ALICE, "demo").unwrap();
    assert!(server.change_password(ALICE, "new"));
    assert!(matches!(alice.fetch_messages(), Err(Error::NotLoggedIn)));
    assert!(matches!(
        client.login(ALICE, "demo"),
        Err(Error::LoginFailed { .. })
    ));
    client.login(ALICE, "new").unwrap();
}

#[cfg(target_os = "linux")]
#[test]
fn the_command_cannot_dump_core_unless_allowed() {
    let hard_core_limit = |extra: &[&str]| {
        let (mut child, _addr) = command(
            ["--listen", "127.0.0.1:0", "--demo"]
                .iter()
                .chain(extra)
                .collect::<Vec<_>>(),
        );
        let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        let line = limits
            .lines()
            .find(|l| l.starts_with("Max core file size"))
            .unwrap()
            .to_owned();
        line.split_whitespace().nth(5).unwrap().to_owned()
    };
    assert_eq!(hard_core_limit(&[]), "0");
    // The administration command too, while it waits for a password.
    let dir = Scratch::new("hardening-dump");
    let mut passwd = std::process::Command::new(env!("CARGO_BIN_EXE_httpqq-server"))
        .args(["accounts", "--state"])
        .arg(dir.0.join("qq.db"))
        .args(["add", "10009"])
        .env_remove("HTTPQQ_PASSWORD")
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", passwd.id())).unwrap();
    passwd.kill().unwrap();
    passwd.wait().unwrap();
    assert!(
        limits.lines().any(
            |l| l.starts_with("Max core file size") && l.split_whitespace().nth(5) == Some("0")
        ),
        "{limits}"
    );
    // (Where the machine allows core dumps at all.)
    let mine = std::fs::read_to_string("/proc/self/limits").unwrap();
    if !mine
        .lines()
        .any(|l| l.starts_with("Max core file size") && l.split_whitespace().nth(5) == Some("0"))
    {
        assert_ne!(hard_core_limit(&["--allow-core-dumps"]), "0");
    }
}

/// Every place a process at `pid` can write to, read through /proc.
#[cfg(target_os = "linux")]
fn writable_memory(pid: u32) -> Vec<Vec<u8>> {
    use std::io::Seek;
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let mut mem = std::fs::File::open(format!("/proc/{pid}/mem")).unwrap();
    maps.lines()
        .filter(|line| {
            line.split_whitespace()
                .nth(1)
                .is_some_and(|p| p.starts_with("rw"))
        })
        .filter_map(|line| {
            let (start, end) = line.split_whitespace().next()?.split_once('-')?;
            let start = u64::from_str_radix(start, 16).ok()?;
            let end = u64::from_str_radix(end, 16).ok()?;
            let mut region = vec![0u8; usize::try_from(end - start).ok()?];
            mem.seek(std::io::SeekFrom::Start(start)).ok()?;
            mem.read_exact(&mut region).ok()?;
            Some(region)
        })
        .collect()
}

#[cfg(target_os = "linux")]
#[test]
fn logged_in_users_credentials_are_not_kept_in_the_servers_memory() {
    // Round 2, finding 11: a core dump held logged-in users' MD5s (the
    // credential itself). Read the memory as a dump would have it.
    let (mut child, addr) = command(["--listen", "127.0.0.1:0", "--demo", "--allow-core-dumps"]);
    let client = Client::new(addr.to_string()).unwrap();
    let alice = client.login(ALICE, "demo").unwrap();
    alice.fetch_messages().unwrap();
    client.login(BOB, "demo").unwrap();
    // Alice again: the fast path of her last good login.
    client.login(ALICE, "demo").unwrap();
    let md5 = httpqq::PasswordHash::from_password("demo");
    let hex = md5.to_md5_hex();
    let memory = writable_memory(child.id());
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        memory.iter().map(Vec::len).sum::<usize>() > 1 << 20,
        "the memory was read"
    );
    let upper = hex.to_ascii_uppercase();
    for region in &memory {
        let found = |needle: &[u8]| memchr::memmem::find(region, needle).is_some();
        assert!(!found(md5.md5()), "the MD5's bytes");
        assert!(
            !found(hex.as_bytes()) && !found(upper.as_bytes()),
            "the MD5 as hex"
        );
    }
}
