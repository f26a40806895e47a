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
//! - [`event`]: what an agent reports;
//! - [`inbox`] (cargo feature `inbox`): fetched messages kept in a file
//!   until handled.

mod event;
#[cfg(feature = "inbox")]
mod inbox;
mod machine;
mod policy;
mod runtime;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

pub use event::{Event, EventKind, SendId, Sent, State, StopReason};
pub use policy::{Backoff, SendPace};
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

/// A function called when events become waiting for an agent's caller
/// (see [`AgentBuilder::on_event`]).
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
    #[cfg(feature = "inbox")]
    inbox: Option<std::path::PathBuf>,
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
            #[cfg(feature = "inbox")]
            inbox: None,
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

    /// How fast [`Agent::send`] sends (default [`SendPace::default`]: at
    /// most 90 messages in any 10 s); `None` for as fast as the caller
    /// sends. A send waits for its turn.
    pub fn send_pace(mut self, pace: Option<SendPace>) -> Self {
        self.policy.send_pace = pace;
        self
    }

    /// How often [`Agent::send`] sends a message again after the server
    /// refused it for a penalty (`RES=3`, so it was not delivered), each
    /// time after waiting the penalty out (default 3); 0 fails at once
    /// with [`Error::Throttled`], as does a send during a penalty.
    pub fn throttle_retries(mut self, times: u32) -> Self {
        self.policy.throttle_retries = times;
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

    /// Keeps every message the agent fetches in the SQLite file at `path`
    /// (created if there is none) from before it is handed out until the
    /// caller is done with it: when it takes the next event, or calls
    /// [`Agent::ack`]. The next agent for the same UIN on the same file
    /// hands out what was left first, oldest first, so a break, a crash or
    /// a SIGKILL of the bot loses no message. Delivery is at least once:
    /// the message a bot was handling when it stopped (taken, not yet
    /// done) comes again. A file serves one process at a time; its agents
    /// share it, one per UIN. (Cargo feature `inbox`.)
    ///
    /// ```no_run
    /// # let client = httpqq::Client::new("127.0.0.1:8000")?;
    /// let agent = httpqq::Agent::builder(&client, httpqq::Uin::new(10001), "demo")
    ///     .inbox("bot.inbox")
    ///     .start()?;
    /// # Ok::<(), httpqq::Error>(())
    /// ```
    #[cfg(feature = "inbox")]
    pub fn inbox(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.inbox = Some(path.into());
        self
    }

    /// Calls `notify` when events become waiting: each time the agent
    /// queues events while none were waiting (edge-triggered). It runs on
    /// the thread that queued them (a runtime worker, or the caller's
    /// thread in [`Agent::send`] and [`AgentBuilder::start`]); it must
    /// return quickly and must not call into the agent. For consumers
    /// that do not block on [`Agent::next_event`] (an async runtime's
    /// waker, an event loop's file descriptor, one thread serving many
    /// agents): once woken, take events with
    /// [`next_event_timeout(ZERO)`](Agent::next_event_timeout) until none
    /// is left, then wait for the next call.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// # let client = httpqq::Client::new("127.0.0.1:9")?;
    /// let woken = Arc::new(AtomicUsize::new(0));
    /// let seen = Arc::clone(&woken);
    /// let builder = httpqq::Agent::builder(&client, httpqq::Uin::new(10001), "demo")
    ///     .on_event(move || {
    ///         seen.fetch_add(1, Ordering::SeqCst);
    ///     });
    /// # Ok::<(), httpqq::Error>(())
    /// ```
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
        if let Some(pace) = self.policy.send_pace {
            if pace.count == 0 || pace.window.is_zero() {
                return Err(Error::InvalidConfig(format!(
                    "a send pace must allow at least one message in a window longer than zero, not {} in {:?}",
                    pace.count, pace.window
                )));
            }
        }
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
        let send_pace = self.policy.send_pace;
        let throttle_retries = self.policy.throttle_retries;
        let runtime = self.runtime.unwrap_or_else(Runtime::global);
        #[cfg(feature = "inbox")]
        let durable = match &self.inbox {
            Some(path) => Some(inbox::Inbox::open(path, uin)?),
            None => None,
        };
        let kept = if logged_in {
            session.take_unread()
        } else {
            Vec::new()
        };
        let core = Arc::new(AgentCore {
            uin,
            session,
            machine: Mutex::new(Machine::new(self.policy, logged_in, timers, now, seed)),
            queue: Queue::default(),
            #[cfg(feature = "inbox")]
            durable: Mutex::new(durable),
            runtime: runtime.clone(),
            id: OnceLock::new(),
            on_event: self.on_event,
            abandoned: AtomicBool::new(false),
            cancel: Cancel::new(),
            stop_timeout,
            stop_deadline: Mutex::new(None),
            send_pace,
            sent: Mutex::new(VecDeque::new()),
            throttle_retries,
            sends_started: AtomicU64::new(0),
            sends_running: AtomicU64::new(0),
            sent_results: Mutex::new(VecDeque::new()),
        });
        // Messages left in the inbox by earlier agents come first, then
        // those the session kept unread.
        core.push_leftovers();
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
    /// The messages taken before are done with ([`Agent::ack`]).
    pub fn next_event(&self) -> Option<Event> {
        self.core.take(None).ok()
    }

    /// The next event, waiting at most `limit` (zero: only look). The
    /// messages taken before are done with ([`Agent::ack`]).
    ///
    /// # Errors
    /// [`NoEvent::Timeout`] when none came in time, [`NoEvent::Finished`]
    /// when none will come.
    pub fn next_event_timeout(&self, limit: Duration) -> Result<Event, NoEvent> {
        self.core.take(Some(limit))
    }

    /// Says the caller is done with the messages it took so far: with an
    /// [inbox](AgentBuilder::inbox), they are forgotten from it (else
    /// nothing happens). Taking the next event does this too; call it
    /// when a message was handled and no next event is wanted yet, or
    /// before stopping after the last one.
    pub fn ack(&self) {
        self.core.ack();
    }

    /// Messages fetched and not taken yet: dropped when the agent goes,
    /// unless it has an [inbox](AgentBuilder::inbox) (where they wait for
    /// the next agent) or was [made from a session](Agent::for_session)
    /// (which gets them back).
    pub fn undelivered(&self) -> usize {
        self.core.queue.unread()
    }

    /// A blocking iterator over the events; it ends after
    /// [`EventKind::Stopped`].
    pub fn events(&self) -> Events<'_> {
        Events { agent: self }
    }

    /// Sends a text message on the calling thread, and says what became of
    /// it in the end: `Ok` when the server accepted it; otherwise
    /// [`Error::outcome`] tells a refusal (nothing was done: a result code,
    /// a server that could not be reached) from an unknown outcome (sent,
    /// but no reply came: it may have been delivered). A message whose
    /// outcome is unknown is never sent again by itself.
    ///
    /// Sends keep the agent's [pace](AgentBuilder::send_pace) (a send waits
    /// for its turn), and wait out a penalty: a send during one waits for
    /// its end, and one the server refuses with `RES=3` (starting the
    /// session's penalty, reported as [`EventKind::Throttled`]) is sent
    /// again after it, up to
    /// [`throttle_retries`](AgentBuilder::throttle_retries) times (a
    /// refused message was not delivered: sending it again makes no
    /// duplicate). A send without a session (before the agent's first
    /// login, or while it logs in again after the server ended the
    /// session) waits for the login, at most the client's
    /// [`timeout`](crate::ClientBuilder::timeout); one the server refuses
    /// with `RES=20` makes the agent log in again at once and is sent
    /// again after the login (with relogin off, it fails with
    /// [`Error::NotLoggedIn`]).
    ///
    /// # Errors
    /// [`Error::Stopped`] once the agent was told to stop (also while a send
    /// waits); [`Error::NotOnline`] when it could not log in in time;
    /// [`Error::Throttled`] past the retries (or at once, with
    /// retries off); [`Error::Cancelled`] when a scope around the call was
    /// cancelled; and what [`Session::send_message`] gives.
    pub fn send(&self, target: Uin, text: &str) -> Result<(), Error> {
        self.core.send(target, text)
    }

    /// Starts a send on the agent's runtime and returns at once; its
    /// result waits for [`Agent::take_sent`], and is announced like events
    /// (by [`on_event`](AgentBuilder::on_event)): for callers that wait in
    /// an event loop and must not block, nor hold a thread per send. The
    /// send is [`Agent::send`]'s: paced, waiting out penalties and the
    /// login. Every started send has its result by the time the agent's
    /// [`Stopped`](EventKind::Stopped) event is queued.
    ///
    /// ```no_run
    /// # use httpqq::{Agent, Client, Uin};
    /// # let client = Client::new("127.0.0.1:8000")?;
    /// let agent = Agent::builder(&client, Uin::new(10001), "demo").start()?;
    /// let id = agent.start_send(Uin::new(10002), "hello");
    /// // … when `on_event` says so:
    /// if let Some(sent) = agent.take_sent() {
    ///     assert_eq!(sent.id, id);
    ///     println!("hello: {:?}", sent.result);
    /// }
    /// # Ok::<(), httpqq::Error>(())
    /// ```
    pub fn start_send(&self, target: Uin, text: &str) -> SendId {
        self.core.start_send(target, text)
    }

    /// The result of a send started with [`Agent::start_send`], oldest
    /// first, if one is waiting; never waits.
    pub fn take_sent(&self) -> Option<Sent> {
        self.core
            .sent_results
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
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
        self.core.queue.wait_finished(limit)
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
            self.core.release_inbox();
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
    /// The events waiting for the caller.
    queue: Queue,
    /// The durable inbox, when the agent has one (let go of when the
    /// agent finishes, for the next agent).
    #[cfg(feature = "inbox")]
    durable: Mutex<Option<inbox::Inbox>>,
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
    /// How fast sends go, and when the latest went.
    send_pace: Option<SendPace>,
    sent: Mutex<VecDeque<Instant>>,
    /// How often a throttled send is sent again.
    throttle_retries: u32,
    /// Sends started with `start_send` so far (their ids), and those whose
    /// result is not queued yet: the agent finishes after them.
    sends_started: AtomicU64,
    sends_running: AtomicU64,
    /// Their results, for `take_sent`.
    sent_results: Mutex<VecDeque<Sent>>,
}

