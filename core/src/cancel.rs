//! Ending a request in flight from outside: a [`Cancel`] token, and the
//! scope that ties a thread's requests to it.
//!
//! A request made inside [`Cancel::run`] registers its socket with the
//! token; [`Cancel::cancel`], from any thread, shuts that socket down, so a
//! read or write waiting on it returns at once, and every wait of the
//! request (resolving the host, connecting, and on Windows, where a
//! shutdown does not wake a thread blocked on the socket, reading and
//! writing too) looks at the token at least every [`SLICE`]. The request
//! then fails with [`Error::Cancelled`](crate::Error::Cancelled), whose
//! phase says whether anything of it was sent.
//!
//! A scope may also carry a deadline (the agent's bounded logout) and a
//! check run on the waiting thread between slices (Python's signal check,
//! so that Ctrl-C ends a call on the main thread without a second thread).
//!
//! The transport finds the scope through a thread-local, so nothing of
//! this passes through `ureq`'s API; requests made outside any scope wait
//! as before, with no slicing.

use std::cell::RefCell;
use std::net::{Shutdown, TcpStream};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The longest a wait inside a scope goes without looking at its token
/// (and running its check).
pub const SLICE: Duration = Duration::from_millis(50);

/// A token that ends requests in flight (see [`Cancel::run`]).
///
/// Cheap to clone (clones share the token); `Send + Sync`. Once cancelled
/// it stays cancelled: make a new one for new work.
///
/// ```no_run
/// use httpqq::{Cancel, Client, Error, Uin};
/// use std::time::Duration;
///
/// let client = Client::new("127.0.0.1:8000")?;
/// let session = client.login(Uin::new(10001), "demo")?;
/// let cancel = Cancel::new();
/// let stopper = cancel.clone();
/// std::thread::spawn(move || {
///     std::thread::sleep(Duration::from_millis(100));
///     stopper.cancel(); // the poll below ends now, whatever it waits for
/// });
/// match cancel.run(|| session.poll()) {
///     Err(Error::Cancelled { phase }) => println!("cancelled while {phase}"),
///     other => println!("{other:?}"),
/// }
/// # Ok::<(), httpqq::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Cancel {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    cancelled: AtomicBool,
    /// When the token cancels itself ([`Cancel::cancel_at`]).
    deadline: Mutex<Option<Instant>>,
    /// The sockets of requests in flight under this token.
    sockets: Mutex<Vec<Arc<TcpStream>>>,
}

impl std::fmt::Debug for Cancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cancel")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

