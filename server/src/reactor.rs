//! The event loop: a few threads (one per core, at most four), each
//! watching the listening socket and its own connections with `mio`
//! (epoll), so that a request costs no thread switch of its own and an idle
//! connection costs no thread. Every connection moves through
//! [`Phase`]s, each with a deadline: nothing waits unbounded. A Login's
//! password is checked on the hashing pool ([`crate::hasher`]), never here;
//! the loop hears back through its [`LoopShare`].
//!
//! When a cap is reached (in all, or for one address), the connection
//! making the least progress while waiting for a request goes first: the
//! fewest bytes per second since it was accepted. A socket that sent one
//! byte and went quiet goes before a client that is sending its request or
//! was served a moment ago.

use std::io::{self, Read, Write};
use std::net::IpAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token, Waker};

use crate::conn::{self, Request, Response};
use crate::handler::PasswordCheck;
use crate::tls::Stream;
use crate::Shared;
use zeroize::Zeroizing;

/// The listening socket's token.
const LISTENER: Token = Token(0);
/// The token of the [`Waker`] that tells a loop the server is stopping.
pub(crate) const WAKER: Token = Token(1);
/// The TLS listening socket's token.
const TLS_LISTENER: Token = Token(2);
/// Connections are `Token(FIRST + slot)`.
const FIRST: usize = 3;
/// How long a closing connection waits for the client's FIN, at most.
const LINGER: Duration = Duration::from_millis(500);
/// How much a closing connection reads (and drops) while it waits.
const LINGER_BYTES: usize = 64 * 1024;
/// The most closing connections kept waiting for their client's FIN, over
/// all loops; past it the oldest are closed at once.
const MAX_LINGERING: usize = 1024;
/// The longest a loop sleeps without looking at the clock.
const TICK: Duration = Duration::from_millis(100);
/// The requests one connection gets answered per turn of its loop: a client
/// that pipelines thousands of requests waits its turn behind the others
/// rather than holding the loop until it would block.
const REQUESTS_PER_TURN: usize = 1;

/// What others may ask of an event loop, and what it tells them: to close
/// its least-progressing waiting connection when a connection accepted
/// elsewhere is over the global cap (the kernel may have handed all the
/// idle ones to this loop), and the results of password checks made for
/// its connections on the hashing pool.
pub(crate) struct LoopShare {
    waker: Waker,
    /// This loop's connections waiting for a request.
    waiting: AtomicUsize,
    /// The least progress among them (bytes per second, as f64 bits), as
    /// of its last scan.
    worst: AtomicU64,
    /// How many of them others asked it to close.
    evict: AtomicUsize,
    /// Password checks done for this loop's connections.
    checked: Mutex<Vec<Checked>>,
}

/// A password check done for the connection in `slot` (if it is still the
/// one numbered `serial`).
pub(crate) struct Checked {
    slot: usize,
    serial: u64,
    check: PasswordCheck,
}

impl LoopShare {
    /// Wakes the loop (to stop, to resume, to evict, to answer a login).
    pub(crate) fn wake(&self) {
        let _ = self.waker.wake();
    }

    fn worst(&self) -> f64 {
        f64::from_bits(self.worst.load(Ordering::SeqCst))
    }
}

/// Asks the loop (other than `me`) whose waiting connection makes the
/// least progress, less than `mine` (the least of this loop's, if it has
/// one), to close it; whether one was asked.
fn evict_elsewhere(shared: &Shared, me: &Arc<LoopShare>, mine: Option<f64>) -> bool {
    let loops = shared.loops.lock().unwrap_or_else(|p| p.into_inner());
    let slowest = loops
        .iter()
        .filter(|other| !Arc::ptr_eq(other, me))
        .filter(|other| other.waiting.load(Ordering::SeqCst) > other.evict.load(Ordering::SeqCst))
        .min_by(|a, b| a.worst().total_cmp(&b.worst()));
    match slowest {
        Some(other) if mine.is_none_or(|mine| other.worst() < mine) => {
            other.evict.fetch_add(1, Ordering::SeqCst);
            other.wake();
            true
        }
        _ => false,
    }
}

/// Where a connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for (the rest of) a request; the deadline covers the idle
    /// time before it and the whole request.
    Reading,
    /// A Login waiting for its password check on the hashing pool; the
    /// deadline bounds a pool that does not answer.
    Hashing,
    /// A reply held back until the deadline (the original's penalty).
    Held { keep_open: bool },
    /// Writing a reply; the deadline bounds a client that does not read.
    Writing { keep_open: bool },
    /// Closing politely: no more writes, and what the client still sends
    /// is read and dropped until its FIN, so that the close is a FIN and
    /// not a reset that could destroy the reply in flight.
    Lingering,
}

