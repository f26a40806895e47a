//! The errors of the protocol layer and the client.
//!
//! [`ProtocolError`] is what the sans-I/O [`codec`](crate::codec) reports about
//! a reply it cannot accept; [`Error`] is what every fallible operation of this
//! crate returns, with one variant per failure a caller can act on, and
//! [`Error::outcome`] tells whether the failed request may still have been
//! carried out.

use std::fmt;
use std::time::Duration;

/// Everything that can go wrong talking HTTP QQ.
///
/// Each variant is one failure a caller can act on. The server's result codes
/// map to [`Error::Throttled`] (`RES=3`), [`Error::InvalidUin`] (`RES=5`) and
/// [`Error::NotLoggedIn`] (`RES=20`); its "NULL" (a closed connection with no
/// reply) is [`Error::NoReply`].
///
/// ```
/// use httpqq::{codec, Error, Request, Uin};
///
/// let err = codec::decode_reply(&Request::FetchMessages, 7, b"VER=1.1&CMD=GETMSGEX&SEQ=7&UIN=10001&RES=20")
///     .unwrap_err();
/// assert!(matches!(err, Error::NotLoggedIn));
/// assert_eq!(err.to_string(), "not logged in, or the session expired (RES=20): log in again");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server closed the connection without answering: the protocol's
    /// "NULL", which the original server gave for any request it could not
    /// accept (a malformed field, a wrong `LC`, an unknown `VER`). A server
    /// that went away after reading the request looks exactly the same on
    /// the wire, so the request may have been carried out
    /// ([`Outcome::Unknown`]).
    #[error("the server closed the connection without a reply (the protocol's NULL): it may have refused a malformed request or gone away after carrying it out, so the outcome is unknown")]
    NoReply,

    /// `RES=20`: this UIN is not logged in from this address, or its session
    /// expired (no request for longer than the server's idle limit).
    #[error("not logged in, or the session expired (RES=20): log in again")]
    NotLoggedIn,

    /// `RES=3`: the server refused the request for now: sending or changing
    /// status too fast, a repeated removal, or a verification it does not
    /// expect. The original server penalised the sender for a while after
    /// it; `retry_after` says how long to leave the session alone.
    #[error("the server refused the request for now (RES=3{}): slow down, or check that the request makes sense, and retry in {retry_after:.1?}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Throttled {
        /// How long to send nothing more for this session: the penalty the
        /// original server imposed for this command (20 s; 30 s for
        /// DelFromList) unless the caller configured its own, or what is
        /// left of one already running.
        retry_after: Duration,
        /// The server's reason, when it gave one (`RA`): the reference
        /// server says [`QUEUE_FULL`](crate::codec::QUEUE_FULL) when the
        /// recipient's queue is full, which waiting alone does not cure.
        reason: Option<String>,
    },

    /// `RES=5`: the UIN is invalid or no such user exists. Also given,
    /// without sending anything, for a UIN outside 10000–4294967295
    /// ([`Uin::checked`](crate::Uin::checked)), which no server knows.
    #[error("invalid or unknown UIN (RES=5): QQ numbers run from 10000 to 4294967295")]
    InvalidUin,

    /// Login answered `RS=1`: the server refused the credentials, giving a
    /// human-readable reason (in Chinese on the original server, e.g.
    /// `密码错误`, "wrong password").
    #[error("login refused by the server: {reason}")]
    LoginFailed {
        /// The server's reason (`RA`), as sent.
        reason: String,
    },

    /// The reply could not be read as the protocol says: malformed, for
    /// another command or sequence number, or inconsistent.
    #[error("protocol error: {0}")]
    Protocol(#[from] ProtocolError),

    /// The HTTP exchange around the reply failed: a status other than 200,
    /// bytes that are not HTTP, or a reply past the client's size limit.
    #[error("HTTP error: {0}")]
    Http(#[from] HttpError),

    /// A bug in httpqq itself (say, a reply decoded as the wrong kind for
    /// its request); please report it. The request was sent.
    #[error("a bug in httpqq: {0} (please report it)")]
    Internal(String),

    /// The network failed: the connection could not be made
    /// ([`Phase::Connecting`]: nothing was sent), or broke later.
    #[error("transport error {phase}: {message}")]
    Transport {
        /// Where in the exchange it failed.
        phase: Phase,
        /// What failed, for people.
        message: String,
        /// The underlying error, when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },

    /// No complete reply arrived within the configured time.
    #[error("timed out {phase} (limit {limit:.1?}): the server is slow or unreachable")]
    Timeout {
        /// What the client was doing.
        phase: Phase,
        /// The limit that ran out.
        limit: Duration,
    },

    /// A setting given to the [`ClientBuilder`](crate::ClientBuilder) cannot
    /// be used.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),

    /// The [`Agent`](crate::Agent) has stopped (it was told to, or its login
    /// was refused); nothing was sent. Start a new agent to go on.
    #[error("the agent has stopped: nothing was sent")]
    Stopped,

    /// The request was cancelled while in flight ([`Cancel`](crate::Cancel):
    /// an agent's stop, Ctrl-C in Python, a cancelled task). `phase` says
    /// how far it got: [`Phase::Connecting`] means nothing was sent.
    #[error("cancelled {phase}{}", if *phase == Phase::Connecting { ": nothing was sent" } else { ": it was sent, so its outcome is unknown" })]
    Cancelled {
        /// How far the request got.
        phase: Phase,
    },

    /// The server ended the session (`RES=20`) again right after a
    /// successful login: it does not keep this client's session. A proxy
    /// or NAT that gives each connection another address does this. An
    /// agent backs off as after a network failure instead of logging in
    /// again at once.
    #[error("the server ended the session right after a login (RES=20 again): it does not keep this client's session (a proxy or NAT that changes the address per connection does this); backing off")]
    SessionDropped,

    /// An [`Agent`](crate::Agent)'s send found no session: the agent had
    /// not logged in yet (or was logging in again after the server ended
    /// the session) and could not within the client's
    /// [`timeout`](crate::ClientBuilder::timeout). Nothing was sent.
    #[error(
        "the agent is not online yet (it could not log in within {waited:.1?}): nothing was sent"
    )]
    NotOnline {
        /// How long the send waited for the login.
        waited: Duration,
    },

    /// The request would be longer than a server reads
    /// ([`codec::MAX_BODY_BYTES`](crate::codec::MAX_BODY_BYTES)), so it
    /// was not sent (the server would drop it without a reply): a message
    /// too long, most likely. Send it in parts.
    #[error("the request is {size} bytes once encoded, and a server reads at most {limit}: nothing was sent (send the message in parts)")]
    TooLarge {
        /// The encoded request's length in bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
}

/// Where in an exchange a network failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Phase {
    /// Connecting: nothing of the request reached the server.
    Connecting,
    /// Sending the request.
    Sending,
    /// Waiting for the reply, or reading it.
    Receiving,
    /// Securing the connection (the TLS handshake, certificate checks):
    /// nothing of the request reached the server.
    Tls,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Connecting => "connecting",
            Phase::Sending => "sending the request",
            Phase::Receiving => "waiting for the reply",
            Phase::Tls => "tls",
        })
    }
}

