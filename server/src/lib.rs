//! # httpqq-server — a faithful HTTP QQ 1.1 reference server
//!
//! The original server at `tqq.tencent.com:8000` is gone. This one answers
//! like it did — field names, order and casing, the NULL, the Query_Stat
//! double reply, `RES=3` penalties — and is small enough to start inside a
//! test:
//!
//! ```
//! use httpqq::{Client, Uin};
//! use httpqq_server::{Config, Server};
//!
//! let server = Server::start(Config::default())?; // demo accounts, ephemeral port
//! let client = Client::new(server.local_addr().to_string())?;
//! let alice = client.login(Uin::new(10001), "demo")?;
//! assert_eq!(alice.friends()?, vec![Uin::new(10002)]);
//! server.stop();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The command `httpqq-server` wraps the same library (see `--help`).
//! Logging goes through `log` under the target `httpqq_server`: one line per
//! request (command, UIN, result, elapsed); never a password.

#![warn(missing_docs)]

pub mod accounts;
mod config;
mod conn;
mod handler;
mod persist;
mod world;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

pub use accounts::{Account, Accounts, AccountsError, AddPolicy, Profile};
pub use config::{Config, Quirks, RateLimit};

use persist::StateFile;
use world::{Snapshot, World};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The accounts are unusable.
    #[error(transparent)]
    Accounts(#[from] AccountsError),
    /// The state file could not be read or written.
    #[error("state file {path}: {source}")]
    State {
        /// The state file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The README's examples, compiled as doc tests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;

/// What every connection thread shares.
pub(crate) struct Shared {
    pub(crate) config: Config,
    world: Mutex<World>,
    pub(crate) state: Option<StateFile>,
    pub(crate) stopping: AtomicBool,
    active: AtomicUsize,
    /// Connections being served, per peer address.
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    idle: (Mutex<()>, Condvar),
}

impl Shared {
    /// Counts a connection from `ip` in, unless it has its share already.
    fn admit(&self, ip: IpAddr) -> bool {
        let mut per_ip = self.per_ip.lock().unwrap_or_else(|p| p.into_inner());
        let count = per_ip.entry(ip).or_insert(0);
        if *count >= self.config.max_connections_per_ip {
            return false;
        }
        *count += 1;
        true
    }

    /// Counts a connection from `ip` out.
    fn release(&self, ip: IpAddr) {
        let mut per_ip = self.per_ip.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = per_ip.get_mut(&ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                per_ip.remove(&ip);
            }
        }
    }

    pub(crate) fn lock_world(&self) -> MutexGuard<'_, World> {
        // A panic while holding the lock cannot leave the world half-changed
        // in a way later requests could not handle; keep serving.
        self.world
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A running server. Stopping it (or dropping it) finishes the requests in
/// flight and closes every connection.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Starts serving on `config.listen` (port 0: a free port, see
    /// [`Server::local_addr`]).
    ///
    /// With `config.state`, an existing state file is restored (it holds
    /// the accounts as they were changed, so it wins over `config.accounts`);
    /// otherwise it is created from `config.accounts`.
    ///
    /// # Errors
    /// [`ServerError`] when the address is taken, the accounts are invalid
    /// or the state file is unusable.
    pub fn start(config: Config) -> Result<Server, ServerError> {
        let state = config.state.clone().map(StateFile::new);
        let state_error = |path: &PathBuf, source| ServerError::State {
            path: path.clone(),
            source,
        };
        let restored = match (&state, &config.state) {
            (Some(file), Some(path)) => file.load().map_err(|e| state_error(path, e))?,
            _ => None,
        };
        let fresh = restored.is_none();
        let world = World::new(restored.unwrap_or_else(|| Snapshot {
            account: config.accounts.accounts.clone(),
            ..Snapshot::default()
        }))?;
        if let (Some(file), Some(path), true) = (&state, &config.state, fresh) {
            let text = world
                .snapshot_toml()
                .map_err(|e| state_error(path, std::io::Error::other(e.to_string())))?;
            file.save(0, &text).map_err(|e| state_error(path, e))?;
        }
        let listener = TcpListener::bind(config.listen).map_err(|source| ServerError::Listen {
            addr: config.listen,
            source,
        })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ServerError::Listen {
                addr: config.listen,
                source,
            })?;
        let shared = Arc::new(Shared {
            config,
            world: Mutex::new(world),
            state,
            stopping: AtomicBool::new(false),
            active: AtomicUsize::new(0),
            per_ip: Mutex::new(HashMap::new()),
            idle: (Mutex::new(()), Condvar::new()),
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("httpqq-accept".into())
                .spawn(move || accept(listener, &shared))
                .map_err(|source| ServerError::Listen { addr, source })?
        };
        let sweeper = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("httpqq-expiry".into())
                .spawn(move || sweep(&shared))
                .map_err(|source| ServerError::Listen { addr, source })?
        };
        log::info!(target: "httpqq::server", "listening on {addr}");
        Ok(Server {
            addr,
            shared,
            threads: vec![acceptor, sweeper],
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops: refuses new connections, lets requests in flight finish,
    /// closes idle connections, and returns when all are done.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if self.shared.stopping.swap(true, Ordering::SeqCst) {
            return;
        }
        // Wake the acceptor.
        let mut wake = self.addr;
        if wake.ip().is_unspecified() {
            wake.set_ip(if wake.is_ipv4() {
                [127, 0, 0, 1].into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
        }
        let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
        for handle in self.threads.drain(..) {
            let _ = handle.join();
        }
        let (lock, condvar) = &self.shared.idle;
        let mut guard = lock.lock().unwrap_or_else(|p| p.into_inner());
        let limit = Instant::now()
            + self.shared.config.read_timeout
            + self
                .shared
                .config
                .delete_penalty_delay
                .max(self.shared.config.penalty_delay)
            + Duration::from_secs(2);
        while self.shared.active.load(Ordering::SeqCst) > 0 && Instant::now() < limit {
            guard = condvar
                .wait_timeout(guard, Duration::from_millis(50))
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        log::info!(target: "httpqq::server", "stopped");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// How long a worker thread waits for another connection before it ends.
const WORKER_IDLE: Duration = Duration::from_secs(10);

/// Accepts connections, up to the cap, each served by a thread of its own:
/// a worker left idle by an earlier connection if there is one (starting a
/// thread per connection costs more than serving a short request), else a
/// new one.
fn accept(listener: TcpListener, shared: &Arc<Shared>) {
    let (hand_over, waiting) = mpsc::channel::<TcpStream>();
    let pool = Arc::new(Pool {
        waiting: Mutex::new(waiting),
        idle: AtomicUsize::new(0),
    });
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let Ok(peer) = stream.peer_addr() else {
            continue;
        };
        if shared.active.load(Ordering::SeqCst) >= shared.config.max_connections {
            log::warn!(target: "httpqq::server", "connection cap reached; closing a new connection");
            drop(stream);
            continue;
        }
        if !shared.admit(peer.ip()) {
            log::warn!(target: "httpqq::server", "connection cap for {} reached; closing a new connection", peer.ip());
            drop(stream);
            continue;
        }
        shared.active.fetch_add(1, Ordering::SeqCst);
        // Claim an idle worker, if any; each claim is one stream sent.
        if pool.claim() {
            if hand_over.send(stream).is_err() {
                shared.active.fetch_sub(1, Ordering::SeqCst);
                shared.release(peer.ip());
            }
            continue;
        }
        let (worker, pool) = (Arc::clone(shared), Arc::clone(&pool));
        let spawned = thread::Builder::new()
            .name("httpqq-conn".into())
            .spawn(move || work(stream, &worker, &pool));
        if spawned.is_err() {
            shared.active.fetch_sub(1, Ordering::SeqCst);
            shared.release(peer.ip());
        }
    }
    // Dropping `hand_over` ends the idle workers.
}

/// The idle workers and the connections handed to them.
struct Pool {
    waiting: Mutex<mpsc::Receiver<TcpStream>>,
    /// Idle workers not yet claimed by the acceptor.
    idle: AtomicUsize,
}

impl Pool {
    fn claim(&self) -> bool {
        self.idle
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// A worker: serves its first connection, then those handed to it, until
/// it has been idle for `WORKER_IDLE` or the server stops.
fn work(first: TcpStream, shared: &Shared, pool: &Pool) {
    let mut next = Some(first);
    while let Some(stream) = next.take() {
        let ip = stream.peer_addr().ok().map(|a| a.ip());
        let guard = ActiveGuard(shared, ip);
        conn::serve(stream, shared);
        drop(guard);
        pool.idle.fetch_add(1, Ordering::SeqCst);
        loop {
            let received = pool
                .waiting
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .recv_timeout(WORKER_IDLE);
            match received {
                Ok(stream) => {
                    next = Some(stream);
                    break;
                }
                // Idle too long: leave, unless the acceptor has just
                // claimed this worker (then a stream is on its way).
                Err(mpsc::RecvTimeoutError::Timeout) if pool.claim() => return,
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}

/// Counts a connection out, even if serving it panicked.
struct ActiveGuard<'a>(&'a Shared, Option<IpAddr>);

impl Drop for ActiveGuard<'_> {
    fn drop(&mut self) {
        if let Some(ip) = self.1 {
            self.0.release(ip);
        }
        self.0.active.fetch_sub(1, Ordering::SeqCst);
        self.0.idle.1.notify_all();
    }
}

/// Ends idle sessions (telling their friends) until the server stops.
fn sweep(shared: &Shared) {
    let every =
        (shared.config.idle_timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
    let step = Duration::from_millis(50).min(every);
    let mut waited = Duration::ZERO;
    while !shared.stopping.load(Ordering::SeqCst) {
        thread::sleep(step);
        waited += step;
        if waited < every {
            continue;
        }
        waited = Duration::ZERO;
        let mut world = shared.lock_world();
        let before = world.generation;
        world.expire(shared.config.idle_timeout, Instant::now());
        if let (Some(state), true) = (&shared.state, world.generation != before) {
            if let Ok(text) = world.snapshot_toml() {
                let generation = world.generation;
                drop(world);
                if let Err(err) = state.save(generation, &text) {
                    log::error!(target: "httpqq::server", "cannot write {}: {err}", state.path().display());
                }
            }
        }
    }
}
