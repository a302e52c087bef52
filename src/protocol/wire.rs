//! Wire primitives: the variable byte integer, two- and four-byte integers, length-prefixed
//! UTF-8 strings and binary data (MQTT 3.1.1 §1.5, 5.0 §1.5).
//!
//! [`Reader`] walks one packet's body (already cut out of the read buffer as `Bytes`) and hands
//! out zero-copy slices; every read checks the length first, so no input can make it panic. The
//! `put_*` functions write into a `BytesMut` whose capacity the encoder reserved beforehand.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::{
    contains_any, DecodeError, EncodeError, MqttString, PacketId, PacketType, StringError,
    MAX_STRING_LEN,
};

/// The largest remaining length four variable-byte-integer bytes can express (268,435,455).
pub const MAX_REMAINING_LENGTH: usize = 268_435_455;

/// Outcome of reading a variable byte integer from the front of a slice.
pub(crate) enum VarInt {
    /// The value and how many bytes it took.
    Complete(u32, usize),
    /// The slice ends before the integer does.
    Incomplete,
    /// A fifth continuation byte (3.1.1 §2.2.3), or more bytes than the value needs
    /// [MQTT-1.5.5-1].
    Malformed,
}

/// Reads a variable byte integer from the front of `bytes` without consuming anything.
pub(crate) fn read_var_int(bytes: &[u8]) -> VarInt {
    let mut value: u32 = 0;
    for (i, byte) in bytes.iter().take(4).enumerate() {
        value |= u32::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            // A last byte of 0 after a continuation adds nothing: not the minimum number of
            // bytes [MQTT-1.5.5-1].
            if *byte == 0 && i > 0 {
                return VarInt::Malformed;
            }
            return VarInt::Complete(value, i + 1);
        }
    }
    if bytes.len() >= 4 {
        VarInt::Malformed
    } else {
        VarInt::Incomplete
    }
}