/// What became of a request: whether the server carried it out.
///
/// A request that failed was either certainly not carried out
/// ([`Outcome::Refused`]: the server said no, or the request never reached
/// it) or may have been ([`Outcome::Unknown`]: it was sent but no reply
/// could be read). This library never resends a request by itself; after
/// an unknown outcome the caller decides whether a duplicate is worse than
/// a loss.
///
/// ```
/// use httpqq::{Error, Outcome};
/// use std::time::Duration;
///
/// let refused = Error::Throttled { retry_after: Duration::from_secs(20), reason: None };
/// assert_eq!(refused.outcome(), Outcome::Refused);
/// assert_eq!(Error::NoReply.outcome(), Outcome::Unknown);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The server answered success.
    Accepted,
    /// Certainly not carried out: the server refused it (with a result
    /// code), or it never left this machine.
    Refused,
    /// Sent, but no reply could be read: it may or may not have been
    /// carried out.
    Unknown,
}

impl Outcome {
    /// Every outcome, in code order.
    pub const ALL: [Outcome; 3] = [Outcome::Accepted, Outcome::Refused, Outcome::Unknown];

    /// A number for the outcome (0 accepted, 1 refused, 2 unknown): what
    /// the C and Python interfaces use.
    pub const fn code(self) -> u32 {
        match self {
            Outcome::Accepted => 0,
            Outcome::Refused => 1,
            Outcome::Unknown => 2,
        }
    }

    /// What became of a request from its result.
    pub fn of<T>(result: &Result<T, Error>) -> Outcome {
        match result {
            Ok(_) => Outcome::Accepted,
            Err(err) => err.outcome(),
        }
    }

    /// A lower-case English name: `"accepted"`, `"refused"`, `"unknown"`.
    pub const fn name(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Refused => "refused",
            Outcome::Unknown => "unknown",
        }
    }
}

impl Error {
    /// The protocol's result code behind this error, when there is one
    /// (`3`, `5` or `20`).
    ///
    /// ```
    /// let throttled = httpqq::Error::Throttled { retry_after: std::time::Duration::from_secs(20), reason: None };
    /// assert_eq!(throttled.result_code(), Some(3));
    /// assert_eq!(httpqq::Error::NoReply.result_code(), None);
    /// ```
    pub fn result_code(&self) -> Option<u32> {
        let code = match self {
            Error::Throttled { .. } => crate::codec::ResultCode::Throttled,
            Error::InvalidUin => crate::codec::ResultCode::InvalidUin,
            Error::NotLoggedIn | Error::SessionDropped => crate::codec::ResultCode::NotLoggedIn,
            _ => return None,
        };
        Some(code.code())
    }

