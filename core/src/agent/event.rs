//! What an agent reports: its state changes and the messages it fetched.

use std::fmt;
use std::time::Duration;

use crate::error::Error;
use crate::model::{Message, Uin};

/// Where an agent is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// Started, not yet heard from the server.
    Connecting,
    /// The last request succeeded.
    Online,
    /// The last request failed for a reason that may pass (the network, a
    /// server that is down or answers garbage); retrying with backoff.
    Reconnecting,
    /// The server answered `RES=3`; no request until its penalty is over.
    Throttled,
    /// Done: stopped, or the login was refused. See [`StopReason`].
    Stopped,
}

impl State {
    /// Every state, in code order.
    pub const ALL: [State; 5] = [
        State::Connecting,
        State::Online,
        State::Reconnecting,
        State::Throttled,
        State::Stopped,
    ];

    /// A number for the state (0 connecting, 1 online, 2 reconnecting,
    /// 3 throttled, 4 stopped): what the C and Python interfaces use.
    pub const fn code(self) -> u32 {
        match self {
            State::Connecting => 0,
            State::Online => 1,
            State::Reconnecting => 2,
            State::Throttled => 3,
            State::Stopped => 4,
        }
    }

    /// A lower-case English name.
    pub const fn name(self) -> &'static str {
        match self {
            State::Connecting => "connecting",
            State::Online => "online",
            State::Reconnecting => "reconnecting",
            State::Throttled => "throttled",
            State::Stopped => "stopped",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an agent stopped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StopReason {
    /// [`Agent::stop`](super::Agent::stop) was called (or the agent was
    /// dropped).
    Requested,
    /// The server refused the login (`RS=1`), giving its reason (a wrong
    /// password, say: `密码错误`). Retrying would not help (and would count
    /// as password guessing); the agent does not.
    LoginRefused {
        /// The server's reason, as sent.
        reason: String,
    },
    /// The server does not know the UIN (`RES=5` to Login).
    UnknownUin,
    /// The server ended the session (`RES=20`) and re-login is off.
    SessionEnded,
    /// A bug: a step of the agent panicked (the panic's message). The
    /// agent cannot go on safely, so it stopped; please report it.
    Internal {
        /// What the panic said.
        message: String,
    },
}

impl StopReason {
    /// The error behind a stop that was not asked for, as a request would
    /// have reported it.
    pub fn error(&self) -> Option<Error> {
        match self {
            StopReason::Requested => None,
            StopReason::LoginRefused { reason } => Some(Error::LoginFailed {
                reason: reason.clone(),
            }),
            StopReason::UnknownUin => Some(Error::InvalidUin),
            StopReason::SessionEnded => Some(Error::NotLoggedIn),
            StopReason::Internal { message } => Some(Error::Internal(format!(
                "the agent stopped after a bug (a panic: {message})"
            ))),
        }
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.error() {
            None => f.write_str("stopped as asked"),
            Some(err) => write!(f, "stopped: {err}"),
        }
    }
}

/// One thing an agent reports, for the account [`uin`](Event::uin).
#[derive(Debug)]
pub struct Event {
    /// The account the agent runs for: many agents may feed one consumer.
    pub uin: Uin,
    /// What happened.
    pub kind: EventKind,
}

/// What happened (see [`Event`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum EventKind {
    /// The agent is online: its first request succeeded, or one did after
    /// failures or a penalty.
    Online,
    /// A request failed for a reason that may pass; the agent tries again
    /// in `retry_in` (capped exponential backoff with jitter).
    Reconnecting {
        /// Failures in a row, from 1.
        attempt: u32,
        /// When the next try goes.
        retry_in: Duration,
        /// What failed.
        error: Error,
    },
    /// The server answered `RES=3`; the agent sends nothing for
    /// `retry_after`.
    Throttled {
        /// How long the agent waits before its next request.
        retry_after: Duration,
    },
    /// The server had ended the session (`RES=20`, e.g. after its idle
    /// timeout or a restart); the agent logged in again with the stored
    /// password hash.
    SessionRenewed,
    /// An incoming message.
    Message(Message),
    /// The agent stopped; this is its last event.
    Stopped(StopReason),
}

/// What became of a send started with
/// [`Agent::start_send`](super::Agent::start_send), taken with
/// [`Agent::take_sent`](super::Agent::take_sent).
#[derive(Debug)]
pub struct Sent {
    /// The id `start_send` returned.
    pub id: SendId,
    /// `Ok` when the server accepted the message, else the error, whose
    /// [`outcome`](Error::outcome) says whether it may have been delivered.
    pub result: Result<(), Error>,
}

/// Names a send started with [`Agent::start_send`](super::Agent::start_send)
/// (ids count from 1, per agent), in its [`Sent`] result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SendId(pub(crate) u64);

impl SendId {
    /// The number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for SendId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

impl EventKind {
    /// The kinds' codes and names, in code order (for interfaces that
    /// mirror them as constants).
    pub const CODES: [(u32, &'static str); 6] = [
        (1, "online"),
        (2, "reconnecting"),
        (3, "throttled"),
        (4, "session renewed"),
        (5, "message"),
        (6, "stopped"),
    ];

    /// A number for the kind (1 online, 2 reconnecting, 3 throttled,
    /// 4 session renewed, 5 message, 6 stopped): what the C and Python
    /// interfaces use.
    pub const fn code(&self) -> u32 {
        match self {
            EventKind::Online => 1,
            EventKind::Reconnecting { .. } => 2,
            EventKind::Throttled { .. } => 3,
            EventKind::SessionRenewed => 4,
            EventKind::Message(_) => 5,
            EventKind::Stopped(_) => 6,
        }
    }

    /// A lower-case English name of the kind: `"online"`, `"reconnecting"`,
    /// `"throttled"`, `"session renewed"`, `"message"`, `"stopped"`.
    pub const fn name(&self) -> &'static str {
        // The names are written once, in `CODES`, in code order from 1.
        Self::CODES[self.code() as usize - 1].1
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            EventKind::Online => write!(f, "{}: online", self.uin),
            EventKind::Reconnecting {
                attempt,
                retry_in,
                error,
            } => write!(
                f,
                "{}: reconnecting (attempt {attempt}, next in {retry_in:.1?}): {error}",
                self.uin
            ),
            EventKind::Throttled { retry_after } => {
                write!(f, "{}: throttled for {retry_after:.1?}", self.uin)
            }
            EventKind::SessionRenewed => write!(f, "{}: session renewed", self.uin),
            EventKind::Message(m) => write!(
                f,
                "{}: {} from {}: {}",
                self.uin,
                m.kind().name(),
                m.sender(),
                m.content()
            ),
            EventKind::Stopped(reason) => write!(f, "{}: {reason}", self.uin),
        }
    }
}