struct Connection {
    stream: Stream,
    ip: IpAddr,
    /// Its place in its loop's slots.
    slot: usize,
    /// Tells this connection from an earlier one in the same slot.
    serial: u64,
    /// Bytes received and not yet taken as a request (wiped when freed: a
    /// Login in it holds a credential).
    buffer: Zeroizing<Vec<u8>>,
    /// Bytes received since it was accepted: its progress.
    received: usize,
    /// The Login whose password is being checked ([`Phase::Hashing`]).
    login: Option<Request>,
    /// The reply being written, and how much of it is out.
    reply: Vec<u8>,
    written: usize,
    phase: Phase,
    deadline: Instant,
    lingered: usize,
    /// Counted in the connection caps: from accept until it starts closing
    /// (a closing connection gets no more service; [`MAX_LINGERING`]
    /// bounds those).
    counted: bool,
    /// When it was accepted.
    accepted: Instant,
    /// Its loop's share, where password checks come back.
    share: Arc<LoopShare>,
}

/// What [`Connection::advance`] leaves behind.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    /// Wait for the socket or the deadline.
    Wait,
    /// It has had its turn and has more to do: go on in the next turn,
    /// after the others.
    Yield,
    /// Done: close the socket now.
    Close,
}

/// One event loop; returns when the server stops and its connections are
/// done.
pub(crate) fn run(
    mut poll: Poll,
    listener: std::net::TcpListener,
    tls_listener: Option<std::net::TcpListener>,
    shared: Arc<Shared>,
    me: Arc<LoopShare>,
) {
    let mut listener = Some(TcpListener::from_std(listener));
    let mut tls_listener = tls_listener.map(TcpListener::from_std);
    for (socket, token) in [
        (listener.as_mut(), LISTENER),
        (tls_listener.as_mut(), TLS_LISTENER),
    ] {
        let Some(socket) = socket else { continue };
        if let Err(err) = poll.registry().register(socket, token, Interest::READABLE) {
            log::error!(target: "httpqq::server", "cannot watch the listening socket: {err}");
            return;
        }
    }
    let mut slots: Vec<Option<Connection>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    // Numbers each connection accepted, to tell it from a later one in the
    // same slot.
    let mut serial = 0u64;
    let mut events = Events::with_capacity(256);
    // The earliest deadline of any connection (a lower bound).
    let mut next_deadline = Instant::now() + TICK;
    // Connections that had their turn with more to do.
    let mut yielded: Vec<usize> = Vec::new();
    loop {
        let stopping = shared.stopping.load(Ordering::SeqCst);
        if stopping {
            tls_listener = None;
            if listener.take().is_some() {
                // Close the connections waiting for a request; the others
                // finish what they are doing.
                for c in slots.iter_mut().flatten() {
                    if c.phase == Phase::Reading && c.buffer.is_empty() {
                        c.linger(&shared);
                    }
                }
            }
            if slots.iter().all(Option::is_none) {
                return;
            }
        }
        let now = Instant::now();
        let wait = if yielded.is_empty() {
            next_deadline.saturating_duration_since(now).min(TICK)
        } else {
            Duration::ZERO
        };
        if let Err(err) = poll.poll(&mut events, Some(wait)) {
            if err.kind() != io::ErrorKind::Interrupted {
                log::error!(target: "httpqq::server", "poll failed: {err}");
                std::thread::sleep(Duration::from_millis(10));
            }
            continue;
        }
        let now = Instant::now();
        for event in events.iter() {
            match event.token() {
                LISTENER | TLS_LISTENER => {
                    let (socket, tls) = if event.token() == LISTENER {
                        (listener.as_ref(), None)
                    } else {
                        (tls_listener.as_ref(), shared.tls.as_ref().map(|t| t.get()))
                    };
                    if let Some(listener) = socket {
                        accept(
                            listener,
                            tls,
                            &poll,
                            &shared,
                            &me,
                            &mut slots,
                            &mut free,
                            &mut serial,
                            now,
                        );
                    }
                }
                WAKER => {
                    // Others over the global cap asked for room.
                    for _ in 0..me.evict.swap(0, Ordering::SeqCst) {
                        match slowest(&slots, None, Instant::now()) {
                            Some((slot, _)) => close(&mut slots, &mut free, slot, &shared),
                            None => break,
                        }
                    }
                    // Passwords checked on the hashing pool: answer them.
                    let checked =
                        std::mem::take(&mut *me.checked.lock().unwrap_or_else(|p| p.into_inner()));
                    for done in checked {
                        let Some(Some(c)) = slots.get_mut(done.slot) else {
                            continue;
                        };
                        if c.serial != done.serial || c.phase != Phase::Hashing {
                            continue;
                        }
                        c.checked(&shared, done.check, Instant::now());
                        if !yielded.contains(&done.slot) {
                            turn(
                                &mut slots,
                                &mut free,
                                done.slot,
                                &shared,
                                &mut yielded,
                                &mut next_deadline,
                            );
                        }
                    }
                    // Stopping, or resuming after a pause: the connections
                    // that were left waiting for a request go on (epoll
                    // reports only new readiness).
                    for slot in 0..slots.len() {
                        let reading = slots[slot]
                            .as_ref()
                            .is_some_and(|c| c.phase == Phase::Reading);
                        if reading && !yielded.contains(&slot) {
                            turn(
                                &mut slots,
                                &mut free,
                                slot,
                                &shared,
                                &mut yielded,
                                &mut next_deadline,
                            );
                        }
                    }
                }
                Token(token) => {
                    let slot = token - FIRST;
                    if !yielded.contains(&slot) {
                        turn(
                            &mut slots,
                            &mut free,
                            slot,
                            &shared,
                            &mut yielded,
                            &mut next_deadline,
                        );
                    }
                }
            }
        }
        // Those that had their turn in the last round go on, once each.
        let waiting = std::mem::take(&mut yielded);
        for slot in waiting {
            turn(
                &mut slots,
                &mut free,
                slot,
                &shared,
                &mut yielded,
                &mut next_deadline,
            );
        }
        // (A new connection's first event comes from the poll: registering
        // it reports what is ready.) Now the clock: expired deadlines, and
        // the next one; a scan at least every TICK.
        let now = Instant::now();
        if now >= next_deadline {
            next_deadline = now + TICK;
            // What others compare with when they are over the global cap
            // (the count of waiting connections is kept as they change).
            let worst = slots
                .iter()
                .flatten()
                .filter(|c| c.is_waiting())
                .fold(f64::INFINITY, |worst, c| worst.min(c.progress(now)));
            me.worst.store(worst.to_bits(), Ordering::SeqCst);
            for slot in 0..slots.len() {
                let Some(c) = slots[slot].as_mut() else {
                    continue;
                };
                if now >= c.deadline {
                    match c.expire(&shared, now) {
                        Next::Close => {
                            close(&mut slots, &mut free, slot, &shared);
                            continue;
                        }
                        Next::Yield if !yielded.contains(&slot) => yielded.push(slot),
                        _ => {}
                    }
                }
                next_deadline = next_deadline.min(c.deadline);
            }
        }
        while shared.lingering.load(Ordering::SeqCst) > MAX_LINGERING {
            // The oldest of this loop's closing connections: its reply went
            // out longest ago.
            let oldest = (0..slots.len())
                .filter(|&slot| {
                    slots[slot]
                        .as_ref()
                        .is_some_and(|c| c.phase == Phase::Lingering)
                })
                .min_by_key(|&slot| slots[slot].as_ref().map(|c| c.deadline));
            match oldest {
                Some(slot) => close(&mut slots, &mut free, slot, &shared),
                None => break,
            }
        }
    }
}

