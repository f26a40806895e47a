//! The agent: a logged-in account that stays up. It polls for messages,
//! keeps the session alive, rides out network failures and server restarts
//! with capped exponential backoff, observes the server's penalties, logs
//! in again when the server ended the session, and reports all of it as
//! [`Event`]s. Bots that must run for weeks use this rather than calling
//! [`Session::poll`] in a loop of their own.
//!
//! - [`machine`]: what to do next, as a pure function of what happened (the
//!   rules, tested with made-up times);
//! - [`policy`]: the settings ([`Backoff`], intervals, penalty);
//! - [`runtime`]: the threads, bounded by the requests in flight, that run
//!   any number of agents;
//! - [`event`]: what an agent reports.

mod event;
mod machine;
mod policy;
mod runtime;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

pub use event::{Event, EventKind, State, StopReason};
pub use policy::Backoff;
pub use runtime::{Pending, Runtime, DEFAULT_MAX_IN_FLIGHT};

use crate::cancel::Cancel;
use crate::client::Client;
use crate::error::Error;
use crate::model::{LoginOutcome, Message, PasswordHash, Uin};
use crate::session::Session;
use machine::{Action, Got, Machine, Step};
use policy::Policy;
use runtime::{Next, Task};

/// The shortest poll interval an agent takes: anything shorter would be a
/// busy loop against the server.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// A logged-in account that stays up, and its loop.
///
/// An agent logs in, then polls for messages every
/// [`poll_interval`](AgentBuilder::poll_interval) (at once while messages
/// keep coming, and always often enough to keep the session alive), and
/// reports what happens as [`Event`]s: [`EventKind::Message`] for each
/// incoming message, and its state changes: online, reconnecting (with the
/// attempt and when it retries), throttled (until when), session renewed,
/// stopped (why).
///
/// - Transient failures (the network, timeouts, the NULL, unreadable
///   replies) are retried with capped exponential backoff and jitter
///   ([`Backoff`]), reset after a success: never a tight loop.
/// - `RES=3` stops every request of the session until the penalty is over
///   (the original server's 20 s unless
///   [configured](AgentBuilder::throttle_penalty)).
/// - `RES=20` logs in again with the stored password hash and polls at
///   once; a refused login (wrong password, unknown UIN) stops the agent
///   with the server's reason, without retrying.
/// - [`Agent::send`] reports whether the server accepted the message, or
///   refused it, or whether the outcome is unknown
///   ([`Error::outcome`]); nothing is ever resent by itself.
/// - [`Agent::stop`] (or a [`StopHandle`], from any thread) stops it
///   within [`stop_timeout`](AgentBuilder::stop_timeout) (100 ms) whatever
///   it is doing: a request in flight gets half of it to finish and is
///   then cut short (its socket is shut down); it logs out in what is left
///   if the server answered its last request. The agent's last event is
///   [`EventKind::Stopped`].
/// - A server that ends the session again right after each login (a NAT
///   that changes the client's address per connection) is backed off from
///   like a network failure ([`Error::SessionDropped`]): no request rate
///   the backoff does not allow, whatever the server answers.
///
/// Messages stay on the server until the agent's caller is ready: the
/// agent fetches the next batch only when the caller has taken the last
/// one. Agents run on a [`Runtime`]: thousands of them share a few
/// threads.
///
/// ```no_run
/// use httpqq::{Agent, Client, EventKind, Message, Uin};
/// use std::time::Duration;
///
/// let client = Client::new("127.0.0.1:8000")?;
/// let agent = Agent::builder(&client, Uin::new(10001), "demo")
///     .poll_interval(Duration::from_secs(2))
///     .start()?;
/// let stop = agent.stop_handle(); // e.g. for a Ctrl-C handler's thread
/// for event in agent.events() {
///     match event.kind {
///         EventKind::Message(Message::Text { from, text }) => {
///             if let Err(err) = agent.send(from, &format!("echo: {text}")) {
///                 eprintln!("not sent ({}): {err}", err.outcome().name());
///             }
///         }
///         EventKind::Stopped(reason) => eprintln!("{reason}"),
///         _ => eprintln!("{event}"),
///     }
/// }
/// # drop(stop);
/// # Ok::<(), httpqq::Error>(())
/// ```
pub struct Agent {
    core: Arc<AgentCore>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("uin", &self.core.uin)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

/// Why [`Agent::next_event_timeout`] gave no event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NoEvent {
    /// None came in time.
    #[error("no event came in time")]
    Timeout,
    /// The agent has stopped and its last event ([`EventKind::Stopped`]) was
    /// taken: none will come.
    #[error("the agent has stopped and its last event was taken")]
    Finished,
}

