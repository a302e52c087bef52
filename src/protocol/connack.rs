//! CONNACK (3.1.1 §3.2, 5.0 §3.2).

use std::num::{NonZeroU16, NonZeroU32};

use bytes::{BufMut, Bytes, BytesMut};

use super::codec::{Encode, Measure};
use super::properties::{self as props, id, PropertySet, Sink};
use super::wire::Reader;
use super::{
    ConnectReturnCode, DecodeError, EncodeError, MqttString, PacketType, ProtocolVersion, QoS,
    ReasonCode, UserProperties,
};

/// The server's answer to CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnAck {
    /// Whether the server had a session for this client.
    pub session_present: bool,
    /// The outcome. With 3.1 / 3.1.1 it travels as the nearest return code
    /// ([`ReasonCode::to_connect_return_code`]).
    pub reason_code: ReasonCode,
    /// MQTT 5.0 properties.
    pub properties: ConnAckProperties,
}

impl ConnAck {
    /// A CONNACK with this outcome and no properties.
    pub fn new(reason_code: ReasonCode, session_present: bool) -> Self {
        ConnAck {
            session_present,
            reason_code,
            properties: ConnAckProperties::default(),
        }
    }

    /// The byte that goes on the wire for `version`: the 3.1.1 return code (0–5) or the 5.0
    /// reason code. Tools use it as their exit status, as mosquitto's clients do.
    pub fn code_for(&self, version: ProtocolVersion) -> u8 {
        if version.is_v5() {
            self.reason_code.as_u8()
        } else {
            self.reason_code.to_connect_return_code().as_u8()
        }
    }
}

/// CONNACK properties (5.0 §3.2.2.3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnAckProperties {
    /// 0x11 Session Expiry Interval, seconds.
    pub session_expiry_interval: Option<u32>,
    /// 0x21 Receive Maximum.
    pub receive_maximum: Option<NonZeroU16>,
    /// 0x24 Maximum QoS (0 or 1; absent means 2).
    pub maximum_qos: Option<QoS>,
    /// 0x25 Retain Available.
    pub retain_available: Option<bool>,
    /// 0x27 Maximum Packet Size.
    pub maximum_packet_size: Option<NonZeroU32>,
    /// 0x12 Assigned Client Identifier.
    pub assigned_client_identifier: Option<MqttString>,
    /// 0x22 Topic Alias Maximum.
    pub topic_alias_maximum: Option<u16>,
    /// 0x1F Reason String.
    pub reason_string: Option<MqttString>,
    /// 0x26 User Property, in order.
    pub user_properties: UserProperties,
    /// 0x28 Wildcard Subscription Available.
    pub wildcard_subscription_available: Option<bool>,
    /// 0x29 Subscription Identifiers Available.
    pub subscription_identifiers_available: Option<bool>,
    /// 0x2A Shared Subscription Available.
    pub shared_subscription_available: Option<bool>,
    /// 0x13 Server Keep Alive, seconds.
    pub server_keep_alive: Option<u16>,
    /// 0x1A Response Information.
    pub response_information: Option<MqttString>,
    /// 0x1C Server Reference.
    pub server_reference: Option<MqttString>,
    /// 0x15 Authentication Method.
    pub authentication_method: Option<MqttString>,
    /// 0x16 Authentication Data.
    pub authentication_data: Option<Bytes>,
}

impl PropertySet for ConnAckProperties {
    fn read_one(&mut self, i: u8, r: &mut Reader, packet: PacketType) -> Result<(), DecodeError> {
        use props::set_once;
        match i {
            id::SESSION_EXPIRY_INTERVAL => set_once(&mut self.session_expiry_interval, i, r.u32()?),
            id::RECEIVE_MAXIMUM => {
                set_once(&mut self.receive_maximum, i, props::read_nonzero_u16(r, i)?)
            }
            id::MAXIMUM_QOS => set_once(&mut self.maximum_qos, i, props::read_maximum_qos(r)?),
            id::RETAIN_AVAILABLE => {
                set_once(&mut self.retain_available, i, props::read_bool(r, i)?)
            }
            id::MAXIMUM_PACKET_SIZE => set_once(
                &mut self.maximum_packet_size,
                i,
                props::read_nonzero_u32(r, i)?,
            ),
            id::ASSIGNED_CLIENT_IDENTIFIER => {
                set_once(&mut self.assigned_client_identifier, i, r.string()?)
            }
            id::TOPIC_ALIAS_MAXIMUM => set_once(&mut self.topic_alias_maximum, i, r.u16()?),
            id::REASON_STRING => set_once(&mut self.reason_string, i, r.string()?),
            id::USER_PROPERTY => props::read_user_property(r, &mut self.user_properties),
            id::WILDCARD_SUBSCRIPTION_AVAILABLE => set_once(
                &mut self.wildcard_subscription_available,
                i,
                props::read_bool(r, i)?,
            ),
            id::SUBSCRIPTION_IDENTIFIER_AVAILABLE => set_once(
                &mut self.subscription_identifiers_available,
                i,
                props::read_bool(r, i)?,
            ),
            id::SHARED_SUBSCRIPTION_AVAILABLE => set_once(
                &mut self.shared_subscription_available,
                i,
                props::read_bool(r, i)?,
            ),
            id::SERVER_KEEP_ALIVE => set_once(&mut self.server_keep_alive, i, r.u16()?),
            id::RESPONSE_INFORMATION => set_once(&mut self.response_information, i, r.string()?),
            id::SERVER_REFERENCE => set_once(&mut self.server_reference, i, r.string()?),
            id::AUTHENTICATION_METHOD => set_once(&mut self.authentication_method, i, r.string()?),
            id::AUTHENTICATION_DATA => set_once(&mut self.authentication_data, i, r.binary()?),
            _ => Err(props::not_allowed(packet, i)),
        }
    }