impl Cancel {
    /// A token not cancelled yet.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Cancels: every request in flight under this token ends now (its
    /// socket is shut down), and every later one under it fails at once
    /// without sending anything. Idempotent; callable from any thread
    /// (not from a signal handler).
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::SeqCst);
        for socket in self.sockets().iter() {
            let _ = socket.shutdown(Shutdown::Both);
        }
    }

    /// Cancels at `deadline`: requests in flight under the token then may
    /// still finish until it, and are cut short at it (by the thread that
    /// waits for them, which wakes up then). An earlier deadline wins.
    pub fn cancel_at(&self, deadline: Instant) {
        let mut set = self
            .inner
            .deadline
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *set = Some(set.map_or(deadline, |d| d.min(deadline)));
    }

    /// Whether [`Cancel::cancel`] was called (or the deadline given to
    /// [`Cancel::cancel_at`] has passed).
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::SeqCst)
            || self.deadline().is_some_and(|d| Instant::now() >= d)
    }

    fn deadline(&self) -> Option<Instant> {
        *self
            .inner
            .deadline
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `work` on this thread with its requests under this token: a
    /// [`Cancel::cancel`] from another thread ends them at once with
    /// [`Error::Cancelled`](crate::Error::Cancelled). Scopes nest, and each
    /// enclosing one still applies: a request inside two ends when either
    /// token is cancelled.
    pub fn run<T>(&self, work: impl FnOnce() -> T) -> T {
        Scope::new(self.clone()).run(work)
    }

    /// As [`Cancel::run`], ending the requests at `deadline` too (as if
    /// cancelled then).
    pub fn run_until<T>(&self, deadline: Instant, work: impl FnOnce() -> T) -> T {
        let mut scope = Scope::new(self.clone());
        scope.deadline = Some(deadline);
        scope.run(work)
    }

    /// As [`Cancel::run`], calling `check` on this thread at least every
    /// [`SLICE`] while a request waits (and when a signal interrupts a
    /// wait); when it returns true, the token is cancelled. For runtimes
    /// that learn of an interruption only by looking (Python's Ctrl-C).
    /// A request made from inside `check` runs without it.
    pub fn run_checked<T>(
        &self,
        check: impl FnMut() -> bool + 'static,
        work: impl FnOnce() -> T,
    ) -> T {
        let mut scope = Scope::new(self.clone());
        scope.check = Some(Rc::new(RefCell::new(Box::new(check))));
        scope.run(work)
    }

    fn sockets(&self) -> MutexGuard<'_, Vec<Arc<TcpStream>>> {
        self.inner
            .sockets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A scope's check (see [`Cancel::run_checked`]).
type Check = Rc<RefCell<Box<dyn FnMut() -> bool>>>;

/// What a thread's requests run under.
struct Scope {
    cancel: Cancel,
    deadline: Option<Instant>,
    check: Option<Check>,
}

thread_local! {
    static SCOPES: RefCell<Vec<Scope>> = const { RefCell::new(Vec::new()) };
}

impl Scope {
    fn new(cancel: Cancel) -> Scope {
        Scope {
            cancel,
            deadline: None,
            check: None,
        }
    }

    fn run<T>(self, work: impl FnOnce() -> T) -> T {
        /// Takes the scope off the thread however `work` ends.
        struct Pop;
        impl Drop for Pop {
            fn drop(&mut self) {
                SCOPES.with(|s| s.borrow_mut().pop());
            }
        }
        SCOPES.with(|s| s.borrow_mut().push(self));
        let _pop = Pop;
        work()
    }
}

/// Whether the thread's scopes say to stop now: a token cancelled (or past
/// its deadline), a scope past its deadline, or (with `ask`, after a wait
/// ended early) a scope's check asked for it, which cancels its token.
/// Every enclosing scope counts: an agent's send made inside a caller's
/// scope ends when either token is cancelled. Always false outside a
/// scope.
pub(crate) fn should_stop(ask: bool) -> bool {
    let now = Instant::now();
    // `None`: stop now; else the checks to ask.
    let checks: Option<Vec<(Cancel, Check)>> = SCOPES.with(|scopes| {
        let scopes = scopes.borrow();
        for scope in scopes.iter() {
            if scope.cancel.is_cancelled() {
                // (Past the token's deadline: its other requests too.)
                scope.cancel.cancel();
                return None;
            }
            if scope.deadline.is_some_and(|d| now >= d) {
                return None;
            }
        }
        let wanted = scopes
            .iter()
            .filter(|_| ask)
            .filter_map(|s| Some((s.cancel.clone(), s.check.clone()?)));
        Some(wanted.collect())
    });
    let Some(checks) = checks else {
        return true;
    };
    // The checks run outside the borrow: they may run code that makes
    // requests of its own (a signal handler), which push scopes. A check
    // running already (a request made from inside it) is not asked again.
    for (cancel, check) in checks {
        if check.try_borrow_mut().is_ok_and(|mut c| c()) {
            cancel.cancel();
            return true;
        }
    }
    false
}

/// How long a wait inside the thread's scopes may last before it looks
/// again: `None` outside a scope (wait as long as the request allows).
pub(crate) fn slice() -> Option<Duration> {
    SCOPES.with(|scopes| {
        let scopes = scopes.borrow();
        if scopes.is_empty() {
            return None;
        }
        let deadline = scopes
            .iter()
            .flat_map(|scope| [scope.deadline, scope.cancel.deadline()])
            .flatten()
            .min();
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        Some(left.map_or(SLICE, |left| left.min(SLICE)))
    })
}

/// Registers a request's socket with the tokens of the thread's scopes, so
/// that a cancel of any shuts it down; `None` outside a scope. Dropping the
/// registration takes it back.
pub(crate) fn register(socket: &Arc<TcpStream>) -> Option<Registration> {
    let tokens: Vec<Cancel> =
        SCOPES.with(|scopes| scopes.borrow().iter().map(|s| s.cancel.clone()).collect());
    if tokens.is_empty() {
        return None;
    }
    for cancel in &tokens {
        cancel.sockets().push(Arc::clone(socket));
        // Cancelled before the socket was registered: shut it down now
        // (the cancel may have looked at the list before the push).
        if cancel.is_cancelled() {
            let _ = socket.shutdown(Shutdown::Both);
        }
    }
    Some(Registration {
        tokens,
        socket: Arc::clone(socket),
    })
}

/// A socket registered with tokens while its request is in flight.
pub(crate) struct Registration {
    tokens: Vec<Cancel>,
    socket: Arc<TcpStream>,
}

impl Registration {
    /// Whether it is registered with exactly the thread's current scopes.
    pub(crate) fn is_current(&self) -> bool {
        SCOPES.with(|scopes| {
            let scopes = scopes.borrow();
            scopes.len() == self.tokens.len()
                && scopes
                    .iter()
                    .zip(&self.tokens)
                    .all(|(s, t)| Arc::ptr_eq(&s.cancel.inner, &t.inner))
        })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        for cancel in &self.tokens {
            cancel.sockets().retain(|s| !Arc::ptr_eq(s, &self.socket));
        }
    }
}

/// Sleeps until `until` (not a request: a wait between requests), looking
/// at the thread's scopes, and at `stopped`, every [`SLICE`]: whether it
/// slept through (false: a scope or `stopped` said to stop first).
pub(crate) fn sleep_until(until: Instant, stopped: impl Fn() -> bool) -> bool {
    loop {
        if stopped() || should_stop(true) {
            return false;
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(slice().unwrap_or(SLICE)));
    }
}

/// A request ended by its scope (cancelled, or past the scope's
/// deadline): carried through `ureq` as its `Other` error, so that the
/// transport can tell it from a failure of the network.
#[derive(Debug)]
pub(crate) struct Cancelled {
    /// Whether any of the request had been sent.
    pub(crate) sent: bool,
}

impl Cancelled {
    /// As `ureq`'s error.
    pub(crate) fn error(sent: bool) -> ureq::Error {
        ureq::Error::Other(Box::new(Cancelled { sent }))
    }
}

impl std::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request was cancelled")
    }
}

