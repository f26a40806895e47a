//! Row 18: the client's GetMsgEx round trip over TLS (a kept connection)
//! against a bare rustls client making the same exchange on one
//! connection: what httpqq's client adds on top of TLS itself.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

use crate::measure;

/// Prints row 18 against the TLS listener at `addr` whose certificate is
/// in the PEM file `ca`.
pub fn row(addr: &str, ca: &std::path::Path, rounds: u32, iterations: u32) {
    let pem = std::fs::read(ca).expect("the CA file");
    let client = httpqq::Client::builder()
        .endpoint(format!("https://{addr}"))
        .ca_pem(pem.clone())
        .keep_alive(true)
        .build()
        .expect("client");
    let session = client
        .login(httpqq::Uin::new(10001), "demo")
        .expect("login over TLS");

    // The same exchange, by hand, over one rustls connection.
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert.expect("PEM")).expect("a root");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    let name = ServerName::try_from(host.to_owned()).expect("a server name");
    let connection = rustls::ClientConnection::new(Arc::new(config), name).expect("TLS");
    let tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    let mut tls = rustls::StreamOwned::new(connection, tcp);
    let body = "VER=1.1&CMD=GetMsgEx&SEQ=1&UIN=10001";
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut buffer = vec![0u8; 16 * 1024];
    let mut bare = || {
        tls.write_all(request.as_bytes()).expect("write");
        let mut got = 0;
        loop {
            let n = tls.read(&mut buffer[got..]).expect("read");
            assert!(n > 0, "the server closed");
            got += n;
            let seen = &buffer[..got];
            if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&seen[..end]).expect("head");
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().expect("length"))
                    })
                    .expect("Content-Length");
                if got >= end + 4 + length {
                    return;
                }
            }
        }
    };
    let p = measure::paired(rounds, iterations, &mut bare, || {
        session.fetch_messages().expect("GetMsgEx over TLS");
    });
    println!(
        "| 18 | GetMsgEx round trip over TLS, Rust client, keep-alive | {:.1} µs | a bare rustls client, the same bytes on one connection | {:.1} µs | {:.3}× | ≤ 1.2× | {} |",
        p.subject.as_secs_f64() * 1e6,
        p.baseline.as_secs_f64() * 1e6,
        p.ratio,
        if p.ratio <= 1.2 { "met" } else { "**missed**" }
    );
}
