//! TLS, this project's extension: the client and the server over rustls,
//! each failure its own clear error with nothing sent, and proof on the
//! wire that neither the credential nor a message crosses a TLS
//! connection in clear (while both do over plain HTTP, so the check can
//! fail).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use httpqq::{Agent, Client, Error, EventKind, Message, Outcome, Phase, Uin};
use httpqq_server::{Config, Server, TlsCertificate, TlsHandshakes, TlsListen, TlsSource};

const ALICE: Uin = Uin::new(10001);
const BOB: Uin = Uin::new(10002);

fn tls_config(certificate: TlsSource) -> Config {
    Config {
        tls: Some(TlsListen {
            listen: "127.0.0.1:0".parse().unwrap(),
            certificate,
        }),
        ..Config::default()
    }
}

fn tls_server() -> Server {
    Server::start(tls_config(TlsSource::Given(
        TlsCertificate::self_signed().unwrap(),
    )))
    .unwrap()
}

/// A certificate with these names and validity, signed by itself.
fn certificate(names: &[&str], expired: bool) -> TlsCertificate {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let mut params = rcgen::CertificateParams::new(names).unwrap();
    // Each its own name: an issuer is found by name.
    let n = MADE.fetch_add(1, Ordering::SeqCst);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("httpqq test {n}"));
    if expired {
        params.not_before = rcgen::date_time_ymd(2001, 1, 1);
        params.not_after = rcgen::date_time_ymd(2002, 1, 1);
    }
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    TlsCertificate {
        chain_pem: cert.pem().into_bytes(),
        key_pem: zeroize::Zeroizing::new(key.serialize_pem().into_bytes()),
    }
}

fn texts(messages: Vec<Message>) -> Vec<String> {
    messages
        .into_iter()
        .filter_map(|m| match m {
            Message::Text { text, .. } => Some(text),
            _ => None,
        })
        .collect()
}

fn tls_error(error: &Error) -> String {
    match error {
        Error::Transport {
            phase: Phase::Tls,
            message,
            ..
        } => message.clone(),
        other => panic!("not a TLS error: {other:?}"),
    }
}

#[test]
fn a_round_trip_and_kept_connections_over_tls() {
    let server = tls_server();
    let client = server
        .tls_client_builder()
        .unwrap()
        .keep_alive(true)
        .build()
        .unwrap();
    let alice = client.login(ALICE, "demo").unwrap();
    let bob = client.login(BOB, "demo").unwrap();
    alice.send_message(BOB, "你好 & 1+1=2 %26").unwrap();
    assert_eq!(texts(bob.fetch_messages().unwrap()), ["你好 & 1+1=2 %26"]);
    for _ in 0..20 {
        alice.fetch_messages().unwrap();
    }
    // 24 requests over kept connections: far fewer connections.
    assert!(
        server.connections_accepted() <= 3,
        "{} connections",
        server.connections_accepted()
    );
    alice.logout().unwrap();
    bob.logout().unwrap();
}

#[test]
fn a_client_resumes_its_tls_session_on_each_new_connection() {
    let server = tls_server();
    let fresh = |keep_alive| {
        server
            .tls_client_builder()
            .unwrap()
            .keep_alive(keep_alive)
            .build()
            .unwrap()
    };
    // A connection per request: only the first verifies the certificate.
    let alice = fresh(false).login(ALICE, "demo").unwrap();
    for _ in 0..9 {
        alice.fetch_messages().unwrap();
    }
    alice.logout().unwrap();
    assert_eq!(
        server.tls_handshakes(),
        TlsHandshakes {
            full: 1,
            resumed: 10
        }
    );
    // Sessions are kept per client: another client starts in full.
    let bob = fresh(false).login(BOB, "demo").unwrap();
    bob.logout().unwrap();
    assert_eq!(
        server.tls_handshakes(),
        TlsHandshakes {
            full: 2,
            resumed: 11
        }
    );
}