impl AgentCore {
    fn machine(&self) -> MutexGuard<'_, Machine> {
        self.machine
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    #[cfg(feature = "inbox")]
    fn durable(&self) -> MutexGuard<'_, Option<inbox::Inbox>> {
        self.durable
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

    /// Queues events for the caller; with an inbox, their messages are
    /// stored in it first.
    fn push(&self, events: Vec<EventKind>) {
        if events.is_empty() {
            return;
        }
        let ids = self.store(&events);
        self.enqueue(events.into_iter().zip(ids));
    }

    fn enqueue(&self, events: impl Iterator<Item = (EventKind, Option<InboxId>)>) {
        let uin = self.uin;
        let became_ready = self
            .queue
            .push(events.map(|(kind, id)| (Event { uin, kind }, id)));
        if let (true, Some(notify)) = (became_ready, &self.on_event) {
            notify();
        }
    }

    /// Sends on the runtime; the result waits for [`Agent::take_sent`].
    fn start_send(self: &Arc<Self>, target: Uin, text: &str) -> SendId {
        let id = SendId(self.sends_started.fetch_add(1, Ordering::SeqCst) + 1);
        self.sends_running.fetch_add(1, Ordering::SeqCst);
        let core = Arc::clone(self);
        let text = text.to_owned();
        drop(self.runtime.spawn(move || {
            let result = core.send(target, &text);
            let became_ready = {
                let mut sent = core.sent_results.lock().unwrap_or_else(|p| p.into_inner());
                sent.push_back(Sent { id, result });
                sent.len() == 1
            };
            if let (true, Some(notify)) = (became_ready, &core.on_event) {
                notify();
            }
            // The agent may finish now (see `Task::run`).
            if core.sends_running.fetch_sub(1, Ordering::SeqCst) == 1 {
                core.wake();
            }
        }));
        id
    }

