//! DISCONNECT (3.1.1 §3.14, 5.0 §3.14). Before 5.0 it has no body; in 5.0 the reason code and
//! properties may be left off, as mosquitto does (`e0 00`).

use bytes::{BufMut, BytesMut};

use super::ack::{check_reason, read_reason};
use super::codec::{Encode, Measure};
use super::properties::{self as props, id, PropertySet, Sink};
use super::wire::Reader;
use super::{
    DecodeError, EncodeError, MqttString, PacketType, ProtocolVersion, ReasonCode, UserProperties,
};

/// The end of a connection, announced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Disconnect {
    /// Why (5.0); Normal disconnection (0x00) when absent.
    pub reason_code: ReasonCode,
    /// MQTT 5.0 properties.
    pub properties: DisconnectProperties,
}

impl Disconnect {
    /// A DISCONNECT with this reason and no properties.
    pub fn new(reason_code: ReasonCode) -> Self {
        Disconnect {
            reason_code,
            properties: DisconnectProperties::default(),
        }
    }
}

/// DISCONNECT properties (5.0 §3.14.2.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DisconnectProperties {
    /// 0x11 Session Expiry Interval, seconds (client to server only).
    pub session_expiry_interval: Option<u32>,
    /// 0x1F Reason String.
    pub reason_string: Option<MqttString>,
    /// 0x26 User Property, in order.
    pub user_properties: UserProperties,
    /// 0x1C Server Reference.
    pub server_reference: Option<MqttString>,
}

impl PropertySet for DisconnectProperties {
    fn read_one(&mut self, i: u8, r: &mut Reader, packet: PacketType) -> Result<(), DecodeError> {
        use props::set_once;
        match i {
            id::SESSION_EXPIRY_INTERVAL => set_once(&mut self.session_expiry_interval, i, r.u32()?),
            id::REASON_STRING => set_once(&mut self.reason_string, i, r.string()?),
            id::USER_PROPERTY => props::read_user_property(r, &mut self.user_properties),
            id::SERVER_REFERENCE => set_once(&mut self.server_reference, i, r.string()?),
            _ => Err(props::not_allowed(packet, i)),
        }
    }

    fn visit(&self, s: &mut impl Sink) {
        props::put_u32(s, id::SESSION_EXPIRY_INTERVAL, self.session_expiry_interval);
        props::put_str(s, id::REASON_STRING, &self.reason_string);
        props::put_user_properties(s, &self.user_properties);
        props::put_str(s, id::SERVER_REFERENCE, &self.server_reference);
    }
}

impl Disconnect {
    pub(crate) fn decode(mut r: Reader, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let mut disconnect = Disconnect::default();
        if version.is_v5() && !r.is_empty() {
            disconnect.reason_code = read_reason(&mut r, PacketType::Disconnect)?;
            if !r.is_empty() {
                disconnect.properties = props::read(&mut r, PacketType::Disconnect)?;
            }
        }
        r.finish()?;
        Ok(disconnect)
    }
}

impl Encode for Disconnect {
    fn first_byte(&self) -> u8 {
        (PacketType::Disconnect as u8) << 4
    }

    fn measure(&self, version: ProtocolVersion) -> Result<Measure, EncodeError> {
        let mut m = Measure::default();
        if version.is_v5() {
            check_reason(PacketType::Disconnect, self.reason_code)?;
            m.props = props::len(&self.properties)?;
            if m.props > 0 {
                m.body = 1 + props::len_with_prefix(m.props);
            } else if self.reason_code != ReasonCode::Success {
                m.body = 1;
            }
        }
        Ok(m)
    }

    fn write_body(&self, _: ProtocolVersion, m: &Measure, out: &mut BytesMut) {
        if m.body > 0 {
            out.put_u8(self.reason_code.as_u8());
        }
        if m.props > 0 {
            props::write(out, &self.properties, m.props);
        }
    }
}