/// How many bytes `value` takes as a variable byte integer.
pub(crate) fn var_int_len(value: usize) -> usize {
    match value {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// Writes `value` (at most [`MAX_REMAINING_LENGTH`]) as a variable byte integer.
#[inline]
pub(crate) fn put_var_int(out: &mut BytesMut, value: usize) {
    // One byte is the common case (every packet under 128 bytes, most property lengths).
    if value < 128 {
        out.put_u8(value as u8);
        return;
    }
    let mut value = value;
    loop {
        let mut byte = (value % 128) as u8;
        value /= 128;
        if value > 0 {
            byte |= 0x80;
        }
        out.put_u8(byte);
        if value == 0 {
            break;
        }
    }
}

/// The encoded size of a length-prefixed string or binary field.
pub(crate) fn field_len(len: usize) -> usize {
    2 + len
}

/// Checks that a string or binary field fits its two-byte length prefix.
pub(crate) fn check_field(field: &'static str, len: usize) -> Result<(), EncodeError> {
    if len > MAX_STRING_LEN {
        Err(EncodeError::FieldTooLong { field, len })
    } else {
        Ok(())
    }
}

/// Writes a length-prefixed string or binary field; the caller checked the length.
#[inline]
pub(crate) fn put_field(out: &mut BytesMut, bytes: &[u8]) {
    out.put_u16(bytes.len() as u16);
    out.put_slice(bytes);
}

/// A cursor over one packet's body.
///
/// While a 5.0 property block is read ([`Reader::bounded`]), the reader stops at the block's
/// end, short of the rest of the body, so that a property cannot run into what follows it; the
/// block is not split off for that (splitting `Bytes` counts a reference up and down).
pub(crate) struct Reader {
    buf: Bytes,
    /// How many bytes at the end of `buf` lie beyond the current bound (0 when unbounded).
    beyond: usize,
    packet: PacketType,
}

impl Reader {
    /// A reader over `body`, the bytes after the fixed header of a `packet`.
    #[inline]
    pub(crate) fn new(body: Bytes, packet: PacketType) -> Self {
        Reader {
            buf: body,
            beyond: 0,
            packet,
        }
    }

    #[inline]
    fn need(&self, n: usize) -> Result<(), DecodeError> {
        if self.remaining() < n {
            Err(DecodeError::Truncated(self.packet))
        } else {
            Ok(())
        }
    }

    /// Bytes not yet read (up to the bound).
    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.beyond
    }

    /// Whether everything (up to the bound) has been read.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Fails unless everything has been read.
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(self.packet, n)),
        }
    }

    /// Runs `read` with the reader bounded to its next `len` bytes, then lifts the bound;
    /// `read` must read all of them.
    #[inline(always)]
    pub(crate) fn bounded<T>(
        &mut self,
        len: usize,
        read: impl FnOnce(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<T, DecodeError> {
        self.need(len)?;
        let outer = self.beyond;
        self.beyond = self.buf.len() - len;
        let value = read(self)?;
        debug_assert!(self.is_empty(), "a bounded read stopped short");
        self.beyond = outer;
        Ok(value)
    }

    #[inline]
    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        self.need(1)?;
        Ok(self.buf.get_u8())
    }

    #[inline(always)]
    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        self.need(2)?;
        Ok(self.buf.get_u16())
    }

    #[inline]
    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        self.need(4)?;
        Ok(self.buf.get_u32())
    }

    /// A non-zero packet identifier [MQTT-2.2.1-3].
    #[inline(always)]
    pub(crate) fn packet_id(&mut self) -> Result<PacketId, DecodeError> {
        PacketId::new(self.u16()?).ok_or(DecodeError::ZeroPacketId(self.packet))
    }

    #[inline]
    pub(crate) fn var_int(&mut self) -> Result<u32, DecodeError> {
        // One byte is the common case: every property identifier, most lengths.
        if let Some(&byte) = self.buf.first() {
            if byte < 0x80 && self.remaining() > 0 {
                self.buf.advance(1);
                return Ok(u32::from(byte));
            }
        }
        match read_var_int(&self.buf[..self.remaining()]) {
            VarInt::Complete(value, len) => {
                self.buf.advance(len);
                Ok(value)
            }
            VarInt::Incomplete => Err(DecodeError::Truncated(self.packet)),
            VarInt::Malformed => Err(DecodeError::MalformedVariableInteger),
        }
    }

    /// The next `n` bytes, zero-copy.
    #[inline]
    pub(crate) fn take(&mut self, n: usize) -> Result<Bytes, DecodeError> {
        self.need(n)?;
        Ok(self.buf.split_to(n))
    }

    /// Everything not yet read, zero-copy (never called while bounded). It takes the reader:
    /// taking only its buffer would leave an empty one behind whose drop is a call.
    #[inline]
    pub(crate) fn rest(self) -> Bytes {
        debug_assert_eq!(self.beyond, 0, "rest of a bounded reader");
        self.buf
    }

    /// A length-prefixed binary field.
    #[inline]
    pub(crate) fn binary(&mut self) -> Result<Bytes, DecodeError> {
        let len = self.u16()? as usize;
        self.take(len)
    }

    /// A length-prefixed UTF-8 string [MQTT-1.5.4-1, MQTT-1.5.4-2]; the two-byte prefix bounds
    /// its length.
    #[inline]
    pub(crate) fn string(&mut self) -> Result<MqttString, DecodeError> {
        let bytes = self.binary()?;
        // Scanned here, through a reference, before the bytes are moved anywhere: `split_to`
        // has just written them with narrow stores, and moving them at once (into
        // `MqttString::from_bytes`) is a wide load the CPU cannot forward from those stores.
        if contains_any(&bytes, [0]) {
            return Err(StringError::NullCharacter.into());
        }
        Ok(MqttString::from_scanned(bytes)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_byte_integer_boundaries_of_section_1_5_5() {
        let cases: &[(usize, &[u8])] = &[
            (0, &[0x00]),
            (127, &[0x7F]),
            (128, &[0x80, 0x01]),
            (16_383, &[0xFF, 0x7F]),
            (16_384, &[0x80, 0x80, 0x01]),
            (2_097_151, &[0xFF, 0xFF, 0x7F]),
            (2_097_152, &[0x80, 0x80, 0x80, 0x01]),
            (268_435_455, &[0xFF, 0xFF, 0xFF, 0x7F]),
        ];
        for &(value, bytes) in cases {
            let mut out = BytesMut::new();
            put_var_int(&mut out, value);
            assert_eq!(&out[..], bytes, "encoding {value}");
            assert_eq!(var_int_len(value), bytes.len());
            match read_var_int(bytes) {
                VarInt::Complete(v, n) => assert_eq!((v as usize, n), (value, bytes.len())),
                _ => panic!("decoding {value}"),
            }
        }
    }

    #[test]
    fn fifth_continuation_byte_is_malformed_mqtt_1_5_5_1() {
        assert!(matches!(
            read_var_int(&[0xFF, 0xFF, 0xFF, 0x80, 0x01]),
            VarInt::Malformed
        ));
        assert!(matches!(
            read_var_int(&[0xFF, 0xFF, 0xFF]),
            VarInt::Incomplete
        ));
        assert!(matches!(read_var_int(&[]), VarInt::Incomplete));
    }

    #[test]
    fn non_minimal_encoding_is_malformed_mqtt_1_5_5_1() {
        assert!(matches!(read_var_int(&[0x80, 0x00]), VarInt::Malformed));
        assert!(matches!(
            read_var_int(&[0xFF, 0x80, 0x00]),
            VarInt::Malformed
        ));
        assert!(matches!(
            read_var_int(&[0x80, 0x01]),
            VarInt::Complete(128, 2)
        ));
    }

    #[test]
    fn reader_never_reads_past_the_body() {
        let mut r = Reader::new(Bytes::from_static(&[0x00, 0x05, b'a']), PacketType::Publish);
        assert_eq!(r.string(), Err(DecodeError::Truncated(PacketType::Publish)));
        let mut r = Reader::new(Bytes::from_static(&[0x01]), PacketType::PubAck);
        assert!(r.u16().is_err());
        assert!(r.u32().is_err());
        assert_eq!(r.u8(), Ok(1));
        assert!(r.u8().is_err());
    }
}
