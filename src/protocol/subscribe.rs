//! SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK (3.1.1 §3.8–3.11, 5.0 §3.8–3.11).
//!
//! Topic filters are carried as [`MqttString`], not [`crate::topic::TopicFilter`]: a filter that
//! is valid UTF-8 but not a valid filter (`a/#/b`) is not a malformed packet. The server answers
//! it with a per-filter failure code in SUBACK (0x8F in 5.0, 0x80 in 3.1.1), and a testing tool
//! must be able to send one.

use std::num::NonZeroU32;

use bytes::{BufMut, BytesMut};

use super::ack::{check_reason, read_reason, AckProperties};
use super::codec::{Encode, Measure};
use super::properties::{self as props, id, PropertySet, Sink, Value};
use super::wire::{check_field, field_len, put_field, Reader};
use super::{
    DecodeError, EncodeError, MqttString, PacketId, PacketType, ProtocolVersion, QoS, ReasonCode,
    UserProperties,
};

/// What a subscription does besides matching (5.0 §3.8.3.1; 3.1.1 has only the QoS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SubscriptionOptions {
    /// Maximum QoS the server may deliver with.
    pub qos: QoS,
    /// No Local: do not send the client its own messages (5.0).
    pub no_local: bool,
    /// Retain As Published: keep the RETAIN flag when forwarding (5.0).
    pub retain_as_published: bool,
    /// When to send retained messages (5.0).
    pub retain_handling: RetainHandling,
}

/// Retain Handling (5.0 §3.8.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetainHandling {
    /// 0: send retained messages at the time of the subscribe.
    #[default]
    SendAtSubscribe,
    /// 1: send them only if the subscription did not already exist.
    SendIfNew,
    /// 2: do not send them.
    DoNotSend,
}

impl SubscriptionOptions {
    /// The options byte as sent for `version` (QoS only before 5.0).
    pub fn to_byte(self, version: ProtocolVersion) -> u8 {
        let mut byte = self.qos.as_u8();
        if version.is_v5() {
            byte |= u8::from(self.no_local) << 2;
            byte |= u8::from(self.retain_as_published) << 3;
            byte |= (self.retain_handling as u8) << 4;
        }
        byte
    }

    fn from_byte(byte: u8, version: ProtocolVersion) -> Result<Self, DecodeError> {
        // 3.1.1: bits 7–2 are reserved [MQTT-3.8.3-4]; 5.0: bits 7–6 [MQTT-3.8.3-5].
        let reserved = if version.is_v5() { 0xC0 } else { 0xFC };
        if byte & reserved != 0 {
            return Err(DecodeError::SubscriptionOptionsReserved(byte));
        }
        let retain_handling = match (byte >> 4) & 3 {
            0 => RetainHandling::SendAtSubscribe,
            1 => RetainHandling::SendIfNew,
            2 => RetainHandling::DoNotSend,
            _ => return Err(DecodeError::InvalidRetainHandling),
        };
        Ok(SubscriptionOptions {
            qos: QoS::from_u8(byte & 3).ok_or(DecodeError::InvalidQoS)?,
            no_local: byte & 0x04 != 0,
            retain_as_published: byte & 0x08 != 0,
            retain_handling,
        })
    }
}

/// One topic filter of a SUBSCRIBE with its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The topic filter as sent; the server validates it (see the module docs).
    pub filter: MqttString,
    /// Its options.
    pub options: SubscriptionOptions,
}

/// A request to subscribe to one or more topic filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribe {
    /// Packet identifier.
    pub packet_id: PacketId,
    /// The filters, at least one [MQTT-3.8.3-3].
    pub subscriptions: Vec<Subscription>,
    /// MQTT 5.0 properties.
    pub properties: SubscribeProperties,
}

/// SUBSCRIBE properties (5.0 §3.8.2.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscribeProperties {
    /// 0x0B Subscription Identifier (1 to 268,435,455).
    pub subscription_identifier: Option<NonZeroU32>,
    /// 0x26 User Property, in order.
    pub user_properties: UserProperties,
}

impl PropertySet for SubscribeProperties {
    fn read_one(&mut self, i: u8, r: &mut Reader, packet: PacketType) -> Result<(), DecodeError> {
        match i {
            id::SUBSCRIPTION_IDENTIFIER => props::set_once(
                &mut self.subscription_identifier,
                i,
                props::read_subscription_id(r)?,
            ),
            id::USER_PROPERTY => props::read_user_property(r, &mut self.user_properties),
            _ => Err(props::not_allowed(packet, i)),
        }
    }

    fn visit(&self, s: &mut impl Sink) {
        if let Some(sub_id) = self.subscription_identifier {
            s.put(id::SUBSCRIPTION_IDENTIFIER, Value::VarInt(sub_id.get()));
        }
        props::put_user_properties(s, &self.user_properties);
    }