/// Stops an agent from any thread (see [`Agent::stop`]). Cheap to clone; it
/// does not keep the agent alive.
#[derive(Debug, Clone)]
pub struct StopHandle {
    core: Weak<AgentCore>,
}

impl StopHandle {
    /// Stops the agent (see [`Agent::stop`]); nothing if it is gone.
    pub fn stop(&self) {
        if let Some(core) = self.core.upgrade() {
            core.stop();
        }
    }
}

/// A function called each time an agent has queued events (see
/// [`AgentBuilder::on_event`]).
pub type EventNotifier = Arc<dyn Fn() + Send + Sync>;

/// How an agent gets its session.
enum Start {
    /// Logs in as its first request; owns the session (logs out at stop).
    Login {
        client: Client,
        uin: Uin,
        password: PasswordHash,
    },
    /// Uses a session logged in already, and leaves it logged in.
    Session(Arc<Session>),
}

/// Settings for an [`Agent`]; [`AgentBuilder::start`] starts it.
///
/// ```
/// use httpqq::{Agent, Backoff, Client, Uin};
/// use std::time::Duration;
///
/// let client = Client::new("127.0.0.1:8000")?;
/// let builder = Agent::builder(&client, Uin::new(10001), "demo")
///     .poll_interval(Duration::from_secs(1))
///     .backoff(Backoff { max: Duration::from_secs(10), ..Backoff::default() })
///     .throttle_penalty(Duration::from_secs(20))
///     .relogin(true);
/// # Ok::<(), httpqq::Error>(())
/// ```
pub struct AgentBuilder {
    start: Start,
    policy: Policy,
    runtime: Option<Runtime>,
    on_event: Option<EventNotifier>,
}

