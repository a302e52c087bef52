//! MQTT 5.0 properties (§2.2.2): identifiers, the shared reader and writer, and the rules every
//! property set obeys.
//!
//! Each packet has its own typed property struct (in the packet's module) implementing
//! [`PropertySet`]: `read_one` accepts exactly the identifiers that packet may carry, so a
//! property from another packet is rejected as Malformed (§2.2.2.2), and a second copy of a
//! single-valued property is a Protocol Error. Writing goes through a [`Sink`] visitor, so the
//! same `visit` code computes the encoded length and writes the bytes.

use std::num::{NonZeroU16, NonZeroU32};

use bytes::{BufMut, Bytes, BytesMut};

use super::wire::{check_field, put_field, put_var_int, var_int_len, Reader};
use super::{DecodeError, EncodeError, MqttString, PacketType, QoS};
use crate::topic::TopicName;

/// User properties: name/value pairs whose order is kept and whose names may repeat (§3.1.2.11.8).
pub type UserProperties = Vec<(MqttString, MqttString)>;

/// Property identifiers (§2.2.2.2).
pub(crate) mod id {
    pub const PAYLOAD_FORMAT_INDICATOR: u8 = 0x01;
    pub const MESSAGE_EXPIRY_INTERVAL: u8 = 0x02;
    pub const CONTENT_TYPE: u8 = 0x03;
    pub const RESPONSE_TOPIC: u8 = 0x08;
    pub const CORRELATION_DATA: u8 = 0x09;
    pub const SUBSCRIPTION_IDENTIFIER: u8 = 0x0B;
    pub const SESSION_EXPIRY_INTERVAL: u8 = 0x11;
    pub const ASSIGNED_CLIENT_IDENTIFIER: u8 = 0x12;
    pub const SERVER_KEEP_ALIVE: u8 = 0x13;
    pub const AUTHENTICATION_METHOD: u8 = 0x15;
    pub const AUTHENTICATION_DATA: u8 = 0x16;
    pub const REQUEST_PROBLEM_INFORMATION: u8 = 0x17;
    pub const WILL_DELAY_INTERVAL: u8 = 0x18;
    pub const REQUEST_RESPONSE_INFORMATION: u8 = 0x19;
    pub const RESPONSE_INFORMATION: u8 = 0x1A;
    pub const SERVER_REFERENCE: u8 = 0x1C;
    pub const REASON_STRING: u8 = 0x1F;
    pub const RECEIVE_MAXIMUM: u8 = 0x21;
    pub const TOPIC_ALIAS_MAXIMUM: u8 = 0x22;
    pub const TOPIC_ALIAS: u8 = 0x23;
    pub const MAXIMUM_QOS: u8 = 0x24;
    pub const RETAIN_AVAILABLE: u8 = 0x25;
    pub const USER_PROPERTY: u8 = 0x26;
    pub const MAXIMUM_PACKET_SIZE: u8 = 0x27;
    pub const WILDCARD_SUBSCRIPTION_AVAILABLE: u8 = 0x28;
    pub const SUBSCRIPTION_IDENTIFIER_AVAILABLE: u8 = 0x29;
    pub const SHARED_SUBSCRIPTION_AVAILABLE: u8 = 0x2A;
}

/// The largest Subscription Identifier (a variable byte integer).
pub(crate) const MAX_SUBSCRIPTION_IDENTIFIER: u32 = 268_435_455;

/// The Payload Format Indicator (§3.3.2.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadFormat {
    /// 0: unspecified bytes.
    Unspecified,
    /// 1: UTF-8 encoded character data.
    Utf8,
}

/// One property value as it goes on the wire.
pub(crate) enum Value<'a> {
    Byte(u8),
    U16(u16),
    U32(u32),
    VarInt(u32),
    Field(&'a [u8]),
    Pair(&'a [u8], &'a [u8]),
}

