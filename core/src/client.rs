//! The client: where the server is, how long to wait, and one shared HTTP
//! agent for every session.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::cancel::Cancel;
use crate::codec::{self, Reply, Request};
use crate::error::Error;
use crate::http::{TlsRoots, Transport, TransportConfig};
use crate::model::{PasswordHash, Uin};
use crate::session::Session;

/// Where the original server listened.
pub const DEFAULT_ENDPOINT: &str = "tqq.tencent.com:8000";

/// The port used when an endpoint names none.
pub const DEFAULT_PORT: u16 = 8000;

/// A synchronous HTTP QQ client.
///
/// Cheap to clone (the clones share one connection pool) and `Send + Sync`:
/// build one and log in any number of UINs with it.
///
/// ```no_run
/// use httpqq::{Client, Uin};
/// use std::time::Duration;
///
/// let client = Client::builder()
///     .endpoint("127.0.0.1:8000")
///     .timeout(Duration::from_secs(5))
///     .build()?;
/// let session = client.login(Uin::new(10001), "demo")?;
/// println!("{} friends", session.friend_count()?);
/// # Ok::<(), httpqq::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    transport: Transport,
    seq: AtomicU16,
    auto_relogin: bool,
    /// Every request runs under it: [`Client::shutdown`] cancels it.
    shutdown: Cancel,
}

impl Client {
    /// A builder with the defaults: [`DEFAULT_ENDPOINT`], 10 s to connect,
    /// 30 s per request, keep-alive off (as the original server wanted).
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client for an endpoint (`host:port`, or `host` for port 8000) with
    /// the other defaults.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if the endpoint cannot be read.
    pub fn new(endpoint: impl Into<String>) -> Result<Client, Error> {
        Client::builder().endpoint(endpoint).build()
    }

    /// Logs in: hashes the password (the clear text is not kept) and returns
    /// the session.
    ///
    /// # Errors
    /// [`Error::LoginFailed`] with the server's reason for a wrong password,
    /// [`Error::InvalidUin`] for an unknown UIN, and the transport errors.
    pub fn login(&self, uin: Uin, password: &str) -> Result<Session, Error> {
        self.login_with_hash(uin, PasswordHash::from_password(password))
    }

    /// Logs in with a password's MD5 computed earlier.
    ///
    /// # Errors
    /// As [`Client::login`].
    pub fn login_with_hash(&self, uin: Uin, password: PasswordHash) -> Result<Session, Error> {
        let outcome = Session::login_request(self, uin, &password)?;
        Ok(Session::new(
            self.clone(),
            uin,
            password,
            outcome,
            self.inner.auto_relogin,
        ))
    }

    /// Sends one request for `uin` and decodes its reply: the whole protocol
    /// exchange, for callers that want no session (a sequence number is
    /// chosen here).
    ///
    /// ```no_run
    /// use httpqq::{Client, Reply, Request, Uin};
    /// let client = Client::new("127.0.0.1:8000")?;
    /// assert_eq!(client.call(Uin::new(10001), &Request::Logout)?, Reply::Done);
    /// # Ok::<(), httpqq::Error>(())
    /// ```
    ///
    /// # Errors
    /// Every [`Error`] but [`Error::InvalidConfig`]; [`Error::InvalidUin`]
    /// without sending anything when `uin` or the request's target is not
    /// a valid UIN ([`Uin::checked`]); [`Error::TooLarge`] without sending
    /// anything when the request would pass [`codec::MAX_BODY_BYTES`].
    pub fn call(&self, uin: Uin, request: &Request) -> Result<Reply, Error> {
        if !uin.is_valid() || request.target().is_some_and(|t| !t.is_valid()) {
            return Err(Error::InvalidUin);
        }
        let seq = self.next_seq();
        let mut body = codec::encode_request(uin, seq, request);
        if body.len() > codec::MAX_BODY_BYTES {
            return Err(Error::TooLarge {
                size: body.len(),
                limit: codec::MAX_BODY_BYTES,
            });
        }
        let started = Instant::now();
        let result = self
            .inner
            .shutdown
            .run(|| {
                self.inner
                    .transport
                    .post(&body, request.closes_connection())
            })
            .and_then(|reply| codec::decode_reply(request, seq, &reply));
        if matches!(request, Request::Login { .. }) {
            // It holds the credential (`PS`).
            zeroize::Zeroize::zeroize(&mut body);
        }
        if log::log_enabled!(target: "httpqq", log::Level::Debug) {
            let outcome = match &result {
                Ok(_) => "RES=0".to_owned(),
                Err(err) => match err.result_code() {
                    Some(code) => format!("RES={code}"),
                    None => format!("error: {err}"),
                },
            };
            log::debug!(
                target: "httpqq",
                "{} uin={uin} seq={seq} {outcome} elapsed={:?}",
                request.command().wire_name(),
                started.elapsed()
            );
        }
        result
    }