impl std::fmt::Debug for AgentBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentBuilder")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl AgentBuilder {
    fn new(start: Start) -> Self {
        let policy = Policy {
            logout_on_stop: matches!(start, Start::Login { .. }),
            ..Policy::default()
        };
        AgentBuilder {
            start,
            policy,
            runtime: None,
            on_event: None,
        }
    }

    /// How often to poll while no messages come (default 5 s; at least
    /// [`MIN_POLL_INTERVAL`]). The agent polls more often when the server's
    /// heartbeat or idle timeout needs it to keep the session alive.
    pub fn poll_interval(mut self, every: Duration) -> Self {
        self.policy.poll_interval = every;
        self
    }

    /// The backoff after transient failures (default: 1 s doubling to
    /// 30 s, ±20%).
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.policy.backoff = backoff;
        self
    }

    /// How long to send nothing after `RES=3` (default: the original
    /// server's penalty for the command, 20 s, 30 s for DelFromList).
    pub fn throttle_penalty(mut self, penalty: Duration) -> Self {
        self.policy.throttle_penalty = Some(penalty);
        self
    }

    /// Log in again after `RES=20` (default on). Off, `RES=20` stops the
    /// agent ([`StopReason::SessionEnded`]).
    pub fn relogin(mut self, on: bool) -> Self {
        self.policy.relogin = on;
        self
    }

    /// Log out when stopped (default: on for an agent that logged in
    /// itself, off for one [made from a session](Agent::for_session)).
    pub fn logout_on_stop(mut self, on: bool) -> Self {
        self.policy.logout_on_stop = on;
        self
    }

    /// How long a stop takes at most (default 100 ms), whatever the agent
    /// is doing and the server does: a request in flight may finish within
    /// the first half (a poll's messages are then handed out, and the
    /// logout confirms them to the server); then it is cut short (its
    /// socket is shut down), and the logout gets what is left. A stop never
    /// waits out the client's timeout. Raise it for a server far away,
    /// whose replies take longer: a logout cut short leaves the session to
    /// the server's idle timeout.
    pub fn stop_timeout(mut self, limit: Duration) -> Self {
        self.policy.stop_timeout = limit;
        self
    }

    /// The runtime to run on (default [`Runtime::global`]).
    pub fn runtime(mut self, runtime: &Runtime) -> Self {
        self.runtime = Some(runtime.clone());
        self
    }

    /// Calls `notify` each time the agent has queued events, on the thread
    /// that queued them (a runtime worker; it must return quickly and must
    /// not wait for the agent). For consumers that do not block on
    /// [`Agent::next_event`]: an async runtime's waker, or one thread
    /// serving many agents.
    pub fn on_event(mut self, notify: impl Fn() + Send + Sync + 'static) -> Self {
        self.on_event = Some(Arc::new(notify));
        self
    }

    /// Starts the agent: its first request goes at once, on the runtime.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a poll interval below
    /// [`MIN_POLL_INTERVAL`] or a backoff that makes no sense.
    pub fn start(self) -> Result<Agent, Error> {
        if self.policy.poll_interval < MIN_POLL_INTERVAL {
            return Err(Error::InvalidConfig(format!(
                "the poll interval must be at least {MIN_POLL_INTERVAL:?}, not {:?}: anything shorter is a busy loop",
                self.policy.poll_interval
            )));
        }
        self.policy.backoff.check().map_err(Error::InvalidConfig)?;
        let now = Instant::now();
        let (session, logged_in) = match self.start {
            Start::Login {
                client,
                uin,
                password,
            } => {
                let auto_relogin = false;
                let session =
                    Session::new(client, uin, password, LoginOutcome::DEFAULT, auto_relogin);
                (Arc::new(session), false)
            }
            Start::Session(session) => (session, true),
        };
        let uin = session.uin();
        let timers = LoginOutcome {
            heartbeat: session.heartbeat(),
            idle_timeout: session.idle_timeout(),
        };
        let seed = seed_from_clock() ^ uin.get().rotate_left(17);
        let stop_timeout = self.policy.stop_timeout;
        let runtime = self.runtime.unwrap_or_else(Runtime::global);
        let kept = if logged_in {
            session.take_unread()
        } else {
            Vec::new()
        };
        let core = Arc::new(AgentCore {
            uin,
            session,
            machine: Mutex::new(Machine::new(self.policy, logged_in, timers, now, seed)),
            inbox: Inbox::default(),
            runtime: runtime.clone(),
            id: OnceLock::new(),
            on_event: self.on_event,
            abandoned: AtomicBool::new(false),
            cancel: Cancel::new(),
            stop_timeout,
            stop_deadline: Mutex::new(None),
        });
        // Messages the session kept unread come first.
        core.push(kept.into_iter().map(EventKind::Message).collect());
        let id = runtime.register(core.clone());
        let _ = core.id.set(id);
        runtime.wake(id);
        log::info!(target: "httpqq", "agent for {uin} started");
        Ok(Agent { core })
    }
}

/// A clock-derived number that differs between agents started at once.
fn seed_from_clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

impl Agent {
    /// An agent that logs in as `uin` with `password` (only its MD5 is
    /// kept), and logs out when stopped.
    pub fn builder(client: &Client, uin: Uin, password: &str) -> AgentBuilder {
        Agent::builder_with_hash(client, uin, PasswordHash::from_password(password))
    }

    /// As [`Agent::builder`], with the password's MD5 computed earlier.
    pub fn builder_with_hash(client: &Client, uin: Uin, password: PasswordHash) -> AgentBuilder {
        AgentBuilder::new(Start::Login {
            client: client.clone(),
            uin,
            password,
        })
    }

