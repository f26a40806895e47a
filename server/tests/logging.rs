//! What the client and the server log: one record per command, and never a
//! password or its MD5. (Its own test binary: a logger is process-global.)

use std::sync::Mutex;

use httpqq::{Client, PasswordHash, Uin};
use httpqq_server::{Config, Server};

static RECORDS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        RECORDS
            .lock()
            .unwrap()
            .push(format!("{} {}", record.target(), record.args()));
    }
    fn flush(&self) {}
}

#[test]
fn commands_are_logged_without_secrets() {
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let server = Server::start(Config::default()).unwrap();
    let client = Client::new(server.local_addr().to_string()).unwrap();
    let session = client.login(Uin::new(10001), "demo").unwrap();
    session.friends().unwrap();
    assert!(client.login(Uin::new(10002), "not-the-password").is_err());
    session.logout().unwrap();
    server.stop();

    let records = RECORDS.lock().unwrap().clone();
    let client_logins = records
        .iter()
        .filter(|r| r.starts_with("httpqq Login uin=10001 seq=") && r.contains("RES=0 elapsed="))
        .count();
    let server_logins = records
        .iter()
        .filter(|r| r.starts_with("httpqq::server Login uin=10001 RES=0"))
        .count();
    assert_eq!((client_logins, server_logins), (1, 1), "{records:#?}");
    assert!(
        records
            .iter()
            .any(|r| r.starts_with("httpqq List uin=10001")),
        "{records:#?}"
    );
    let secrets = [
        "not-the-password".to_owned(),
        md5_hex("demo"),
        md5_hex("not-the-password"),
    ];
    for record in &records {
        for secret in &secrets {
            assert!(
                !record.contains(secret.as_str()),
                "{record:?} leaks {secret:?}"
            );
        }
        assert!(!record.contains("PS="), "{record:?} shows a PS field");
    }
}

/// The lower-case hex MD5 a Login sends, computed by the codec itself.
fn md5_hex(password: &str) -> String {
    let body = httpqq::codec::encode_request(
        Uin::new(1),
        1,
        &httpqq::Request::Login {
            password: PasswordHash::from_password(password),
        },
    );
    body.split("&PS=").nth(1).unwrap()[..32].to_owned()
}