/// Receives each property of a set in wire order.
pub(crate) trait Sink {
    fn put(&mut self, id: u8, value: Value<'_>);
}

/// A packet's property set.
pub(crate) trait PropertySet: Default {
    /// Reads the value of property `id` into `self`, or rejects `id` for this `packet`.
    fn read_one(&mut self, id: u8, r: &mut Reader, packet: PacketType) -> Result<(), DecodeError>;
    /// Hands every present property to `sink`.
    fn visit(&self, sink: &mut impl Sink);
    /// Checks values the decoder would reject; the default accepts everything.
    fn check(&self) -> Result<(), EncodeError> {
        Ok(())
    }
    /// Checks rules that involve several properties, after all were read.
    fn validate(&self) -> Result<(), DecodeError> {
        Ok(())
    }
}

/// Reads the property length and the properties that follow it.
pub(crate) fn read<P: PropertySet>(r: &mut Reader, packet: PacketType) -> Result<P, DecodeError> {
    let mut props = P::default();
    read_into(r, packet, &mut props)?;
    Ok(props)
}

/// [`read`] into a set in place, `P::default()` to start with: a property set is large, and
/// moving it while its fields were just written costs more than reading it (a wide load of
/// narrow stores waits for them to reach the cache).
#[inline(always)]
pub(crate) fn read_into<P: PropertySet>(
    r: &mut Reader,
    packet: PacketType,
    props: &mut P,
) -> Result<(), DecodeError> {
    let len = r.var_int()? as usize;
    r.bounded(len, |r| {
        while !r.is_empty() {
            let id = r.var_int()?;
            let id =
                u8::try_from(id).map_err(|_| DecodeError::PropertyNotAllowed { packet, id: 0 })?;
            props.read_one(id, r, packet)?;
        }
        Ok(())
    })?;
    props.validate()
}

/// Counts encoded bytes and notes fields too long for their length prefix.
struct Counter {
    len: usize,
    too_long: Option<usize>,
}

impl Sink for Counter {
    #[inline(always)]
    fn put(&mut self, id: u8, value: Value<'_>) {
        self.len += 1 + match value {
            Value::Byte(_) => 1,
            Value::U16(_) => 2,
            Value::U32(_) => 4,
            Value::VarInt(v) => var_int_len(v as usize),
            Value::Field(f) => {
                self.note(f.len());
                2 + f.len()
            }
            Value::Pair(k, v) => {
                self.note(k.len().max(v.len()));
                4 + k.len() + v.len()
            }
        };
        let _ = id;
    }
}

impl Counter {
    fn note(&mut self, len: usize) {
        if check_field("property", len).is_err() {
            self.too_long = Some(len);
        }
    }
}

impl Sink for BytesMut {
    // Identifier, value and length prefix go in as one fixed-size copy each: one capacity check
    // and one length update where byte-by-byte puts would take one per byte.
    #[inline(always)]
    fn put(&mut self, id: u8, value: Value<'_>) {
        match value {
            Value::Byte(b) => self.extend_from_slice(&[id, b]),
            Value::U16(v) => {
                let [a, b] = v.to_be_bytes();
                self.extend_from_slice(&[id, a, b]);
            }
            Value::U32(v) => {
                let [a, b, c, d] = v.to_be_bytes();
                self.extend_from_slice(&[id, a, b, c, d]);
            }
            Value::VarInt(v) => {
                self.put_u8(id);
                put_var_int(self, v as usize);
            }
            Value::Field(f) => {
                let [a, b] = (f.len() as u16).to_be_bytes();
                self.extend_from_slice(&[id, a, b]);
                self.extend_from_slice(f);
            }
            Value::Pair(k, v) => {
                self.put_u8(id);
                put_field(self, k);
                put_field(self, v);
            }
        }
    }
}

/// The length of the properties themselves (without the property length prefix), after checking
/// that every field fits and every value is allowed.
#[inline]
pub(crate) fn len(props: &impl PropertySet) -> Result<usize, EncodeError> {
    props.check()?;
    let mut counter = Counter {
        len: 0,
        too_long: None,
    };
    props.visit(&mut counter);
    match counter.too_long {
        Some(len) => Err(EncodeError::FieldTooLong {
            field: "property",
            len,
        }),
        None => Ok(counter.len),
    }
}

/// The property length prefix plus properties of `len` bytes.
pub(crate) fn len_with_prefix(len: usize) -> usize {
    var_int_len(len) + len
}

/// Writes the property length `len` (from [`len`]) and the properties.
#[inline]
pub(crate) fn write(out: &mut BytesMut, props: &impl PropertySet, len: usize) {
    put_var_int(out, len);
    props.visit(out);
}

/// Stores a single-valued property, rejecting a second copy as a Protocol Error.
pub(crate) fn set_once<T>(slot: &mut Option<T>, id: u8, value: T) -> Result<(), DecodeError> {
    if slot.is_some() {
        return Err(DecodeError::DuplicateProperty(id));
    }
    *slot = Some(value);
    Ok(())
}

/// Reads a byte property that must be 0 or 1.
pub(crate) fn read_bool(r: &mut Reader, id: u8) -> Result<bool, DecodeError> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(DecodeError::InvalidPropertyValue(id)),
    }
}

/// Reads a two-byte property that must not be zero (Receive Maximum).
pub(crate) fn read_nonzero_u16(r: &mut Reader, id: u8) -> Result<NonZeroU16, DecodeError> {
    NonZeroU16::new(r.u16()?).ok_or(DecodeError::InvalidPropertyValue(id))
}

