//! Any bytes on a socket to the reference server, written in pieces (so
//! that requests arrive split, and several at once): the server answers or
//! closes, and never panics (a panic in any thread aborts the process,
//! which the fuzzer reports).
#![no_main]

use httpqq_server::{Config, Server};
use libfuzzer_sys::fuzz_target;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::Duration;

fn server() -> SocketAddr {
    // Kept in a static (reachable, so no leak is reported) for the whole run.
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        std::panic::set_hook(Box::new(|info| {
            eprintln!("panic: {info}");
            std::process::abort();
        }));
        let config = Config {
            read_timeout: Duration::from_millis(200),
            ..Config::default()
        };
        let server = Server::start(config).expect("server");
        let addr = server.local_addr();
        // Log in the demo users from this address so that commands reach
        // the handler's deeper paths.
        for uin in 10001..=10005u64 {
            let body = httpqq::codec::encode_request(
                httpqq::Uin::new(uin),
                1,
                &httpqq::Request::Login {
                    password: httpqq::PasswordHash::from_password("demo"),
                },
            );
            exchange(addr, &[format!("POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}", body.len()).as_bytes()]);
        }
        server
    })
    .local_addr()
}

fn exchange(addr: SocketAddr, pieces: &[&[u8]]) {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_nodelay(true);
    for piece in pieces {
        if stream.write_all(piece).is_err() {
            break;
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut sink = Vec::new();
    let _ = stream.read_to_end(&mut sink);
}

fuzz_target!(|data: &[u8]| {
    let addr = server();
    // The first byte chooses how the rest is cut into writes.
    let Some((&cut, rest)) = data.split_first() else {
        return;
    };
    let size = usize::from(cut % 64) + 1;
    let pieces: Vec<&[u8]> = rest.chunks(size).collect();
    exchange(addr, &pieces);
});