#[test]
fn an_agent_over_tls() {
    let server = tls_server();
    let client = server.tls_client_builder().unwrap().build().unwrap();
    let agent = Agent::builder(&client, BOB, "demo")
        .poll_interval(Duration::from_millis(100))
        .start()
        .unwrap();
    let alice = client.login(ALICE, "demo").unwrap();
    agent.send(ALICE, "hello over TLS").unwrap();
    alice.send_message(BOB, "and back").unwrap();
    let mut got = Vec::new();
    while got.is_empty() {
        let event = agent.next_event_timeout(Duration::from_secs(5)).unwrap();
        if let EventKind::Message(Message::Text { text, .. }) = event.kind {
            got.push(text);
        }
    }
    assert_eq!(got, ["and back"]);
    assert_eq!(texts(alice.fetch_messages().unwrap()), ["hello over TLS"]);
}

#[test]
fn an_unknown_authority_an_expired_certificate_and_a_wrong_name_are_each_refused_with_nothing_sent()
{
    // The test server's own certificate, not trusted (Mozilla's roots).
    let server = tls_server();
    let addr = server.tls_addr().unwrap();
    let untrusted = Client::builder()
        .endpoint(format!("https://{addr}"))
        .build()
        .unwrap();
    let err = untrusted.login(ALICE, "demo").unwrap_err();
    assert!(tls_error(&err).contains("unknown issuer"), "{err}");
    assert_eq!(err.outcome(), Outcome::Refused);
    assert!(err.to_string().contains("tls"), "{err}");

    let expired = certificate(&["127.0.0.1", "localhost"], true);
    let server = Server::start(tls_config(TlsSource::Given(expired.clone()))).unwrap();
    let client = Client::builder()
        .endpoint(format!("https://{}", server.tls_addr().unwrap()))
        .ca_pem(expired.chain_pem.clone())
        .build()
        .unwrap();
    let err = client.login(ALICE, "demo").unwrap_err();
    assert!(tls_error(&err).contains("expired"), "{err}");
    assert_eq!(err.outcome(), Outcome::Refused);

    let elsewhere = certificate(&["qq.example.org"], false);
    let server = Server::start(tls_config(TlsSource::Given(elsewhere.clone()))).unwrap();
    let client = Client::builder()
        .endpoint(format!("https://{}", server.tls_addr().unwrap()))
        .ca_pem(elsewhere.chain_pem.clone())
        .build()
        .unwrap();
    let err = client.login(ALICE, "demo").unwrap_err();
    assert!(tls_error(&err).contains("wrong host name"), "{err}");
    assert_eq!(err.outcome(), Outcome::Refused);
    // None of them reached the server as a request.
    assert_eq!(server.password_checks(), 0);
}

#[test]
fn plain_on_the_tls_port_and_tls_on_the_plain_port_are_told_apart() {
    let server = Server::start(Config {
        request_log: 16,
        ..tls_config(TlsSource::Given(TlsCertificate::self_signed().unwrap()))
    })
    .unwrap();
    // A TLS client on the plain port: the server answers in plain HTTP.
    let on_plain = server
        .tls_client_builder()
        .unwrap()
        .endpoint(format!("https://{}", server.local_addr()))
        .build()
        .unwrap();
    let err = on_plain.login(ALICE, "demo").unwrap_err();
    assert!(tls_error(&err).contains("plain HTTP port"), "{err}");
    assert_eq!(err.outcome(), Outcome::Refused);
    // A plain client on the TLS port: told so in plain HTTP (a 400).
    let on_tls = Client::new(server.tls_addr().unwrap().to_string()).unwrap();
    let err = on_tls.login(ALICE, "demo").unwrap_err();
    assert!(
        matches!(err, Error::Http(httpqq::HttpError::Status { status: 400 })),
        "{err:?}"
    );
    // Neither was taken as a request.
    assert!(server.requests().is_empty(), "{:?}", server.requests());
}

/// A relay between a client and a server that keeps every byte.
struct Relay {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<u8>>>,
}

