//! Framing: the fixed header, [`decode`] and [`encode`] for every packet type.
//!
//! The decoder reads the fixed header first and checks the announced size against the maximum
//! packet size before it waits for (or buffers) the body, so a peer announcing 256 MB costs
//! nothing. The body is then split off the read buffer as `Bytes` and parsed by the packet's own
//! module; strings and payloads stay slices of it.

use bytes::{Buf, BufMut, BytesMut};

use super::wire::{put_var_int, read_var_int, var_int_len, Reader, VarInt, MAX_REMAINING_LENGTH};
use super::{
    Ack, Auth, ConnAck, Connect, DecodeError, Disconnect, EncodeError, Packet, PacketType,
    ProtocolVersion, Publish, SubAck, Subscribe, UnsubAck, Unsubscribe,
};

/// The fixed header of a packet (§2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedHeader {
    /// The packet type.
    pub packet_type: PacketType,
    /// The low four bits of the first byte.
    pub flags: u8,
    /// The number of bytes after the fixed header.
    pub remaining_length: usize,
    /// The size of the fixed header itself (2 to 5 bytes).
    pub header_len: usize,
}

impl FixedHeader {
    /// Reads a fixed header from the front of `buf` without consuming it: `Ok(None)` when more
    /// bytes are needed. Type and flags are checked as soon as the first byte is there.
    pub fn parse(buf: &[u8], version: ProtocolVersion) -> Result<Option<Self>, DecodeError> {
        let Some(&first) = buf.first() else {
            return Ok(None);
        };
        let packet_type = packet_type(first >> 4, version)?;
        let flags = first & 0x0F;
        if let Some(required) = packet_type.required_flags() {
            if flags != required {
                return Err(DecodeError::InvalidFixedHeaderFlags {
                    packet: packet_type,
                    flags,
                });
            }
        }
        match read_var_int(&buf[1..]) {
            VarInt::Complete(len, n) => Ok(Some(FixedHeader {
                packet_type,
                flags,
                remaining_length: len as usize,
                header_len: 1 + n,
            })),
            VarInt::Incomplete => Ok(None),
            VarInt::Malformed => Err(DecodeError::MalformedRemainingLength),
        }
    }

    /// The size of the whole packet.
    pub fn packet_len(&self) -> usize {
        self.header_len + self.remaining_length
    }
}

fn packet_type(value: u8, version: ProtocolVersion) -> Result<PacketType, DecodeError> {
    match PacketType::from_u8(value) {
        Some(PacketType::Auth) if !version.is_v5() => Err(DecodeError::InvalidPacketType(value)),
        Some(t) => Ok(t),
        None => Err(DecodeError::InvalidPacketType(value)),
    }
}

/// Decodes one packet from the front of `buf`.
///
/// Returns `Ok(None)` when `buf` holds only part of a packet, leaving `buf` untouched;
/// `Ok(Some(packet))` when a whole packet was there, removing exactly its bytes; and `Err` when
/// the input is malformed or larger than `max_packet_size` (the whole packet, fixed header
/// included). `version` is the connection's protocol version; a CONNECT carries its own.
pub fn decode(
    buf: &mut BytesMut,
    version: ProtocolVersion,
    max_packet_size: usize,
) -> Result<Option<Packet>, DecodeError> {
    let Some(header) = FixedHeader::parse(buf, version)? else {
        return Ok(None);
    };
    let size = header.packet_len();
    if size > max_packet_size {
        return Err(DecodeError::PacketTooLarge {
            size,
            max: max_packet_size,
        });
    }
    if buf.len() < size {
        return Ok(None);
    }
    let mut body = buf.split_to(size).freeze();
    body.advance(header.header_len);
    let r = Reader::new(body, header.packet_type);
    if header.packet_type == PacketType::Publish {
        // The hot path, kept apart from the other packet types so that its stack frame holds
        // only what a PUBLISH needs and the packet is built where it is returned.
        return Ok(Some(Packet::Publish(Publish::decode(
            header.flags,
            r,
            version,
        )?)));
    }
    decode_body(header, r, version)
}