    /// Whether the failed request may still have been carried out (see
    /// [`Outcome`]).
    ///
    /// Refused: a result code (`RES` 3, 5, 20, a refused login), a failure
    /// while connecting, a setting or agent that sent nothing. Unknown: the
    /// NULL, a timeout or broken connection after the request went out, a
    /// reply that could not be read.
    pub fn outcome(&self) -> Outcome {
        match self {
            Error::Throttled { .. }
            | Error::InvalidUin
            | Error::NotLoggedIn
            | Error::LoginFailed { .. }
            | Error::InvalidConfig(_)
            | Error::Stopped
            | Error::SessionDropped
            | Error::NotOnline { .. }
            | Error::TooLarge { .. } => Outcome::Refused,
            Error::Transport { phase, .. }
            | Error::Timeout { phase, .. }
            | Error::Cancelled { phase } => match phase {
                Phase::Connecting | Phase::Tls => Outcome::Refused,
                Phase::Sending | Phase::Receiving => Outcome::Unknown,
            },
            Error::NoReply | Error::Protocol(_) | Error::Http(_) | Error::Internal(_) => {
                Outcome::Unknown
            }
        }
    }

    /// Whether retrying later may succeed without changing anything: the
    /// network and server failures an [`Agent`](crate::Agent) rides out
    /// with backoff (transport errors, timeouts, the NULL, unreadable
    /// replies, a server that drops every session at once). Result codes,
    /// refused logins, settings and cancellations are not.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Transport { .. }
                | Error::Timeout { .. }
                | Error::NoReply
                | Error::Protocol(_)
                | Error::Http(_)
                | Error::SessionDropped
        )
    }

    pub(crate) fn transport(
        phase: Phase,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Transport {
            phase,
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
}

/// A reply that does not follow the protocol.
///
/// Returned by the [`codec`](crate::codec) and wrapped in
/// [`Error::Protocol`] by the client.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A part of the body between two `&` is neither empty nor `KEY=value`
    /// with a key of letters, digits and `_`.
    MalformedPair {
        /// The offending part, lossily decoded and shortened for display.
        pair: String,
    },
    /// A field the reply must carry is absent.
    MissingField {
        /// The field's key.
        key: &'static str,
    },
    /// A field that must hold a decimal number does not.
    InvalidNumber {
        /// The field's key.
        key: String,
        /// The value as received, lossily decoded and shortened for display.
        value: String,
    },
    /// The reply answers another command than the one sent.
    CommandMismatch {
        /// The command sent.
        expected: &'static str,
        /// The `CMD` received.
        received: String,
    },
    /// The reply echoes another sequence number than the one sent.
    SeqMismatch {
        /// The `SEQ` sent.
        expected: u16,
        /// The `SEQ` received.
        received: String,
    },
    /// A result code (`RES`) the protocol does not define.
    UnknownResult {
        /// The code received.
        code: u32,
    },
    /// Parallel lists (such as `MT`/`UN`/`MG`) of unequal length, or a count
    /// (`MN`, `SN`) that disagrees with them.
    ListLengthMismatch {
        /// Which lists and lengths disagree.
        detail: String,
    },
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::MalformedPair { pair } => {
                write!(f, "malformed field {pair:?} (expected KEY=value)")
            }
            ProtocolError::MissingField { key } => write!(f, "the reply has no {key} field"),
            ProtocolError::InvalidNumber { key, value } => {
                write!(f, "field {key} should be a number but is {value:?}")
            }
            ProtocolError::CommandMismatch { expected, received } => write!(
                f,
                "the reply is for command {received:?}, but {expected} was sent"
            ),
            ProtocolError::SeqMismatch { expected, received } => write!(
                f,
                "the reply echoes SEQ={received:?}, but SEQ={expected} was sent"
            ),
            ProtocolError::UnknownResult { code } => {
                write!(
                    f,
                    "the server answered RES={code}, a code the protocol does not define"
                )
            }
            ProtocolError::ListLengthMismatch { detail } => {
                write!(f, "inconsistent lists in the reply: {detail}")
            }
        }
    }
}

impl std::error::Error for ProtocolError {}

/// What went wrong in the HTTP exchange around a reply (the transport's,
/// not the protocol's: the codec never returns these).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The server answered with an HTTP status other than 200.
    #[error("the server answered HTTP status {status} instead of 200")]
    Status {
        /// The HTTP status code.
        status: u16,
    },
    /// The bytes received are not an HTTP reply.
    #[error("the server's HTTP reply is malformed: {detail}")]
    Malformed {
        /// What was wrong.
        detail: String,
    },
    /// The reply is larger than the client accepts
    /// ([`ClientBuilder::max_reply_size`](crate::ClientBuilder::max_reply_size)).
    #[error("the reply is larger than the {limit}-byte limit")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
}

/// Shortens received bytes for an error message: lossy UTF-8, at most 64
/// characters.
pub(crate) fn excerpt(bytes: &[u8]) -> String {
    const MAX: usize = 64;
    let text = String::from_utf8_lossy(bytes);
    if text.chars().count() <= MAX {
        text.into_owned()
    } else {
        let mut short: String = text.chars().take(MAX).collect();
        short.push('…');
        short
    }
}
