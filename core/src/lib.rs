//! # httpqq — HTTP QQ 1.1, typed and safe
//!
//! HTTP QQ 1.1 was the plain-HTTP instant-messaging interface Tencent served
//! at `tqq.tencent.com:8000`. This crate is its client side:
//!
//! - [`codec`]: a sans-I/O codec — typed [`Request`] to body, body to typed
//!   [`Reply`] — for any runtime that brings its own HTTP;
//! - the typed model: [`Uin`], [`Status`], [`Message`], [`UserInfo`], …;
//! - [`Client`] and [`Session`]: a synchronous client over `ureq`, with every
//!   command and the keep-alive poll;
//! - [`Agent`]: a logged-in account that stays up for weeks: it polls,
//!   rides out failures with backoff, observes penalties, logs in again,
//!   and reports it all as [`Event`]s; thousands share a few threads
//!   ([`Runtime`]).
//!
//! The original server is gone; the project's reference server
//! (`httpqq-server`) speaks the protocol faithfully for tests and demos.
//!
//! ```
//! use httpqq::{codec, Message, Reply, Request, Uin};
//!
//! // Build a request body…
//! let send = Request::SendMessage { target: Uin::new(10002), text: "1+1=2, 好".into() };
//! let body = codec::encode_request(Uin::new(10001), 7, &send);
//! assert_eq!(body, "VER=1.1&CMD=CLTMSG&SEQ=7&UIN=10001&UN=10002&MG=1%2b1%3d2%2c 好");
//!
//! // …and read a reply, here one printed in the 2005 field notes.
//! let reply = codec::decode_reply(
//!     &Request::FetchMessages,
//!     4321,
//!     b"VER=1.1&CMD=GETMSGEX&SEQ=4321&UIN=106814&RES=0& MN=2&MT=99,9,&UN=36791785,106814,&MG= 20,hi ,",
//! )?;
//! let Reply::Messages(messages) = reply else { unreachable!() };
//! assert_eq!(messages[0], Message::StatusChange { from: Uin::new(36791785), status: httpqq::Status::Offline });
//! assert_eq!(messages[1], Message::Text { from: Uin::new(106814), text: "hi ".into() });
//! # Ok::<(), httpqq::Error>(())
//! ```
//!
//! With a server to talk to:
//!
//! ```no_run
//! use httpqq::{Client, InfoLevel, Uin};
//!
//! let client = Client::new("127.0.0.1:8000")?;
//! let session = client.login(Uin::new(10001), "demo")?;
//! for friend in session.online_friends()? {
//!     println!("{} ({}) is {}", friend.nickname, friend.uin, friend.status);
//! }
//! let me = session.user_info(session.uin(), InfoLevel::Full)?;
//! println!("I am {}, face {}", me.nickname, me.face.unwrap_or_default().picture_file());
//! session.logout()?;
//! # Ok::<(), httpqq::Error>(())
//! ```
//!
//! Logging: each command is recorded through the `log` crate at debug level
//! under the target `httpqq` (command, UIN, SEQ, result, elapsed time). No
//! password or password hash is ever logged.

#![warn(missing_docs)]

mod agent;
pub mod cancel;
mod client;
pub mod codec;
mod error;
mod http;
mod model;
mod session;
mod socket;

pub use agent::{
    Agent, AgentBuilder, Backoff, Event, EventKind, EventNotifier, Events, NoEvent, Pending,
    Runtime, SendId, SendPace, Sent, State, StopHandle, StopReason, DEFAULT_MAX_IN_FLIGHT,
    MIN_POLL_INTERVAL,
};
pub use cancel::Cancel;
pub use client::{Address, Client, ClientBuilder, DEFAULT_ENDPOINT, DEFAULT_PORT};
pub use codec::{Reply, Request};
pub use error::{Error, HttpError, Outcome, Phase, ProtocolError};
pub use model::{
    AddFriendOutcome, BloodType, Constellation, Face, Gender, InfoLevel, LoginOutcome, Message,
    MessageKind, OnlineFriend, ParseUinError, PasswordHash, Status, Uin, UnknownCode, UserInfo,
    Verification, Zodiac,
};
pub use session::Session;
