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
//! Logging goes through `log` under the target `httpqq::server`: one line
//! per request (command, UIN, result, elapsed); never a password.

#![warn(missing_docs)]

pub mod accounts;
mod config;
mod conn;
mod handler;
mod persist;
mod reactor;
mod world;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
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
    /// Connections being served (not those closing).
    pub(crate) active: AtomicUsize,
    /// Connections closing, waiting for their client's FIN.
    pub(crate) lingering: AtomicUsize,
    /// Connections being served, per peer address.
    per_ip: Mutex<HashMap<IpAddr, usize>>,
}

impl Shared {
    /// Counts a connection from `ip` in, unless it has its share already.
    pub(crate) fn admit(&self, ip: IpAddr) -> bool {
        let mut per_ip = self.per_ip.lock().unwrap_or_else(|p| p.into_inner());
        let count = per_ip.entry(ip).or_insert(0);
        if *count >= self.config.max_connections_per_ip {
            return false;
        }
        *count += 1;
        true
    }

    /// Counts a connection from `ip` out.
    pub(crate) fn release(&self, ip: IpAddr) {
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
    /// One per event loop, to tell it the server is stopping.
    wakers: Vec<mio::Waker>,
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
            lingering: AtomicUsize::new(0),
            per_ip: Mutex::new(HashMap::new()),
        });
        let listen_error = |source| ServerError::Listen { addr, source };
        listener.set_nonblocking(true).map_err(listen_error)?;
        // One event loop per core (at most four), each watching the
        // listening socket: the kernel wakes them in turn.
        let loops = thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
        let mut threads = Vec::new();
        let mut wakers: Vec<mio::Waker> = Vec::new();
        for n in 0..loops {
            let (poll, waker) = reactor::poll_and_waker().map_err(listen_error)?;
            let listener = listener.try_clone().map_err(listen_error)?;
            let for_loop = Arc::clone(&shared);
            let spawned = thread::Builder::new()
                .name(format!("httpqq-loop-{n}"))
                .spawn(move || reactor::run(poll, listener, for_loop));
            match spawned {
                Ok(thread) => threads.push(thread),
                Err(source) => {
                    // Stop the loops already running before failing.
                    shared.stopping.store(true, Ordering::SeqCst);
                    for waker in &wakers {
                        let _ = waker.wake();
                    }
                    return Err(listen_error(source));
                }
            }
            wakers.push(waker);
        }
        drop(listener);
        let sweeper = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("httpqq-expiry".into())
                .spawn(move || sweep(&shared))
                .map_err(listen_error)?
        };
        threads.push(sweeper);
        log::info!(target: "httpqq::server", "listening on {addr}");
        Ok(Server {
            addr,
            shared,
            wakers,
            threads,
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
        for waker in &self.wakers {
            let _ = waker.wake();
        }
        // Each loop closes its idle connections at once and returns when
        // the others are done; every phase of a connection has a deadline.
        for handle in self.threads.drain(..) {
            let _ = handle.join();
        }
        log::info!(target: "httpqq::server", "stopped");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
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