    fn visit(&self, s: &mut impl Sink) {
        props::put_u32(s, id::SESSION_EXPIRY_INTERVAL, self.session_expiry_interval);
        props::put_u16(
            s,
            id::RECEIVE_MAXIMUM,
            self.receive_maximum.map(|v| v.get()),
        );
        props::put_bool(
            s,
            id::MAXIMUM_QOS,
            self.maximum_qos.map(|q| q != QoS::AtMostOnce),
        );
        props::put_bool(s, id::RETAIN_AVAILABLE, self.retain_available);
        props::put_u32(
            s,
            id::MAXIMUM_PACKET_SIZE,
            self.maximum_packet_size.map(|v| v.get()),
        );
        props::put_str(
            s,
            id::ASSIGNED_CLIENT_IDENTIFIER,
            &self.assigned_client_identifier,
        );
        props::put_u16(s, id::TOPIC_ALIAS_MAXIMUM, self.topic_alias_maximum);
        props::put_str(s, id::REASON_STRING, &self.reason_string);
        props::put_user_properties(s, &self.user_properties);
        props::put_bool(
            s,
            id::WILDCARD_SUBSCRIPTION_AVAILABLE,
            self.wildcard_subscription_available,
        );
        props::put_bool(
            s,
            id::SUBSCRIPTION_IDENTIFIER_AVAILABLE,
            self.subscription_identifiers_available,
        );
        props::put_bool(
            s,
            id::SHARED_SUBSCRIPTION_AVAILABLE,
            self.shared_subscription_available,
        );
        props::put_u16(s, id::SERVER_KEEP_ALIVE, self.server_keep_alive);
        props::put_str(s, id::RESPONSE_INFORMATION, &self.response_information);
        props::put_str(s, id::SERVER_REFERENCE, &self.server_reference);
        props::put_str(s, id::AUTHENTICATION_METHOD, &self.authentication_method);
        props::put_binary(s, id::AUTHENTICATION_DATA, &self.authentication_data);
    }

    fn check(&self) -> Result<(), EncodeError> {
        // Maximum QoS may only be 0 or 1 (§3.2.2.3.4).
        if self.maximum_qos == Some(QoS::ExactlyOnce) {
            return Err(EncodeError::InvalidPropertyValue("Maximum QoS"));
        }
        Ok(())
    }
}

impl ConnAck {
    pub(crate) fn decode(mut r: Reader, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let flags = r.u8()?;
        if flags & !1 != 0 {
            return Err(DecodeError::ConnAckReservedFlags);
        }
        let code = r.u8()?;
        let invalid = DecodeError::InvalidReasonCode {
            packet: PacketType::ConnAck,
            code,
        };
        let (reason_code, properties) = if version.is_v5() {
            let reason = ReasonCode::from_u8(code)
                .filter(|c| c.allowed_in(PacketType::ConnAck))
                .ok_or(invalid)?;
            (reason, props::read(&mut r, PacketType::ConnAck)?)
        } else {
            let code = ConnectReturnCode::from_u8(code).ok_or(invalid)?;
            (code.to_reason_code(), ConnAckProperties::default())
        };
        r.finish()?;
        Ok(ConnAck {
            // A refusal claims no session [MQTT-3.2.2-4, MQTT-3.2.2-6]; read it as the encoder
            // would write it, so decode and encode agree.
            session_present: flags & 1 != 0 && !reason_code.is_error(),
            reason_code,
            properties,
        })
    }
}

impl Encode for ConnAck {
    fn first_byte(&self) -> u8 {
        (PacketType::ConnAck as u8) << 4
    }

    fn measure(&self, version: ProtocolVersion) -> Result<Measure, EncodeError> {
        let mut m = Measure {
            body: 2,
            ..Measure::default()
        };
        if version.is_v5() {
            if !self.reason_code.allowed_in(PacketType::ConnAck) {
                return Err(EncodeError::InvalidReasonCode {
                    packet: PacketType::ConnAck,
                    code: self.reason_code,
                });
            }
            m.props = props::len(&self.properties)?;
            m.body += props::len_with_prefix(m.props);
        }
        Ok(m)
    }

    fn write_body(&self, version: ProtocolVersion, m: &Measure, out: &mut BytesMut) {
        // A refusal never claims a session [MQTT-3.2.2-4] (5.0: [MQTT-3.2.2-6]).
        let session_present = self.session_present && !self.reason_code.is_error();
        out.put_u8(u8::from(session_present));
        out.put_u8(self.code_for(version));
        if version.is_v5() {
            props::write(out, &self.properties, m.props);
        }
    }
}