/// Decodes the body of any packet but PUBLISH. It returns what [`decode`] returns, so that its
/// result is written where `decode`'s goes instead of being copied there.
#[inline(never)]
fn decode_body(
    header: FixedHeader,
    r: Reader,
    version: ProtocolVersion,
) -> Result<Option<Packet>, DecodeError> {
    use PacketType as T;
    let t = header.packet_type;
    Ok(Some(match t {
        T::Connect => Packet::Connect(Box::new(Connect::decode(r)?)),
        T::ConnAck => Packet::ConnAck(ConnAck::decode(r, version)?),
        T::Publish => Packet::Publish(Publish::decode(header.flags, r, version)?),
        T::PubAck => Packet::PubAck(Ack::decode(t, r, version)?),
        T::PubRec => Packet::PubRec(Ack::decode(t, r, version)?),
        T::PubRel => Packet::PubRel(Ack::decode(t, r, version)?),
        T::PubComp => Packet::PubComp(Ack::decode(t, r, version)?),
        T::Subscribe => Packet::Subscribe(Subscribe::decode(r, version)?),
        T::SubAck => Packet::SubAck(SubAck::decode(r, version)?),
        T::Unsubscribe => Packet::Unsubscribe(Unsubscribe::decode(r, version)?),
        T::UnsubAck => Packet::UnsubAck(UnsubAck::decode(r, version)?),
        T::PingReq => {
            r.finish()?;
            Packet::PingReq
        }
        T::PingResp => {
            r.finish()?;
            Packet::PingResp
        }
        T::Disconnect => Packet::Disconnect(Disconnect::decode(r, version)?),
        T::Auth => Packet::Auth(Auth::decode(r)?),
    }))
}

/// Sizes an encoder works out before writing anything.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Measure {
    /// The remaining length.
    pub body: usize,
    /// The length of the packet's properties (0 before 5.0).
    pub props: usize,
    /// The length of a second property set (CONNECT's will properties).
    pub will_props: usize,
}

/// What each packet type implements to be encoded.
pub(crate) trait Encode {
    /// The first byte: packet type and flags.
    fn first_byte(&self) -> u8;
    /// Checks the packet against the rules of `version` and sizes it.
    fn measure(&self, version: ProtocolVersion) -> Result<Measure, EncodeError>;
    /// Writes the body (everything after the fixed header) sized by `measure`.
    fn write_body(&self, version: ProtocolVersion, m: &Measure, out: &mut BytesMut);
}

/// Runs `$body` with `$p` bound to `$packet`'s encoder, statically dispatched (the hot PUBLISH
/// path pays no virtual call).
macro_rules! with_encoder {
    ($packet:expr, |$p:ident| $body:expr) => {
        match $packet {
            Packet::Publish(x) => {
                let $p = x;
                $body
            }
            Packet::Connect(x) => {
                let $p = x.as_ref();
                $body
            }
            Packet::ConnAck(x) => {
                let $p = x;
                $body
            }
            Packet::PubAck(x) => {
                let $p = &(PacketType::PubAck, x);
                $body
            }
            Packet::PubRec(x) => {
                let $p = &(PacketType::PubRec, x);
                $body
            }
            Packet::PubRel(x) => {
                let $p = &(PacketType::PubRel, x);
                $body
            }
            Packet::PubComp(x) => {
                let $p = &(PacketType::PubComp, x);
                $body
            }
            Packet::Subscribe(x) => {
                let $p = x;
                $body
            }
            Packet::SubAck(x) => {
                let $p = x;
                $body
            }
            Packet::Unsubscribe(x) => {
                let $p = x;
                $body
            }
            Packet::UnsubAck(x) => {
                let $p = x;
                $body
            }
            Packet::PingReq => {
                let $p = &Bodiless(PacketType::PingReq);
                $body
            }
            Packet::PingResp => {
                let $p = &Bodiless(PacketType::PingResp);
                $body
            }
            Packet::Disconnect(x) => {
                let $p = x;
                $body
            }
            Packet::Auth(x) => {
                let $p = x;
                $body
            }
        }
    };
}

/// PINGREQ and PINGRESP: a fixed header and nothing else.
struct Bodiless(PacketType);