impl Relay {
    fn to(target: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&seen);
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(server) = TcpStream::connect(target) else {
                    return;
                };
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    let kept = Arc::clone(&kept);
                    thread::spawn(move || {
                        let mut chunk = [0u8; 4096];
                        while let Ok(n) = from.read(&mut chunk) {
                            if n == 0 || to.write_all(&chunk[..n]).is_err() {
                                break;
                            }
                            kept.lock().unwrap().extend_from_slice(&chunk[..n]);
                        }
                        let _ = to.shutdown(std::net::Shutdown::Write);
                    });
                }
            }
        });
        Relay { addr, seen }
    }

    fn saw(&self, needle: &[u8]) -> bool {
        let seen = self.seen.lock().unwrap();
        seen.windows(needle.len()).any(|w| w == needle)
    }
}

#[test]
fn neither_the_credential_nor_a_message_crosses_tls_in_clear() {
    let server = tls_server();
    let md5: String = httpqq::PasswordHash::from_password("demo")
        .md5()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let secret = "the secret plans for Thursday";
    let chat = |client: &Client| {
        let alice = client.login(ALICE, "demo").unwrap();
        alice.send_message(BOB, secret).unwrap();
        alice.logout().unwrap();
    };
    // Plain: both are on the wire (so the relay sees what there is).
    let plain = Relay::to(server.local_addr());
    chat(&Client::new(plain.addr.to_string()).unwrap());
    assert!(plain.saw(format!("PS={md5}").as_bytes()));
    assert!(plain.saw(b"secret%20plans") || plain.saw(b"secret plans"));
    // TLS: neither.
    let tls = Relay::to(server.tls_addr().unwrap());
    let client = server
        .tls_client_builder()
        .unwrap()
        .endpoint(format!("https://{}", tls.addr))
        .build()
        .unwrap();
    chat(&client);
    assert!(!tls.seen.lock().unwrap().is_empty());
    assert!(!tls.saw(md5.as_bytes()), "the MD5 crossed in clear");
    assert!(!tls.saw(b"PS="));
    assert!(!tls.saw(b"secret"));
    assert!(!tls.saw(b"CMD="));
}

/// A certificate and key in files of a folder of their own (removed when
/// dropped), as `--tls-cert` and `--tls-key` read them.
struct CertFiles {
    dir: std::path::PathBuf,
    chain: std::path::PathBuf,
    key: std::path::PathBuf,
}

impl CertFiles {
    fn new(name: &str) -> CertFiles {
        let dir = std::env::temp_dir().join(format!("httpqq-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (chain, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        CertFiles { dir, chain, key }
    }

    fn write(&self, c: &TlsCertificate) {
        std::fs::write(&self.chain, &c.chain_pem).unwrap();
        std::fs::write(&self.key, &*c.key_pem).unwrap();
    }
}

impl Drop for CertFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn the_certificate_is_reloaded_under_load_without_losing_a_request() {
    let files = CertFiles::new("tls");
    let write = |c: &TlsCertificate| files.write(c);
    let (chain, key) = (&files.chain, &files.key);
    let (old, new) = (
        certificate(&["127.0.0.1"], false),
        certificate(&["127.0.0.1"], false),
    );
    write(&old);
    let server = Server::start(tls_config(TlsSource::Files {
        chain: chain.clone(),
        key: key.clone(),
    }))
    .unwrap();
    let endpoint = format!("https://{}", server.tls_addr().unwrap());
    let trusting = |pem: Vec<u8>| {
        Client::builder()
            .endpoint(endpoint.clone())
            .ca_pem(pem)
            .build()
            .unwrap()
    };
    let only_new = trusting(new.chain_pem.clone());
    let before = only_new.login(ALICE, "demo").unwrap_err();
    assert!(tls_error(&before).contains("unknown issuer"), "{before}");
    // Load: new connections all along, trusting both.
    let both = trusting([old.chain_pem.clone(), new.chain_pem.clone()].concat());
    let session = both.login(ALICE, "demo").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            let mut done = 0;
            while !stop.load(Ordering::SeqCst) {
                session
                    .fetch_messages()
                    .expect("a request lost to the reload");
                done += 1;
            }
            done
        })
    };
    thread::sleep(Duration::from_millis(200));
    write(&new);
    server.reload_tls().unwrap();
    thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::SeqCst);
    assert!(load.join().unwrap() > 0);
    // New connections get the new certificate.
    only_new.login(ALICE, "demo").unwrap();
    // A broken file: refused, the current certificate stays.
    std::fs::write(key, b"not a key").unwrap();
    assert!(server.reload_tls().is_err());
    only_new.login(ALICE, "demo").unwrap();
}