/// Gives the connection in `slot` its turn.
fn turn(
    slots: &mut [Option<Connection>],
    free: &mut Vec<usize>,
    slot: usize,
    shared: &Shared,
    yielded: &mut Vec<usize>,
    next_deadline: &mut Instant,
) {
    let Some(Some(c)) = slots.get_mut(slot) else {
        return;
    };
    match c.advance(shared, Instant::now()) {
        Next::Close => close(slots, free, slot, shared),
        Next::Yield => {
            yielded.push(slot);
            *next_deadline = (*next_deadline).min(c.deadline);
        }
        Next::Wait => *next_deadline = (*next_deadline).min(c.deadline),
    }
}

/// The connection to close to make room: of this loop's connections
/// waiting for a request (from `ip`, when given), the one making the least
/// progress, with its progress.
fn slowest(slots: &[Option<Connection>], ip: Option<IpAddr>, now: Instant) -> Option<(usize, f64)> {
    slots
        .iter()
        .enumerate()
        .filter_map(|(slot, c)| c.as_ref().map(|c| (slot, c)))
        .filter(|(_, c)| c.is_waiting() && ip.is_none_or(|ip| c.ip == ip))
        .map(|(slot, c)| (slot, c.progress(now)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

/// Accepts every pending connection, within the caps.
#[allow(clippy::too_many_arguments)]
fn accept(
    listener: &TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    poll: &Poll,
    shared: &Shared,
    me: &Arc<LoopShare>,
    slots: &mut Vec<Option<Connection>>,
    free: &mut Vec<usize>,
    serial: &mut u64,
    now: Instant,
) {
    loop {
        let (mut stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // Out of descriptors, or the peer gave up: try again on the
                // next event rather than spin.
                log::warn!(target: "httpqq::server", "accept failed: {e}");
                return;
            }
        };
        shared.controls.connection_accepted();
        // The new connection's place under the global cap, taken at once:
        // a check and a later count would let two loops accepting together
        // both take the last place.
        let over_cap =
            shared.active.fetch_add(1, Ordering::SeqCst) >= shared.config.max_connections;
        // At a cap, a connection that never sent a byte makes room (one
        // from the same address for its own cap); only when there is none
        // is the new one closed. Idle sockets cannot keep others out.
        if over_cap {
            let mine = slowest(slots, None, now);
            // Another loop closes one of its own when it has a slower one:
            // this one goes over the cap until it has.
            if !evict_elsewhere(shared, me, mine.map(|(_, progress)| progress)) {
                match mine {
                    Some((slot, _)) => close(slots, free, slot, shared),
                    None => {
                        shared.active.fetch_sub(1, Ordering::SeqCst);
                        log::warn!(target: "httpqq::server", "connection cap reached; closing a new connection");
                        continue;
                    }
                }
            }
        }
        if !shared.admit(peer.ip()) {
            let admitted = match slowest(slots, Some(peer.ip()), now) {
                Some((slot, _)) => {
                    close(slots, free, slot, shared);
                    shared.admit(peer.ip())
                }
                None => {
                    log::warn!(target: "httpqq::server", "connection cap for {} reached; closing a new connection", peer.ip());
                    false
                }
            };
            if !admitted {
                shared.active.fetch_sub(1, Ordering::SeqCst);
                continue;
            }
        }
        let _ = stream.set_nodelay(true);
        let slot = free.pop().unwrap_or_else(|| {
            slots.push(None);
            slots.len() - 1
        });
        let registered = poll.registry().register(
            &mut stream,
            Token(FIRST + slot),
            Interest::READABLE | Interest::WRITABLE,
        );
        if registered.is_err() {
            free.push(slot);
            shared.release(peer.ip());
            shared.active.fetch_sub(1, Ordering::SeqCst);
            continue;
        }
        let stream = match &tls {
            None => Stream::Plain(stream),
            Some(config) => {
                match Stream::tls(stream, Arc::clone(config), Arc::clone(&shared.controls)) {
                    Ok(stream) => stream,
                    Err(err) => {
                        log::error!(target: "httpqq::server", "cannot start TLS: {err}");
                        free.push(slot);
                        shared.release(peer.ip());
                        shared.active.fetch_sub(1, Ordering::SeqCst);
                        continue;
                    }
                }
            }
        };
        *serial += 1;
        slots[slot] = Some(Connection {
            stream,
            ip: peer.ip(),
            slot,
            serial: *serial,
            buffer: Zeroizing::new(Vec::new()),
            received: 0,
            login: None,
            reply: Vec::new(),
            written: 0,
            phase: Phase::Reading,
            deadline: now + shared.config.read_timeout,
            lingered: 0,
            counted: true,
            accepted: now,
            share: Arc::clone(me),
        });
        me.waiting.fetch_add(1, Ordering::SeqCst);
    }
}

/// Closes the connection in `slot` and counts it out.
fn close(slots: &mut [Option<Connection>], free: &mut Vec<usize>, slot: usize, shared: &Shared) {
    if let Some(mut c) = slots[slot].take() {
        c.count_out(shared);
        if c.phase == Phase::Lingering {
            shared.lingering.fetch_sub(1, Ordering::SeqCst);
        }
        free.push(slot);
        // Dropping the stream closes it and takes it out of the poll.
    }
}

impl Connection {
    /// Moves on as far as the socket allows without waiting.
    fn advance(&mut self, shared: &Shared, now: Instant) -> Next {
        let mut served = 0;
        loop {
            match self.phase {
                // Paused (a test control): requests wait unread.
                Phase::Reading
                    if shared.controls.paused() && !shared.stopping.load(Ordering::SeqCst) =>
                {
                    return Next::Wait
                }
                Phase::Reading if served >= REQUESTS_PER_TURN => return Next::Yield,
                Phase::Reading => match conn::take_request(&mut self.buffer, &shared.config) {
                    Err(why) => {
                        log::info!(target: "httpqq::server", "NULL to {}: {why}", self.ip);
                        self.linger(shared);
                    }
                    Ok(Some(request)) => {
                        served += 1;
                        self.answer(shared, request, now);
                    }
                    Ok(None) => {
                        if shared.stopping.load(Ordering::SeqCst) && self.buffer.is_empty() {
                            self.linger(shared);
                            continue;
                        }
                        match self.fill() {
                            Ok(0) => return Next::Close,
                            Ok(_) => {}
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Next::Wait,
                            Err(_) => return Next::Close,
                        }
                    }
                },
                Phase::Hashing | Phase::Held { .. } => return Next::Wait,
                Phase::Writing { keep_open } => {
                    while self.written < self.reply.len() {
                        match self.stream.write(&self.reply[self.written..]) {
                            Ok(0) => return Next::Close,
                            Ok(n) => self.written += n,
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Next::Wait,
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                            Err(_) => return Next::Close,
                        }
                    }
                    // TLS: the records of the reply on the socket too.
                    match self.stream.flush() {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Next::Wait,
                        Err(_) => return Next::Close,
                    }
                    self.reply = Vec::new();
                    self.written = 0;
                    if keep_open && !shared.stopping.load(Ordering::SeqCst) {
                        self.enter(Phase::Reading);
                        self.deadline = now + shared.config.read_timeout;
                    } else {
                        self.linger(shared);
                    }
                }
                Phase::Lingering => {
                    let mut sink = [0u8; 4096];
                    loop {
                        match self.stream.read(&mut sink) {
                            Ok(0) => return Next::Close,
                            Ok(n) => {
                                self.lingered += n;
                                if self.lingered >= LINGER_BYTES {
                                    return Next::Close;
                                }
                            }
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Next::Wait,
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                            Err(_) => return Next::Close,
                        }
                    }
                }
            }
        }
    }

    /// The deadline has passed.
    fn expire(&mut self, shared: &Shared, now: Instant) -> Next {
        match self.phase {
            Phase::Reading => {
                conn::skip_stray_newlines(&mut self.buffer);
                if !self.buffer.is_empty() {
                    log::info!(target: "httpqq::server", "NULL to {}: request too slow", self.ip);
                }
                self.linger(shared);
                self.advance(shared, now)
            }
            Phase::Held { keep_open } => {
                self.enter(Phase::Writing { keep_open });
                self.deadline = now + shared.config.read_timeout;
                self.advance(shared, now)
            }
            // The pool did not answer in time: the NULL.
            Phase::Hashing => {
                log::warn!(target: "httpqq::server", "NULL to {}: the password check took too long", self.ip);
                self.login = None;
                self.linger(shared);
                self.advance(shared, now)
            }
            // A client that does not read its reply, or does not close.
            Phase::Writing { .. } | Phase::Lingering => Next::Close,
        }
    }

    /// Reads what the socket has (one read); `Ok(0)` at EOF.
    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 4096];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(n) => {
                    self.received += n;
                    self.buffer.extend_from_slice(&chunk[..n]);
                    // What was read may hold a credential.
                    zeroize::Zeroize::zeroize(&mut chunk[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Handles a request and starts its reply (or the NULL), or hands its
    /// password to the hashing pool.
    fn answer(&mut self, shared: &Shared, request: Request, now: Instant) {
        let ip = self.ip;
        // A bug in a command must not take the other connections of this
        // loop with it: it is answered with the NULL.
        let secure = self.stream.is_tls();
        let step = catch_unwind(AssertUnwindSafe(|| {
            conn::respond(shared, ip, secure, &request)
        }))
        .unwrap_or_else(|_| {
            log::error!(target: "httpqq::server", "a request from {ip} panicked; answered NULL");
            conn::Step::Answer(Response::null())
        });
        match step {
            conn::Step::Answer(response) => self.reply(shared, response, now),
            conn::Step::Hash(job) => {
                let share = Arc::clone(&self.share);
                let controls = Arc::clone(&shared.controls);
                let (slot, serial) = (self.slot, self.serial);
                let queued = shared.hasher.submit(ip, move || {
                    let check = job.run();
                    controls.password_checked();
                    share
                        .checked
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(Checked {
                            slot,
                            serial,
                            check,
                        });
                    share.wake();
                });
                if queued {
                    self.login = Some(request);
                    self.enter(Phase::Hashing);
                    self.deadline = now + shared.config.read_timeout;
                } else {
                    // The pool is full (or this address has its share):
                    // RES=3 at once, without a hash.
                    self.checked_with(shared, &request, PasswordCheck::Locked, now);
                }
            }
        }
    }

    /// The password check of the Login waiting in [`Phase::Hashing`] came
    /// back: answer it.
    fn checked(&mut self, shared: &Shared, check: PasswordCheck, now: Instant) {
        if let Some(request) = self.login.take() {
            self.checked_with(shared, &request, check, now);
        }
    }

    fn checked_with(
        &mut self,
        shared: &Shared,
        request: &Request,
        check: PasswordCheck,
        now: Instant,
    ) {
        let ip = self.ip;
        let response = catch_unwind(AssertUnwindSafe(|| {
            conn::respond_checked(shared, ip, request, check)
        }))
        .unwrap_or_else(|_| {
            log::error!(target: "httpqq::server", "a login from {ip} panicked; answered NULL");
            Response::null()
        });
        self.reply(shared, response, now);
    }

    /// Starts writing `response` (or closes for the NULL).
    fn reply(&mut self, shared: &Shared, response: Response, now: Instant) {
        if response.bytes.is_empty() {
            self.linger(shared);
            return;
        }
        self.reply = response.bytes;
        self.written = 0;
        let keep_open = response.keep_open;
        if response.delay.is_zero() {
            self.enter(Phase::Writing { keep_open });
            self.deadline = now + shared.config.read_timeout;
        } else {
            self.enter(Phase::Held { keep_open });
            self.deadline = now + response.delay;
        }
    }

    /// Waiting for a request (or the rest of one), and counted in the
    /// caps: what is closed first to make room.
    fn is_waiting(&self) -> bool {
        self.phase == Phase::Reading && self.counted
    }

    /// Bytes received per second since it was accepted.
    fn progress(&self, now: Instant) -> f64 {
        let age = now
            .saturating_duration_since(self.accepted)
            .as_secs_f64()
            .max(0.001);
        (self.received + 1) as f64 / age
    }

    /// Moves to `phase`, keeping its loop's count of waiting connections.
    fn enter(&mut self, phase: Phase) {
        let was = self.is_waiting();
        self.phase = phase;
        self.recount(was);
    }

    /// Counts the connection in or out of its loop's waiting ones after a
    /// change, given whether it was counted before.
    fn recount(&self, was: bool) {
        match (was, self.is_waiting()) {
            (false, true) => {
                self.share.waiting.fetch_add(1, Ordering::SeqCst);
            }
            (true, false) => {
                self.share.waiting.fetch_sub(1, Ordering::SeqCst);
            }
            _ => {}
        }
    }

    /// Frees the connection's place in the caps (once).
    fn count_out(&mut self, shared: &Shared) {
        let was = self.is_waiting();
        if std::mem::take(&mut self.counted) {
            shared.release(self.ip);
            shared.active.fetch_sub(1, Ordering::SeqCst);
        }
        self.recount(was);
    }

    /// Starts closing politely: no more writes, then wait for the client's
    /// FIN (briefly).
    fn linger(&mut self, shared: &Shared) {
        self.count_out(shared);
        if self.phase != Phase::Lingering {
            shared.lingering.fetch_add(1, Ordering::SeqCst);
        }
        let _ = self.stream.flush();
        self.stream.shutdown_write();
        self.buffer = Zeroizing::new(Vec::new());
        self.enter(Phase::Lingering);
        self.deadline = Instant::now() + LINGER.min(shared.config.read_timeout);
    }
}

/// A loop's poll, and its share (with the waker that interrupts it).
pub(crate) fn poll_and_share() -> io::Result<(Poll, Arc<LoopShare>)> {
    let poll = Poll::new()?;
    let waker = Waker::new(poll.registry(), WAKER)?;
    Ok((
        poll,
        Arc::new(LoopShare {
            waker,
            waiting: AtomicUsize::new(0),
            worst: AtomicU64::new(f64::INFINITY.to_bits()),
            evict: AtomicUsize::new(0),
            checked: Mutex::new(Vec::new()),
        }),
    ))
}
