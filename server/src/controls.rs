//! What tests can do to a running server to rehearse failures: pause it
//! (connections accepted, never answered), slow every reply down, drop
//! every session right after its login, and record the requests it
//! received and the passwords it checked. (Expiring a session and throttling a
//! UIN change the [world](crate::world); stopping and restarting the
//! listener is the [`Server`](crate::Server)'s.)

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use httpqq::codec::Command;
use httpqq::Uin;

/// One request the server received, as its request log keeps it
/// ([`Server::requests`](crate::Server::requests)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// When it was answered, since the server started.
    pub at: Duration,
    /// Who sent it.
    pub peer: IpAddr,
    /// Its command, when the body could be read.
    pub command: Option<Command>,
    /// Its UIN, when the body could be read.
    pub uin: Option<Uin>,
    /// The reply's `RES`; `None` for the NULL (no reply).
    pub result: Option<u32>,
}

/// The controls' state, shared by the event loops.
#[derive(Debug)]
pub(crate) struct Controls {
    started: Instant,
    paused: AtomicBool,
    /// Added to every reply, in nanoseconds.
    latency: AtomicU64,
    /// Connections accepted.
    connections: AtomicU64,
    /// Passwords checked against their slow hash.
    password_checks: AtomicU64,
    /// TLS handshakes finished: in full, and resumed from a session the
    /// client kept.
    tls_full: AtomicU64,
    tls_resumed: AtomicU64,
    /// Every session is treated as unknown (`RES=20`) right after its
    /// login, as a NAT changing the client's address would make it.
    sessions_dropped: AtomicBool,
    /// At most this many requests are kept (0: none).
    capacity: usize,
    log: Mutex<VecDeque<LoggedRequest>>,
}

impl Controls {
    pub(crate) fn new(capacity: usize) -> Controls {
        Controls {
            started: Instant::now(),
            paused: AtomicBool::new(false),
            latency: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            password_checks: AtomicU64::new(0),
            tls_full: AtomicU64::new(0),
            tls_resumed: AtomicU64::new(0),
            sessions_dropped: AtomicBool::new(false),
            capacity,
            log: Mutex::new(VecDeque::new()),
        }
    }

    pub(crate) fn paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    pub(crate) fn set_paused(&self, on: bool) {
        self.paused.store(on, Ordering::SeqCst);
    }

    pub(crate) fn latency(&self) -> Duration {
        Duration::from_nanos(self.latency.load(Ordering::Relaxed))
    }

    pub(crate) fn set_latency(&self, latency: Duration) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.latency.store(nanos, Ordering::Relaxed);
    }

    pub(crate) fn connection_accepted(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    pub(crate) fn password_checked(&self) {
        self.password_checks.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn password_checks(&self) -> u64 {
        self.password_checks.load(Ordering::Relaxed)
    }

    pub(crate) fn tls_handshake(&self, resumed: bool) {
        let count = if resumed {
            &self.tls_resumed
        } else {
            &self.tls_full
        };
        count.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn tls_handshakes(&self) -> TlsHandshakes {
        TlsHandshakes {
            full: self.tls_full.load(Ordering::Relaxed),
            resumed: self.tls_resumed.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn sessions_dropped(&self) -> bool {
        self.sessions_dropped.load(Ordering::SeqCst)
    }

    pub(crate) fn set_sessions_dropped(&self, on: bool) {
        self.sessions_dropped.store(on, Ordering::SeqCst);
    }

    /// Records a request (when the log is on), dropping the oldest past
    /// the capacity.
    pub(crate) fn record(
        &self,
        peer: IpAddr,
        request: Option<(Command, u64)>,
        result: Option<u32>,
    ) {
        if self.capacity == 0 {
            return;
        }
        let entry = LoggedRequest {
            at: self.started.elapsed(),
            peer,
            command: request.map(|(command, _)| command),
            uin: request.map(|(_, uin)| Uin::new(uin)),
            result,
        };
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        if log.len() >= self.capacity {
            log.pop_front();
        }
        log.push_back(entry);
    }

    pub(crate) fn requests(&self) -> Vec<LoggedRequest> {
        let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        log.iter().cloned().collect()
    }

    pub(crate) fn clear(&self) {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// The TLS handshakes a server finished since it started
/// ([`crate::Server::tls_handshakes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TlsHandshakes {
    /// In full: certificate sent and verified, new keys agreed.
    pub full: u64,
    /// Resumed from a session the client kept from an earlier connection
    /// (no certificate sent or verified).
    pub resumed: u64,
}