#[test]
fn login_requires_tls_refuses_a_plain_login_from_another_machine_only() {
    // The server sees this machine's own non-loopback address as
    // another's; without one, only the loopback half can be shown.
    let outward = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("192.0.2.1:9").map(|()| s))
        .and_then(|s| s.local_addr())
        .map(|a| a.ip())
        .ok()
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified());
    let server = Server::start(Config {
        listen: "0.0.0.0:0".parse().unwrap(),
        login_requires_tls: true,
        ..tls_config(TlsSource::Given(TlsCertificate::self_signed().unwrap()))
    })
    .unwrap();
    let port = server.local_addr().port();
    // From loopback, plain is allowed (a local bot, a health check).
    let local = Client::new(format!("127.0.0.1:{port}")).unwrap();
    local.login(ALICE, "demo").unwrap().logout().unwrap();
    // Over TLS, allowed.
    let tls = server.tls_client_builder().unwrap().build().unwrap();
    tls.login(ALICE, "demo").unwrap().logout().unwrap();
    let Some(ip) = outward else {
        eprintln!("no non-loopback address here: the refusal is not shown");
        return;
    };
    let checks = server.password_checks();
    let remote = Client::new(format!("{ip}:{port}")).unwrap();
    match remote.login(ALICE, "demo") {
        Err(Error::LoginFailed { reason, .. }) => {
            assert!(reason.contains("requires TLS"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.password_checks(), checks, "refused before any hash");
}

#[test]
#[cfg(unix)] // SIGHUP: Windows has no signals to reload on.
fn the_command_serves_tls_and_reloads_its_certificate_on_sighup() {
    use std::io::BufRead;
    let files = CertFiles::new("tls-cli");
    let write = |c: &TlsCertificate| files.write(c);
    let (chain, key) = (&files.chain, &files.key);
    let (old, new) = (
        certificate(&["127.0.0.1"], false),
        certificate(&["127.0.0.1"], false),
    );
    write(&old);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_httpqq-server"))
        .args(["--demo", "--fast-hashing", "--listen", "127.0.0.1:0"])
        .args(["--tls-listen", "127.0.0.1:0", "--tls-cert"])
        .arg(chain)
        .arg("--tls-key")
        .arg(key)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut tls_addr = None;
    for line in lines.by_ref().take(2) {
        let line = line.unwrap();
        if let Some(addr) = line.strip_prefix("httpqq-server listening with TLS on ") {
            tls_addr = Some(addr.to_owned());
        }
    }
    let endpoint = format!("https://{}", tls_addr.expect("the TLS address is printed"));
    let trusting = |c: &TlsCertificate| {
        Client::builder()
            .endpoint(endpoint.clone())
            .ca_pem(c.chain_pem.clone())
            .build()
            .unwrap()
    };
    trusting(&old).login(ALICE, "demo").unwrap();
    assert!(trusting(&new).login(ALICE, "demo").is_err());
    write(&new);
    // SAFETY: kill(2) with the child's pid and a valid signal number.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGHUP) };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while trusting(&new).login(ALICE, "demo").is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "not reloaded on SIGHUP"
        );
        thread::sleep(Duration::from_millis(100));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGHUP ended the server"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
