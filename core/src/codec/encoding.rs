//! Value encoding (docs/PROTOCOL.md §2.2).
//!
//! A sender percent-encodes, in lower-case hex as the original wrote
//! (`%2c`), `%` `&` `=` `,` `+`, every byte below 0x20, and 0x7F, and sends
//! every other character — non-ASCII included — raw ([`Escapes::Safe`]);
//! a server in faithful mode escapes only what the original is seen to
//! have escaped: `%` `&` `,` and the control bytes ([`Escapes::Faithful`]).
//! A receiver percent-decodes every value (hex digits of either case; a `%`
//! not followed by two hex digits stays literal).
//!
//! Both directions are written here: the `percent-encoding` crate escapes
//! non-ASCII (which the protocol sends raw) and decodes one byte at a time;
//! it serves as the oracle of the property tests instead.

use std::borrow::Cow;

/// Which bytes of a value a sender percent-encodes (docs/PROTOCOL.md §2.2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Escapes {
    /// `%` `&` `=` `,` `+`, the bytes below 0x20 and 0x7F: what any reader
    /// splits on or might take for a space. Every client, and the server
    /// by default.
    #[default]
    Safe,
    /// `%` `&` `,` and the control bytes: only what the original server is
    /// seen to have escaped (a 2010 client decodes exactly `%25`, `%26`
    /// and `%2c`, and shows `%3D` as it is). The server's `--faithful`.
    Faithful,
}

impl Escapes {
    /// Whether `byte` is percent-encoded inside a value.
    const fn escapes(self, byte: u8) -> bool {
        match self {
            Escapes::Safe => matches!(byte, b'%' | b'&' | b'=' | b',' | b'+' | 0x00..=0x1F | 0x7F),
            Escapes::Faithful => matches!(byte, b'%' | b'&' | b',' | 0x00..=0x1F | 0x7F),
        }
    }
}

/// Appends `value` to `out`, percent-encoded as §2.2 says, with the
/// [`Escapes::Safe`] set.
///
/// The `percent-encoding` crate always escapes non-ASCII bytes, which the
/// protocol sends raw (the original server wrote `NK=Hackfan 好`), so the
/// escaping is done here.
///
/// ```
/// let mut out = String::new();
/// httpqq::codec::encode_value("a&b=c,d%e+f 好\n", &mut out);
/// assert_eq!(out, "a%26b%3dc%2cd%25e%2bf 好%0a");
/// ```
pub fn encode_value(value: &str, out: &mut String) {
    encode_value_with(value, Escapes::Safe, out);
}

/// Appends `value` to `out`, percent-encoded with the set `escapes`, in
/// lower-case hex.
///
/// ```
/// use httpqq::codec::{encode_value_with, Escapes};
/// let mut out = String::new();
/// encode_value_with("1+1=2, 100% & \u{1}", Escapes::Faithful, &mut out);
/// assert_eq!(out, "1+1=2%2c 100%25 %26 %01");
/// ```
pub fn encode_value_with(value: &str, escapes: Escapes, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = value.as_bytes();
    let mut clean_from = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        if escapes.escapes(byte) {
            // Every escaped byte is ASCII, so `clean_from..i` lies on char
            // boundaries.
            out.push_str(&value[clean_from..i]);
            out.push('%');
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 0x0F)] as char);
            clean_from = i + 1;
        }
    }
    out.push_str(&value[clean_from..]);
}

/// Decodes one received value: percent-decoding, then UTF-8.
///
/// Bytes that are not UTF-8 after decoding become U+FFFD; the client never
/// fails a whole reply over one such value. \[decision\]
///
/// ```
/// use httpqq::codec::decode_value;
/// assert_eq!(decode_value(b"a%2cb%26c%25d"), "a,b&c%d");
/// assert_eq!(decode_value(b"100%"), "100%");
/// assert_eq!(decode_value("你好+1".as_bytes()), "你好+1");
/// ```
pub fn decode_value(raw: &[u8]) -> Cow<'_, str> {
    let Some(first) = memchr::memchr(b'%', raw) else {
        return match std::str::from_utf8(raw) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(raw),
        };
    };
    match String::from_utf8(percent_decode(raw, first)) {
        Ok(text) => Cow::Owned(text),
        Err(err) => Cow::Owned(String::from_utf8_lossy(err.as_bytes()).into_owned()),
    }
}

/// Percent-decodes `raw`, whose first `%` is at `first`: `%` and two hex
/// digits (either case) become that byte, any other `%` stays.
///
/// Written here rather than taken from the `percent-encoding` crate, whose
/// decoder yields one byte at a time: copying the runs between escapes
/// whole makes decoding a GetMsgEx reply about twice as fast (see
/// `bench/`). The property tests check it against the crate.
fn percent_decode(raw: &[u8], first: usize) -> Vec<u8> {
    // One allocation, of at most the final size: decoding only shrinks.
    let mut out = Vec::with_capacity(raw.len());
    out.extend_from_slice(&raw[..first]);
    let mut at = first;
    while at < raw.len() {
        // raw[at] is a '%'.
        let high = raw.get(at + 1).copied().and_then(hex);
        let low = raw.get(at + 2).copied().and_then(hex);
        if let (Some(high), Some(low)) = (high, low) {
            out.push(high << 4 | low);
            at += 3;
        } else {
            out.push(b'%');
            at += 1;
        }
        let next = memchr::memchr(b'%', &raw[at..]).map_or(raw.len(), |n| at + n);
        out.extend_from_slice(&raw[at..next]);
        at = next;
    }
    out
}

