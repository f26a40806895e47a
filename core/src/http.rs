//! The transport: moves request bodies to the server and reply bodies back
//! over HTTP/1.1 with `ureq`. It knows nothing of the protocol's fields.

use std::io;
use std::time::Duration;

use crate::cancel::Cancelled;
use crate::error::{Error, HttpError, Phase};
use crate::socket::ConnectFailed;

/// Resolves an IP address given as the host at once (a thread per lookup,
/// as `ureq`'s resolver starts so that it can time out, costs about 40 µs
/// a request an address does not need: `bench/`, rows 1 and 2), and names
/// on a thread of their own, waited for in slices so that a cancel ends
/// the wait; a name that cannot be resolved is a failure while connecting
/// (nothing was sent), whatever the system's resolver said.
///
/// `ureq`'s resolver interface is not covered by its semver promise; the
/// version is pinned in `Cargo.lock`.
#[derive(Debug, Default)]
struct LiteralFirst(ureq::unversioned::resolver::DefaultResolver);

impl ureq::unversioned::resolver::Resolver for LiteralFirst {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        if let Some(authority) = uri.authority() {
            let host = authority.host();
            let host = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            if let (Ok(ip), Some(port)) = (host.parse::<std::net::IpAddr>(), authority.port_u16()) {
                let mut addrs = self.0.empty();
                addrs.push(std::net::SocketAddr::new(ip, port));
                return Ok(addrs);
            }
            let port = authority.port_u16().unwrap_or(DEFAULT_HTTP_PORT);
            return self.resolve_cancellably(authority, port, timeout);
        }
        self.0.resolve(uri, config, timeout)
    }
}

/// HTTP's port, for a URI that names none (the client always names one).
const DEFAULT_HTTP_PORT: u16 = 80;

impl LiteralFirst {
    /// Looks a name up on a thread of its own (as `ureq` does when a
    /// timeout is set) and waits for it in slices, looking at the cancel
    /// scope in between, so that a cancel ends the wait at once; the
    /// lookup itself finishes in the background.
    fn resolve_cancellably(
        &self,
        authority: &ureq::http::uri::Authority,
        port: u16,
        timeout: NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        use std::net::ToSocketAddrs;
        use std::sync::mpsc::{channel, RecvTimeoutError};
        use ureq::unversioned::resolver::Resolver as _;
        let name = format!("{}:{port}", authority.host());
        let (tx, rx) = channel();
        std::thread::Builder::new()
            .name("httpqq-resolve".into())
            .spawn(move || {
                let _ = tx.send(name.to_socket_addrs());
            })
            .map_err(ureq::Error::Io)?;
        let deadline =
            (!timeout.after.is_not_happening()).then(|| std::time::Instant::now() + *timeout.after);
        let mut ask = false;
        loop {
            if crate::cancel::should_stop(ask) {
                return Err(crate::cancel::Cancelled::error(false));
            }
            ask = true;
            let mut wait = crate::cancel::slice().unwrap_or(crate::cancel::SLICE);
            if let Some(deadline) = deadline {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    return Err(ureq::Error::Timeout(timeout.reason));
                }
                wait = wait.min(left);
            }
            match rx.recv_timeout(wait) {
                Ok(Ok(found)) => {
                    let mut addrs = self.0.empty();
                    // At most as many as `ureq`'s list holds (16).
                    for addr in found.take(16) {
                        addrs.push(addr);
                    }
                    if addrs.is_empty() {
                        return Err(ureq::Error::HostNotFound);
                    }
                    return Ok(addrs);
                }
                Ok(Err(_)) | Err(RecvTimeoutError::Disconnected) => {
                    return Err(ureq::Error::HostNotFound)
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
    }
}

use crate::socket::{Tcp, TcpConnector};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, NextTimeout, RustlsConnector, Transport as UreqTransport,
};

/// Wraps each connection in [`Coalescing`].
#[derive(Debug)]
struct CoalescingConnector;

impl<T: Closing> Connector<T> for CoalescingConnector {
    type Out = Coalescing<T>;