impl Encode for Bodiless {
    fn first_byte(&self) -> u8 {
        (self.0 as u8) << 4
    }
    fn measure(&self, _: ProtocolVersion) -> Result<Measure, EncodeError> {
        Ok(Measure::default())
    }
    fn write_body(&self, _: ProtocolVersion, _: &Measure, _: &mut BytesMut) {}
}

// Always inlined: its result would otherwise come back through memory (see `encode_boxed`).
#[inline(always)]
pub(crate) fn write_packet(
    p: &impl Encode,
    version: ProtocolVersion,
    out: &mut BytesMut,
) -> Result<(), EncodeError> {
    let m = checked(p.measure(version)?)?;
    out.reserve(1 + var_int_len(m.body) + m.body);
    out.put_u8(p.first_byte());
    put_var_int(out, m.body);
    let start = out.len();
    p.write_body(version, &m, out);
    debug_assert_eq!(out.len() - start, m.body, "measure and write disagree");
    Ok(())
}

#[inline]
fn checked(m: Measure) -> Result<Measure, EncodeError> {
    if m.body > MAX_REMAINING_LENGTH {
        Err(EncodeError::PacketTooLarge(m.body))
    } else {
        Ok(m)
    }
}

/// The size `packet` takes on the wire with `version`, fixed header included.
pub fn encoded_len(packet: &Packet, version: ProtocolVersion) -> Result<usize, EncodeError> {
    with_encoder!(packet, |p| {
        let m = checked(p.measure(version)?)?;
        Ok(1 + var_int_len(m.body) + m.body)
    })
}

/// Appends `packet`, encoded for `version`, to `out`.
///
/// Fails, writing nothing, when the packet breaks a rule of the specification or does not exist
/// in `version`; whatever it writes, [`decode`] accepts. Fields that `version` lacks (properties
/// and reason codes before 5.0) are left out. A CONNECT is always encoded with the version it
/// names itself ([`super::Connect::version`]), whatever `version` says.
#[inline]
pub fn encode(
    packet: &Packet,
    version: ProtocolVersion,
    out: &mut BytesMut,
) -> Result<(), EncodeError> {
    let written = match packet {
        // One copy of the PUBLISH encoder per version, so that the 3.1.1 one carries none of
        // the 5.0 code (3.1 and 3.1.1 PUBLISH packets are the same on the wire).
        Packet::Publish(p) if version.is_v5() => encode_publish(p, ProtocolVersion::V5, out),
        Packet::Publish(p) => encode_publish(p, ProtocolVersion::V311, out),
        _ => encode_boxed(packet, version, out),
    };
    written.map_err(|e| *e)
}

/// [`encode`] with the error boxed. `Result<(), Box<_>>` comes back in a register, where the
/// 32-byte `Result<(), EncodeError>` comes back through memory: written as narrow stores and
/// read back with a wide load, which the CPU cannot forward, a stall on every packet. Errors
/// are rare (a packet that breaks a rule), so their allocation costs nothing that matters, and
/// the inlined [`encode`] unboxes them for free on success.
fn encode_boxed(
    packet: &Packet,
    version: ProtocolVersion,
    out: &mut BytesMut,
) -> Result<(), Box<EncodeError>> {
    with_encoder!(packet, |p| write_packet(p, version, out)).map_err(Box::new)
}

/// PUBLISH, the hot path: the quick encoder ([`Publish::quick_measure`]) for the common
/// packet, inlined into [`encode`] (a call and a stack frame are a good part of encoding a small
/// PUBLISH), and the general one, out of line, for the rest.
#[inline(always)]
fn encode_publish(
    p: &Publish,
    version: ProtocolVersion,
    out: &mut BytesMut,
) -> Result<(), Box<EncodeError>> {
    match p.quick_measure(version) {
        Some(m) => {
            p.quick_write(version, &m, out);
            Ok(())
        }
        None => encode_publish_general(p, version, out),
    }
}

/// A PUBLISH the quick encoder leaves alone: with lists of properties, or breaking a rule.
#[cold]
#[inline(never)]
fn encode_publish_general(
    p: &Publish,
    version: ProtocolVersion,
    out: &mut BytesMut,
) -> Result<(), Box<EncodeError>> {
    write_packet(p, version, out).map_err(Box::new)
}