/// A hex digit's value (either case).
fn hex(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// [`decode_value`] of a value already known to be UTF-8: when every escape
/// decodes to ASCII (as the escapes §2.2 requires do), the text between
/// them is copied as it is, with no second UTF-8 check; otherwise it falls
/// back to [`decode_value`].
pub(crate) fn decode_text(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let Some(first) = memchr::memchr(b'%', bytes) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(text.get(..first).unwrap_or_default());
    let mut at = first;
    while at < bytes.len() {
        // bytes[at] is a '%'; every cut below is next to an ASCII byte, so
        // on a char boundary.
        let high = bytes.get(at + 1).copied().and_then(hex);
        let low = bytes.get(at + 2).copied().and_then(hex);
        match (high, low) {
            (Some(high), Some(low)) if high < 8 => {
                out.push(char::from(high << 4 | low));
                at += 3;
            }
            (Some(_), Some(_)) => return decode_value(bytes),
            _ => {
                out.push('%');
                at += 1;
            }
        }
        let next = memchr::memchr(b'%', &bytes[at..]).map_or(bytes.len(), |n| at + n);
        out.push_str(text.get(at..next).unwrap_or_default());
        at = next;
    }
    Cow::Owned(out)
}

/// Decodes a value of a request sent as `application/x-www-form-urlencoded`:
/// `+` is a space there, and a literal plus everywhere else (§1).
///
/// Returns `None` when the decoded bytes are not UTF-8 (the server answers
/// such a request with NULL).
///
/// ```
/// use httpqq::codec::decode_form_value;
/// assert_eq!(decode_form_value(b"a+b%2B").as_deref(), Some("a b+"));
/// assert_eq!(decode_form_value(b"%FF"), None);
/// ```
pub fn decode_form_value(raw: &[u8]) -> Option<String> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    decode_value_strict(&spaced).map(Cow::into_owned)
}

/// Decodes one value like [`decode_value`], but returns `None` instead of
/// replacing bytes that are not UTF-8: what a server needs to answer NULL to
/// invalid UTF-8.
///
/// ```
/// use httpqq::codec::decode_value_strict;
/// assert_eq!(decode_value_strict(b"%E4%BD%A0").as_deref(), Some("你"));
/// assert_eq!(decode_value_strict(b"%E4%BD"), None);
/// assert_eq!(decode_value_strict(b"\xff"), None);
/// ```
pub fn decode_value_strict(raw: &[u8]) -> Option<Cow<'_, str>> {
    match memchr::memchr(b'%', raw) {
        None => std::str::from_utf8(raw).ok().map(Cow::Borrowed),
        Some(first) => String::from_utf8(percent_decode(raw, first))
            .ok()
            .map(Cow::Owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_set_escapes_exactly_its_bytes_in_lower_case_hex() {
        let safe = |b: u8| matches!(b, b'%' | b'&' | b'=' | b',' | b'+' | 0x00..=0x1F | 0x7F);
        let faithful = |b: u8| matches!(b, b'%' | b'&' | b',' | 0x00..=0x1F | 0x7F);
        for (escapes, listed) in [
            (Escapes::Safe, &safe as &dyn Fn(u8) -> bool),
            (Escapes::Faithful, &faithful),
        ] {
            for byte in 0u8..0x80 {
                let text = (byte as char).to_string();
                let mut out = String::new();
                encode_value_with(&text, escapes, &mut out);
                let escaped = out.len() == 3 && out.starts_with('%');
                assert_eq!(
                    escaped,
                    listed(byte),
                    "{escapes:?}: {byte:#04x} gave {out:?}"
                );
                assert!(escaped || out == text);
                if escaped {
                    assert_eq!(out, out.to_ascii_lowercase(), "upper-case hex: {out:?}");
                }
            }
        }
        let mut out = String::new();
        encode_value("a,b", &mut out);
        assert_eq!(out, "a%2cb");
    }

    #[test]
    fn non_ascii_is_sent_raw() {
        let mut out = String::new();
        encode_value("你好 Hackfan", &mut out);
        assert_eq!(out, "你好 Hackfan");
    }

    #[test]
    fn decode_text_agrees_with_decode_value() {
        for raw in [
            "",
            "plain 好",
            "a%2cb%26c%25d",
            "100%",
            "%",
            "%%41",
            "%4",
            "%E5%A5%BD and %2C",
            "好%2C好%zz%0a",
            "%e5%a5",
        ] {
            assert_eq!(decode_text(raw), decode_value(raw.as_bytes()), "{raw:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn decode_text_agrees_with_decode_value_on_any_escapes(raw in "[%a-fA-F0-9好, ]{0,24}") {
            proptest::prop_assert_eq!(decode_text(&raw), decode_value(raw.as_bytes()));
        }
    }

    #[test]
    fn invalid_utf8_decodes_lossily() {
        assert_eq!(decode_value(b"a%FFb"), "a\u{FFFD}b");
        assert_eq!(decode_value(b"a\xFFb"), "a\u{FFFD}b");
    }
}
