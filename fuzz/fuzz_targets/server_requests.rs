//! Request bodies, with a database behind the server: any bytes as the body
//! of a request from a logged-in user's address, handled as the event loops
//! would handle it, with every change committed to an SQLite file. The
//! server answers or gives the NULL and never panics (a panic in any
//! thread aborts the process, which the fuzzer reports), and the users'
//! sessions keep working after each input.
#![no_main]

use httpqq::codec::{decode_reply, encode_request};
use httpqq::{PasswordHash, Request, Uin};
use httpqq_server::{Config, Server};
use libfuzzer_sys::fuzz_target;
use std::net::IpAddr;
use std::sync::OnceLock;

const PEER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

fn server() -> &'static Server {
    // Kept in a static (reachable, so no leak is reported) for the whole run.
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        std::panic::set_hook(Box::new(|info| {
            eprintln!("panic: {info}");
            std::process::abort();
        }));
        let dir = std::env::temp_dir().join(format!("httpqq-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch folder");
        let server = Server::start(Config {
            state: Some(dir.join("qq.db")),
            ..Config::default()
        })
        .expect("server");
        for uin in 10001..=10005u64 {
            log_in(&server, uin);
        }
        server
    })
}

fn log_in(server: &Server, uin: u64) {
    let login = Request::Login {
        password: PasswordHash::from_password("demo"),
    };
    let body = encode_request(Uin::new(uin), 1, &login);
    server.answer_body(PEER, body.as_bytes(), false);
}

fuzz_target!(|data: &[u8]| {
    let server = server();
    let (form, body) = match data.split_first() {
        Some((first, rest)) => (first & 1 == 1, rest),
        None => (false, data),
    };
    server.answer_body(PEER, body, form);
    // Whatever the input did (a logout, a status, a removed friend), a
    // poll is answered: log in again if it ended the session.
    let poll = encode_request(Uin::new(10002), 7, &Request::FetchMessages);
    let answered = server.answer_body(PEER, poll.as_bytes(), false);
    let body_at = answered.windows(4).position(|w| w == b"\r\n\r\n").map(|at| at + 4);
    let reply = body_at.map(|at| decode_reply(&Request::FetchMessages, 7, &answered[at..]));
    match reply {
        Some(Ok(_)) => {}
        Some(Err(httpqq::Error::NotLoggedIn)) | Some(Err(httpqq::Error::Throttled { .. })) => {
            log_in(server, 10002)
        }
        other => panic!("a poll after the input: {other:?}"),
    }
});
