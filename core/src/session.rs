//! A logged-in UIN: every command of the protocol, the keep-alive poll and an
//! iterator over incoming messages.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::client::Client;
use crate::codec::{Reply, Request, DEFAULT_MAX_ENTRIES};
use crate::error::{Error, ProtocolError};
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
        let outcome = Session::login_request(&self.client, self.uin, &self.password)?;
        *self
            .timers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = outcome;
        log::info!(target: "httpqq", "{} logged in again", self.uin);
        Ok(())
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

    /// Your friends' UINs, at most `max` (`TN`).
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

    /// The friends online, at most `max` (`TN`).
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
    /// # Errors
    /// As [`Session::friend_count`].
    pub fn fetch_messages(&self) -> Result<Vec<Message>, Error> {
        expect_reply!(self.call(&Request::FetchMessages)?, Reply::Messages(v) => v)
    }

    /// The keep-alive: fetches pending messages (GetMsgEx), which is what
    /// keeps the session from expiring. Call it at least every
    /// [`heartbeat`](Session::heartbeat).
    ///
    /// # Errors
    /// As [`Session::friend_count`].
    pub fn poll(&self) -> Result<Vec<Message>, Error> {
        self.fetch_messages()
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

    /// A blocking iterator over incoming messages: it polls every `interval`
    /// while nothing is pending (at once while messages keep coming), which
    /// also keeps the session alive. It never ends by itself; `break` out of
    /// it. A failed poll yields the error and the iterator waits `interval`
    /// before trying again.
    ///
    /// ```no_run
    /// # let session: httpqq::Session = unimplemented!();
    /// for message in session.incoming(session.heartbeat().min(std::time::Duration::from_secs(1))) {
    ///     match message {
    ///         Ok(message) => println!("{} says {}", message.sender(), message.content()),
    ///         Err(err) => { eprintln!("{err}"); break; }
    ///     }
    /// }
    /// ```
    pub fn incoming(&self, interval: Duration) -> Incoming<'_> {
        Incoming {
            session: self,
            interval,
            pending: VecDeque::new(),
            wait_first: false,
        }
    }
}

fn unexpected(reply: &Reply) -> Error {
    ProtocolError::MalformedHttp {
        detail: format!("a reply of the wrong kind was decoded: {reply:?}"),
    }
    .into()
}

/// The iterator of [`Session::incoming`].
#[derive(Debug)]
pub struct Incoming<'a> {
    session: &'a Session,
    interval: Duration,
    pending: VecDeque<Message>,
    wait_first: bool,
}

impl Iterator for Incoming<'_> {
    type Item = Result<Message, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(message) = self.pending.pop_front() {
                return Some(Ok(message));
            }
            if self.wait_first {
                std::thread::sleep(self.interval);
            }
            match self.session.poll() {
                Ok(batch) => {
                    self.wait_first = batch.is_empty();
                    self.pending.extend(batch);
                }
                Err(err) => {
                    self.wait_first = true;
                    return Some(Err(err));
                }
            }
        }
    }
}
