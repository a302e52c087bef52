//! CONNECT (3.1.1 §3.1, 5.0 §3.1), including MQTT 3.1's `MQIsdp` form, and the last will.

use std::num::{NonZeroU16, NonZeroU32};

use bytes::{BufMut, Bytes, BytesMut};

use super::codec::{Encode, Measure};
use super::properties::{self as props, id, PropertySet, Sink};
use super::wire::{check_field, field_len, put_field, Reader};
use super::{
    DecodeError, EncodeError, MqttString, PacketType, PayloadFormat, ProtocolVersion, QoS,
    UserProperties,
};
use crate::topic::{TopicError, TopicName};

/// A client's request to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    /// The protocol version the client speaks (from protocol name and level).
    pub version: ProtocolVersion,
    /// Clean Session (3.1.1) / Clean Start (5.0).
    pub clean_start: bool,
    /// Keep alive in seconds; 0 turns it off.
    pub keep_alive: u16,
    /// The client identifier; may be empty (the server then assigns one, or refuses).
    pub client_id: MqttString,
    /// The will message, if any.
    pub will: Option<LastWill>,
    /// The user name, if any.
    pub username: Option<MqttString>,
    /// The password, if any (binary data).
    pub password: Option<Bytes>,
    /// MQTT 5.0 properties.
    pub properties: ConnectProperties,
}

impl Connect {
    /// A CONNECT with clean start, keep alive 60 and nothing else set.
    pub fn new(version: ProtocolVersion, client_id: MqttString) -> Self {
        Connect {
            version,
            clean_start: true,
            keep_alive: 60,
            client_id,
            will: None,
            username: None,
            password: None,
            properties: ConnectProperties::default(),
        }
    }
}

/// The will message a server publishes when the connection ends abnormally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastWill {
    /// Where to publish it.
    pub topic: TopicName,
    /// The payload.
    pub payload: Bytes,
    /// Its QoS.
    pub qos: QoS,
    /// Whether it is retained.
    pub retain: bool,
    /// MQTT 5.0 will properties.
    pub properties: WillProperties,
}

/// CONNECT properties (5.0 §3.1.2.11).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectProperties {
    /// 0x11 Session Expiry Interval, seconds.
    pub session_expiry_interval: Option<u32>,
    /// 0x21 Receive Maximum.
    pub receive_maximum: Option<NonZeroU16>,
    /// 0x27 Maximum Packet Size.
    pub maximum_packet_size: Option<NonZeroU32>,
    /// 0x22 Topic Alias Maximum.
    pub topic_alias_maximum: Option<u16>,
    /// 0x19 Request Response Information.
    pub request_response_information: Option<bool>,
    /// 0x17 Request Problem Information.
    pub request_problem_information: Option<bool>,
    /// 0x26 User Property, in order.
    pub user_properties: UserProperties,
    /// 0x15 Authentication Method.
    pub authentication_method: Option<MqttString>,
    /// 0x16 Authentication Data.
    pub authentication_data: Option<Bytes>,
}

