//! Rows 1 and 2: one GetMsgEx round trip (empty queue) from the Rust client
//! to the in-process server, against a minimal raw-TCP client writing the
//! identical request bytes, with a new connection per request and with one
//! kept-alive connection.

use crate::measure::{paired, Paired};
use httpqq::{Client, Uin};
use httpqq_server::{Config, Server};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// The exact bytes the client sends for one GetMsgEx, caught by a listener
/// that answers nothing.
fn captured_request(keep_alive: bool, uin: Uin) -> Vec<u8> {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let catcher = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        stream
            .set_read_timeout(Some(Duration::from_millis(300)))
            .expect("timeout");
        let mut bytes = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            bytes.extend_from_slice(&buf[..n]);
            if complete(&bytes) {
                break;
            }
        }
        bytes
    });
    let client = client(addr, keep_alive);
    let _ = client.call(uin, &httpqq::Request::FetchMessages);
    catcher.join().expect("catcher")
}

/// Whether `bytes` hold a whole request or reply (head + Content-Length).
fn complete(bytes: &[u8]) -> bool {
    let Some(head_end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    bytes.len() >= head_end + 4 + content_length(&bytes[..head_end])
}

fn content_length(head: &[u8]) -> usize {
    String::from_utf8_lossy(head)
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0)
}

fn client(addr: SocketAddr, keep_alive: bool) -> Client {
    Client::builder()
        .endpoint(addr.to_string())
        .keep_alive(keep_alive)
        .build()
        .expect("client")
}

/// The raw client: connect, write, read to EOF.
fn raw_once(addr: SocketAddr, request: &[u8], buf: &mut Vec<u8>) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    stream.write_all(request).expect("write");
    buf.clear();
    stream.read_to_end(buf).expect("read");
    assert!(
        buf.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(buf)
    );
}

/// The raw client on a kept connection: write, read one reply.
fn raw_kept(stream: &mut TcpStream, request: &[u8], buf: &mut Vec<u8>) {
    stream.write_all(request).expect("write");
    buf.clear();
    let mut chunk = [0u8; 4096];
    while !complete(buf) {
        let n = stream.read(&mut chunk).expect("read");
        assert!(n > 0, "the server closed a kept connection");
        buf.extend_from_slice(&chunk[..n]);
    }
}

pub struct RoundTrips {
    pub close: Paired,
    pub keep_alive: Paired,
}

pub fn run(rounds: u32, iterations: u32) -> RoundTrips {
    let server = Server::start(Config::default()).expect("server");
    let addr = server.local_addr();
    let uin = Uin::new(10001);
    let mut buf = Vec::with_capacity(4096);

    let closing = client(addr, false);
    let session = closing.login(uin, "demo").expect("login");
    let request = captured_request(false, uin);
    let close = paired(
        rounds,
        iterations,
        || raw_once(addr, &request, &mut buf),
        || {
            session.fetch_messages().expect("GetMsgEx");
        },
    );

    let keeping = client(addr, true);
    let session = keeping.login(uin, "demo").expect("login");
    let request = captured_request(true, uin);
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let keep_alive = paired(
        rounds,
        iterations,
        || raw_kept(&mut stream, &request, &mut buf),
        || {
            session.fetch_messages().expect("GetMsgEx");
        },
    );
    server.stop();
    RoundTrips { close, keep_alive }
}