    /// Shuts the client down: every request in flight of it, of its clones
    /// and of the sessions made from them ends now with
    /// [`Error::Cancelled`] (its phase says whether anything was sent), and
    /// every later one fails so at once without sending anything. Returns
    /// at once; idempotent; callable from any thread (not from a signal
    /// handler).
    ///
    /// For a program on its way out, whose exit must not wait for the
    /// network: the C bindings call it from their exit hooks, where a
    /// thread still inside a call would otherwise hold the exit up to the
    /// request's timeout. Stop the agents made from the client first: a
    /// shut-down client's agent only backs off and fails again.
    ///
    /// ```no_run
    /// use httpqq::{Client, Error, Uin};
    ///
    /// let client = Client::new("127.0.0.1:8000")?;
    /// let waiting = client.clone();
    /// let poller = std::thread::spawn(move || waiting.login(Uin::new(10001), "demo"));
    /// client.shutdown(); // the login ends now, whatever it waits for
    /// assert!(matches!(poller.join().unwrap(), Err(Error::Cancelled { .. })));
    /// # Ok::<(), httpqq::Error>(())
    /// ```
    pub fn shutdown(&self) {
        self.inner.shutdown.cancel();
    }

    /// Whether [`Client::shutdown`] was called (on it or a clone).
    pub fn is_shut_down(&self) -> bool {
        self.inner.shutdown.is_cancelled()
    }

    /// How long one request may take in all (the builder's
    /// [`timeout`](ClientBuilder::timeout)).
    pub fn timeout(&self) -> Duration {
        self.inner.transport.timeout()
    }

    /// The next sequence number: 1–65535, never 0.
    fn next_seq(&self) -> u16 {
        loop {
            let seq = self.inner.seq.fetch_add(1, Ordering::Relaxed);
            if seq != 0 {
                return seq;
            }
        }
    }
}

/// Settings for a [`Client`].
///
/// ```
/// use std::time::Duration;
/// let client = httpqq::Client::builder()
///     .endpoint("localhost:8000")
///     .connect_timeout(Duration::from_secs(2))
///     .timeout(Duration::from_secs(10))
///     .keep_alive(true)
///     .auto_relogin(true)
///     .build()?;
/// # Ok::<(), httpqq::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    endpoint: String,
    tls: Option<bool>,
    ca: Option<CaSource>,
    connect_timeout: Duration,
    timeout: Duration,
    keep_alive: bool,
    auto_relogin: bool,
    max_reply_size: u64,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            tls: None,
            ca: None,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            keep_alive: false,
            auto_relogin: false,
            max_reply_size: 16 * 1024 * 1024,
        }
    }
}

