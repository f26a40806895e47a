//! The sans-I/O codec: typed requests to bytes, bytes to typed replies.
//!
//! Nothing here touches a socket, a clock or a thread, so a runtime with its
//! own HTTP stack can drive the protocol with [`encode_request`] and
//! [`decode_reply`] alone:
//!
//! ```
//! use httpqq::{codec, PasswordHash, Reply, Request, Uin};
//!
//! let request = Request::Login { password: PasswordHash::from_password("demo") };
//! let body = codec::encode_request(Uin::new(10001), 1, &request);
//! assert!(body.starts_with("VER=1.1&CMD=Login&SEQ=1&UIN=10001&PS="));
//!
//! // … POST `body` to the server with any HTTP client, then:
//! let reply = codec::decode_reply(&request, 1, b"VER=1.1&CMD=LOGIN&SEQ=1&UIN=10001&RES=0&RS=0&HI=60&LI=300")?;
//! assert!(matches!(reply, Reply::Login(_)));
//! # Ok::<(), httpqq::Error>(())
//! ```
//!
//! A server drives the other half the same way: [`decode_request`] reads a
//! body into a typed [`Received`], and [`encode_reply`] writes a typed
//! [`Answer`] (the reference server does nothing else).
//!
//! The lower layers are public too: [`Fields`] reads any body leniently, and
//! [`encode_value`] / [`decode_value`] implement the value encoding of
//! docs/PROTOCOL.md §2.2.

mod answer;
mod encoding;
mod fields;
mod received;
mod reply;
mod request;
mod result;

/// The largest request body the reference server reads by default, and so
/// the largest a client should send: the bindings refuse a longer message
/// before it leaves (`ValueError` in Python). \[decision\]: the original
/// server's limit was never measured.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub use answer::{encode_reply, Answer, ReplyHead};
pub use encoding::{
    decode_form_value, decode_value, decode_value_strict, encode_value, encode_value_with, Escapes,
};
pub use fields::{parse_decimal, trim_spaces, Fields, List};
pub use received::{decode_request, Asked, Credential, Plus, Received, RequestError};
pub use reply::{decode_reply, user_info_from_fields, Reply};
pub use request::{
    encode_request, fits_body_limit, Command, Request, DEFAULT_MAX_ENTRIES, LOGIN_CODE, QUEUE_FULL,
    VERSION,
};
pub use result::ResultCode;