impl PropertySet for ConnectProperties {
    fn read_one(&mut self, i: u8, r: &mut Reader, packet: PacketType) -> Result<(), DecodeError> {
        match i {
            id::SESSION_EXPIRY_INTERVAL => {
                props::set_once(&mut self.session_expiry_interval, i, r.u32()?)
            }
            id::RECEIVE_MAXIMUM => {
                props::set_once(&mut self.receive_maximum, i, props::read_nonzero_u16(r, i)?)
            }
            id::MAXIMUM_PACKET_SIZE => props::set_once(
                &mut self.maximum_packet_size,
                i,
                props::read_nonzero_u32(r, i)?,
            ),
            id::TOPIC_ALIAS_MAXIMUM => props::set_once(&mut self.topic_alias_maximum, i, r.u16()?),
            id::REQUEST_RESPONSE_INFORMATION => props::set_once(
                &mut self.request_response_information,
                i,
                props::read_bool(r, i)?,
            ),
            id::REQUEST_PROBLEM_INFORMATION => props::set_once(
                &mut self.request_problem_information,
                i,
                props::read_bool(r, i)?,
            ),
            id::USER_PROPERTY => props::read_user_property(r, &mut self.user_properties),
            id::AUTHENTICATION_METHOD => {
                props::set_once(&mut self.authentication_method, i, r.string()?)
            }
            id::AUTHENTICATION_DATA => {
                props::set_once(&mut self.authentication_data, i, r.binary()?)
            }
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
        props::put_u32(
            s,
            id::MAXIMUM_PACKET_SIZE,
            self.maximum_packet_size.map(|v| v.get()),
        );
        props::put_u16(s, id::TOPIC_ALIAS_MAXIMUM, self.topic_alias_maximum);
        props::put_bool(
            s,
            id::REQUEST_RESPONSE_INFORMATION,
            self.request_response_information,
        );
        props::put_bool(
            s,
            id::REQUEST_PROBLEM_INFORMATION,
            self.request_problem_information,
        );
        props::put_user_properties(s, &self.user_properties);
        props::put_str(s, id::AUTHENTICATION_METHOD, &self.authentication_method);
        props::put_binary(s, id::AUTHENTICATION_DATA, &self.authentication_data);
    }

    fn check(&self) -> Result<(), EncodeError> {
        // It is a Protocol Error to include Authentication Data without a method (§3.1.2.11.10).
        if self.authentication_data.is_some() && self.authentication_method.is_none() {
            return Err(EncodeError::InvalidPropertyValue("Authentication Data"));
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), DecodeError> {
        if self.authentication_data.is_some() && self.authentication_method.is_none() {
            return Err(DecodeError::InvalidPropertyValue(id::AUTHENTICATION_DATA));
        }
        Ok(())
    }
}

/// Will properties (5.0 §3.1.3.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WillProperties {
    /// 0x18 Will Delay Interval, seconds.
    pub will_delay_interval: Option<u32>,
    /// 0x01 Payload Format Indicator.
    pub payload_format_indicator: Option<PayloadFormat>,
    /// 0x02 Message Expiry Interval, seconds.
    pub message_expiry_interval: Option<u32>,
    /// 0x03 Content Type.
    pub content_type: Option<MqttString>,
    /// 0x08 Response Topic.
    pub response_topic: Option<TopicName>,
    /// 0x09 Correlation Data.
    pub correlation_data: Option<Bytes>,
    /// 0x26 User Property, in order.
    pub user_properties: UserProperties,
}

impl PropertySet for WillProperties {
    fn read_one(&mut self, i: u8, r: &mut Reader, packet: PacketType) -> Result<(), DecodeError> {
        match i {
            id::WILL_DELAY_INTERVAL => props::set_once(&mut self.will_delay_interval, i, r.u32()?),
            id::PAYLOAD_FORMAT_INDICATOR => props::set_once(
                &mut self.payload_format_indicator,
                i,
                props::read_payload_format(r)?,
            ),
            id::MESSAGE_EXPIRY_INTERVAL => {
                props::set_once(&mut self.message_expiry_interval, i, r.u32()?)
            }
            id::CONTENT_TYPE => props::set_once(&mut self.content_type, i, r.string()?),
            id::RESPONSE_TOPIC => {
                props::set_once(&mut self.response_topic, i, props::read_response_topic(r)?)
            }
            id::CORRELATION_DATA => props::set_once(&mut self.correlation_data, i, r.binary()?),
            id::USER_PROPERTY => props::read_user_property(r, &mut self.user_properties),
            _ => Err(props::not_allowed(packet, i)),
        }
    }

