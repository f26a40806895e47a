//! A logged-in UIN: every command of the protocol and the keep-alive poll.
//! The loop that keeps a session alive through failures is the
//! [`Agent`](crate::Agent).

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::client::Client;
use crate::codec::{Reply, Request, DEFAULT_MAX_ENTRIES};
use crate::error::Error;
use crate::model::{
    AddFriendOutcome, InfoLevel, LoginOutcome, Message, OnlineFriend, PasswordHash, Status, Uin,
    UserInfo, Verification,
};

/// One logged-in UIN.
///
/// `Send + Sync`: share it between threads (in an `Arc`) and call any
/// method from any of them. The server knows a session by the pair (client
/// address, UIN), so nothing but the UIN and the password's MD5 (for
/// [automatic re-login](crate::ClientBuilder::auto_relogin)) is kept here;
/// `Debug` shows neither secret.
///
/// ```no_run
/// use httpqq::{Client, Message, Uin};
///
/// let client = Client::new("127.0.0.1:8000")?;
/// let alice = client.login(Uin::new(10001), "demo")?;
/// alice.send_message(Uin::new(10002), "hello, 世界 & friends")?;
/// for message in alice.poll()? {
///     if let Message::Text { from, text } = message {
///         println!("{from}: {text}");
///     }
/// }
/// alice.logout()?;
/// # Ok::<(), httpqq::Error>(())
/// ```
pub struct Session {
    client: Client,
    uin: Uin,
    password: PasswordHash,
    timers: Mutex<LoginOutcome>,
    auto_relogin: AtomicBool,
    /// Messages fetched from the server and not yet handed to the caller
    /// (the rest of a batch an agent or a C listener was stopped in):
    /// GetMsgEx removed them from the server, so they are kept here and
    /// come first from the next fetch.
    unread: Mutex<VecDeque<Message>>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("uin", &self.uin)
            .field("password", &self.password)
            .field("timers", &self.timers())
            .field("auto_relogin", &self.auto_relogin.load(Ordering::Relaxed))
            .finish()
    }
}

/// Turns a reply into the one variant a request can produce.
macro_rules! expect_reply {
    ($reply:expr, $pattern:pat => $value:expr) => {
        match $reply {
            $pattern => Ok($value),
            other => Err(unexpected(&other)),
        }
    };
}

impl Session {
    pub(crate) fn login_request(
        client: &Client,
        uin: Uin,
        password: &PasswordHash,
    ) -> Result<LoginOutcome, Error> {
        let request = Request::Login {
            password: password.clone(),
        };
        expect_reply!(client.call(uin, &request)?, Reply::Login(outcome) => outcome)
    }

    pub(crate) fn new(
        client: Client,
        uin: Uin,
        password: PasswordHash,
        timers: LoginOutcome,
        auto_relogin: bool,
    ) -> Session {
        Session {
            client,
            uin,
            password,
            timers: Mutex::new(timers),
            auto_relogin: AtomicBool::new(auto_relogin),
            unread: Mutex::new(VecDeque::new()),
        }
    }

    /// The UIN this session is logged in as.
    pub fn uin(&self) -> Uin {
        self.uin
    }

    /// The client this session talks through.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn timers(&self) -> LoginOutcome {
        *self
            .timers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How often to [`poll`](Session::poll) to stay logged in: the server's
    /// `HI` (60 s on the original).
    pub fn heartbeat(&self) -> Duration {
        self.timers().heartbeat
    }

    /// How long the server keeps a silent session: its `LI` (300 s on the
    /// original).
    pub fn idle_timeout(&self) -> Duration {
        self.timers().idle_timeout
    }

    /// Turns automatic re-login on `RES=20` on or off for this session.
    pub fn set_auto_relogin(&self, on: bool) {
        self.auto_relogin.store(on, Ordering::Relaxed);
    }

    /// Logs in again with the same credentials (what automatic re-login
    /// does), refreshing the heartbeat and idle timeout.
    ///
    /// # Errors
    /// As [`Client::login`].
    pub fn relogin(&self) -> Result<(), Error> {
        self.login_again().map(|_| ())
    }

    /// As [`Session::relogin`], giving the login's timers.
    pub(crate) fn login_again(&self) -> Result<LoginOutcome, Error> {
        let outcome = Session::login_request(&self.client, self.uin, &self.password)?;
        *self
            .timers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = outcome;
        log::info!(target: "httpqq", "{} logged in", self.uin);
        Ok(outcome)
    }

