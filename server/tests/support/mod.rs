//! Helpers for the server tests: a raw HTTP exchange (so replies can be
//! checked byte for byte) and the accounts that reproduce the field notes.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use httpqq::Client;
use httpqq_server::{Accounts, Config, Server, ServerError};

/// A server with the demo accounts and the test's settings, and a client
/// of it (10 s timeout).
pub fn demo(change: impl FnOnce(&mut Config)) -> (Server, Client) {
    let mut config = Config::default();
    change(&mut config);
    let server = Server::start(config).unwrap();
    let client = Client::builder()
        .endpoint(server.local_addr().to_string())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    (server, client)
}

/// A fresh folder, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("httpqq-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// A server (demo accounts) keeping its state in `file` in the folder.
    pub fn start(&self, file: &str) -> Result<Server, ServerError> {
        Server::start(Config {
            state: Some(self.0.join(file)),
            ..Config::default()
        })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Starts the `httpqq-server` command with `args` and waits until it
/// listens; its address (from the line it prints). Its standard error is
/// the test's.
pub fn command<I, S>(args: I) -> (Child, SocketAddr)
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    spawn(args, Stdio::inherit())
}

/// As [`command`], with its standard error in a pipe for the test to read
/// (only for a command that ends soon: nobody drains the pipe meanwhile).
pub fn command_capturing<I, S>(args: I) -> (Child, SocketAddr)
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    spawn(args, Stdio::piped())
}

fn spawn<I, S>(args: I, stderr: Stdio) -> (Child, SocketAddr)
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut child = Command::new(env!("CARGO_BIN_EXE_httpqq-server"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("listening on"), "{line:?}");
    let addr = line.trim().rsplit(' ').next().unwrap().parse().unwrap();
    (child, addr)
}

pub const HEAD: &str =
    "HTTP/1.1 200 OK\r\nServer: tencent imserver/1.0.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: ";

/// The notes' accounts: 106814 ("Hackfan 好", full profile, friends
/// 3814526, 36791785, 99833581) and those three, password "secret".
pub fn notes_accounts() -> Accounts {
    let mut accounts = Accounts::parse(include_str!("../../accounts.example.toml")).unwrap();
    let hackfan = accounts
        .accounts
        .iter_mut()
        .find(|a| a.uin == 106814)
        .unwrap();
    hackfan.friends = vec![3814526, 36791785, 99833581];
    hackfan.add_policy = httpqq_server::AddPolicy::Allow;
    let friend = accounts
        .accounts
        .iter_mut()
        .find(|a| a.uin == 3814526)
        .unwrap();
    friend.password = Some("secret".into());
    friend.friends = vec![106814];
    for uin in [36791785, 99833581] {
        accounts
            .accounts
            .push(httpqq_server::Account::new(uin, "secret", "Other"));
    }
    accounts.accounts[3].add_policy = httpqq_server::AddPolicy::Verify;
    accounts.accounts[1].add_policy = httpqq_server::AddPolicy::Refuse;
    accounts
}

pub fn notes_server() -> Server {
    server_with(|_| {})
}

pub fn server_with(change: impl FnOnce(&mut Config)) -> Server {
    let mut config = Config {
        accounts: notes_accounts(),
        ..Config::default()
    };
    change(&mut config);
    Server::start(config).unwrap()
}

/// The MD5 the notes' password "secret" is sent as.
pub const SECRET_MD5: &str = "5ebe2294ecd0e0f08eab7690d2a6ee69";

pub fn login_body(uin: u64) -> String {
    format!("VER=1.1&CMD=Login&SEQ=4321&UIN={uin}&PS={SECRET_MD5}&M5=1&LC=9326B87B234E7235")
}

/// Sends raw bytes on a new connection and reads until the server closes.
pub fn raw(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).unwrap();
    exchange_on(&mut stream, bytes)
}

fn exchange_on(stream: &mut TcpStream, bytes: &[u8]) -> Vec<u8> {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    out
}

/// A well-formed request for `body`, `Connection: close`.
pub fn request(body: &str) -> Vec<u8> {
    format!(
        "POST / HTTP/1.1\r\nHost: tqq.tencent.com:8000\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Posts `body` and returns the reply body, checking the reply head is
/// exactly the original's. An empty string is the NULL.
pub fn post(addr: SocketAddr, body: &str) -> String {
    split_reply(&raw(addr, &request(body)))
}

/// Like [`post`], from another loopback address.
pub fn post_from(ip: IpAddr, addr: SocketAddr, body: &str) -> String {
    let mut stream = connect_from(ip, addr).expect("connect");
    split_reply(&exchange_on(&mut stream, &request(body)))
}

/// A connection to `addr` from another loopback address (127.0.0.x).
pub fn connect_from(ip: IpAddr, addr: SocketAddr) -> Option<TcpStream> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).ok()?;
    socket.bind(&SocketAddr::new(ip, 0).into()).ok()?;
    socket.connect(&addr.into()).ok()?;
    Some(socket.into())
}

/// Checks one whole reply and returns its body ("" for no bytes at all).
pub fn split_reply(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return String::new();
    }
    let text = String::from_utf8(bytes.to_vec()).expect("reply is UTF-8");
    let rest = text
        .strip_prefix(HEAD)
        .unwrap_or_else(|| panic!("reply head differs: {text:?}"));
    let (length, body) = rest.split_once("\r\n\r\n").expect("end of head");
    assert_eq!(
        length.parse::<usize>().unwrap(),
        body.len(),
        "Content-Length of {body:?}"
    );
    body.to_owned()
}