    /// An agent on a session logged in already: it starts polling at once
    /// and leaves the session logged in when it stops. Messages it fetched
    /// and nobody took when it is dropped go back to the session (its next
    /// [`fetch_messages`](Session::fetch_messages) gives them first).
    pub fn for_session(session: Arc<Session>) -> AgentBuilder {
        AgentBuilder::new(Start::Session(session))
    }

    /// The account's UIN.
    pub fn uin(&self) -> Uin {
        self.core.uin
    }

    /// Where the agent is now.
    pub fn state(&self) -> State {
        self.core.machine().state()
    }

    /// The session the agent polls: for the commands the agent does not
    /// make itself (friends, profiles, status, …). The agent logs it in
    /// again after `RES=20`.
    pub fn session(&self) -> &Arc<Session> {
        &self.core.session
    }

    /// The next event, waiting as long as it takes; `None` once the agent
    /// has stopped and its last event ([`EventKind::Stopped`]) was taken.
    pub fn next_event(&self) -> Option<Event> {
        self.core.take(None).ok()
    }

    /// The next event, waiting at most `limit` (zero: only look).
    ///
    /// # Errors
    /// [`NoEvent::Timeout`] when none came in time, [`NoEvent::Finished`]
    /// when none will come.
    pub fn next_event_timeout(&self, limit: Duration) -> Result<Event, NoEvent> {
        self.core.take(Some(limit))
    }

    /// A blocking iterator over the events; it ends after
    /// [`EventKind::Stopped`].
    pub fn events(&self) -> Events<'_> {
        Events { agent: self }
    }

    /// Sends a text message on the calling thread, and says what became of
    /// it: `Ok` when the server accepted it; otherwise
    /// [`Error::outcome`] tells a refusal (nothing was done: a result code,
    /// a penalty still running, a server that could not be reached) from an
    /// unknown outcome (sent, but no reply came: it may have been
    /// delivered). Nothing is ever resent by itself.
    ///
    /// A `RES=3` starts the session's penalty (the agent sends nothing
    /// until it is over, and reports [`EventKind::Throttled`]); a `RES=20`
    /// makes the agent log in again at once (send again after
    /// [`EventKind::SessionRenewed`]).
    ///
    /// # Errors
    /// [`Error::Stopped`] once the agent was told to stop;
    /// [`Error::Throttled`] with what is left of a running penalty; and
    /// what [`Session::send_message`] gives.
    pub fn send(&self, target: Uin, text: &str) -> Result<(), Error> {
        self.core.send(target, text)
    }

    /// As [`Agent::send`], on the agent's runtime: the result comes later
    /// (for callers that must not block, or wait in slices).
    pub fn send_later(&self, target: Uin, text: &str) -> Pending<Result<(), Error>> {
        let core = Arc::clone(&self.core);
        let text = text.to_owned();
        self.core.runtime.spawn(move || core.send(target, &text))
    }

    /// Stops the agent; returns at once. Idempotent, and callable from any
    /// thread (not from a signal handler: set a flag there and call it
    /// from your loop). The agent has stopped within
    /// [`stop_timeout`](AgentBuilder::stop_timeout) (100 ms): a request in
    /// flight (a poll, a login, a send) gets half of it to finish, then is
    /// cut short (a send cut short fails with [`Error::Cancelled`]), and
    /// the agent logs out in what is left if the server answered its last
    /// request. Events already queued can still be taken; the last one is
    /// [`EventKind::Stopped`].
    pub fn stop(&self) {
        self.core.stop();
    }

    /// A handle that stops this agent from another thread.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle {
            core: Arc::downgrade(&self.core),
        }
    }

    /// Waits at most `limit` for the agent to finish (after [`Agent::stop`],
    /// or a refused login); whether it has. Its events stay to be taken.
    pub fn wait_stopped(&self, limit: Duration) -> bool {
        self.core.inbox.wait_finished(limit)
    }
}

