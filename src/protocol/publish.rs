//! PUBLISH (3.1.1 §3.3, 5.0 §3.3): the hot path. Decoding copies nothing: topic and payload are
//! slices of the read buffer.

use std::num::{NonZeroU16, NonZeroU32};

use bytes::{BufMut, Bytes, BytesMut};

use super::codec::{Encode, Measure};
use super::properties::{self as props, id, PropertySet, Sink, Value};
use super::wire::{check_field, field_len, put_field, Reader};
use super::{
    contains_any, DecodeError, EncodeError, MqttString, PacketId, PacketType, PayloadFormat,
    ProtocolVersion, QoS, UserProperties,
};
use crate::topic::{TopicError, TopicName};

/// An application message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    /// DUP: this may be a re-delivery.
    pub dup: bool,
    /// Quality of service.
    pub qos: QoS,
    /// RETAIN.
    pub retain: bool,
    /// The topic name; empty only with a 5.0 Topic Alias.
    pub topic: TopicName,
    /// The packet identifier, present exactly when QoS > 0 [MQTT-2.2.1-2].
    pub packet_id: Option<PacketId>,
    /// The application payload.
    pub payload: Bytes,
    /// MQTT 5.0 properties.
    pub properties: PublishProperties,
}

impl Publish {
    /// mosquitto's one-line log form, `(d0, q1, r0, m1, 'topic', ... (5 bytes))`, with `topic`
    /// standing for the topic (a broker logs the one a Topic Alias resolved to).
    pub fn log_summary(&self, topic: &str) -> String {
        format!(
            "(d{}, q{}, r{}, m{}, '{topic}', ... ({} bytes))",
            u8::from(self.dup),
            self.qos.as_u8(),
            u8::from(self.retain),
            self.packet_id.map_or(0, |id| id.get()),
            self.payload.len()
        )
    }

    /// A QoS 0, non-retained message with no properties.
    pub fn new(topic: TopicName, payload: impl Into<Bytes>) -> Self {
        Publish {
            dup: false,
            qos: QoS::AtMostOnce,
            retain: false,
            topic,
            packet_id: None,
            payload: payload.into(),
            properties: PublishProperties::default(),
        }
    }
}

/// PUBLISH properties (5.0 §3.3.2.3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishProperties {
    /// 0x01 Payload Format Indicator.
    pub payload_format_indicator: Option<PayloadFormat>,
    /// 0x02 Message Expiry Interval, seconds.
    pub message_expiry_interval: Option<u32>,
    /// 0x23 Topic Alias.
    pub topic_alias: Option<NonZeroU16>,
    /// 0x08 Response Topic.
    pub response_topic: Option<TopicName>,
    /// 0x09 Correlation Data.
    pub correlation_data: Option<Bytes>,
    /// 0x26 User Property, in order.
    pub user_properties: UserProperties,
    /// 0x0B Subscription Identifier, one per matching subscription (server to client).
    pub subscription_identifiers: Vec<NonZeroU32>,
    /// 0x03 Content Type.
    pub content_type: Option<MqttString>,
}

impl PropertySet for PublishProperties {
    fn read_one(&mut self, i: u8, r: &mut Reader, packet: PacketType) -> Result<(), DecodeError> {
        use props::set_once;
        match i {
            id::PAYLOAD_FORMAT_INDICATOR => set_once(
                &mut self.payload_format_indicator,
                i,
                props::read_payload_format(r)?,
            ),
            id::MESSAGE_EXPIRY_INTERVAL => set_once(&mut self.message_expiry_interval, i, r.u32()?),
            id::TOPIC_ALIAS => {
                // A Topic Alias of 0 is "Topic Alias invalid" [MQTT-3.3.2-8].
                let alias = NonZeroU16::new(r.u16()?).ok_or(DecodeError::TopicAliasZero)?;
                set_once(&mut self.topic_alias, i, alias)
            }
            id::RESPONSE_TOPIC => {
                set_once(&mut self.response_topic, i, props::read_response_topic(r)?)
            }
            id::CORRELATION_DATA => set_once(&mut self.correlation_data, i, r.binary()?),
            id::USER_PROPERTY => props::read_user_property(r, &mut self.user_properties),
            id::SUBSCRIPTION_IDENTIFIER => {
                let sub_id = props::read_subscription_id(r)?;
                self.subscription_identifiers.push(sub_id);
                Ok(())
            }
            id::CONTENT_TYPE => set_once(&mut self.content_type, i, r.string()?),
            _ => Err(props::not_allowed(packet, i)),
        }
    }

    #[inline]
    fn visit(&self, s: &mut impl Sink) {
        props::put_payload_format(s, self.payload_format_indicator);
        props::put_u32(s, id::MESSAGE_EXPIRY_INTERVAL, self.message_expiry_interval);
        props::put_u16(s, id::TOPIC_ALIAS, self.topic_alias.map(|a| a.get()));
        let topic = self.response_topic.as_ref();
        props::put_bytes(s, id::RESPONSE_TOPIC, topic.map(|t| t.as_str().as_bytes()));
        props::put_binary(s, id::CORRELATION_DATA, &self.correlation_data);
        props::put_user_properties(s, &self.user_properties);
        for sub_id in &self.subscription_identifiers {
            s.put(id::SUBSCRIPTION_IDENTIFIER, Value::VarInt(sub_id.get()));
        }
        props::put_str(s, id::CONTENT_TYPE, &self.content_type);
    }

