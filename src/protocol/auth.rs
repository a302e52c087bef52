//! AUTH (5.0 §3.15): the enhanced authentication exchange, MQTT 5.0 only.

use bytes::{BufMut, Bytes, BytesMut};

use super::ack::{check_reason, read_reason};
use super::codec::{Encode, Measure};
use super::properties::{self as props, id, PropertySet, Sink};
use super::wire::Reader;
use super::{
    DecodeError, EncodeError, MqttString, PacketType, ProtocolVersion, ReasonCode, UserProperties,
};

/// One step of an enhanced authentication exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    /// Success (0x00), Continue authentication (0x18) or Re-authenticate (0x19).
    pub reason_code: ReasonCode,
    /// Properties.
    pub properties: AuthProperties,
}

/// AUTH properties (5.0 §3.15.2.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthProperties {
    /// 0x15 Authentication Method.
    pub authentication_method: Option<MqttString>,
    /// 0x16 Authentication Data.
    pub authentication_data: Option<Bytes>,
    /// 0x1F Reason String.
    pub reason_string: Option<MqttString>,
    /// 0x26 User Property, in order.
    pub user_properties: UserProperties,
}

impl PropertySet for AuthProperties {
    fn read_one(&mut self, i: u8, r: &mut Reader, packet: PacketType) -> Result<(), DecodeError> {
        use props::set_once;
        match i {
            id::AUTHENTICATION_METHOD => set_once(&mut self.authentication_method, i, r.string()?),
            id::AUTHENTICATION_DATA => set_once(&mut self.authentication_data, i, r.binary()?),
            id::REASON_STRING => set_once(&mut self.reason_string, i, r.string()?),
            id::USER_PROPERTY => props::read_user_property(r, &mut self.user_properties),
            _ => Err(props::not_allowed(packet, i)),
        }
    }

    fn visit(&self, s: &mut impl Sink) {
        props::put_str(s, id::AUTHENTICATION_METHOD, &self.authentication_method);
        props::put_binary(s, id::AUTHENTICATION_DATA, &self.authentication_data);
        props::put_str(s, id::REASON_STRING, &self.reason_string);
        props::put_user_properties(s, &self.user_properties);
    }
}

impl Auth {
    pub(crate) fn decode(mut r: Reader) -> Result<Self, DecodeError> {
        let mut auth = Auth {
            reason_code: ReasonCode::Success,
            properties: AuthProperties::default(),
        };
        // A remaining length of 0 means Success with no properties; otherwise both the reason
        // code and the property length are there (§3.15.2.1, unlike PUBACK and DISCONNECT).
        if !r.is_empty() {
            auth.reason_code = read_reason(&mut r, PacketType::Auth)?;
            auth.properties = props::read(&mut r, PacketType::Auth)?;
        }
        r.finish()?;
        Ok(auth)
    }
}

impl Encode for Auth {
    fn first_byte(&self) -> u8 {
        (PacketType::Auth as u8) << 4
    }

    fn measure(&self, version: ProtocolVersion) -> Result<Measure, EncodeError> {
        if !version.is_v5() {
            return Err(EncodeError::NotInVersion("AUTH", version));
        }
        check_reason(PacketType::Auth, self.reason_code)?;
        let mut m = Measure {
            props: props::len(&self.properties)?,
            ..Measure::default()
        };
        if m.props > 0 || self.reason_code != ReasonCode::Success {
            m.body = 1 + props::len_with_prefix(m.props);
        }
        Ok(m)
    }

    fn write_body(&self, _: ProtocolVersion, m: &Measure, out: &mut BytesMut) {
        if m.body > 0 {
            out.put_u8(self.reason_code.as_u8());
            props::write(out, &self.properties, m.props);
        }
    }
}
