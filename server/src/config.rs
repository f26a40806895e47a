//! The server's settings: a plain struct with defaults for tests.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::accounts::Accounts;
use crate::passwords::HashCost;

/// A rate limit: at most `count` events per `window`, per user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Events allowed in one window.
    pub count: u32,
    /// The sliding window.
    pub window: Duration,
}

/// The original's quirks that the server can reproduce on request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Quirks {
    /// A verification request (Ack_AddToList `CD=2`) must be sent twice: the
    /// first to each peer is answered `RES=3` and not delivered (§5.6).
    pub verification_twice: bool,
    /// Escape in text values only what the original is seen to have
    /// escaped (`%` `&` `,` and control bytes; `=` and `+` raw), for
    /// period clients that decode exactly those (docs/PROTOCOL.md §2.2).
    pub original_escapes: bool,
}

/// Everything the server can be told. `Config::default()` suits tests: an
/// ephemeral loopback port, the demo accounts, no penalty delays.
///
/// ```
/// let config = httpqq_server::Config {
///     idle_timeout: std::time::Duration::from_secs(2),
///     ..Default::default()
/// };
/// assert_eq!(config.max_messages_per_reply, 32);
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen; port 0 picks a free one.
    pub listen: SocketAddr,
    /// The accounts.
    pub accounts: Accounts,
    /// The database (SQLite) that keeps accounts, friend lists and
    /// undelivered messages across restarts: every acknowledged change is
    /// committed to it first. Created (mode `0600`, seeded with
    /// `accounts`) when there is no file. `None`: a database in memory.
    pub state: Option<PathBuf>,
    /// How costly the stored password hashes are. The default,
    /// [`HashCost::Test`], suits tests only; the `httpqq-server` command
    /// uses [`HashCost::Strong`].
    pub hash_cost: HashCost,
    /// `LI`: a session silent this long ends (default 300 s).
    pub idle_timeout: Duration,
    /// `HI`: how often clients are told to poll (default 60 s).
    pub heartbeat: Duration,
    /// The most messages one GetMsgEx returns (default 32).
    pub max_messages_per_reply: usize,
    /// The most messages kept for one user; sending past it answers `RES=3`
    /// with the reason that the queue is full (default 10,000).
    pub max_queued_messages: usize,
    /// The most bytes of text kept for one user, likewise (default 4 MiB).
    pub max_queued_bytes: usize,
    /// Messages per sender, CLTMSG and Ack_AddToList together (default 100
    /// per 10 s).
    pub send_limit: RateLimit,
    /// Change_Stat per user (default 20 per 10 s).
    pub status_limit: RateLimit,
    /// Wrong passwords per UIN and address before Login from that address
    /// answers `RES=3` for the rest of the window, without checking the
    /// password (default 10 per 60 s); the owner can still log in from
    /// elsewhere.
    pub login_limit: RateLimit,
    /// Password checks per UIN from all the addresses it never logged in
    /// from, together, before Login from any of them answers `RES=3` for
    /// the rest of the window (default 20 per 60 s): many addresses do not
    /// multiply the guesses. Addresses the UIN logged in from (its last
    /// eight) are not held to it, so guessing elsewhere cannot lock the
    /// owner out (RELIABILITY.md).
    pub guess_limit: RateLimit,
    /// Password checks (argon2id) queued or running at once; past it, Login
    /// answers `RES=3` at once, without a check (default 1,024). Addresses
    /// take turns in the queue, so one with many waiting delays the others
    /// by one check at most.
    pub max_hashing: usize,
    /// Of those, from one address (default 256: a bot host may start that
    /// many accounts at once).
    pub max_hashing_per_ip: usize,
    /// The threads that check passwords, at a lower priority than the
    /// event loops (default 0: half the cores, at least one).
    pub hash_threads: usize,
    /// How long a `RES=3` reply is held back (the original: about 20 s;
    /// default 0).
    pub penalty_delay: Duration,
    /// How long a `RES=3` to DelFromList is held back (the original: about
    /// 30 s; default 0).
    pub delete_penalty_delay: Duration,
    /// Close every connection after its reply, as the original did
    /// (default off: HTTP/1.1 keep-alive is honoured).
    pub always_close: bool,
    /// The original's quirks to reproduce.
    pub quirks: Quirks,
    /// Connections served at once; more are closed at once (default 512).
    pub max_connections: usize,
    /// Connections served at once from one address; more from it are
    /// closed at once, so that one flooding peer cannot take every slot
    /// (default 128).
    pub max_connections_per_ip: usize,
    /// The most bytes of a request head (default 8 KiB).
    pub max_header_bytes: usize,
    /// The most bytes of a request body (default 64 KiB).
    pub max_body_bytes: usize,
    /// How long a connection may take to send one whole request, or stay
    /// idle between requests (default 10 s).
    pub read_timeout: Duration,
    /// How many of the latest requests [`Server::requests`](crate::Server::requests)
    /// keeps, for tests to assert on (default 0: none).
    pub request_log: usize,
    /// A second listener that speaks TLS (this project's extension; the
    /// plain one stays as the protocol defines it), with the same limits
    /// and fairness (default none).
    pub tls: Option<TlsListen>,
    /// Refuse a Login that did not come over TLS, unless it came from
    /// this machine (default off): `RS=1` with the reason (`RA`)
    /// "login requires TLS…", as a wrong password is refused.
    pub login_requires_tls: bool,
}