    fn connect(
        &self,
        _details: &ConnectionDetails,
        chained: Option<T>,
    ) -> Result<Option<Coalescing<T>>, ureq::Error> {
        Ok(chained.map(|inner| Coalescing {
            inner,
            head: Vec::new(),
            closing: false,
            replied: false,
        }))
    }
}

/// Sends a request's head and its body in one write. `ureq` writes them
/// one after the other; with `TCP_NODELAY` that is two segments, and the
/// server wakes up twice: about 20 to 40 µs more per request on loopback
/// (`bench/`, rows 1 and 2). Every request of this crate is a POST with a
/// body, so a POST head is held back until its body comes.
///
/// It also lets the server close a `Connection: close` connection first:
/// the side that closes first keeps the connection in TIME_WAIT, and
/// thousands of those on the client make each new `connect` slower (a
/// GetMsgEx round trip went from 75 µs to 140 µs over a few thousand
/// requests on loopback).
///
/// Over TLS it sits above the TLS layer, so that the head and the body go
/// in one record too.
#[derive(Debug)]
struct Coalescing<T: Closing> {
    inner: T,
    head: Vec<u8>,
    /// A request on this connection asked for `Connection: close`.
    closing: bool,
    /// The server has sent something: only then is its close worth a wait
    /// (after a timeout, say, it is not).
    replied: bool,
}

/// How long a closing connection waits for the server's end of it.
const SERVER_CLOSE_WAIT: std::time::Duration = std::time::Duration::from_millis(5);

/// A connection that can wait for the server to close its end.
trait Closing: UreqTransport {
    /// Waits up to `wait` for the server's end of the connection.
    fn await_close(&mut self, wait: std::time::Duration);
}

impl Closing for Tcp {
    fn await_close(&mut self, wait: std::time::Duration) {
        Tcp::await_close(self, wait);
    }
}

/// A TLS connection: its close is not waited for (the wait exists for the
/// TIME_WAIT of plain loopback connections made by the thousand).
impl Closing for Box<dyn UreqTransport> {
    fn await_close(&mut self, _wait: std::time::Duration) {}
}

impl<T: Closing> Drop for Coalescing<T> {
    fn drop(&mut self) {
        if self.closing && self.replied {
            self.inner.await_close(SERVER_CLOSE_WAIT);
        }
    }
}

impl<T: Closing> Coalescing<T> {
    /// Sends a held head on its own (when no body follows after all).
    fn flush_head(&mut self, timeout: NextTimeout) -> Result<(), ureq::Error> {
        if self.head.is_empty() {
            return Ok(());
        }
        let head = std::mem::take(&mut self.head);
        let capacity = self.inner.buffers().output().len();
        let mut sent = 0;
        while sent < head.len() {
            let n = (head.len() - sent).min(capacity);
            self.inner.buffers().output()[..n].copy_from_slice(&head[sent..sent + n]);
            self.inner.transmit_output(n, timeout)?;
            sent += n;
        }
        Ok(())
    }
}

impl<T: Closing> UreqTransport for Coalescing<T> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let output = self.inner.buffers().output();
        if self.head.is_empty() {
            let out = &output[..amount];
            if out.starts_with(b"POST ") && out.ends_with(b"\r\n\r\n") {
                self.closing |= out
                    .windows(b"\r\nconnection: close".len())
                    .any(|w| w.eq_ignore_ascii_case(b"\r\nconnection: close"));
                self.head.extend_from_slice(out);
                return Ok(());
            }
            return self.inner.transmit_output(amount, timeout);
        }
        let held = self.head.len();
        if held + amount <= output.len() {
            // Head and body in one write: move the body behind the head.
            output.copy_within(..amount, held);
            output[..held].copy_from_slice(&self.head);
            self.head.clear();
            return self.inner.transmit_output(held + amount, timeout);
        }
        // Too big to join: the head first, then the body as it was.
        let body = output[..amount].to_vec();
        self.flush_head(timeout)?;
        self.inner.buffers().output()[..amount].copy_from_slice(&body);
        self.inner.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.flush_head(timeout)?;
        let got = self.inner.await_input(timeout)?;
        self.replied |= got;
        Ok(got)
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

/// ureq's rustls connector, with its failures marked as the handshake's
/// ([`TlsFailed`]): ureq reports them as I/O errors like any other, and an
/// end of input in the handshake must not read as the server's NULL reply.
#[derive(Debug, Default)]
struct TlsConnector(RustlsConnector);

impl Connector<Tcp> for TlsConnector {
    type Out = Box<dyn UreqTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<Tcp>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let connected = self
            .0
            .connect(details, chained)
            .map_err(|error| match error {
                // Our own connector's: cancelled or timed out, not TLS's.
                ureq::Error::Other(_) | ureq::Error::Timeout(_) => error,
                ureq::Error::Io(io) if io.kind() == io::ErrorKind::TimedOut => ureq::Error::Io(io),
                other => ureq::Error::Other(Box::new(TlsFailed(other))),
            })?;
        Ok(connected.map(|transport| transport.boxed()))
    }
}

