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
pub mod admin;
mod config;
mod conn;
mod controls;
mod handler;
mod hasher;
mod lockout;
mod passwords;
mod reactor;
mod store;
mod tls;
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
pub use config::{Config, Quirks, RateLimit, TlsListen};
pub use controls::{LoggedRequest, TlsHandshakes};
pub use passwords::HashCost;
pub use tls::{TlsCertificate, TlsSource};

use controls::Controls;
use store::{Lock, Sqlite, Storage, Watch};
use world::{Caps, World};

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
    /// The TLS certificate or key cannot be read or used.
    #[error("TLS: {0}")]
    Tls(String),
    /// The database cannot be opened or used: it is damaged, or not an
    /// httpqq database, or was made by a newer server. The server never
    /// starts without the data it had.
    #[error("database {path}: {reason}")]
    Database {
        /// The database (`:memory:` for one in memory).
        path: PathBuf,
        /// Why, and what to do.
        reason: String,
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
    pub(crate) stopping: AtomicBool,
    /// Connections being served (not those closing).
    pub(crate) active: AtomicUsize,
    /// Connections closing, waiting for their client's FIN.
    pub(crate) lingering: AtomicUsize,
    /// Connections being served, per peer address.
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    /// The test controls: pause, latency, the request log.
    pub(crate) controls: Arc<Controls>,
    /// The event loops serving now.
    pub(crate) loops: Mutex<Vec<Arc<reactor::LoopShare>>>,
    /// Checks Login passwords off the event loops.
    pub(crate) hasher: hasher::Hasher,
    /// The database's lock, held while the server lives.
    lock: Option<Lock>,
    /// The database's files, watched while the server runs.
    watch: Option<Watch>,
    /// Why the server stopped acknowledging, if it did.
    fault: Mutex<Option<String>>,
    /// What new TLS connections are served with, when there is a TLS
    /// listener.
    pub(crate) tls: Option<tls::Current>,
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
        // A request that panicked while holding the lock may have left its
        // transaction open: it is taken back, and serving goes on.
        let mut world = self.world.lock().unwrap_or_else(|poisoned| {
            let mut world = poisoned.into_inner();
            world.abort();
            world
        });
        if world.store.dirty() {
            world.abort();
        }
        // An account removed, or its password changed, by `accounts`
        // beside the server: its session ends before this request.
        if let Err(err) = world.follow_external_changes(Instant::now(), self.caps()) {
            world.abort();
            log::error!(target: "httpqq::server", "cannot follow the database's changes: {err}");
        }
        world
    }

    /// Records that the database was lost while running: nothing more is
    /// acknowledged (every write fails, so requests that change something
    /// get the NULL), and [`Server::fault`] says why.
    fn lose_database(&self, why: String) {
        log::error!(target: "httpqq::server", "{why}: acknowledging nothing more; stop the server and restore the database");
        if let Err(err) = self.lock_world().store.fail_writes(true) {
            log::error!(target: "httpqq::server", "cannot stop writing: {err}");
        }
        let mut fault = self.fault.lock().unwrap_or_else(|p| p.into_inner());
        fault.get_or_insert(why);
    }

    pub(crate) fn caps(&self) -> Caps {
        Caps {
            messages: self.config.max_queued_messages,
            bytes: self.config.max_queued_bytes,
        }
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
    tls_addr: Option<SocketAddr>,
    shared: Arc<Shared>,
    /// The threads serving, while it listens.
    running: Mutex<Option<Running>>,
}

