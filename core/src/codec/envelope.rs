//! A request's envelope, read: what a server needs before it looks at a
//! command's own fields. The reference server reads every request through
//! [`decode_envelope`]; [`encode_request`](super::encode_request) writes
//! what it reads.

use super::fields::{parse_decimal, trim_spaces, Fields};
use super::request::Command;
use crate::error::ProtocolError;
use std::fmt;

/// The fields every request starts with, read: `VER`, `CMD`, `SEQ`, `UIN`,
/// and the rest of the body's fields for the command to read.
#[derive(Debug)]
pub struct Envelope<'a> {
    /// `VER`: `1.0`, `1.1` or `1.2` (echoed by the reply).
    pub version: &'a str,
    /// `CMD`, in any of the casings clients send.
    pub command: Command,
    /// `SEQ`.
    pub seq: u64,
    /// `UIN`: who sends it.
    pub uin: u64,
    /// Every field of the body, the envelope's included.
    pub fields: Fields<'a>,
}

/// Why a body is not a request (the original server answered each with the
/// NULL).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The body does not split into `KEY=value` fields.
    Malformed(ProtocolError),
    /// A field of the envelope is absent.
    Missing(&'static str),
    /// `VER` is not 1.0, 1.1 or 1.2.
    UnknownVersion,
    /// `CMD` names no command.
    UnknownCommand,
    /// A numeric field (`SEQ`, `UIN`, `UN`, `TN`, `LV`, `CD`, `ST`) is not a
    /// decimal number.
    NotANumber(&'static str),
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvelopeError::Malformed(err) => write!(f, "malformed body: {err}"),
            EnvelopeError::Missing(key) => write!(f, "no {key}"),
            EnvelopeError::UnknownVersion => f.write_str("unknown VER"),
            EnvelopeError::UnknownCommand => f.write_str("unknown CMD"),
            EnvelopeError::NotANumber(key) => write!(f, "{key} is not a number"),
        }
    }
}

impl std::error::Error for EnvelopeError {}

/// The numeric fields a request may carry besides `SEQ` and `UIN`: each
/// must be a decimal number when present.
const NUMERIC: [&str; 5] = ["UN", "TN", "LV", "CD", "ST"];

/// Reads a request body's envelope.
///
/// ```
/// use httpqq::codec::{decode_envelope, encode_request, Command, Request};
/// use httpqq::Uin;
/// let body = encode_request(Uin::new(10001), 7, &Request::FetchMessages);
/// let envelope = decode_envelope(body.as_bytes())?;
/// assert_eq!((envelope.command, envelope.seq, envelope.uin), (Command::GetMsgEx, 7, 10001));
/// assert_eq!(envelope.version, "1.1");
/// # Ok::<(), httpqq::codec::EnvelopeError>(())
/// ```
///
/// # Errors
/// An [`EnvelopeError`] for each way a body is not a request.
pub fn decode_envelope(body: &[u8]) -> Result<Envelope<'_>, EnvelopeError> {
    let fields = Fields::parse(body).map_err(EnvelopeError::Malformed)?;
    let field = |key: &'static str| {
        fields
            .raw(key)
            .map(trim_spaces)
            .ok_or(EnvelopeError::Missing(key))
    };
    let version = match field("VER")? {
        b"1.0" => "1.0",
        b"1.1" => "1.1",
        b"1.2" => "1.2",
        _ => return Err(EnvelopeError::UnknownVersion),
    };
    let command = std::str::from_utf8(field("CMD")?)
        .ok()
        .and_then(Command::from_wire)
        .ok_or(EnvelopeError::UnknownCommand)?;
    let number =
        |key: &'static str| parse_decimal(field(key)?).ok_or(EnvelopeError::NotANumber(key));
    let seq = number("SEQ")?;
    let uin = number("UIN")?;
    for key in NUMERIC {
        if let Some(raw) = fields.raw(key) {
            parse_decimal(trim_spaces(raw)).ok_or(EnvelopeError::NotANumber(key))?;
        }
    }
    Ok(Envelope {
        version,
        command,
        seq,
        uin,
        fields,
    })
}