    fn call(&self, request: &Request) -> Result<Reply, Error> {
        match self.client.call(self.uin, request) {
            Err(Error::NotLoggedIn) if self.auto_relogin.load(Ordering::Relaxed) => {
                self.relogin()?;
                self.client.call(self.uin, request)
            }
            other => other,
        }
    }

    /// One GetMsgEx, never with automatic re-login (the agent handles
    /// `RES=20` itself and reports it).
    pub(crate) fn fetch_once(&self) -> Result<Vec<Message>, Error> {
        expect_reply!(self.client.call(self.uin, &Request::FetchMessages)?, Reply::Messages(v) => v)
    }

    /// One CLTMSG, never with automatic re-login: a refusal is reported,
    /// never followed by a second copy.
    pub(crate) fn send_once(&self, target: Uin, text: &str) -> Result<(), Error> {
        let request = Request::SendMessage {
            target,
            text: text.to_owned(),
        };
        expect_reply!(self.client.call(self.uin, &request)?, Reply::Done => ())
    }

    fn unread(&self) -> MutexGuard<'_, VecDeque<Message>> {
        self.unread
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes the messages kept unread (see [`Session::fetch_messages`]).
    pub(crate) fn take_unread(&self) -> Vec<Message> {
        self.unread().drain(..).collect()
    }

    /// Keeps messages fetched and not handed out, to come first from the
    /// next fetch. They are older than any still on the server.
    pub(crate) fn keep_unread(&self, messages: impl IntoIterator<Item = Message>) {
        let mut unread = self.unread();
        let mut kept: VecDeque<Message> = messages.into_iter().collect();
        kept.append(&mut unread);
        *unread = kept;
    }

    fn call_done(&self, request: &Request) -> Result<(), Error> {
        expect_reply!(self.call(request)?, Reply::Done => ())
    }

    /// How many friends are in your list (List with `TN=0`).
    ///
    /// # Errors
    /// [`Error::NotLoggedIn`] and the transport and protocol errors.
    pub fn friend_count(&self) -> Result<u32, Error> {
        expect_reply!(self.call(&Request::FriendCount)?, Reply::FriendCount(n) => n)
    }

    /// Your friends' UINs, at most 160 (what period clients asked for).
    ///
    /// # Errors
    /// As [`Session::friend_count`].
    pub fn friends(&self) -> Result<Vec<Uin>, Error> {
        self.friends_max(DEFAULT_MAX_ENTRIES)
    }

    /// Your friends' UINs, at most `max` (`TN`); 0 asks for the default
    /// (160).
    ///
    /// # Errors
    /// As [`Session::friend_count`].
    pub fn friends_max(&self, max: u32) -> Result<Vec<Uin>, Error> {
        expect_reply!(self.call(&Request::FriendList { max })?, Reply::FriendList(v) => v)
    }

    /// How many friends are online (Query_Stat with `TN=0`). The server
    /// answers this with two replies, so its connection is never reused.
    ///
    /// # Errors
    /// As [`Session::friend_count`].
    pub fn online_count(&self) -> Result<u32, Error> {
        expect_reply!(self.call(&Request::OnlineCount)?, Reply::OnlineCount(n) => n)
    }

    /// The friends online (online or busy), at most 160.
    ///
    /// # Errors
    /// As [`Session::friend_count`].
    pub fn online_friends(&self) -> Result<Vec<OnlineFriend>, Error> {
        self.online_friends_max(DEFAULT_MAX_ENTRIES)
    }

    /// The friends online, at most `max` (`TN`); 0 asks for the default
    /// (160).
    ///
    /// # Errors
    /// As [`Session::friend_count`].
    pub fn online_friends_max(&self, max: u32) -> Result<Vec<OnlineFriend>, Error> {
        expect_reply!(self.call(&Request::OnlineFriends { max })?, Reply::OnlineFriends(v) => v)
    }

    /// A user's profile at the level asked.
    ///
    /// # Errors
    /// [`Error::InvalidUin`] for an unknown user, and as
    /// [`Session::friend_count`].
    pub fn user_info(&self, target: Uin, level: InfoLevel) -> Result<UserInfo, Error> {
        expect_reply!(
            self.call(&Request::UserInfo { target, level })?,
            Reply::UserInfo(info) => *info
        )
    }

    /// Adds a friend; the outcome says whether they were added, want
    /// verification ([`Session::request_verification`]) or refuse.
    ///
    /// # Errors
    /// [`Error::InvalidUin`] for an unknown user, and as
    /// [`Session::friend_count`].
    pub fn add_friend(&self, target: Uin) -> Result<AddFriendOutcome, Error> {
        expect_reply!(self.call(&Request::AddFriend { target })?, Reply::AddFriend(o) => o)
    }

