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
mod controls;
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

use httpqq::Uin;

pub use accounts::{Account, Accounts, AccountsError, AddPolicy, Profile};
pub use config::{Config, Quirks, RateLimit};
pub use controls::LoggedRequest;

use controls::Controls;

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
    /// The test controls: pause, latency, the request log.
    pub(crate) controls: Controls,
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
///
/// Besides serving, it has controls for rehearsing failures in tests:
/// [`expire_session`](Server::expire_session), [`throttle`](Server::throttle),
/// [`set_latency`](Server::set_latency), [`pause`](Server::pause) and
/// [`resume`](Server::resume), [`stop_listening`](Server::stop_listening)
/// and [`restart`](Server::restart), and a log of the requests received
/// ([`requests`](Server::requests), with [`Config::request_log`]).
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    /// The threads serving, while it listens.
    running: Mutex<Option<Running>>,
}

/// The event loops and the expiry sweeper.
struct Running {
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
        let controls = Controls::new(config.request_log);
        let shared = Arc::new(Shared {
            config,
            world: Mutex::new(world),
            state,
            stopping: AtomicBool::new(false),
            active: AtomicUsize::new(0),
            lingering: AtomicUsize::new(0),
            per_ip: Mutex::new(HashMap::new()),
            controls,
        });
        let running = serve(&shared, listener, addr)?;
        log::info!(target: "httpqq::server", "listening on {addr}");
        Ok(Server {
            addr,
            shared,
            running: Mutex::new(Some(running)),
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops: refuses new connections, lets requests in flight finish,
    /// closes idle connections, and returns when all are done.
    pub fn stop(self) {
        self.shutdown();
    }

    fn shutdown(&self) {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let Some(running) = running else {
            return;
        };
        self.shared.stopping.store(true, Ordering::SeqCst);
        for waker in &running.wakers {
            let _ = waker.wake();
        }
        // Each loop closes its idle connections at once and returns when
        // the others are done; every phase of a connection has a deadline.
        for handle in running.threads {
            let _ = handle.join();
        }
        log::info!(target: "httpqq::server", "stopped");
    }

    /// Test control: stops listening as a crashed server would: the
    /// listening socket and every connection close (requests in flight
    /// finish first), and every session is forgotten, as after a restart
    /// from a state file (each user's last fetched batch, not confirmed,
    /// will be delivered again). Accounts, friend lists and queued
    /// messages stay. [`Server::restart`] listens again.
    pub fn stop_listening(&self) {
        self.shutdown();
        self.lock_world().forget_sessions();
        log::info!(target: "httpqq::server", "stopped listening on {}", self.addr);
    }

    /// Test control: listens again on the same address after
    /// [`Server::stop_listening`], with everything the server kept. Nothing
    /// if it is listening.
    ///
    /// # Errors
    /// [`ServerError::Listen`] if the address cannot be taken again.
    pub fn restart(&self) -> Result<(), ServerError> {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if running.is_some() {
            return Ok(());
        }
        let listener = TcpListener::bind(self.addr).map_err(|source| ServerError::Listen {
            addr: self.addr,
            source,
        })?;
        self.shared.stopping.store(false, Ordering::SeqCst);
        *running = Some(serve(&self.shared, listener, self.addr)?);
        log::info!(target: "httpqq::server", "listening again on {}", self.addr);
        Ok(())
    }

    /// Test control: ends `uin`'s session now, as its idle timeout would
    /// (its friends are told); its next request gets `RES=20`. Whether it
    /// had one.
    pub fn expire_session(&self, uin: Uin) -> bool {
        let mut world = self.lock_world();
        let Some(ip) = world.sessions.get(&uin.get()).map(|live| live.ip) else {
            return false;
        };
        world.set_presence(uin.get(), None, ip, Instant::now());
        true
    }

    /// Test control: answers every request of `uin` but Logout with
    /// `RES=3` for `duration` (zero: stop doing so).
    pub fn throttle(&self, uin: Uin, duration: Duration) {
        let mut world = self.lock_world();
        if duration.is_zero() {
            world.held.remove(&uin.get());
        } else {
            world.held.insert(uin.get(), Instant::now() + duration);
        }
    }

    /// Changes `uin`'s password (its stored MD5; the clear text is not
    /// kept), as an administrator would; the session, if any, goes on.
    /// Whether the account exists.
    pub fn change_password(&self, uin: Uin, password: &str) -> bool {
        let mut world = self.lock_world();
        let Some(user) = world.users.get_mut(&uin.get()) else {
            return false;
        };
        user.password = httpqq::PasswordHash::from_password(password);
        user.account.password = None;
        user.account.password_md5 = Some(user.password.to_md5_hex());
        world.changed();
        true
    }

    /// The connections accepted since the server started (those over a
    /// cap included): with keep-alive off, one per request a client made,
    /// answered or not (for asserting on a paused server).
    pub fn connections_accepted(&self) -> u64 {
        self.shared.controls.connections()
    }

    /// Test control: holds every reply back this much longer (zero: no
    /// more), as a slow network or server would.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.controls.set_latency(latency);
    }

    /// Test control: accepts connections but answers nothing until
    /// [`Server::resume`] (clients time out: a black hole). A connection
    /// silent for the read timeout is closed as usual.
    pub fn pause(&self) {
        self.shared.controls.set_paused(true);
    }

    /// Test control: answers again after [`Server::pause`], starting with
    /// the requests that waited.
    pub fn resume(&self) {
        self.shared.controls.set_paused(false);
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        for waker in running.iter().flat_map(|r| &r.wakers) {
            let _ = waker.wake();
        }
    }

    /// The latest requests received (at most [`Config::request_log`] of
    /// them), oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.controls.requests()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        self.shared.controls.clear();
    }

    fn lock_world(&self) -> MutexGuard<'_, World> {
        self.shared.lock_world()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Starts the event loops (one per core, at most four, each watching the
/// listening socket: the kernel wakes them in turn) and the sweeper.
fn serve(
    shared: &Arc<Shared>,
    listener: TcpListener,
    addr: SocketAddr,
) -> Result<Running, ServerError> {
    let listen_error = |source| ServerError::Listen { addr, source };
    listener.set_nonblocking(true).map_err(listen_error)?;
    let loops = thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
    let mut running = Running {
        wakers: Vec::new(),
        threads: Vec::new(),
    };
    let stop_started = |running: Running| {
        shared.stopping.store(true, Ordering::SeqCst);
        for waker in &running.wakers {
            let _ = waker.wake();
        }
        for handle in running.threads {
            let _ = handle.join();
        }
    };
    for n in 0..loops {
        let started = reactor::poll_and_waker().and_then(|(poll, waker)| {
            let listener = listener.try_clone()?;
            let for_loop = Arc::clone(shared);
            let thread = thread::Builder::new()
                .name(format!("httpqq-loop-{n}"))
                .spawn(move || reactor::run(poll, listener, for_loop))?;
            Ok((thread, waker))
        });
        match started {
            Ok((thread, waker)) => {
                running.threads.push(thread);
                running.wakers.push(waker);
            }
            Err(source) => {
                // Stop the loops already running before failing.
                stop_started(running);
                return Err(listen_error(source));
            }
        }
    }
    drop(listener);
    let sweeper = {
        let shared = Arc::clone(shared);
        thread::Builder::new()
            .name("httpqq-expiry".into())
            .spawn(move || sweep(&shared))
    };
    match sweeper {
        Ok(thread) => running.threads.push(thread),
        Err(source) => {
            stop_started(running);
            return Err(listen_error(source));
        }
    }
    Ok(running)
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