impl Drop for Agent {
    /// Stops the agent. Messages it fetched that nobody took go back to
    /// its session if it was [made from one](Agent::for_session); otherwise
    /// they are lost, with a warning in the log.
    fn drop(&mut self) {
        self.core.abandoned.store(true, Ordering::SeqCst);
        self.core.stop();
        if self.core.machine().is_finished() {
            self.core.give_back_unread();
        }
    }
}

/// The iterator of [`Agent::events`].
#[derive(Debug)]
pub struct Events<'a> {
    agent: &'a Agent,
}

impl Iterator for Events<'_> {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        self.agent.next_event()
    }
}

/// What the runtime and the agent's handles share.
struct AgentCore {
    uin: Uin,
    session: Arc<Session>,
    machine: Mutex<Machine>,
    inbox: Inbox,
    runtime: Runtime,
    /// The agent's id in the runtime.
    id: OnceLock<u64>,
    on_event: Option<EventNotifier>,
    /// The [`Agent`] handle is gone: nobody will take the events.
    abandoned: AtomicBool,
    /// Cuts the requests in flight short at stop.
    cancel: Cancel,
    /// How long a stop takes at most.
    stop_timeout: Duration,
    /// When the stop asked for must be done.
    stop_deadline: Mutex<Option<Instant>>,
}

impl AgentCore {
    fn machine(&self) -> MutexGuard<'_, Machine> {
        self.machine
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn wake(&self) {
        if let Some(&id) = self.id.get() {
            self.runtime.wake(id);
        }
    }

    fn stop(&self) {
        let now = Instant::now();
        {
            let mut deadline = self.stop_deadline.lock().unwrap_or_else(|p| p.into_inner());
            if deadline.is_none() {
                *deadline = Some(now + self.stop_timeout);
                // A request in flight may finish in the first half.
                self.cancel.cancel_at(now + self.stop_timeout / 2);
            }
        }
        self.machine().stop();
        self.wake();
    }

    /// Queues events for the caller.
    fn push(&self, events: Vec<EventKind>) {
        if events.is_empty() {
            return;
        }
        let uin = self.uin;
        self.inbox
            .push(events.into_iter().map(|kind| Event { uin, kind }));
        if let Some(notify) = &self.on_event {
            notify();
        }
    }

    fn take(&self, limit: Option<Duration>) -> Result<Event, NoEvent> {
        let (event, drained) = self.inbox.take(limit)?;
        if drained {
            // The caller has every message fetched: fetch more.
            self.wake();
        }
        Ok(event)
    }

    fn send(&self, target: Uin, text: &str) -> Result<(), Error> {
        {
            let machine = self.machine();
            if machine.is_stopping() {
                return Err(Error::Stopped);
            }
            if let Some(left) = machine.penalty_left(Instant::now()) {
                return Err(Error::Throttled {
                    retry_after: left,
                    reason: Some("the session's penalty is still running".to_owned()),
                });
            }
        }
        let result = self.cancel.run(|| self.session.send_once(target, text));
        match &result {
            Err(Error::Throttled { retry_after, .. }) => {
                let event = self.machine().throttle(*retry_after, Instant::now());
                self.push(vec![event]);
                self.wake();
            }
            Err(Error::NotLoggedIn) => {
                self.machine().session_lost(Instant::now());
                self.wake();
            }
            _ => {}
        }
        result
    }

    /// Hands messages nobody took back to the session (or says they are
    /// lost); once the agent is finished and abandoned.
    fn give_back_unread(&self) {
        let unread = self.inbox.take_unread_messages();
        if unread.is_empty() {
            return;
        }
        // The agent holds one reference; any other holder can still fetch.
        if Arc::strong_count(&self.session) == 1 {
            log::warn!(
                target: "httpqq",
                "agent for {}: {} fetched message(s) were never taken and are lost",
                self.uin,
                unread.len()
            );
        } else {
            self.session.keep_unread(unread);
        }
    }
}