/// A TLS handshake that failed (see [`TlsConnector`]).
#[derive(Debug)]
struct TlsFailed(ureq::Error);

impl std::fmt::Display for TlsFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for TlsFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl TlsFailed {
    /// What went wrong, in words a person can act on.
    fn explain(&self, authority: &str) -> String {
        let rustls_error = match &self.0 {
            ureq::Error::Rustls(e) => Some(e),
            ureq::Error::Io(io) => io.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()),
            _ => None,
        };
        let host = authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host);
        match rustls_error {
            Some(rustls::Error::InvalidCertificate(why)) => {
                use rustls::CertificateError as C;
                match why {
                    C::UnknownIssuer => format!(
                        "the certificate of {authority} is not signed by an authority this client trusts (unknown issuer); for a private server, give its CA (ca_file)"
                    ),
                    C::Expired | C::ExpiredContext { .. } => {
                        format!("the certificate of {authority} has expired")
                    }
                    C::NotValidYet | C::NotValidYetContext { .. } => {
                        format!("the certificate of {authority} is not valid yet")
                    }
                    C::NotValidForName | C::NotValidForNameContext { .. } => format!(
                        "the certificate of {authority} is not for {host} (wrong host name)"
                    ),
                    C::Revoked => format!("the certificate of {authority} is revoked"),
                    C::BadSignature => format!(
                        "the certificate of {authority} does not verify against the authorities this client trusts (bad signature)"
                    ),
                    other => format!("the certificate of {authority} is not acceptable: {other:?}"),
                }
            }
            Some(rustls::Error::InvalidMessage(_)) => {
                format!("{authority} did not answer in TLS (is it a plain HTTP port?)")
            }
            Some(other) => format!("TLS with {authority} failed: {other}"),
            None => match &self.0 {
                ureq::Error::Io(io)
                    if matches!(
                        io.kind(),
                        io::ErrorKind::UnexpectedEof
                            | io::ErrorKind::ConnectionReset
                            | io::ErrorKind::ConnectionAborted
                    ) =>
                {
                    format!(
                        "{authority} closed the connection in the TLS handshake (is it a plain HTTP port?)"
                    )
                }
                other => format!("TLS with {authority} failed: {other}"),
            },
        }
    }
}

/// Which certificate authorities a TLS client trusts.
#[derive(Debug, Clone)]
pub(crate) enum TlsRoots {
    /// Mozilla's (the `webpki-roots` crate), the same on every platform.
    Mozilla,
    /// Those in this PEM text.
    Pem(Vec<u8>),
}