    /// Stores the messages among `events` in the inbox, if there is one:
    /// each event's place in it. A failing store is logged and the
    /// messages handed out all the same (they are off the server already).
    fn store(&self, events: &[EventKind]) -> Vec<Option<InboxId>> {
        #[cfg(feature = "inbox")]
        if let Some(durable) = &*self.durable() {
            let messages: Vec<Message> = events
                .iter()
                .filter_map(|e| match e {
                    EventKind::Message(m) => Some(m.clone()),
                    _ => None,
                })
                .collect();
            if !messages.is_empty() {
                match durable.store(&messages) {
                    Ok(ids) => {
                        let mut ids = ids.into_iter();
                        return events
                            .iter()
                            .map(|e| match e {
                                EventKind::Message(_) => ids.next(),
                                _ => None,
                            })
                            .collect();
                    }
                    Err(err) => log::error!(
                        target: "httpqq",
                        "agent for {}: cannot store {} message(s) in the inbox {}: {err}; handing them out anyway",
                        self.uin,
                        messages.len(),
                        durable.path().display()
                    ),
                }
            }
        }
        vec![None; events.len()]
    }

    /// Queues the messages earlier agents left in the inbox.
    fn push_leftovers(&self) {
        #[cfg(feature = "inbox")]
        if let Some(durable) = &*self.durable() {
            match durable.leftovers() {
                Ok(left) if !left.is_empty() => {
                    log::info!(
                        target: "httpqq",
                        "agent for {}: {} message(s) left in the inbox come first",
                        self.uin,
                        left.len()
                    );
                    self.enqueue(
                        left.into_iter()
                            .map(|(id, m)| (EventKind::Message(m), Some(id))),
                    );
                }
                Ok(_) => {}
                Err(err) => log::error!(
                    target: "httpqq",
                    "agent for {}: cannot read the inbox {}: {err}",
                    self.uin,
                    durable.path().display()
                ),
            }
        }
    }