    fn visit(&self, s: &mut impl Sink) {
        props::put_u32(s, id::WILL_DELAY_INTERVAL, self.will_delay_interval);
        props::put_payload_format(s, self.payload_format_indicator);
        props::put_u32(s, id::MESSAGE_EXPIRY_INTERVAL, self.message_expiry_interval);
        props::put_str(s, id::CONTENT_TYPE, &self.content_type);
        let topic = self.response_topic.as_ref();
        props::put_bytes(s, id::RESPONSE_TOPIC, topic.map(|t| t.as_str().as_bytes()));
        props::put_binary(s, id::CORRELATION_DATA, &self.correlation_data);
        props::put_user_properties(s, &self.user_properties);
    }
}

const USERNAME: u8 = 0x80;
const PASSWORD: u8 = 0x40;
const WILL_RETAIN: u8 = 0x20;
const WILL_QOS_SHIFT: u8 = 3;
const WILL_FLAG: u8 = 0x04;
const CLEAN_START: u8 = 0x02;
const RESERVED: u8 = 0x01;

/// Reads the protocol name and level and returns the version they name [MQTT-3.1.2-1, -2].
fn read_version(r: &mut Reader) -> Result<ProtocolVersion, DecodeError> {
    let name = r.string()?;
    let level = r.u8()?;
    let version = match name.as_str() {
        "MQTT" | "MQIsdp" => ProtocolVersion::from_level(level)
            .filter(|v| v.protocol_name() == name.as_str())
            .ok_or(DecodeError::UnsupportedProtocolVersion(level))?,
        other => return Err(DecodeError::InvalidProtocolName(other.to_owned())),
    };
    Ok(version)
}

fn topic_error(name: &MqttString, err: TopicError) -> DecodeError {
    match err {
        TopicError::Empty => DecodeError::EmptyTopicName,
        _ => DecodeError::WildcardInTopicName(name.as_str().to_owned()),
    }
}

impl Connect {
    pub(crate) fn decode(mut r: Reader) -> Result<Self, DecodeError> {
        let version = read_version(&mut r)?;
        let flags = r.u8()?;
        check_flags(flags, version)?;
        let keep_alive = r.u16()?;
        let properties = if version.is_v5() {
            props::read(&mut r, PacketType::Connect)?
        } else {
            ConnectProperties::default()
        };
        let client_id = r.string()?;
        let will = if flags & WILL_FLAG != 0 {
            Some(read_will(&mut r, flags, version)?)
        } else {
            None
        };
        let username = (flags & USERNAME != 0).then(|| r.string()).transpose()?;
        let password = (flags & PASSWORD != 0).then(|| r.binary()).transpose()?;
        r.finish()?;
        Ok(Connect {
            version,
            clean_start: flags & CLEAN_START != 0,
            keep_alive,
            client_id,
            will,
            username,
            password,
            properties,
        })
    }
}

fn check_flags(flags: u8, version: ProtocolVersion) -> Result<(), DecodeError> {
    if flags & RESERVED != 0 {
        return Err(DecodeError::ConnectReservedFlag);
    }
    if flags & WILL_FLAG == 0 && flags & (WILL_RETAIN | 3 << WILL_QOS_SHIFT) != 0 {
        return Err(DecodeError::WillFlagsWithoutWill);
    }
    if QoS::from_u8((flags >> WILL_QOS_SHIFT) & 3).is_none() {
        return Err(DecodeError::InvalidQoS);
    }
    if !version.is_v5() && flags & PASSWORD != 0 && flags & USERNAME == 0 {
        return Err(DecodeError::PasswordWithoutUsername);
    }
    Ok(())
}

fn read_will(r: &mut Reader, flags: u8, version: ProtocolVersion) -> Result<LastWill, DecodeError> {
    let properties = if version.is_v5() {
        props::read(r, PacketType::Connect)?
    } else {
        WillProperties::default()
    };
    let name = r.string()?;
    let topic = TopicName::from_mqtt_string(name.clone()).map_err(|e| topic_error(&name, e))?;
    let payload = r.binary()?;
    Ok(LastWill {
        topic,
        payload,
        qos: QoS::from_u8((flags >> WILL_QOS_SHIFT) & 3).unwrap_or_default(),
        retain: flags & WILL_RETAIN != 0,
        properties,
    })
}

impl Connect {
    fn flags(&self) -> u8 {
        let mut flags = 0;
        if self.username.is_some() {
            flags |= USERNAME;
        }
        if self.password.is_some() {
            flags |= PASSWORD;
        }
        if let Some(will) = &self.will {
            flags |= WILL_FLAG | will.qos.as_u8() << WILL_QOS_SHIFT;
            if will.retain {
                flags |= WILL_RETAIN;
            }
        }
        if self.clean_start {
            flags |= CLEAN_START;
        }
        flags
    }
}

impl Encode for Connect {
    fn first_byte(&self) -> u8 {
        (PacketType::Connect as u8) << 4
    }

    fn measure(&self, _: ProtocolVersion) -> Result<Measure, EncodeError> {
        // CONNECT is always encoded with its own version.
        let v5 = self.version.is_v5();
        if !v5 && self.password.is_some() && self.username.is_none() {
            return Err(EncodeError::PasswordWithoutUsername);
        }
        // Protocol name, level, flags, keep alive.
        let mut m = Measure {
            body: field_len(self.version.protocol_name().len()) + 1 + 1 + 2,
            ..Measure::default()
        };
        if v5 {
            m.props = props::len(&self.properties)?;
            m.body += props::len_with_prefix(m.props);
        }
        check_field("client identifier", self.client_id.len())?;
        m.body += field_len(self.client_id.len());
        if let Some(will) = &self.will {
            if will.topic.is_empty() {
                return Err(EncodeError::EmptyTopicName);
            }
            check_field("will payload", will.payload.len())?;
            if v5 {
                m.will_props = props::len(&will.properties)?;
                m.body += props::len_with_prefix(m.will_props);
            }
            m.body += field_len(will.topic.len()) + field_len(will.payload.len());
        }
        if let Some(username) = &self.username {
            m.body += field_len(username.len());
        }
        if let Some(password) = &self.password {
            check_field("password", password.len())?;
            m.body += field_len(password.len());
        }
        Ok(m)
    }

    fn write_body(&self, _: ProtocolVersion, m: &Measure, out: &mut BytesMut) {
        let v5 = self.version.is_v5();
        put_field(out, self.version.protocol_name().as_bytes());
        out.put_u8(self.version.level());
        out.put_u8(self.flags());
        out.put_u16(self.keep_alive);
        if v5 {
            props::write(out, &self.properties, m.props);
        }
        put_field(out, self.client_id.as_bytes());
        if let Some(will) = &self.will {
            if v5 {
                props::write(out, &will.properties, m.will_props);
            }
            put_field(out, will.topic.as_str().as_bytes());
            put_field(out, &will.payload);
        }
        if let Some(username) = &self.username {
            put_field(out, username.as_bytes());
        }
        if let Some(password) = &self.password {
            put_field(out, password);
        }
    }
}