    fn check(&self) -> Result<(), EncodeError> {
        match self.subscription_identifier {
            Some(v) if v.get() > props::MAX_SUBSCRIPTION_IDENTIFIER => {
                Err(EncodeError::InvalidPropertyValue("Subscription Identifier"))
            }
            _ => Ok(()),
        }
    }
}

/// Reads the properties of `packet` in 5.0, or gives the empty set before it.
fn read_props<P: PropertySet>(
    r: &mut Reader,
    packet: PacketType,
    version: ProtocolVersion,
) -> Result<P, DecodeError> {
    if version.is_v5() {
        props::read(r, packet)
    } else {
        Ok(P::default())
    }
}

/// Sizes the properties of a 5.0 packet into `m`.
fn measure_props(
    m: &mut Measure,
    p: &impl PropertySet,
    version: ProtocolVersion,
) -> Result<(), EncodeError> {
    if version.is_v5() {
        m.props = props::len(p)?;
        m.body += props::len_with_prefix(m.props);
    }
    Ok(())
}

impl Subscribe {
    pub(crate) fn decode(mut r: Reader, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let packet_id = r.packet_id()?;
        let properties = read_props(&mut r, PacketType::Subscribe, version)?;
        let mut subscriptions = Vec::new();
        while !r.is_empty() {
            let filter = r.string()?;
            let options = SubscriptionOptions::from_byte(r.u8()?, version)?;
            subscriptions.push(Subscription { filter, options });
        }
        if subscriptions.is_empty() {
            return Err(DecodeError::NoSubscriptions);
        }
        Ok(Subscribe {
            packet_id,
            subscriptions,
            properties,
        })
    }
}

impl Encode for Subscribe {
    fn first_byte(&self) -> u8 {
        (PacketType::Subscribe as u8) << 4 | 0b0010
    }

    fn measure(&self, version: ProtocolVersion) -> Result<Measure, EncodeError> {
        if self.subscriptions.is_empty() {
            return Err(EncodeError::NoFilters(PacketType::Subscribe));
        }
        let mut m = Measure {
            body: 2,
            ..Measure::default()
        };
        measure_props(&mut m, &self.properties, version)?;
        for sub in &self.subscriptions {
            m.body += field_len(sub.filter.len()) + 1;
        }
        Ok(m)
    }

    fn write_body(&self, version: ProtocolVersion, m: &Measure, out: &mut BytesMut) {
        out.put_u16(self.packet_id.get());
        if version.is_v5() {
            props::write(out, &self.properties, m.props);
        }
        for sub in &self.subscriptions {
            put_field(out, sub.filter.as_bytes());
            out.put_u8(sub.options.to_byte(version));
        }
    }
}

/// The server's answer to SUBSCRIBE: one code per filter, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubAck {
    /// The SUBSCRIBE's packet identifier.
    pub packet_id: PacketId,
    /// Granted QoS (0x00–0x02) or a failure code, one per filter. Before 5.0 every failure
    /// travels as 0x80.
    pub reason_codes: Vec<ReasonCode>,
    /// MQTT 5.0 properties.
    pub properties: AckProperties,
}

/// Reads the list of reason codes that ends SUBACK and 5.0 UNSUBACK.
fn read_codes(
    r: &mut Reader,
    packet: PacketType,
    version: ProtocolVersion,
) -> Result<Vec<ReasonCode>, DecodeError> {
    let mut codes = Vec::with_capacity(r.remaining());
    while !r.is_empty() {
        let code = if version.is_v5() {
            read_reason(r, packet)?
        } else {
            // 3.1.1 §3.9.3: 0x00, 0x01, 0x02 and 0x80 only.
            let code = r.u8()?;
            match code {
                0x00..=0x02 | 0x80 => ReasonCode::from_u8(code),
                _ => None,
            }
            .ok_or(DecodeError::InvalidReasonCode { packet, code })?
        };
        codes.push(code);
    }
    if codes.is_empty() {
        return Err(DecodeError::Truncated(packet));
    }
    Ok(codes)
}

impl SubAck {
    pub(crate) fn decode(mut r: Reader, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let packet_id = r.packet_id()?;
        let properties = read_props(&mut r, PacketType::SubAck, version)?;
        let reason_codes = read_codes(&mut r, PacketType::SubAck, version)?;
        Ok(SubAck {
            packet_id,
            reason_codes,
            properties,
        })
    }

    fn wire_code(code: ReasonCode, version: ProtocolVersion) -> u8 {
        if !version.is_v5() && code.is_error() {
            0x80
        } else {
            code.as_u8()
        }
    }
}