    /// Forgets, from the inbox, the messages the caller took so far.
    fn ack(&self) {
        let ids = self.queue.take_taken();
        #[cfg(feature = "inbox")]
        if let Some(durable) = &*self.durable() {
            if let Err(err) = durable.done(&ids) {
                log::error!(
                    target: "httpqq",
                    "agent for {}: cannot forget {} handled message(s) in the inbox {}: {err} (they will come again)",
                    self.uin,
                    ids.len(),
                    durable.path().display()
                );
            }
        }
        let _ = ids;
    }

    fn take(&self, limit: Option<Duration>) -> Result<Event, NoEvent> {
        self.ack();
        let (event, drained) = self.queue.take(limit)?;
        if drained {
            // The caller has every message fetched: fetch more.
            self.wake();
        }
        if matches!(event.kind, EventKind::Stopped(_)) {
            // The last event: no message will be taken after it.
            self.release_inbox();
        }
        Ok(event)
    }

    /// Lets go of the inbox (what is still in it waits there for the next
    /// agent, which may start now): once the caller took the last event,
    /// or the agent finished with nobody to take it.
    fn release_inbox(&self) {
        #[cfg(feature = "inbox")]
        self.durable().take();
    }

    fn send(&self, target: Uin, text: &str) -> Result<(), Error> {
        let mut retries = self.throttle_retries;
        // A send without a session waits for the (next) login, at most the
        // client's timeout from when it first had to.
        let mut waiting_since = None;
        loop {
            let (penalty, logged_in) = {
                let machine = self.machine();
                if machine.is_stopping() {
                    return Err(Error::Stopped);
                }
                (machine.penalty_left(Instant::now()), machine.is_logged_in())
            };
            if !logged_in {
                let since = *waiting_since.get_or_insert_with(Instant::now);
                self.wait_logged_in(since + self.session.client().timeout(), since)?;
                continue;
            }
            if let Some(left) = penalty {
                if self.throttle_retries == 0 {
                    return Err(Error::Throttled {
                        retry_after: left,
                        reason: Some("the session's penalty is still running".to_owned()),
                    });
                }
                self.wait_until(Instant::now() + left)?;
                continue;
            }
            if let Some(turn) = self.pace_turn(Instant::now()) {
                self.wait_until(turn)?;
                continue;
            }
            let result = self.cancel.run(|| self.session.send_once(target, text));
            match &result {
                Err(Error::Throttled { retry_after, .. }) => {
                    let event = self.machine().throttle(*retry_after, Instant::now());
                    self.push(vec![event]);
                    self.wake();
                    if retries > 0 {
                        retries -= 1;
                        continue;
                    }
                }
                Err(Error::NotLoggedIn) => {
                    let (event, relogs_in) = {
                        let mut machine = self.machine();
                        (machine.session_lost(Instant::now()), machine.relogs_in())
                    };
                    self.push(event.into_iter().collect());
                    self.wake();
                    if relogs_in {
                        // Refused, so not delivered: send it again once
                        // the agent has logged in again.
                        continue;
                    }
                }
                _ => {}
            }
            return result;
        }
    }