impl TlsRoots {
    fn ureq_roots(&self) -> Result<ureq::tls::RootCerts, Error> {
        match self {
            TlsRoots::Mozilla => Ok(ureq::tls::RootCerts::WebPki),
            TlsRoots::Pem(pem) => {
                use rustls::pki_types::{pem::PemObject, CertificateDer};
                let certs = CertificateDer::pem_slice_iter(pem)
                    .map(|der| der.map(|der| ureq::tls::Certificate::from_der(&der).to_owned()))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| Error::InvalidConfig(format!("the CA is not PEM text: {e:?}")))?;
                if certs.is_empty() {
                    return Err(Error::InvalidConfig(
                        "the CA holds no certificate (expected PEM, -----BEGIN CERTIFICATE-----)"
                            .into(),
                    ));
                }
                Ok(ureq::tls::RootCerts::new_with_certs(&certs))
            }
        }
    }
}

/// The size of each of a connection's two buffers.
const BUFFER_SIZE: usize = 16 * 1024;

/// Settings the transport needs.
#[derive(Debug, Clone)]
pub(crate) struct TransportConfig {
    pub(crate) authority: String,
    /// TLS, and whom it trusts; `None` for plain HTTP.
    pub(crate) tls: Option<TlsRoots>,
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) keep_alive: bool,
    pub(crate) max_reply_size: u64,
}

/// One `ureq` agent and where it posts.
#[derive(Debug)]
pub(crate) struct Transport {
    agent: ureq::Agent,
    /// Parsed once: every request goes to `http://AUTHORITY/`.
    uri: ureq::http::Uri,
    config: TransportConfig,
}

impl Transport {
    /// How long one request may take in all.
    pub(crate) fn timeout(&self) -> Duration {
        self.config.timeout
    }