/// Where and with what the TLS listener listens.
#[derive(Debug, Clone)]
pub struct TlsListen {
    /// Its address (port 0: a free port, see
    /// [`Server::tls_addr`](crate::Server::tls_addr)).
    pub listen: SocketAddr,
    /// Its certificate: files (read again by
    /// [`Server::reload_tls`](crate::Server::reload_tls)) or given.
    pub certificate: crate::tls::TlsSource,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            accounts: Accounts::demo(),
            state: None,
            hash_cost: HashCost::Test,
            idle_timeout: Duration::from_secs(300),
            heartbeat: Duration::from_secs(60),
            max_messages_per_reply: 32,
            max_queued_messages: 10_000,
            max_queued_bytes: 4 * 1024 * 1024,
            send_limit: RateLimit {
                count: 100,
                window: Duration::from_secs(10),
            },
            status_limit: RateLimit {
                count: 20,
                window: Duration::from_secs(10),
            },
            login_limit: RateLimit {
                count: 10,
                window: Duration::from_secs(60),
            },
            guess_limit: RateLimit {
                count: 20,
                window: Duration::from_secs(60),
            },
            max_hashing: 1024,
            max_hashing_per_ip: 256,
            hash_threads: 0,
            penalty_delay: Duration::ZERO,
            delete_penalty_delay: Duration::ZERO,
            always_close: false,
            quirks: Quirks::default(),
            max_connections: 512,
            max_connections_per_ip: 128,
            max_header_bytes: 8 * 1024,
            max_body_bytes: httpqq::codec::MAX_BODY_BYTES,
            read_timeout: Duration::from_secs(10),
            request_log: 0,
            tls: None,
            login_requires_tls: false,
        }
    }
}

impl Config {
    /// Which bytes of a reply's text values are percent-encoded.
    pub(crate) fn escapes(&self) -> httpqq::codec::Escapes {
        if self.quirks.original_escapes {
            httpqq::codec::Escapes::Faithful
        } else {
            httpqq::codec::Escapes::Safe
        }
    }

    /// The original server's behaviour where it differs from the test
    /// defaults: every connection closed after its reply, `RES=3` held back
    /// 20 s (30 s for DelFromList), only the original's escapes.
    pub fn faithful(mut self) -> Self {
        self.quirks.original_escapes = true;
        self.always_close = true;
        self.penalty_delay = Duration::from_secs(20);
        self.delete_penalty_delay = Duration::from_secs(30);
        self
    }
}