    /// Sends one of the three verification messages (Ack_AddToList).
    ///
    /// # Errors
    /// [`Error::Throttled`] when the server does not accept it (approving
    /// with nothing pending, for one), and as [`Session::friend_count`].
    pub fn verify(&self, target: Uin, action: Verification, reason: &str) -> Result<(), Error> {
        self.call_done(&Request::Verify {
            target,
            action,
            reason: reason.to_owned(),
        })
    }

    /// Approves `target`'s request to add you.
    ///
    /// # Errors
    /// As [`Session::verify`].
    pub fn approve(&self, target: Uin) -> Result<(), Error> {
        self.verify(target, Verification::Approve, "")
    }

    /// Rejects `target`'s request to add you, telling them why.
    ///
    /// # Errors
    /// As [`Session::verify`].
    pub fn reject(&self, target: Uin, reason: &str) -> Result<(), Error> {
        self.verify(target, Verification::Reject, reason)
    }

    /// Asks `target` to let you add them, telling them why.
    ///
    /// # Errors
    /// As [`Session::verify`].
    pub fn request_verification(&self, target: Uin, reason: &str) -> Result<(), Error> {
        self.verify(target, Verification::Request, reason)
    }

    /// Removes a friend from your list.
    ///
    /// # Errors
    /// [`Error::Throttled`] when they are not in your list, and as
    /// [`Session::friend_count`].
    pub fn remove_friend(&self, target: Uin) -> Result<(), Error> {
        self.call_done(&Request::RemoveFriend { target })
    }

    /// Sets your status; friends who list you are told (invisible as
    /// offline).
    ///
    /// # Errors
    /// [`Error::Throttled`] when changing too often; [`Error::NoReply`] for
    /// an unlisted status code; and as [`Session::friend_count`].
    pub fn set_status(&self, status: Status) -> Result<(), Error> {
        self.call_done(&Request::SetStatus { status })
    }

    /// Fetches pending messages, oldest first (GetMsgEx). The server removes
    /// what it returns, and returns a limited number per call: call again
    /// while it returns some.
    ///
    /// Messages this session fetched earlier and did not hand out yet (the
    /// rest of a batch when an [`Agent`](crate::Agent) built on this
    /// session stopped, or a C listener's callback asked to stop) come
    /// first, without a request.
    ///
    /// # Errors
    /// As [`Session::friend_count`].
    pub fn fetch_messages(&self) -> Result<Vec<Message>, Error> {
        let kept = self.take_unread();
        if !kept.is_empty() {
            return Ok(kept);
        }
        expect_reply!(self.call(&Request::FetchMessages)?, Reply::Messages(v) => v)
    }

    /// The keep-alive: fetches pending messages (GetMsgEx), which is what
    /// keeps the session from expiring. Call it at least every
    /// [`heartbeat`](Session::heartbeat). It always sends the request;
    /// messages kept unread come first in what it returns.
    ///
    /// # Errors
    /// As [`Session::friend_count`]; on an error, messages kept unread stay
    /// kept.
    pub fn poll(&self) -> Result<Vec<Message>, Error> {
        let batch = expect_reply!(self.call(&Request::FetchMessages)?, Reply::Messages(v) => v)?;
        let mut messages = self.take_unread();
        messages.extend(batch);
        Ok(messages)
    }

    /// Sends a text message; any text arrives byte-identical. `Ok` means the
    /// server accepted it, not that it was read.
    ///
    /// # Errors
    /// [`Error::Throttled`] when sending too fast, [`Error::InvalidUin`] for
    /// an unknown target, and as [`Session::friend_count`].
    pub fn send_message(&self, target: Uin, text: &str) -> Result<(), Error> {
        self.call_done(&Request::SendMessage {
            target,
            text: text.to_owned(),
        })
    }

    /// Logs out. The server answers success whether or not the session was
    /// still alive; later calls get [`Error::NotLoggedIn`] (or log in again
    /// with automatic re-login).
    ///
    /// # Errors
    /// The transport and protocol errors.
    pub fn logout(&self) -> Result<(), Error> {
        expect_reply!(self.client.call(self.uin, &Request::Logout)?, Reply::Done => ())
    }
}

fn unexpected(reply: &Reply) -> Error {
    Error::Internal(format!(
        "the decoder gave a reply of the wrong kind for the request: {reply:?}"
    ))
}
