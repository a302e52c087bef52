//! PUBACK, PUBREC, PUBREL and PUBCOMP (3.1.1 §3.4–3.7, 5.0 §3.4–3.7): a packet identifier and, in
//! 5.0, a reason code and properties that may be left off when they are Success and empty.

use bytes::{BufMut, BytesMut};

use super::codec::{Encode, Measure};
use super::properties::{self as props, id, PropertySet, Sink};
use super::wire::Reader;
use super::{
    DecodeError, EncodeError, MqttString, PacketId, PacketType, ProtocolVersion, ReasonCode,
    UserProperties,
};

/// The body of PUBACK, PUBREC, PUBREL and PUBCOMP; [`super::Packet`] says which it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// The identifier of the PUBLISH this acknowledges.
    pub packet_id: PacketId,
    /// The outcome (5.0); always Success before 5.0.
    pub reason_code: ReasonCode,
    /// MQTT 5.0 properties.
    pub properties: AckProperties,
}

impl Ack {
    /// A successful acknowledgement of `packet_id`.
    pub fn new(packet_id: PacketId) -> Self {
        Ack {
            packet_id,
            reason_code: ReasonCode::Success,
            properties: AckProperties::default(),
        }
    }
}

/// The properties of PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK and UNSUBACK: a reason string and
/// user properties.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AckProperties {
    /// 0x1F Reason String.
    pub reason_string: Option<MqttString>,
    /// 0x26 User Property, in order.
    pub user_properties: UserProperties,
}

impl AckProperties {
    /// Whether no property is set.
    pub fn is_empty(&self) -> bool {
        self.reason_string.is_none() && self.user_properties.is_empty()
    }
}

impl PropertySet for AckProperties {
    fn read_one(&mut self, i: u8, r: &mut Reader, packet: PacketType) -> Result<(), DecodeError> {
        match i {
            id::REASON_STRING => props::set_once(&mut self.reason_string, i, r.string()?),
            id::USER_PROPERTY => props::read_user_property(r, &mut self.user_properties),
            _ => Err(props::not_allowed(packet, i)),
        }
    }

    fn visit(&self, s: &mut impl Sink) {
        props::put_str(s, id::REASON_STRING, &self.reason_string);
        props::put_user_properties(s, &self.user_properties);
    }
}

/// Reads a reason code and checks that `packet` may carry it.
pub(crate) fn read_reason(r: &mut Reader, packet: PacketType) -> Result<ReasonCode, DecodeError> {
    let code = r.u8()?;
    ReasonCode::from_u8(code)
        .filter(|c| c.allowed_in(packet))
        .ok_or(DecodeError::InvalidReasonCode { packet, code })
}

/// Checks that `packet` may carry `code` before encoding it.
pub(crate) fn check_reason(packet: PacketType, code: ReasonCode) -> Result<(), EncodeError> {
    if code.allowed_in(packet) {
        Ok(())
    } else {
        Err(EncodeError::InvalidReasonCode { packet, code })
    }
}

impl Ack {
    pub(crate) fn decode(
        packet: PacketType,
        mut r: Reader,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        let packet_id = r.packet_id()?;
        let mut ack = Ack::new(packet_id);
        // 5.0 §3.4.2.1: the reason code and properties may be omitted.
        if version.is_v5() && !r.is_empty() {
            ack.reason_code = read_reason(&mut r, packet)?;
            if !r.is_empty() {
                ack.properties = props::read(&mut r, packet)?;
            }
        }
        r.finish()?;
        Ok(ack)
    }
}

impl Encode for (PacketType, &Ack) {
    fn first_byte(&self) -> u8 {
        let t = self.0;
        (t as u8) << 4 | t.required_flags().unwrap_or(0)
    }

    fn measure(&self, version: ProtocolVersion) -> Result<Measure, EncodeError> {
        let (packet, ack) = *self;
        let mut m = Measure {
            body: 2,
            ..Measure::default()
        };
        if version.is_v5() {
            check_reason(packet, ack.reason_code)?;
            m.props = props::len(&ack.properties)?;
            if m.props > 0 {
                m.body += 1 + props::len_with_prefix(m.props);
            } else if ack.reason_code != ReasonCode::Success {
                m.body += 1;
            }
        }
        Ok(m)
    }

    fn write_body(&self, version: ProtocolVersion, m: &Measure, out: &mut BytesMut) {
        let ack = self.1;
        out.put_u16(ack.packet_id.get());
        if version.is_v5() && m.body > 2 {
            out.put_u8(ack.reason_code.as_u8());
            if m.props > 0 {
                props::write(out, &ack.properties, m.props);
            }
        }
    }
}
