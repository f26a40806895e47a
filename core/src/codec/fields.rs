//! The lenient reader of `KEY=value&KEY=value` bodies (docs/PROTOCOL.md §2.1–2.3).
//!
//! It borrows from the body: nothing is copied or decoded until a value is
//! asked for.

use std::borrow::Cow;

use super::encoding::decode_value;
use crate::error::{excerpt, ProtocolError};

/// The fields of one body, in order, keys trimmed, values raw.
///
/// Leniency, as the original server's replies need it: spaces around keys
/// are trimmed (`AD =x`), empty pairs and a trailing `&` are ignored,
/// trailing CR/LF is stripped, and a key that appears twice keeps its first
/// value. \[decision\] Keys are compared exactly (they are upper case).
///
/// ```
/// use httpqq::codec::Fields;
///
/// let fields = Fields::parse(b"VER=1.1&CMD=LIST&RES= 0&& UN=1,2,&\r\n")?;
/// assert_eq!(fields.number("RES")?, Some(0));
/// assert_eq!(fields.text("CMD").as_deref(), Some("LIST"));
/// let uins: Vec<_> = fields.list("UN").map(|l| l.collect()).unwrap_or_default();
/// assert_eq!(uins, [b"1".as_slice(), b"2".as_slice()]);
/// # Ok::<(), httpqq::ProtocolError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fields<'a> {
    pairs: Vec<(&'a str, &'a [u8])>,
}

impl<'a> Fields<'a> {
    /// Splits a body into fields.
    ///
    /// # Errors
    /// [`ProtocolError::MalformedPair`] for a non-empty part without `=` or
    /// with a key that is not letters, digits and `_`.
    pub fn parse(body: &'a [u8]) -> Result<Self, ProtocolError> {
        let body = trim_trailing_newlines(body);
        let mut pairs = Vec::with_capacity(16);
        let mut start = 0;
        // `memchr` finds the separators with SIMD: a GetMsgEx reply is one
        // long run of list values without `&`.
        let ends = memchr::memchr_iter(b'&', body).chain(std::iter::once(body.len()));
        for end in ends {
            let part = &body[start..end];
            start = end + 1;
            if part.iter().all(|&b| b == b' ') {
                continue;
            }
            let Some(eq) = memchr::memchr(b'=', part) else {
                return Err(ProtocolError::MalformedPair {
                    pair: excerpt(part),
                });
            };
            let key = trim_spaces(&part[..eq]);
            if key.is_empty() || !key.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(ProtocolError::MalformedPair {
                    pair: excerpt(part),
                });
            }
            // Checked just above: the key is ASCII.
            let key = std::str::from_utf8(key).unwrap_or_default();
            pairs.push((key, &part[eq + 1..]));
        }
        Ok(Fields { pairs })
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether the body had no fields at all.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Every field in order: the key and the raw (undecoded) value.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> + '_ {
        self.pairs.iter().copied()
    }

    /// The raw value of the first field with this key.
    pub fn raw(&self, key: &str) -> Option<&'a [u8]> {
        self.pairs
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, value)| *value)
    }

    /// The percent-decoded text of a field (spaces kept).
    pub fn text(&self, key: &str) -> Option<Cow<'a, str>> {
        self.raw(key).map(decode_value)
    }

    /// A numeric field, trimmed of spaces (`RES= 0`). `Ok(None)` when absent.
    ///
    /// # Errors
    /// [`ProtocolError::InvalidNumber`] when present but not a decimal number.
    pub fn number(&self, key: &str) -> Result<Option<u64>, ProtocolError> {
        self.raw(key).map(|raw| number(key, raw)).transpose()
    }

    /// A numeric field that must be present.
    ///
    /// # Errors
    /// [`ProtocolError::MissingField`] or [`ProtocolError::InvalidNumber`].
    pub fn require_number(&self, key: &'static str) -> Result<u64, ProtocolError> {
        self.number(key)?.ok_or(ProtocolError::MissingField { key })
    }

    /// A list-valued field's raw items (§2.3), or `None` when absent.
    pub fn list(&self, key: &str) -> Option<List<'a>> {
        self.raw(key).map(List::new)
    }
}

/// The raw items of a list value: split on `,`, one trailing empty item
/// dropped, nothing decoded yet.
///
/// ```
/// use httpqq::codec::List;
/// let items: Vec<&[u8]> = List::new(b"10,,20,").collect();
/// assert_eq!(items, [b"10".as_slice(), b"", b"20"]);
/// assert_eq!(List::new(b"").count(), 0);
/// ```
#[derive(Debug, Clone)]
pub struct List<'a> {
    rest: Option<&'a [u8]>,
}