impl std::error::Error for Cancelled {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_a_scope_nothing_stops_and_waits_are_not_sliced() {
        assert!(!should_stop(true));
        assert_eq!(slice(), None);
    }

    #[test]
    fn a_scope_sees_its_token_its_deadline_and_its_check() {
        let cancel = Cancel::new();
        cancel.run(|| {
            assert!(!should_stop(true));
            assert_eq!(slice(), Some(SLICE));
            cancel.cancel();
            assert!(should_stop(true));
        });
        let fresh = Cancel::new();
        fresh.run_until(Instant::now() - Duration::from_millis(1), || {
            assert!(should_stop(true));
            assert_eq!(slice(), Some(Duration::ZERO));
        });
        let calls = Rc::new(std::cell::Cell::new(0));
        let counted = Rc::clone(&calls);
        let check = move || {
            counted.set(counted.get() + 1);
            counted.get() >= 2
        };
        let checked = Cancel::new();
        checked.run_checked(check, || {
            assert!(!should_stop(true));
            assert!(should_stop(true), "the second check asks to stop");
        });
        assert!(checked.is_cancelled());
        assert_eq!(calls.get(), 2);
        assert!(!should_stop(true), "the scope ends with its work");
    }

    #[test]
    fn a_token_cancels_itself_at_its_deadline() {
        let cancel = Cancel::new();
        cancel.cancel_at(Instant::now() + Duration::from_secs(60));
        cancel.cancel_at(Instant::now() + Duration::from_millis(30));
        assert!(!cancel.is_cancelled());
        cancel.run(|| {
            assert!(
                slice().unwrap() <= Duration::from_millis(30),
                "waits end at it"
            );
            std::thread::sleep(Duration::from_millis(40));
            assert!(should_stop(false));
        });
        assert!(cancel.is_cancelled());
    }

    #[test]
    fn a_sleep_ends_when_its_scope_says_so() {
        assert!(sleep_until(
            Instant::now() + Duration::from_millis(20),
            || false
        ));
        let cancel = Cancel::new();
        cancel.cancel_at(Instant::now() + Duration::from_millis(30));
        let started = Instant::now();
        let slept = cancel.run(|| sleep_until(Instant::now() + Duration::from_secs(10), || false));
        assert!(!slept);
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(!sleep_until(
            Instant::now() + Duration::from_secs(10),
            || true
        ));
    }

    #[test]
    fn every_enclosing_scope_applies() {
        let outer = Cancel::new();
        let inner = Cancel::new();
        outer.run(|| {
            inner.run(|| assert!(!should_stop(true)));
            outer.cancel();
            inner.run(|| assert!(should_stop(true), "the outer token is cancelled"));
        });
        let fresh = Cancel::new();
        inner.cancel();
        fresh.run(|| {
            inner.run(|| assert!(should_stop(true), "the inner token is cancelled"));
            assert!(!should_stop(true), "the inner scope has ended");
        });
    }

    // Unix only: on Windows (and wine) shutting a socket down does not
    // wake a thread blocked on it; there the slices end the wait.
    #[test]
    #[cfg(unix)]
    fn cancel_shuts_down_a_registered_socket_and_one_registered_late() {
        use std::io::Read;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let socket = Arc::new(TcpStream::connect(addr).unwrap());
        let _peer = listener.accept().unwrap();
        let cancel = Cancel::new();
        let reader = {
            let socket = Arc::clone(&socket);
            let cancel = cancel.clone();
            std::thread::spawn(move || {
                cancel.run(|| {
                    let _registered = register(&socket).expect("in a scope");
                    let started = Instant::now();
                    let read = (&*socket).read(&mut [0u8; 8]);
                    (read.map_err(|e| e.kind()), started.elapsed())
                })
            })
        };
        std::thread::sleep(Duration::from_millis(100));
        cancel.cancel();
        let (read, waited) = reader.join().unwrap();
        assert_eq!(read, Ok(0), "the read ends as at the end of the stream");
        assert!(waited < Duration::from_secs(2), "{waited:?}");
        assert!(cancel.sockets().is_empty(), "taken back when done");
        // A socket registered after the cancel is shut down at once.
        let late = Arc::new(TcpStream::connect(addr).unwrap());
        let _peer = listener.accept().unwrap();
        cancel.run(|| {
            let _registered = register(&late).unwrap();
            assert_eq!((&*late).read(&mut [0u8; 8]).unwrap(), 0);
        });
    }
}
