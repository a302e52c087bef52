//! UTF-8 strings as MQTT carries them: zero-copy `Bytes` that are known to be well-formed.
//!
//! An [`MqttString`] is a slice of the read buffer (no copy) that was checked once, on
//! construction, against the rules of MQTT 3.1.1 §1.5.3 and 5.0 §1.5.4: well-formed UTF-8 with no
//! surrogates [MQTT-1.5.4-1], no U+0000 [MQTT-1.5.4-2], and at most 65,535 bytes long.

use std::fmt;
use std::ops::Deref;

use bytes::Bytes;
use bytestring::ByteString;

/// Why a byte sequence is not an MQTT UTF-8 string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StringError {
    /// Not well-formed UTF-8, or an encoded surrogate [MQTT-1.5.4-1].
    #[error("string is not well-formed UTF-8 [MQTT-1.5.4-1]")]
    InvalidUtf8,
    /// Contains the null character U+0000 [MQTT-1.5.4-2].
    #[error("string contains U+0000 [MQTT-1.5.4-2]")]
    NullCharacter,
    /// Longer than the 65,535 bytes a two-byte length prefix can carry.
    #[error("string is {0} bytes long, more than the 65,535 MQTT allows")]
    TooLong(usize),
}

/// The longest string (or binary field) MQTT can carry: its length prefix is two bytes.
pub const MAX_STRING_LEN: usize = u16::MAX as usize;

/// A validated MQTT UTF-8 string backed by shared [`Bytes`]. UTF-8 is checked once, on
/// construction; reading the string afterwards costs nothing (`bytestring` keeps that promise
/// without `unsafe` in this crate).
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MqttString(ByteString);

impl MqttString {
    /// Checks `bytes` and wraps them without copying.
    #[inline]
    pub fn from_bytes(bytes: Bytes) -> Result<Self, StringError> {
        if bytes.len() > MAX_STRING_LEN {
            return Err(StringError::TooLong(bytes.len()));
        }
        if contains_any(&bytes, [0]) {
            return Err(StringError::NullCharacter);
        }
        Self::from_scanned(bytes)
    }

    /// Checks the UTF-8 of `bytes` that the caller already knows to fit and to hold no U+0000
    /// (the PUBLISH decoder finds U+0000 and wildcards in one scan of the topic).
    #[inline]
    pub(crate) fn from_scanned(bytes: Bytes) -> Result<Self, StringError> {
        let s = ByteString::try_from(bytes).map_err(|_| StringError::InvalidUtf8)?;
        Ok(MqttString(s))
    }

    /// Checks `s` and copies it into a new buffer.
    pub fn new(s: &str) -> Result<Self, StringError> {
        Self::from_bytes(Bytes::copy_from_slice(s.as_bytes()))
    }

    /// Wraps a `'static` string without copying; checks it like [`MqttString::new`].
    pub fn from_static(s: &'static str) -> Result<Self, StringError> {
        Self::from_bytes(Bytes::from_static(s.as_bytes()))
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The underlying shared bytes.
    pub fn as_bytes(&self) -> &Bytes {
        self.0.as_bytes()
    }

    /// Gives back the underlying shared bytes.
    pub fn into_bytes(self) -> Bytes {
        self.0.into_bytes()
    }

    /// The same string in memory of its own: a string decoded from a read buffer shares (and
    /// keeps alive) the whole buffer, which something kept for long should not.
    pub fn detached(&self) -> Self {
        MqttString(ByteString::from(self.as_str()))
    }
}

/// Whether `bytes` contains any of `needles`, eight bytes at a time (SWAR). MQTT strings are
/// mostly short, where this beats a `memchr` call, and one pass looks for several bytes. There is
/// no early exit: a valid string, the case that matters, has to be scanned to the end anyway.
#[inline]
pub(crate) fn contains_any<const N: usize>(bytes: &[u8], needles: [u8; N]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Sets the high bit of some byte exactly when a byte of `word` equals a needle (the classic
    // "has zero byte" test applied to `word ^ needle`; it never misses and never invents a match,
    // though the bit may sit in a neighbouring byte).
    let matches = |word: u64| {
        needles.iter().fold(0, |acc, &needle| {
            let x = word ^ (ONES * u64::from(needle));
            acc | (x.wrapping_sub(ONES) & !x & HIGHS)
        })
    };
    let Some(last) = bytes.last_chunk::<8>() else {
        return bytes.iter().any(|b| needles.contains(b));
    };
    // The tail is covered by the last eight bytes, overlapping the last whole chunk.
    let tail = matches(u64::from_le_bytes(*last));
    let (words, _) = bytes.as_chunks::<8>();
    let found = words
        .iter()
        .fold(tail, |acc, word| acc | matches(u64::from_le_bytes(*word)));
    found != 0
}

impl Deref for MqttString {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for MqttString {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for MqttString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for MqttString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<&str> for MqttString {
    type Error = StringError;
    fn try_from(s: &str) -> Result<Self, StringError> {
        Self::new(s)
    }
}

impl TryFrom<String> for MqttString {
    type Error = StringError;
    fn try_from(s: String) -> Result<Self, StringError> {
        Self::from_bytes(Bytes::from(s))
    }
}

impl PartialEq<str> for MqttString {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for MqttString {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_multilingual_text() {
        let s = MqttString::new("A\u{2A6D4}ü").unwrap();
        assert_eq!(s.as_str(), "A\u{2A6D4}ü");
    }

    #[test]
    fn rejects_ill_formed_utf8_mqtt_1_5_4_1() {
        // 0xED 0xA0 0x80 encodes the surrogate U+D800.
        let err = MqttString::from_bytes(Bytes::from_static(b"\xed\xa0\x80")).unwrap_err();
        assert_eq!(err, StringError::InvalidUtf8);
        let err = MqttString::from_bytes(Bytes::from_static(b"\xff")).unwrap_err();
        assert_eq!(err, StringError::InvalidUtf8);
    }

    #[test]
    fn rejects_null_character_mqtt_1_5_4_2() {
        assert_eq!(
            MqttString::new("a\0b").unwrap_err(),
            StringError::NullCharacter
        );
    }

    #[test]
    fn contains_any_finds_every_needle_at_every_position() {
        for len in 0..40 {
            let clean = vec![b'a'; len];
            assert!(!contains_any(&clean, [0, b'+', b'#']), "len {len}");
            for at in 0..len {
                for needle in [0, b'+', b'#'] {
                    let mut bytes = clean.clone();
                    bytes[at] = needle;
                    assert!(
                        contains_any(&bytes, [0, b'+', b'#']),
                        "{needle} at {at} of {len}"
                    );
                    assert!(!contains_any(&bytes, [b'/']), "{needle} at {at} of {len}");
                }
            }
        }
        // Bytes one above or below a needle, and with the high bit set, are not needles.
        let near: Vec<u8> = (0..=255u8)
            .filter(|b| ![0, b'+', b'#'].contains(b))
            .collect();
        assert!(!contains_any(&near, [0, b'+', b'#']));
    }

    #[test]
    fn rejects_more_than_65535_bytes() {
        assert!(MqttString::new(&"x".repeat(MAX_STRING_LEN)).is_ok());
        let err = MqttString::new(&"x".repeat(MAX_STRING_LEN + 1)).unwrap_err();
        assert_eq!(err, StringError::TooLong(MAX_STRING_LEN + 1));
    }
}