impl<'a> List<'a> {
    /// The items of a raw list value.
    pub fn new(value: &'a [u8]) -> Self {
        let rest = match value {
            [] => None,
            [head @ .., b','] => Some(head),
            whole => Some(whole),
        };
        List { rest }
    }
}

impl List<'_> {
    /// The number of items left, counted without splitting them.
    ///
    /// ```
    /// use httpqq::codec::List;
    /// assert_eq!(List::new(b"10,,20,").remaining(), 3);
    /// assert_eq!(List::new(b"").remaining(), 0);
    /// ```
    pub fn remaining(&self) -> usize {
        self.rest
            .map_or(0, |rest| memchr::memchr_iter(b',', rest).count() + 1)
    }
}

impl<'a> Iterator for List<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        // Items are short (numbers mostly): a plain scan beats a call to
        // `memchr` here.
        match rest.iter().position(|&b| b == b',') {
            Some(comma) => {
                self.rest = Some(&rest[comma + 1..]);
                Some(&rest[..comma])
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// Parses a numeric value, trimming spaces.
pub(crate) fn number(key: &str, raw: &[u8]) -> Result<u64, ProtocolError> {
    parse_decimal(trim_spaces(raw)).ok_or_else(|| ProtocolError::InvalidNumber {
        key: key.to_owned(),
        value: excerpt(raw),
    })
}

/// Parses 1–20 ASCII digits (no sign, no spaces) without overflow.
///
/// ```
/// use httpqq::codec::parse_decimal;
/// assert_eq!(parse_decimal(b"106814"), Some(106814));
/// assert_eq!(parse_decimal(b"+1"), None);
/// assert_eq!(parse_decimal(b""), None);
/// assert_eq!(parse_decimal(b"99999999999999999999999"), None);
/// ```
pub fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    if digits.len() <= 19 {
        // 19 digits cannot overflow a u64: no checked arithmetic needed.
        return digits.iter().try_fold(0u64, |acc, &b| {
            b.is_ascii_digit().then(|| acc * 10 + u64::from(b - b'0'))
        });
    }
    digits.iter().try_fold(0u64, |acc, &b| {
        if b.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

/// Trims ASCII spaces at both ends: how numeric values are read
/// (`RES= 0`).
///
/// ```
/// assert_eq!(httpqq::codec::trim_spaces(b" 20 "), b"20");
/// ```
pub fn trim_spaces(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != b' ').unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| b != b' ')
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

fn trim_trailing_newlines(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|&b| b != b'\r' && b != b'\n')
        .map_or(0, |i| i + 1);
    &bytes[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_value_of_a_repeated_key_wins() {
        let f = Fields::parse(b"RES=0&RES=20").unwrap();
        assert_eq!(f.number("RES").unwrap(), Some(0));
    }

    #[test]
    fn part_without_equals_is_malformed() {
        assert!(matches!(
            Fields::parse(b"VER=1.1&garbage&RES=0"),
            Err(ProtocolError::MalformedPair { .. })
        ));
        assert!(matches!(
            Fields::parse(b"=1"),
            Err(ProtocolError::MalformedPair { .. })
        ));
        assert!(matches!(
            Fields::parse(b"K-Y=1"),
            Err(ProtocolError::MalformedPair { .. })
        ));
    }

    #[test]
    fn value_may_contain_equals_and_spaces() {
        let f = Fields::parse(b"NK= a=b ").unwrap();
        assert_eq!(f.text("NK").as_deref(), Some(" a=b "));
    }

    #[test]
    fn a_lone_comma_is_one_empty_item() {
        assert_eq!(List::new(b",").collect::<Vec<_>>(), [b"".as_slice()]);
        assert_eq!(List::new(b"a").collect::<Vec<_>>(), [b"a".as_slice()]);
    }

    #[test]
    fn trailing_newlines_and_ampersand_are_ignored() {
        let f = Fields::parse(b"RES=0&\r\n").unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(f.raw("RES"), Some(b"0".as_slice()));
    }

    #[test]
    fn numbers_are_trimmed_but_must_be_digits() {
        let f = Fields::parse(b"A= 12 &B=1 2&C=-1").unwrap();
        assert_eq!(f.number("A").unwrap(), Some(12));
        assert!(f.number("B").is_err());
        assert!(f.number("C").is_err());
        assert_eq!(f.number("D").unwrap(), None);
        assert_eq!(
            f.require_number("D"),
            Err(ProtocolError::MissingField { key: "D" })
        );
    }
}