/// The event loops and the expiry sweeper.
struct Running {
    /// One per event loop, to wake it (to stop, say).
    loops: Vec<Arc<reactor::LoopShare>>,
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
    /// With `config.state`, an existing database is used as it is (it holds
    /// the accounts as they were changed, so it wins over `config.accounts`);
    /// a new one is created (mode `0600`) and seeded with `config.accounts`.
    /// Without, a database in memory is seeded.
    ///
    /// # Errors
    /// [`ServerError`] when the address is taken, the accounts are invalid,
    /// or the database is unusable (damaged, empty, not ours, newer).
    pub fn start(config: Config) -> Result<Server, ServerError> {
        let (world, lock, watch) = open_world(&config)?;
        let (listener, addr) = bind(config.listen)?;
        let (tls_listener, tls_current) = match &config.tls {
            None => (None, None),
            Some(tls) => {
                let certificate = tls.certificate.load().map_err(ServerError::Tls)?;
                let served = certificate.server_config().map_err(ServerError::Tls)?;
                (Some(bind(tls.listen)?), Some(tls::Current::new(served)))
            }
        };
        let tls_addr = tls_listener.as_ref().map(|(_, addr)| *addr);
        let controls = Arc::new(Controls::new(config.request_log));
        let hasher = hasher::Hasher::start(
            config.hash_threads,
            config.max_hashing,
            config.max_hashing_per_ip,
        )
        .map_err(|source| ServerError::Listen {
            addr: config.listen,
            source,
        })?;
        let shared = Arc::new(Shared {
            config,
            world: Mutex::new(world),
            stopping: AtomicBool::new(false),
            active: AtomicUsize::new(0),
            lingering: AtomicUsize::new(0),
            per_ip: Mutex::new(HashMap::new()),
            controls,
            loops: Mutex::new(Vec::new()),
            hasher,
            lock,
            watch,
            fault: Mutex::new(None),
            tls: tls_current,
        });
        let running = serve(&shared, listener, tls_listener.map(|(l, _)| l), addr)?;
        if let Some(lock) = &shared.lock {
            lock.describe(&format!("listening on {addr}"));
        }
        log::info!(target: "httpqq::server", "listening on {addr}");
        if let Some(tls_addr) = tls_addr {
            log::info!(target: "httpqq::server", "listening with TLS on {tls_addr}");
        }
        Ok(Server {
            addr,
            tls_addr,
            shared,
            running: Mutex::new(Some(running)),
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address of the TLS listener, if there is one.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls_addr
    }

    /// A client builder for the TLS listener that trusts its certificate
    /// (a test server's own, from [`TlsCertificate::self_signed`]), if
    /// there is a TLS listener with a certificate given in memory.
    ///
    /// ```
    /// use httpqq::Uin;
    /// use httpqq_server::{Config, Server, TlsCertificate, TlsListen, TlsSource};
    ///
    /// let config = Config {
    ///     tls: Some(TlsListen {
    ///         listen: "127.0.0.1:0".parse()?,
    ///         certificate: TlsSource::Given(TlsCertificate::self_signed()?),
    ///     }),
    ///     ..Config::default()
    /// };
    /// let server = Server::start(config)?;
    /// let client = server.tls_client_builder().expect("a TLS listener").build()?;
    /// let alice = client.login(Uin::new(10001), "demo")?; // over TLS
    /// alice.logout()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tls_client_builder(&self) -> Option<httpqq::ClientBuilder> {
        let tls_addr = self.tls_addr?;
        let tls = self.shared.config.tls.as_ref()?;
        let TlsSource::Given(certificate) = &tls.certificate else {
            return None;
        };
        Some(
            httpqq::Client::builder()
                .endpoint(format!("https://{tls_addr}"))
                .ca_pem(certificate.chain_pem.clone()),
        )
    }

    /// Loads the TLS certificate again (the files of
    /// [`TlsSource::Files`]; `SIGHUP` to the command does this): new
    /// connections get it, those open keep theirs. On an error the old
    /// one stays.
    ///
    /// # Errors
    /// [`ServerError::Tls`] if there is no TLS listener, or the files
    /// cannot be read or do not hold a usable certificate and key.
    pub fn reload_tls(&self) -> Result<(), ServerError> {
        let (Some(tls), Some(current)) = (&self.shared.config.tls, &self.shared.tls) else {
            return Err(ServerError::Tls("there is no TLS listener".into()));
        };
        let served = tls
            .certificate
            .load()
            .and_then(|c| c.server_config())
            .map_err(ServerError::Tls)?;
        current.set(served);
        log::info!(target: "httpqq::server", "TLS certificate reloaded");
        Ok(())
    }

    /// Why the server stopped acknowledging changes, if it did: its
    /// database was deleted or replaced while it ran (noticed within a
    /// second). It then answers every request that would change something
    /// with the NULL; the `httpqq-server` command exits with status 1.
    pub fn fault(&self) -> Option<String> {
        self.shared
            .fault
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
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
        for share in &running.loops {
            share.wake();
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
        if let Err(err) = self.lock_world().forget_sessions() {
            log::error!(target: "httpqq::server", "cannot put in-flight batches back: {err}");
        }
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
        let (listener, _) = bind(self.addr)?;
        let tls_listener = match self.tls_addr {
            Some(addr) => Some(bind(addr)?.0),
            None => None,
        };
        self.shared.stopping.store(false, Ordering::SeqCst);
        *running = Some(serve(&self.shared, listener, tls_listener, self.addr)?);
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
        let caps = self.shared.caps();
        let ended =
            world.transaction(|w| w.set_presence(uin.get(), None, ip, Instant::now(), caps));
        if let Err(err) = ended {
            log::error!(target: "httpqq::server", "cannot end the session of {uin}: {err}");
            return false;
        }
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

    /// Changes `uin`'s password (a new salted hash is stored; the clear
    /// text is not kept), as an administrator would: the account's session,
    /// if any, ends (its next request gets `RES=20`), and the old password
    /// no longer logs in. Whether the account exists.
    pub fn change_password(&self, uin: Uin, password: &str) -> bool {
        let hash = passwords::hash(
            &httpqq::PasswordHash::from_password(password),
            self.shared.config.hash_cost,
        );
        let caps = self.shared.caps();
        let mut world = self.lock_world();
        let changed = world.transaction(|world| {
            let found = world.store.set_password(uin.get(), &hash)?;
            if found {
                if let Some(ip) = world.sessions.get(&uin.get()).map(|live| live.ip) {
                    world.end_session(uin.get(), ip, Instant::now(), caps)?;
                }
                world.lockout.forget(uin.get());
            }
            Ok::<_, store::StoreError>(found)
        });
        match changed {
            Ok(found) => found,
            Err(err) => {
                log::error!(target: "httpqq::server", "cannot change the password of {uin}: {err}");
                false
            }
        }
    }

    /// Test control: makes every write to the storage fail from now on
    /// (`true`), as a full or read-only disk would, or work again. Requests
    /// that would change something are answered with the NULL and change
    /// nothing.
    pub fn fail_storage(&self, on: bool) {
        if let Err(err) = self.lock_world().store.fail_writes(on) {
            log::error!(target: "httpqq::server", "cannot switch storage faults: {err}");
        }
    }

    /// The connections accepted since the server started (those over a
    /// cap included): with keep-alive off, one per request a client made,
    /// answered or not (for asserting on a paused server).
    pub fn connections_accepted(&self) -> u64 {
        self.shared.controls.connections()
    }

    /// How many passwords the server checked against their slow hash
    /// (argon2id) since it started: logins the lockout refused, or that
    /// took the fast path of the last good login, are not counted.
    pub fn password_checks(&self) -> u64 {
        self.shared.controls.password_checks()
    }

    /// The TLS handshakes finished since the server started, in full and
    /// resumed. A client that keeps its [`httpqq::Client`] resumes on its
    /// next connection instead of verifying the certificate again.
    pub fn tls_handshakes(&self) -> TlsHandshakes {
        self.shared.controls.tls_handshakes()
    }

    /// Test control: answers every request but Login and Logout with
    /// `RES=20` while on, as a server does for a client whose address
    /// changes with every connection (a NAT or proxy in between): each
    /// login succeeds, and the session is unknown at once.
    pub fn drop_sessions(&self, on: bool) {
        self.shared.controls.set_sessions_dropped(on);
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
        for share in running.iter().flat_map(|r| &r.loops) {
            share.wake();
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

    /// The fuzzing entry point (`fuzz/`, built with `--cfg fuzzing`): one
    /// request body from `peer` handled as the event loops would (a
    /// password checked on this thread), its answer's bytes (empty for the
    /// NULL), without a socket.
    #[cfg(fuzzing)]
    #[doc(hidden)]
    pub fn answer_body(&self, peer: IpAddr, body: &[u8], form: bool) -> Vec<u8> {
        let request = conn::Request::from_body(body, form);
        let response = match conn::respond(&self.shared, peer, false, &request) {
            conn::Step::Answer(response) => response,
            conn::Step::Hash(job) => conn::respond_checked(&self.shared, peer, &request, job.run()),
        };
        response.bytes
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Opens a listening socket, and says where it listens.
fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), ServerError> {
    let listen_error = |source| ServerError::Listen { addr, source };
    let listener = TcpListener::bind(addr).map_err(listen_error)?;
    let local = listener.local_addr().map_err(listen_error)?;
    Ok((listener, local))
}

/// Starts the event loops (one per core, at most four, each watching the
/// listening socket: the kernel wakes them in turn) and the sweeper.
fn serve(
    shared: &Arc<Shared>,
    listener: TcpListener,
    tls_listener: Option<TcpListener>,
    addr: SocketAddr,
) -> Result<Running, ServerError> {
    let listen_error = |source| ServerError::Listen { addr, source };
    listener.set_nonblocking(true).map_err(listen_error)?;
    if let Some(tls_listener) = &tls_listener {
        tls_listener.set_nonblocking(true).map_err(listen_error)?;
    }
    let loops = thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
    let mut running = Running {
        loops: Vec::new(),
        threads: Vec::new(),
    };
    let stop_started = |running: Running| {
        shared.stopping.store(true, Ordering::SeqCst);
        for share in &running.loops {
            share.wake();
        }
        for handle in running.threads {
            let _ = handle.join();
        }
    };
    for n in 0..loops {
        let started = reactor::poll_and_share().and_then(|(poll, share)| {
            let listener = listener.try_clone()?;
            let tls_listener = tls_listener
                .as_ref()
                .map(TcpListener::try_clone)
                .transpose()?;
            let for_loop = Arc::clone(shared);
            let mine = Arc::clone(&share);
            let thread = thread::Builder::new()
                .name(format!("httpqq-loop-{n}"))
                .spawn(move || reactor::run(poll, listener, tls_listener, for_loop, mine))?;
            Ok((thread, share))
        });
        match started {
            Ok((thread, share)) => {
                running.threads.push(thread);
                running.loops.push(share);
            }
            Err(source) => {
                // Stop the loops already running before failing.
                stop_started(running);
                return Err(listen_error(source));
            }
        }
    }
    drop(listener);
    drop(tls_listener);
    *shared.loops.lock().unwrap_or_else(|p| p.into_inner()) = running.loops.clone();
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

/// Opens (or creates and seeds) the database and builds the world on it;
/// with a file, takes its lock first and watches it.
fn open_world(config: &Config) -> Result<(World, Option<Lock>, Option<Watch>), ServerError> {
    let place = config
        .state
        .clone()
        .unwrap_or_else(|| PathBuf::from(":memory:"));
    let failed = |reason: String| ServerError::Database {
        path: place.clone(),
        reason,
    };
    let lock = match &config.state {
        Some(path) => Some(Lock::acquire(path).map_err(failed)?),
        None => None,
    };
    let mut store: Box<dyn Storage> = match &config.state {
        Some(path) => Box::new(Sqlite::open(path).map_err(failed)?),
        None => Box::new(Sqlite::in_memory().map_err(failed)?),
    };
    if store.is_new() {
        let seeded = admin::seed(&mut *store, &config.accounts, config.hash_cost)
            .map_err(|err| match err {
                admin::AdminError::Accounts(err) => ServerError::Accounts(err),
                other => failed(other.to_string()),
            })
            .and_then(|()| store.commit().map_err(|e| failed(e.0)));
        if let Err(err) = seeded {
            // Never leave a new, empty database behind to start from later.
            drop(store);
            if let Some(path) = &config.state {
                for suffix in ["", "-wal", "-shm"] {
                    let mut name = path.clone().into_os_string();
                    name.push(suffix);
                    let _ = std::fs::remove_file(name);
                }
            }
            return Err(err);
        }
    }
    let world = World::new(store).map_err(|e| failed(e.0))?;
    let watch = match &config.state {
        Some(path) => Some(Watch::new(path).map_err(failed)?),
        None => None,
    };
    Ok((world, lock, watch))
}

/// How often the database's files are looked at while the server runs.
const WATCH_EVERY: Duration = Duration::from_millis(250);

/// Ends idle sessions (telling their friends), and watches the database's
/// files, until the server stops.
fn sweep(shared: &Shared) {
    let every =
        (shared.config.idle_timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
    let step = Duration::from_millis(50).min(every);
    let mut waited = Duration::ZERO;
    let mut since_watch = Duration::ZERO;
    while !shared.stopping.load(Ordering::SeqCst) {
        thread::sleep(step);
        waited += step;
        since_watch += step;
        if since_watch >= WATCH_EVERY {
            since_watch = Duration::ZERO;
            let lost = shared.watch.as_ref().and_then(Watch::lost);
            let known = shared
                .fault
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_some();
            if let (Some(why), false) = (lost, known) {
                shared.lose_database(why);
            }
        }
        if waited < every {
            continue;
        }
        waited = Duration::ZERO;
        let mut world = shared.lock_world();
        let now = Instant::now();
        let expired =
            world.transaction(|w| w.expire(shared.config.idle_timeout, now, shared.caps()));
        if let Err(err) = expired {
            // The sessions stay; the next sweep tries again.
            log::error!(target: "httpqq::server", "cannot end idle sessions: {err}");
        }
        let window = shared
            .config
            .login_limit
            .window
            .max(shared.config.guess_limit.window);
        world.prune(window, now);
    }
}