impl Encode for SubAck {
    fn first_byte(&self) -> u8 {
        (PacketType::SubAck as u8) << 4
    }

    fn measure(&self, version: ProtocolVersion) -> Result<Measure, EncodeError> {
        if self.reason_codes.is_empty() {
            return Err(EncodeError::NoFilters(PacketType::SubAck));
        }
        for &code in &self.reason_codes {
            check_reason(PacketType::SubAck, code)?;
        }
        let mut m = Measure {
            body: 2 + self.reason_codes.len(),
            ..Measure::default()
        };
        measure_props(&mut m, &self.properties, version)?;
        Ok(m)
    }

    fn write_body(&self, version: ProtocolVersion, m: &Measure, out: &mut BytesMut) {
        out.put_u16(self.packet_id.get());
        if version.is_v5() {
            props::write(out, &self.properties, m.props);
        }
        for &code in &self.reason_codes {
            out.put_u8(Self::wire_code(code, version));
        }
    }
}

/// A request to remove subscriptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    /// Packet identifier.
    pub packet_id: PacketId,
    /// The filters, at least one [MQTT-3.10.3-2].
    pub filters: Vec<MqttString>,
    /// MQTT 5.0 user properties (the only property UNSUBSCRIBE has).
    pub user_properties: UserProperties,
}

impl Unsubscribe {
    pub(crate) fn decode(mut r: Reader, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let packet_id = r.packet_id()?;
        let user_properties = read_props(&mut r, PacketType::Unsubscribe, version)?;
        let mut filters = Vec::new();
        while !r.is_empty() {
            filters.push(r.string()?);
        }
        if filters.is_empty() {
            return Err(DecodeError::NoUnsubscriptions);
        }
        Ok(Unsubscribe {
            packet_id,
            filters,
            user_properties,
        })
    }
}

impl Encode for Unsubscribe {
    fn first_byte(&self) -> u8 {
        (PacketType::Unsubscribe as u8) << 4 | 0b0010
    }

    fn measure(&self, version: ProtocolVersion) -> Result<Measure, EncodeError> {
        if self.filters.is_empty() {
            return Err(EncodeError::NoFilters(PacketType::Unsubscribe));
        }
        let mut m = Measure {
            body: 2,
            ..Measure::default()
        };
        measure_props(&mut m, &self.user_properties, version)?;
        for filter in &self.filters {
            check_field("topic filter", filter.len())?;
            m.body += field_len(filter.len());
        }
        Ok(m)
    }

    fn write_body(&self, version: ProtocolVersion, m: &Measure, out: &mut BytesMut) {
        out.put_u16(self.packet_id.get());
        if version.is_v5() {
            props::write(out, &self.user_properties, m.props);
        }
        for filter in &self.filters {
            put_field(out, filter.as_bytes());
        }
    }
}

/// The server's answer to UNSUBSCRIBE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubAck {
    /// The UNSUBSCRIBE's packet identifier.
    pub packet_id: PacketId,
    /// One code per filter (5.0); empty before 5.0, which has none.
    pub reason_codes: Vec<ReasonCode>,
    /// MQTT 5.0 properties.
    pub properties: AckProperties,
}

impl UnsubAck {
    pub(crate) fn decode(mut r: Reader, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let packet_id = r.packet_id()?;
        let mut unsuback = UnsubAck {
            packet_id,
            reason_codes: Vec::new(),
            properties: AckProperties::default(),
        };
        if version.is_v5() {
            unsuback.properties = props::read(&mut r, PacketType::UnsubAck)?;
            unsuback.reason_codes = read_codes(&mut r, PacketType::UnsubAck, version)?;
        }
        r.finish()?;
        Ok(unsuback)
    }
}

impl Encode for UnsubAck {
    fn first_byte(&self) -> u8 {
        (PacketType::UnsubAck as u8) << 4
    }

    fn measure(&self, version: ProtocolVersion) -> Result<Measure, EncodeError> {
        let mut m = Measure {
            body: 2,
            ..Measure::default()
        };
        if version.is_v5() {
            if self.reason_codes.is_empty() {
                return Err(EncodeError::NoFilters(PacketType::UnsubAck));
            }
            for &code in &self.reason_codes {
                check_reason(PacketType::UnsubAck, code)?;
            }
            measure_props(&mut m, &self.properties, version)?;
            m.body += self.reason_codes.len();
        }
        Ok(m)
    }

    fn write_body(&self, version: ProtocolVersion, m: &Measure, out: &mut BytesMut) {
        out.put_u16(self.packet_id.get());
        if version.is_v5() {
            props::write(out, &self.properties, m.props);
            for &code in &self.reason_codes {
                out.put_u8(code.as_u8());
            }
        }
    }
}