impl ClientBuilder {
    /// The server: `host:port`, `host` (port 8000), `[v6-address]:port`, with
    /// or without a leading `http://`; `https://host[:port]` (port 443 if
    /// none) speaks TLS, as [`tls`](Self::tls) does.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = endpoint.into();
        self
    }

    /// Speak TLS to the server (default: off, unless the endpoint starts
    /// with `https://`), a protocol extension of this project's server
    /// (`--tls-listen`): the password's MD5 and every message are then
    /// encrypted, and the server's certificate is verified, against
    /// Mozilla's roots unless [`ca_file`](Self::ca_file) or
    /// [`ca_pem`](Self::ca_pem) name the authority to trust. TLS failures
    /// are [`Error::Transport`] with [`Phase::Tls`](crate::Phase::Tls)
    /// (nothing was sent). `tls(false)` with an `https://` endpoint is a
    /// configuration error.
    ///
    /// ```no_run
    /// let client = httpqq::Client::builder()
    ///     .endpoint("qq.example.org:8443")
    ///     .tls(true)
    ///     .ca_file("/etc/httpqq/ca.pem")
    ///     .build()?;
    /// # Ok::<(), httpqq::Error>(())
    /// ```
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = Some(on);
        self
    }

    /// Trust the certificate authorities in this PEM file (instead of
    /// Mozilla's roots), for a private server; read when the client is
    /// built. Implies nothing by itself: TLS must be on.
    pub fn ca_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.ca = Some(CaSource::File(path.into()));
        self
    }

    /// Trust the certificate authorities in this PEM text (as
    /// [`ca_file`](Self::ca_file), from memory: a test server's own
    /// certificate, say).
    pub fn ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca = Some(CaSource::Pem(pem.into()));
        self
    }

    /// How long to wait for a connection (default 10 s).
    pub fn connect_timeout(mut self, limit: Duration) -> Self {
        self.connect_timeout = limit;
        self
    }

    /// How long one request may take in all, connecting included
    /// (default 30 s).
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = limit;
        self
    }

    /// Reuse connections between requests (default off: the original server
    /// closed every connection; the reference server keeps HTTP/1.1
    /// connections open when asked). The Query_Stat double reply never
    /// reuses its connection either way.
    pub fn keep_alive(mut self, on: bool) -> Self {
        self.keep_alive = on;
        self
    }

    /// Log in again, once, and retry when the server answers `RES=20`
    /// (default off). Sessions keep the password's MD5 for this; they
    /// always do, as the protocol has no other credential.
    pub fn auto_relogin(mut self, on: bool) -> Self {
        self.auto_relogin = on;
        self
    }

    /// The largest reply body accepted, in bytes (default 16 MiB); a larger
    /// one is [`HttpError::TooLarge`](crate::HttpError::TooLarge).
    pub fn max_reply_size(mut self, bytes: u64) -> Self {
        self.max_reply_size = bytes;
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an endpoint that is not `host[:port]`, a
    /// zero timeout, an `https://` endpoint with TLS turned off, a CA
    /// without TLS, or a CA file that cannot be read or holds no
    /// certificate.
    pub fn build(self) -> Result<Client, Error> {
        if self.timeout.is_zero() || self.connect_timeout.is_zero() {
            return Err(Error::InvalidConfig(
                "timeouts must be longer than zero".into(),
            ));
        }
        let endpoint = parse_endpoint(&self.endpoint)?;
        let tls = match (self.tls, endpoint.https) {
            (Some(false), true) => {
                return Err(Error::InvalidConfig(format!(
                    "endpoint {:?} is https:// but TLS is turned off",
                    self.endpoint
                )))
            }
            (Some(on), _) => on,
            (None, https) => https,
        };
        let tls = match (tls, self.ca) {
            (false, Some(_)) => return Err(Error::InvalidConfig(
                "a CA to trust was given but TLS is off (use an https:// endpoint or tls(true))"
                    .into(),
            )),
            (false, None) => None,
            (true, None) => Some(TlsRoots::Mozilla),
            (true, Some(ca)) => Some(TlsRoots::Pem(ca.read()?)),
        };
        let transport = Transport::new(TransportConfig {
            authority: endpoint.authority,
            tls,
            connect_timeout: self.connect_timeout,
            timeout: self.timeout,
            keep_alive: self.keep_alive,
            max_reply_size: self.max_reply_size,
        })?;
        Ok(Client {
            inner: Arc::new(Inner {
                transport,
                seq: AtomicU16::new(initial_seq()),
                auto_relogin: self.auto_relogin,
                shutdown: Cancel::new(),
            }),
        })
    }
}

/// Where the CA certificates to trust come from.
#[derive(Debug, Clone)]
enum CaSource {
    File(std::path::PathBuf),
    Pem(Vec<u8>),
}

impl CaSource {
    /// The PEM text.
    fn read(self) -> Result<Vec<u8>, Error> {
        match self {
            CaSource::Pem(pem) => Ok(pem),
            CaSource::File(path) => std::fs::read(&path).map_err(|e| {
                Error::InvalidConfig(format!("cannot read the CA file {}: {e}", path.display()))
            }),
        }
    }
}

/// An endpoint as read: where, and whether it said `https://`.
#[derive(Debug, PartialEq, Eq)]
struct Endpoint {
    authority: String,
    https: bool,
}

/// A server's address as a person writes it: `[http://|https://]host[:port][/]`
/// (`[v6-address]` in brackets). What [`ClientBuilder::endpoint`] reads, for
/// interfaces that take the host and port apart.
///
/// ```
/// let a = httpqq::Address::parse("https://qq.example.org/")?;
/// assert_eq!((a.host.as_str(), a.port, a.https), ("qq.example.org", None, true));
/// assert_eq!(a.port_or_default(), 443);
/// let v6 = httpqq::Address::parse("[::1]:8001")?;
/// assert_eq!((v6.host.as_str(), v6.port), ("[::1]", Some(8001)));
/// # Ok::<(), httpqq::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Address {
    /// The host: a name, an IPv4 address, or an IPv6 address in brackets.
    pub host: String,
    /// The port, if one was written.
    pub port: Option<u16>,
    /// Whether it said `https://`.
    pub https: bool,
}