    /// Takes a send's place in the pace: `None` when it may go now (and is
    /// counted), else when to look again.
    fn pace_turn(&self, now: Instant) -> Option<Instant> {
        let pace = self.send_pace?;
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        while sent
            .front()
            .is_some_and(|&at| now.duration_since(at) >= pace.window)
        {
            sent.pop_front();
        }
        if sent.len() < pace.count as usize {
            sent.push_back(now);
            return None;
        }
        sent.front().map(|&oldest| oldest + pace.window)
    }

    /// Waits until the agent is logged in, at most until `by`:
    /// [`Error::NotOnline`] past it, [`Error::Stopped`] when the agent is
    /// told to stop (or its login is refused) meanwhile,
    /// [`Error::Cancelled`] when a scope around the call is cancelled.
    fn wait_logged_in(&self, by: Instant, started: Instant) -> Result<(), Error> {
        let ready = || {
            let machine = self.machine();
            machine.is_stopping() || machine.is_logged_in()
        };
        let slept_through = self.cancel.run(|| crate::cancel::sleep_until(by, ready));
        let machine = self.machine();
        if machine.is_stopping() {
            Err(Error::Stopped)
        } else if machine.is_logged_in() {
            Ok(())
        } else if slept_through {
            Err(Error::NotOnline {
                waited: started.elapsed(),
            })
        } else {
            Err(Error::Cancelled {
                phase: crate::error::Phase::Connecting,
            })
        }
    }

    /// Waits until `until` for a send's turn: [`Error::Stopped`] when the
    /// agent is told to stop meanwhile, [`Error::Cancelled`] (nothing was
    /// sent) when a scope around the call is cancelled.
    fn wait_until(&self, until: Instant) -> Result<(), Error> {
        let slept = self
            .cancel
            .run(|| crate::cancel::sleep_until(until, || self.machine().is_stopping()));
        match slept {
            true => Ok(()),
            false if self.machine().is_stopping() => Err(Error::Stopped),
            false => Err(Error::Cancelled {
                phase: crate::error::Phase::Connecting,
            }),
        }
    }