impl Task for AgentCore {
    fn run(&self) -> Next {
        let now = Instant::now();
        let step = self.machine().step(now, self.inbox.unread() > 0);
        match step {
            Step::Done | Step::WaitForConsumer => Next::Park,
            Step::WaitUntil(at) => Next::At(at),
            Step::Finish(reason) => {
                log::info!(target: "httpqq", "agent for {}: {reason}", self.uin);
                self.push(vec![EventKind::Stopped(reason)]);
                if self.abandoned.load(Ordering::SeqCst) {
                    self.give_back_unread();
                }
                if let Some(&id) = self.id.get() {
                    self.runtime.unregister(id);
                }
                Next::Park
            }
            Step::Send(action) => {
                let result = match action {
                    Action::Login => self
                        .cancel
                        .run(|| self.session.login_again().map(Got::LoggedIn)),
                    Action::Poll => self
                        .cancel
                        .run(|| self.session.fetch_once().map(Got::Polled)),
                    // The agent's token is cancelled by now: the logout
                    // has one of its own, bounded by the stop's deadline.
                    Action::Logout => {
                        let deadline = self
                            .stop_deadline
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .unwrap_or_else(|| Instant::now() + self.stop_timeout);
                        Cancel::new()
                            .run_until(deadline, || self.session.logout().map(|()| Got::LoggedOut))
                    }
                };
                if let Err(err) = &result {
                    log::debug!(target: "httpqq", "agent for {}: {action:?} failed: {err}", self.uin);
                }
                let events = self.machine().record(action, result, Instant::now());
                self.push(events);
                Next::Now
            }
        }
    }
}

/// The events an agent queued for its caller.
#[derive(Default)]
struct Inbox {
    state: Mutex<InboxState>,
    ready: Condvar,
}

#[derive(Default)]
struct InboxState {
    events: VecDeque<Event>,
    /// Messages among `events`.
    messages: usize,
    /// `Stopped` was queued.
    finished: bool,
    /// `Stopped` was taken.
    ended: bool,
}

impl Inbox {
    fn lock(&self) -> MutexGuard<'_, InboxState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn push(&self, events: impl Iterator<Item = Event>) {
        let mut state = self.lock();
        for event in events {
            match event.kind {
                EventKind::Message(_) => state.messages += 1,
                EventKind::Stopped(_) => state.finished = true,
                _ => {}
            }
            state.events.push_back(event);
        }
        drop(state);
        self.ready.notify_all();
    }

    /// The next event; also whether it was the last message queued.
    fn take(&self, limit: Option<Duration>) -> Result<(Event, bool), NoEvent> {
        let deadline = limit.map(|l| Instant::now() + l);
        let mut state = self.lock();
        loop {
            if let Some(event) = state.events.pop_front() {
                let mut drained = false;
                match event.kind {
                    EventKind::Message(_) => {
                        state.messages -= 1;
                        drained = state.messages == 0;
                    }
                    EventKind::Stopped(_) => state.ended = true,
                    _ => {}
                }
                return Ok((event, drained));
            }
            if state.ended {
                return Err(NoEvent::Finished);
            }
            state = match deadline {
                None => self.ready.wait(state).unwrap_or_else(|p| p.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(NoEvent::Timeout);
                    }
                    self.ready
                        .wait_timeout(state, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
        }
    }

    fn unread(&self) -> usize {
        self.lock().messages
    }

    fn wait_finished(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut state = self.lock();
        while !state.finished {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .ready
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }

    /// Takes the messages out of the queue, in order, leaving the rest.
    fn take_unread_messages(&self) -> Vec<Message> {
        let mut state = self.lock();
        let mut messages = Vec::with_capacity(state.messages);
        let mut rest = VecDeque::with_capacity(state.events.len());
        for event in state.events.drain(..) {
            match event.kind {
                EventKind::Message(message) => messages.push(message),
                kind => rest.push_back(Event {
                    uin: event.uin,
                    kind,
                }),
            }
        }
        state.events = rest;
        state.messages = 0;
        messages
    }
}