/// Reads a four-byte property that must not be zero (Maximum Packet Size).
pub(crate) fn read_nonzero_u32(r: &mut Reader, id: u8) -> Result<NonZeroU32, DecodeError> {
    NonZeroU32::new(r.u32()?).ok_or(DecodeError::InvalidPropertyValue(id))
}

/// Reads a Subscription Identifier: a variable byte integer from 1 to 268,435,455.
pub(crate) fn read_subscription_id(r: &mut Reader) -> Result<NonZeroU32, DecodeError> {
    NonZeroU32::new(r.var_int()?).ok_or(DecodeError::InvalidPropertyValue(
        id::SUBSCRIPTION_IDENTIFIER,
    ))
}

/// Reads the Payload Format Indicator.
pub(crate) fn read_payload_format(r: &mut Reader) -> Result<PayloadFormat, DecodeError> {
    match read_bool(r, id::PAYLOAD_FORMAT_INDICATOR)? {
        false => Ok(PayloadFormat::Unspecified),
        true => Ok(PayloadFormat::Utf8),
    }
}

/// Reads a Maximum QoS, which may only be 0 or 1 (§3.2.2.3.4).
pub(crate) fn read_maximum_qos(r: &mut Reader) -> Result<QoS, DecodeError> {
    match read_bool(r, id::MAXIMUM_QOS)? {
        false => Ok(QoS::AtMostOnce),
        true => Ok(QoS::AtLeastOnce),
    }
}

/// Reads a Response Topic, which must be a topic name without wildcards [MQTT-3.3.2-14].
pub(crate) fn read_response_topic(r: &mut Reader) -> Result<TopicName, DecodeError> {
    TopicName::from_mqtt_string(r.string()?)
        .map_err(|_| DecodeError::InvalidPropertyValue(id::RESPONSE_TOPIC))
}

/// Reads one User Property pair.
pub(crate) fn read_user_property(
    r: &mut Reader,
    into: &mut UserProperties,
) -> Result<(), DecodeError> {
    let name = r.string()?;
    let value = r.string()?;
    into.push((name, value));
    Ok(())
}

/// The error for an identifier `packet` may not carry.
pub(crate) fn not_allowed(packet: PacketType, id: u8) -> DecodeError {
    DecodeError::PropertyNotAllowed { packet, id }
}

/// Helpers that hand optional fields to a sink.
pub(crate) fn put_u32(sink: &mut impl Sink, id: u8, value: Option<u32>) {
    if let Some(v) = value {
        sink.put(id, Value::U32(v));
    }
}

pub(crate) fn put_u16(sink: &mut impl Sink, id: u8, value: Option<u16>) {
    if let Some(v) = value {
        sink.put(id, Value::U16(v));
    }
}

pub(crate) fn put_bool(sink: &mut impl Sink, id: u8, value: Option<bool>) {
    if let Some(v) = value {
        sink.put(id, Value::Byte(u8::from(v)));
    }
}

pub(crate) fn put_bytes(sink: &mut impl Sink, id: u8, value: Option<&[u8]>) {
    if let Some(v) = value {
        sink.put(id, Value::Field(v));
    }
}

pub(crate) fn put_str(sink: &mut impl Sink, id: u8, value: &Option<MqttString>) {
    put_bytes(sink, id, value.as_ref().map(|s| s.as_bytes().as_ref()));
}

pub(crate) fn put_binary(sink: &mut impl Sink, id: u8, value: &Option<Bytes>) {
    put_bytes(sink, id, value.as_deref());
}

pub(crate) fn put_payload_format(sink: &mut impl Sink, value: Option<PayloadFormat>) {
    put_bool(
        sink,
        id::PAYLOAD_FORMAT_INDICATOR,
        value.map(|f| f == PayloadFormat::Utf8),
    );
}

pub(crate) fn put_user_properties(sink: &mut impl Sink, props: &UserProperties) {
    for (name, value) in props {
        sink.put(
            id::USER_PROPERTY,
            Value::Pair(name.as_bytes(), value.as_bytes()),
        );
    }
}

/// A set that is nothing but user properties (UNSUBSCRIBE).
impl PropertySet for UserProperties {
    fn read_one(&mut self, id: u8, r: &mut Reader, packet: PacketType) -> Result<(), DecodeError> {
        match id {
            id::USER_PROPERTY => read_user_property(r, self),
            _ => Err(not_allowed(packet, id)),
        }
    }

    fn visit(&self, sink: &mut impl Sink) {
        put_user_properties(sink, self);
    }
}