impl Address {
    /// Reads an address.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`], saying what is wrong, for anything but a
    /// host and an optional port (a path, a query, credentials, port 0).
    pub fn parse(endpoint: &str) -> Result<Address, Error> {
        let invalid = |why: &str| {
            Error::InvalidConfig(format!(
                "endpoint {endpoint:?} {why}; expected host:port, e.g. 127.0.0.1:8000"
            ))
        };
        let rest = endpoint.trim();
        let (rest, https) = match rest.strip_prefix("https://") {
            Some(rest) => (rest, true),
            None => (rest.strip_prefix("http://").unwrap_or(rest), false),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() {
            return Err(invalid("is empty"));
        }
        if rest.contains(['/', '?', '#', '@', ' ']) || rest.contains("://") {
            return Err(invalid("is not a host and port"));
        }
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (addr, after) = v6
                .split_once(']')
                .ok_or_else(|| invalid("has an unclosed ["))?;
            let port = match after {
                "" => None,
                p => Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| invalid("has text after ]"))?,
                ),
            };
            (format!("[{addr}]"), port)
        } else {
            match rest.rsplit_once(':') {
                Some((host, port)) => (host.to_owned(), Some(port)),
                None => (rest.to_owned(), None),
            }
        };
        if host.is_empty() || host.contains(':') && !host.starts_with('[') {
            return Err(invalid("has no valid host"));
        }
        let port = match port {
            None => None,
            Some(p) => Some(
                p.parse::<u16>()
                    .ok()
                    .filter(|&p| p != 0)
                    .ok_or_else(|| invalid("has an invalid port"))?,
            ),
        };
        Ok(Address { host, port, https })
    }

    /// The port, or the scheme's: 443 for `https://`, else
    /// [`DEFAULT_PORT`].
    pub fn port_or_default(&self) -> u16 {
        self.port
            .unwrap_or(if self.https { 443 } else { DEFAULT_PORT })
    }
}

/// Reads `[http://|https://]host[:port][/]` into `host:port`.
fn parse_endpoint(endpoint: &str) -> Result<Endpoint, Error> {
    let address = Address::parse(endpoint)?;
    Ok(Endpoint {
        authority: format!("{}:{}", address.host, address.port_or_default()),
        https: address.https,
    })
}

/// A starting sequence number that differs between runs, as period clients
/// used random ones.
fn initial_seq() -> u16 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    (nanos % 60_000) as u16 + 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_read_leniently() {
        let parse_endpoint = |e: &str| parse_endpoint(e).map(|e| e.authority);
        assert_eq!(
            parse_endpoint("tqq.tencent.com:8000").unwrap(),
            "tqq.tencent.com:8000"
        );
        assert_eq!(parse_endpoint("localhost").unwrap(), "localhost:8000");
        assert_eq!(
            parse_endpoint("http://127.0.0.1:9/").unwrap(),
            "127.0.0.1:9"
        );
        assert_eq!(parse_endpoint("[::1]:8001").unwrap(), "[::1]:8001");
        assert_eq!(parse_endpoint("[::1]").unwrap(), "[::1]:8000");
    }

    #[test]
    fn https_endpoints_speak_tls_on_443_unless_told() {
        assert_eq!(
            parse_endpoint("https://qq.example.org").unwrap(),
            Endpoint {
                authority: "qq.example.org:443".into(),
                https: true
            }
        );
        assert!(parse_endpoint("https://127.0.0.1:8443/").unwrap().https);
        assert!(!parse_endpoint("http://127.0.0.1:8443").unwrap().https);
        let off = Client::builder()
            .endpoint("https://127.0.0.1:8443")
            .tls(false)
            .build();
        assert!(matches!(off, Err(Error::InvalidConfig(_))), "{off:?}");
        let ca_without_tls = Client::builder()
            .endpoint("127.0.0.1:1")
            .ca_pem("x")
            .build();
        assert!(matches!(ca_without_tls, Err(Error::InvalidConfig(_))));
        let no_file = Client::builder()
            .endpoint("https://127.0.0.1:1")
            .ca_file("/nonexistent/ca.pem")
            .build();
        assert!(
            matches!(&no_file, Err(Error::InvalidConfig(m)) if m.contains("/nonexistent/ca.pem")),
            "{no_file:?}"
        );
        let no_cert = Client::builder()
            .endpoint("https://127.0.0.1:1")
            .ca_pem("not a certificate")
            .build();
        assert!(
            matches!(&no_cert, Err(Error::InvalidConfig(m)) if m.contains("no certificate")),
            "{no_cert:?}"
        );
    }

    #[test]
    fn bad_endpoints_are_config_errors() {
        for bad in [
            "",
            "host:",
            "host:0",
            "host:99999",
            "a/b",
            "ftp://x:1",
            "::1",
            "[::1",
        ] {
            assert!(
                matches!(parse_endpoint(bad), Err(Error::InvalidConfig(_))),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn zero_timeout_is_rejected() {
        let built = Client::builder().timeout(Duration::ZERO).build();
        assert!(matches!(built, Err(Error::InvalidConfig(_))));
    }

    #[test]
    fn client_and_session_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Client>();
        check::<Session>();
    }

    #[test]
    fn sequence_numbers_skip_zero() {
        let client = Client::builder().build().unwrap();
        client.inner.seq.store(u16::MAX, Ordering::Relaxed);
        assert_eq!(client.next_seq(), u16::MAX);
        assert_eq!(client.next_seq(), 1);
    }
}
