//! PUBLISH (3.1.1 §3.3, 5.0 §3.3): the hot path. Decoding copies nothing: topic and payload are
//! slices of the read buffer.

use std::num::{NonZeroU16, NonZeroU32};

use bytes::{BufMut, Bytes, BytesMut};

use super::codec::{Encode, Measure};
use super::properties::{self as props, id, PropertySet, Sink, Value};
use super::wire::{check_field, field_len, put_field, put_var_int, Reader, MAX_REMAINING_LENGTH};
use super::{
    contains_any, DecodeError, EncodeError, MqttString, PacketId, PacketType, PayloadFormat,
    ProtocolVersion, QoS, UserProperties, MAX_STRING_LEN,
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
    #[inline(always)]
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
        let topic = r.binary()?;
        // Everything that moves the reader on comes before the topic is checked, and its
        // results wait until after: each read moves the reader with narrow stores, and taking
        // the payload out of the reader right after them is a wide load the CPU cannot forward
        // from those stores (~5 ns on every packet with a packet id or properties). The topic's
        // checks fill that gap. The errors come out in the order of the fields: a bad topic,
        // then a missing or zero packet id, then bad properties.
        let packet_id = match qos {
            QoS::AtMostOnce => Ok(None),
            _ => r.packet_id().map(Some),
        };
        let retain = flags & RETAIN != 0;
        // A macro, not a closure: a literal is built where the packet is returned.
        macro_rules! publish {
            ($topic:expr, $packet_id:expr, $properties:expr) => {
                Publish {
                    dup,
                    qos,
                    retain,
                    topic: $topic,
                    packet_id: $packet_id,
                    payload: r.rest(),
                    properties: $properties,
                }
            };
        }
        if !version.is_v5() {
            // Apart from 5.0, so that the packet is built where it is returned, empty properties
            // and all; the 5.0 one is built from properties read first.
            let topic = check_topic(topic)?;
            let packet_id = packet_id?;
            if topic.is_empty() {
                return Err(DecodeError::EmptyTopicName);
            }
            return Ok(publish!(topic, packet_id, PublishProperties::default()));
        }
        // Read in place: see `props::read_into`.
        let mut properties = PublishProperties::default();
        let read = match packet_id {
            Ok(_) => props::read_into(&mut r, PacketType::Publish, &mut properties),
            Err(_) => Ok(()),
        };
        let topic = check_topic(topic)?;
        let packet_id = packet_id?;
        read?;
        if topic.is_empty() && properties.topic_alias.is_none() {
            return Err(DecodeError::EmptyTopicName);
        }
        Ok(publish!(topic, packet_id, properties))
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

/// Checks the topic name read from a PUBLISH; empty means a Topic Alias stands for it (the
/// caller checks there is one).
#[inline]
fn check_topic(bytes: Bytes) -> Result<TopicName, DecodeError> {
    // The common case: one scan rules out U+0000 and both wildcards, leaving only UTF-8 to check.
    // The two-byte length prefix already bounds the length.
    if !contains_any(&bytes, [0, b'+', b'#']) {
        return Ok(TopicName::from_checked(MqttString::from_scanned(bytes)?));
    }
    topic_with_null_or_wildcard(bytes)
}

/// The topic of [`check_topic`] that holds U+0000, `+` or `#`: always an error, found by the
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

/// The quick encoder: the common PUBLISH, one that breaks no rule and whose properties (5.0) are
/// all single-valued, measured with one test where [`Encode::measure`] branches on every rule
/// and written with the fewest copies, without a pass of the property visitor to size them.
/// Packets with user properties or subscription identifiers, and packets that break a rule, take
/// the general path ([`Encode`]), which also finds the error to report.
impl Publish {
    /// The sizes of this packet when the quick encoder can write it, `None` otherwise.
    #[inline(always)]
    pub(crate) fn quick_measure(&self, version: ProtocolVersion) -> Option<Measure> {
        let qos0 = self.qos == QoS::AtMostOnce;
        let mut m = Measure::default();
        let mut named = !self.topic.is_empty();
        if version.is_v5() {
            let props = &self.properties;
            m.props = props.quick_len()?;
            m.body += props::len_with_prefix(m.props);
            named |= props.topic_alias.is_some();
        }
        // A topic never outgrows its length prefix: `TopicName` checks on construction.
        m.body += field_len(self.topic.len()) + 2 * usize::from(!qos0) + self.payload.len();
        let fine = named
            & (qos0 == self.packet_id.is_none())
            & !(self.dup & qos0)
            & (m.body <= MAX_REMAINING_LENGTH);
        fine.then_some(m)
    }

    /// Writes the packet [`Publish::quick_measure`] sized as `m`.
    #[inline(always)]
    pub(crate) fn quick_write(&self, version: ProtocolVersion, m: &Measure, out: &mut BytesMut) {
        // The fixed header and the topic's length prefix in one copy of fixed size: each put
        // checks the capacity and stores the length once, so fewer puts is faster.
        let first = self.fixed_header_byte();
        let [t0, t1] = (self.topic.len() as u16).to_be_bytes();
        let body = m.body;
        if body < 128 {
            out.extend_from_slice(&[first, body as u8, t0, t1]);
        } else if body < 16_384 {
            out.extend_from_slice(&[first, body as u8 | 0x80, (body >> 7) as u8, t0, t1]);
        } else {
            out.put_u8(first);
            put_var_int(out, body);
            out.extend_from_slice(&[t0, t1]);
        }
        out.extend_from_slice(self.topic.as_str().as_bytes());
        if let Some(packet_id) = self.packet_id {
            out.put_u16(packet_id.get());
        }
        if version.is_v5() {
            put_var_int(out, m.props);
            self.properties.quick_write(out);
        }
        out.extend_from_slice(&self.payload);
    }
}

impl PublishProperties {
    /// The length of the properties, when none of them is a list (user properties, subscription
    /// identifiers) and every field fits its length prefix.
    #[inline(always)]
    fn quick_len(&self) -> Option<usize> {
        let data = self.correlation_data.as_deref();
        // Strings and topics cannot outgrow their prefix (their constructors check); bytes can.
        let data_fits = data.is_none_or(|d| d.len() <= MAX_STRING_LEN);
        let lists = !(self.user_properties.is_empty() && self.subscription_identifiers.is_empty());
        if lists || !data_fits {
            return None;
        }
        let field = |f: Option<&[u8]>| f.map_or(0, |f| 3 + f.len());
        let len = usize::from(self.payload_format_indicator.is_some()) * 2
            + usize::from(self.message_expiry_interval.is_some()) * 5
            + usize::from(self.topic_alias.is_some()) * 3
            + field(self.response_topic.as_ref().map(|t| t.as_str().as_bytes()))
            + field(data)
            + field(self.content_type.as_ref().map(|s| s.as_str().as_bytes()));
        Some(len)
    }

    /// Writes the properties [`PublishProperties::quick_len`] measured, in `visit`'s order.
    #[inline(always)]
    fn quick_write(&self, out: &mut BytesMut) {
        props::put_payload_format(out, self.payload_format_indicator);
        let expiry = self.message_expiry_interval;
        props::put_u32(out, id::MESSAGE_EXPIRY_INTERVAL, expiry);
        props::put_u16(out, id::TOPIC_ALIAS, self.topic_alias.map(|a| a.get()));
        let topic = self.response_topic.as_ref().map(|t| t.as_str().as_bytes());
        props::put_bytes(out, id::RESPONSE_TOPIC, topic);
        props::put_binary(out, id::CORRELATION_DATA, &self.correlation_data);
        props::put_str(out, id::CONTENT_TYPE, &self.content_type);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::codec::write_packet;

    fn topic(s: &str) -> TopicName {
        TopicName::new(s).expect("valid topic")
    }

    /// Every combination of the single-valued properties, as a bit mask picks them.
    fn single_valued(mask: u8) -> PublishProperties {
        let on = |bit: u8| mask & (1 << bit) != 0;
        PublishProperties {
            payload_format_indicator: on(0).then_some(PayloadFormat::Utf8),
            message_expiry_interval: on(1).then_some(3600),
            topic_alias: on(2).then(|| NonZeroU16::new(7).expect("non-zero")),
            response_topic: on(3).then(|| topic("replies/here")),
            correlation_data: on(4).then(|| Bytes::from_static(b"\x00\x01corr")),
            content_type: on(5).then(|| MqttString::new("application/json").expect("valid")),
            ..PublishProperties::default()
        }
    }

    fn quick(p: &Publish, version: ProtocolVersion) -> Option<BytesMut> {
        let m = p.quick_measure(version)?;
        let mut out = BytesMut::from(&b"before"[..]);
        p.quick_write(version, &m, &mut out);
        Some(out)
    }

    fn general(p: &Publish, version: ProtocolVersion) -> Result<BytesMut, EncodeError> {
        let mut out = BytesMut::from(&b"before"[..]);
        write_packet(p, version, &mut out).map(|()| out)
    }

    #[test]
    fn the_quick_encoder_writes_what_the_general_one_writes() {
        // Payload sizes either side of the one-, two- and three-byte remaining lengths.
        let payloads = [0, 60, 127, 200, 16_300, 17_000];
        let mut compared = 0;
        for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
            for mask in 0..64 {
                for (qos, len) in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]
                    .into_iter()
                    .flat_map(|q| payloads.map(|len| (q, len)))
                {
                    let mut p = Publish::new(topic("a/b/c"), vec![b'x'; len]);
                    p.qos = qos;
                    p.packet_id = (qos != QoS::AtMostOnce).then(|| PacketId::new(9).expect("id"));
                    p.dup = qos == QoS::ExactlyOnce;
                    p.retain = len % 2 == 0;
                    p.properties = single_valued(mask);
                    let q = quick(&p, version).expect("the quick encoder takes it");
                    assert_eq!(
                        Ok(q),
                        general(&p, version),
                        "{version:?} {mask:#b} {qos:?} {len}"
                    );
                    compared += 1;
                }
            }
        }
        assert_eq!(compared, 2 * 64 * 3 * payloads.len());
    }

    #[test]
    fn an_aliased_empty_topic_takes_the_quick_encoder_in_5_0_only() {
        let mut p = Publish::new(TopicName::empty(), &b"x"[..]);
        p.properties.topic_alias = NonZeroU16::new(3);
        let q = quick(&p, ProtocolVersion::V5).expect("quick");
        assert_eq!(Ok(q), general(&p, ProtocolVersion::V5));
        assert!(quick(&p, ProtocolVersion::V311).is_none());
        assert_eq!(
            general(&p, ProtocolVersion::V311),
            Err(EncodeError::EmptyTopicName)
        );
    }

    #[test]
    fn packets_the_quick_encoder_leaves_to_the_general_one() {
        let base = Publish::new(topic("t"), &b"x"[..]);
        let mut cases: Vec<(Publish, Option<EncodeError>)> = Vec::new();
        let mut p = base.clone();
        p.packet_id = PacketId::new(1);
        cases.push((p, Some(EncodeError::PacketIdMismatch)));
        let mut p = base.clone();
        p.qos = QoS::AtLeastOnce;
        cases.push((p, Some(EncodeError::PacketIdMismatch)));
        let mut p = base.clone();
        p.dup = true;
        cases.push((p, Some(EncodeError::DupOnQoS0)));
        cases.push((
            Publish::new(TopicName::empty(), &b"x"[..]),
            Some(EncodeError::EmptyTopicName),
        ));
        let mut p = base.clone();
        // Topic (3 bytes), property length (1) and payload.
        p.payload = Bytes::from(vec![0; MAX_REMAINING_LENGTH]);
        cases.push((
            p,
            Some(EncodeError::PacketTooLarge(MAX_REMAINING_LENGTH + 4)),
        ));
        let mut p = base.clone();
        p.properties.correlation_data = Some(Bytes::from(vec![0; MAX_STRING_LEN + 1]));
        let too_long = EncodeError::FieldTooLong {
            field: "property",
            len: MAX_STRING_LEN + 1,
        };
        cases.push((p, Some(too_long)));
        // Lists of properties are valid, and written by the general encoder.
        let mut p = base.clone();
        let pair = (
            MqttString::new("k").expect("k"),
            MqttString::new("v").expect("v"),
        );
        p.properties.user_properties.push(pair);
        cases.push((p, None));
        let mut p = base.clone();
        p.properties.subscription_identifiers.push(NonZeroU32::MIN);
        cases.push((p, None));
        for (p, error) in cases {
            assert!(p.quick_measure(ProtocolVersion::V5).is_none(), "{p:?}");
            let written = general(&p, ProtocolVersion::V5);
            match error {
                Some(e) => assert_eq!(written, Err(e)),
                None => assert!(written.is_ok()),
            }
        }
    }
}
