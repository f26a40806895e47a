//! The transport: moves request bodies to the server and reply bodies back
//! over HTTP/1.1 with `ureq`. It knows nothing of the protocol's fields.

use std::io;
use std::time::Duration;

use crate::error::{Error, ProtocolError};

/// Resolves an IP address given as the host at once, and only names
/// through `ureq`'s resolver, which (with a timeout set, as here) starts a
/// thread per request so that the lookup can time out: about 40 µs per
/// request that an address does not need (`bench/`, rows 1 and 2).
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
        timeout: ureq::unversioned::transport::NextTimeout,
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
        }
        self.0.resolve(uri, config, timeout)
    }
}

/// Settings the transport needs.
#[derive(Debug, Clone)]
pub(crate) struct TransportConfig {
    pub(crate) authority: String,
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) keep_alive: bool,
    pub(crate) max_reply_size: u64,
}

/// One `ureq` agent and where it posts.
#[derive(Debug)]
pub(crate) struct Transport {
    agent: ureq::Agent,
    url: String,
    config: TransportConfig,
}

impl Transport {
    pub(crate) fn new(config: TransportConfig) -> Transport {
        let mut builder = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(config.connect_timeout))
            .timeout_global(Some(config.timeout))
            .user_agent(concat!("httpqq/", env!("CARGO_PKG_VERSION")));
        if !config.keep_alive {
            builder = builder.max_idle_connections(0);
        }
        let agent = ureq::Agent::with_parts(
            builder.build(),
            ureq::unversioned::transport::DefaultConnector::default(),
            LiteralFirst::default(),
        );
        Transport {
            agent,
            url: format!("http://{}/", config.authority),
            config,
        }
    }

    /// Posts one body and returns the reply body.
    ///
    /// `close` asks for the connection to be closed after this exchange
    /// whatever the keep-alive setting (the Query_Stat double reply).
    pub(crate) fn post(&self, body: &str, close: bool) -> Result<Vec<u8>, Error> {
        let mut request = self
            .agent
            .post(&self.url)
            .header("Content-Type", "text/plain; charset=UTF-8");
        if close || !self.config.keep_alive {
            request = request.header("Connection", "close");
        }
        let mut response = request
            .send(body)
            .map_err(|e| self.map_error(e, Stage::Head))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(ProtocolError::HttpStatus { status }.into());
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
        match error {
            ureq::Error::Timeout(which) => {
                let (phase, limit) = match which {
                    T::Resolve | T::Connect => ("connecting", self.config.connect_timeout),
                    T::SendRequest | T::SendBody | T::PerWrite => {
                        ("sending the request", self.config.timeout)
                    }
                    _ => ("waiting for the reply", self.config.timeout),
                };
                Error::Timeout { phase, limit }
            }
            ureq::Error::BodyExceedsLimit(limit) => ProtocolError::ReplyTooLarge { limit }.into(),
            ureq::Error::HostNotFound => Error::Transport {
                message: format!("could not resolve the host of {authority}"),
                source: None,
            },
            ureq::Error::ConnectionFailed => Error::Transport {
                message: format!("could not connect to {authority}"),
                source: None,
            },
            ureq::Error::Io(io) => self.map_io(io, stage),
            ureq::Error::Protocol(proto) => ProtocolError::MalformedHttp {
                detail: proto.to_string(),
            }
            .into(),
            other => Error::transport(format!("HTTP exchange with {authority} failed"), other),
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
                phase: "waiting for the reply",
                limit: self.config.timeout,
            },
            K::ConnectionRefused => {
                Error::transport(format!("could not connect to {authority}"), io)
            }
            K::UnexpectedEof => Error::transport(
                format!("{authority} closed the connection in the middle of its reply"),
                io,
            ),
            _ => Error::transport(format!("connection to {authority} failed"), io),
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