    pub(crate) fn new(config: TransportConfig) -> Result<Transport, Error> {
        let mut builder = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(config.connect_timeout))
            .timeout_global(Some(config.timeout))
            .user_agent(concat!("httpqq/", env!("CARGO_PKG_VERSION")))
            // ureq's 128 KiB buffers are zeroed for every connection; when
            // the allocator serves them from a fragmented heap (in a busy
            // Python process, say) that doubled a loopback round trip.
            // Heads are small and bodies stream through in pieces.
            .input_buffer_size(BUFFER_SIZE)
            .output_buffer_size(BUFFER_SIZE);
        if !config.keep_alive {
            builder = builder.max_idle_connections(0);
        }
        if let Some(roots) = &config.tls {
            builder = builder.tls_config(
                ureq::tls::TlsConfig::builder()
                    .provider(ureq::tls::TlsProvider::Rustls)
                    .root_certs(roots.ureq_roots()?)
                    .build(),
            );
        }
        // Plain HTTP keeps its connections unboxed, without a TLS layer.
        let agent = if config.tls.is_some() {
            ureq::Agent::with_parts(
                builder.build(),
                TcpConnector
                    .chain(TlsConnector::default())
                    .chain(CoalescingConnector),
                LiteralFirst::default(),
            )
        } else {
            ureq::Agent::with_parts(
                builder.build(),
                TcpConnector.chain(CoalescingConnector),
                LiteralFirst::default(),
            )
        };
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let uri = format!("{scheme}://{}/", config.authority)
            .parse()
            .map_err(|e| {
                Error::InvalidConfig(format!("cannot post to {}: {e}", config.authority))
            })?;
        Ok(Transport { agent, uri, config })
    }

    /// Posts one body and returns the reply body.
    ///
    /// `close` asks for the connection to be closed after this exchange
    /// whatever the keep-alive setting (the Query_Stat double reply).
    pub(crate) fn post(&self, body: &str, close: bool) -> Result<Vec<u8>, Error> {
        use ureq::http::header::{HeaderValue, CONNECTION, CONTENT_TYPE};
        // Built from parts parsed once: a request costs no parsing.
        let mut request = ureq::http::Request::post(self.uri.clone()).header(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=UTF-8"),
        );
        if close || !self.config.keep_alive {
            request = request.header(CONNECTION, HeaderValue::from_static("close"));
        }
        let request = request
            .body(body)
            .map_err(|e| Error::Internal(format!("cannot build the request: {e}")))?;
        let mut response = self
            .agent
            .run(request)
            .map_err(|e| self.map_error(e, Stage::Head))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(HttpError::Status { status }.into());
        }
        response
            .body_mut()
            .with_config()
            .limit(self.config.max_reply_size)
            .read_to_vec()
            .map_err(|e| self.map_error(e, Stage::Body))
    }

    fn map_error(&self, error: ureq::Error, stage: Stage) -> Error {
        use ureq::Timeout as T;
        let authority = &self.config.authority;
        let unreachable = |message: String| Error::Transport {
            phase: Phase::Connecting,
            message,
            source: None,
        };
        match error {
            ureq::Error::Timeout(which) => {
                let (phase, limit) = match which {
                    T::Resolve | T::Connect => (Phase::Connecting, self.config.connect_timeout),
                    T::SendRequest | T::SendBody | T::PerWrite => {
                        (Phase::Sending, self.config.timeout)
                    }
                    _ => (Phase::Receiving, self.config.timeout),
                };
                Error::Timeout { phase, limit }
            }
            ureq::Error::BodyExceedsLimit(limit) => HttpError::TooLarge { limit }.into(),
            ureq::Error::HostNotFound => {
                unreachable(format!("could not resolve the host of {authority}"))
            }
            ureq::Error::ConnectionFailed => {
                unreachable(format!("could not connect to {authority}"))
            }
            ureq::Error::Other(other) => match other.downcast::<ConnectFailed>() {
                Ok(failed) => Error::transport(
                    Phase::Connecting,
                    format!("could not connect to {authority}"),
                    failed.0,
                ),
                Err(other) => match other.downcast::<TlsFailed>() {
                    Ok(failed) => Error::Transport {
                        phase: Phase::Tls,
                        message: failed.explain(authority),
                        source: Some(failed),
                    },
                    Err(other) => match other.downcast::<Cancelled>() {
                        Ok(cancelled) => Error::Cancelled {
                            phase: if cancelled.sent {
                                Phase::Receiving
                            } else {
                                Phase::Connecting
                            },
                        },
                        Err(other) => Error::Transport {
                            phase: Phase::Receiving,
                            message: format!("HTTP exchange with {authority} failed"),
                            source: Some(other),
                        },
                    },
                },
            },
            ureq::Error::Io(io) => self.map_io(io, stage),
            ureq::Error::Protocol(proto) => HttpError::Malformed {
                detail: proto.to_string(),
            }
            .into(),
            other => Error::transport(
                Phase::Receiving,
                format!("HTTP exchange with {authority} failed"),
                other,
            ),
        }
    }

    fn map_io(&self, io: io::Error, stage: Stage) -> Error {
        use io::ErrorKind as K;
        let authority = &self.config.authority;
        match io.kind() {
            // The connection ended before a reply head: the server's NULL.
            // (A server that dies at that moment looks the same on the wire.)
            K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe
                if stage == Stage::Head =>
            {
                Error::NoReply
            }
            K::TimedOut | K::WouldBlock => Error::Timeout {
                phase: Phase::Receiving,
                limit: self.config.timeout,
            },
            K::ConnectionRefused => Error::transport(
                Phase::Connecting,
                format!("could not connect to {authority}"),
                io,
            ),
            K::UnexpectedEof => Error::transport(
                Phase::Receiving,
                format!("{authority} closed the connection in the middle of its reply"),
                io,
            ),
            _ => Error::transport(
                Phase::Receiving,
                format!("connection to {authority} failed"),
                io,
            ),
        }
    }
}

/// Where in the exchange an error happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Connecting, sending, or waiting for the reply head.
    Head,
    /// Reading the reply body.
    Body,
}