    fn check(&self) -> Result<(), EncodeError> {
        let too_big = |v: &NonZeroU32| v.get() > props::MAX_SUBSCRIPTION_IDENTIFIER;
        if self.subscription_identifiers.iter().any(too_big) {
            return Err(EncodeError::InvalidPropertyValue("Subscription Identifier"));
        }
        Ok(())
    }
}

const DUP: u8 = 0x08;
const RETAIN: u8 = 0x01;

impl Publish {
    // Always inlined: returned through memory, the packet would be copied once more.
    #[inline(always)]
    pub(crate) fn decode(
        flags: u8,
        mut r: Reader,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        let qos = QoS::from_u8((flags >> 1) & 3).ok_or(DecodeError::InvalidQoS)?;
        let dup = flags & DUP != 0;
        if dup && qos == QoS::AtMostOnce {
            return Err(DecodeError::DupOnQoS0);
        }
        let topic = read_topic(&mut r)?;
        let packet_id = match qos {
            QoS::AtMostOnce => None,
            _ => Some(r.packet_id()?),
        };
        let properties: PublishProperties = if version.is_v5() {
            props::read(&mut r, PacketType::Publish)?
        } else {
            PublishProperties::default()
        };
        if topic.is_empty() && properties.topic_alias.is_none() {
            return Err(DecodeError::EmptyTopicName);
        }
        Ok(Publish {
            dup,
            qos,
            retain: flags & RETAIN != 0,
            topic,
            packet_id,
            payload: r.rest(),
            properties,
        })
    }

    /// The first byte: type, DUP, QoS and RETAIN.
    #[inline]
    pub fn fixed_header_byte(&self) -> u8 {
        let mut byte = (PacketType::Publish as u8) << 4 | self.qos.as_u8() << 1;
        if self.dup {
            byte |= DUP;
        }
        if self.retain {
            byte |= RETAIN;
        }
        byte
    }
}

/// Reads the topic name; empty means a Topic Alias stands for it (the caller checks there is one).
#[inline]
fn read_topic(r: &mut Reader) -> Result<TopicName, DecodeError> {
    let bytes = r.binary()?;
    // The common case: one scan rules out U+0000 and both wildcards, leaving only UTF-8 to check.
    // The two-byte length prefix already bounds the length.
    if !contains_any(&bytes, [0, b'+', b'#']) {
        return Ok(TopicName::from_checked(MqttString::from_scanned(bytes)?));
    }
    topic_with_null_or_wildcard(bytes)
}

/// The topic of [`read_topic`] that holds U+0000, `+` or `#`: always an error, found by the
/// general checks so that it is the same error they give everywhere else.
#[cold]
fn topic_with_null_or_wildcard(bytes: Bytes) -> Result<TopicName, DecodeError> {
    let name = MqttString::from_bytes(bytes)?;
    match crate::topic::check_name(&name) {
        Ok(()) => Ok(TopicName::from_checked(name)),
        Err(TopicError::Empty) => Ok(TopicName::empty()),
        // The string is valid, so the only other fault is a wildcard [MQTT-3.3.2-2].
        Err(_) => Err(DecodeError::WildcardInTopicName(name.as_str().to_owned())),
    }
}

impl Encode for Publish {
    #[inline]
    fn first_byte(&self) -> u8 {
        self.fixed_header_byte()
    }

    #[inline(always)]
    fn measure(&self, version: ProtocolVersion) -> Result<Measure, EncodeError> {
        if (self.qos == QoS::AtMostOnce) != self.packet_id.is_none() {
            return Err(EncodeError::PacketIdMismatch);
        }
        if self.dup && self.qos == QoS::AtMostOnce {
            return Err(EncodeError::DupOnQoS0);
        }
        let mut m = Measure::default();
        if version.is_v5() {
            if self.topic.is_empty() && self.properties.topic_alias.is_none() {
                return Err(EncodeError::EmptyTopicName);
            }
            m.props = props::len(&self.properties)?;
            m.body += props::len_with_prefix(m.props);
        } else if self.topic.is_empty() {
            return Err(EncodeError::EmptyTopicName);
        }
        check_field("topic name", self.topic.len())?;
        m.body += field_len(self.topic.len()) + self.payload.len();
        if self.packet_id.is_some() {
            m.body += 2;
        }
        Ok(m)
    }

    #[inline(always)]
    fn write_body(&self, version: ProtocolVersion, m: &Measure, out: &mut BytesMut) {
        put_field(out, self.topic.as_str().as_bytes());
        if let Some(packet_id) = self.packet_id {
            out.put_u16(packet_id.get());
        }
        if version.is_v5() {
            props::write(out, &self.properties, m.props);
        }
        out.put_slice(&self.payload);
    }
}