    /// Hands messages nobody took back to the session (or says they are
    /// lost); once the agent is finished and abandoned. With an inbox they
    /// wait there for the next agent.
    fn give_back_unread(&self) {
        let unread = self.queue.take_unread_messages();
        if unread.is_empty() {
            return;
        }
        #[cfg(feature = "inbox")]
        if let Some(durable) = &*self.durable() {
            log::info!(
                target: "httpqq",
                "agent for {}: {} fetched message(s) wait in the inbox {} for the next agent",
                self.uin,
                unread.len(),
                durable.path().display()
            );
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

impl AgentCore {
    /// Reports the last event and lets go of the runtime.
    fn finish(&self, reason: StopReason) {
        log::info!(target: "httpqq", "agent for {}: {reason}", self.uin);
        self.push(vec![EventKind::Stopped(reason)]);
        if self.abandoned.load(Ordering::SeqCst) {
            self.give_back_unread();
            self.release_inbox();
        }
        if let Some(&id) = self.id.get() {
            self.runtime.unregister(id);
        }
    }
}

impl Task for AgentCore {
    fn panicked(&self, message: &str) {
        self.machine().abandon();
        self.finish(StopReason::Internal {
            message: message.to_owned(),
        });
    }

    fn run(&self) -> Next {
        let now = Instant::now();
        if self.sends_running.load(Ordering::SeqCst) > 0 {
            let machine = self.machine();
            if machine.is_stopping() && !machine.is_finished() {
                // A started send has its result before `Stopped`; told to
                // stop, it ends within the stop timeout (the last one
                // wakes us).
                return Next::At(now + crate::cancel::SLICE);
            }
        }
        let step = self.machine().step(now, self.queue.unread() > 0);
        match step {
            Step::Done | Step::WaitForConsumer => Next::Park,
            Step::WaitUntil(at) => Next::At(at),
            Step::Finish(reason) => {
                self.finish(reason);
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

/// A message's place in the durable inbox.
#[cfg(feature = "inbox")]
type InboxId = inbox::Id;
/// A message's place in the durable inbox (none without the feature).
#[cfg(not(feature = "inbox"))]
type InboxId = i64;

/// The events an agent queued for its caller.
#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
    ready: Condvar,
}

#[derive(Default)]
struct QueueState {
    /// Each with its message's place in the inbox, if it has one.
    events: VecDeque<(Event, Option<InboxId>)>,
    /// Messages among `events`.
    messages: usize,
    /// The inbox places of messages the caller took and is not done with.
    taken: Vec<InboxId>,
    /// `Stopped` was queued.
    finished: bool,
    /// `Stopped` was taken.
    ended: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues events; whether they are the first waiting (the queue was
    /// empty).
    fn push(&self, events: impl Iterator<Item = (Event, Option<InboxId>)>) -> bool {
        let mut state = self.lock();
        let was_empty = state.events.is_empty();
        for (event, id) in events {
            match event.kind {
                EventKind::Message(_) => state.messages += 1,
                EventKind::Stopped(_) => state.finished = true,
                _ => {}
            }
            state.events.push_back((event, id));
        }
        drop(state);
        self.ready.notify_all();
        was_empty
    }

    /// The next event; also whether it was the last message queued.
    fn take(&self, limit: Option<Duration>) -> Result<(Event, bool), NoEvent> {
        let deadline = limit.map(|l| Instant::now() + l);
        let mut state = self.lock();
        loop {
            if let Some((event, id)) = state.events.pop_front() {
                let mut drained = false;
                match event.kind {
                    EventKind::Message(_) => {
                        state.messages -= 1;
                        drained = state.messages == 0;
                    }
                    EventKind::Stopped(_) => state.ended = true,
                    _ => {}
                }
                state.taken.extend(id);
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

    /// The inbox places of the messages taken since the last call.
    fn take_taken(&self) -> Vec<InboxId> {
        std::mem::take(&mut self.lock().taken)
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
        for (event, id) in state.events.drain(..) {
            match event.kind {
                EventKind::Message(message) => messages.push(message),
                kind => rest.push_back((
                    Event {
                        uin: event.uin,
                        kind,
                    },
                    id,
                )),
            }
        }
        state.events = rest;
        state.messages = 0;
        messages
    }
}
