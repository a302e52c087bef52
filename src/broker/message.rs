//! An application message as the broker holds it: received once, shared by every subscriber and
//! the retained store through an `Arc`, payload and strings as `Bytes` from the read buffer.
//!
//! Encoding it once for all subscribers ([`put_publish`]): most deliveries of a message differ
//! only in the first byte (QoS, RETAIN, DUP) and the packet identifier, so the part of the
//! PUBLISH before the payload (its *head*) is kept in the message once encoded ([`Heads`]) and
//! copied for the next subscriber, patched, followed by the shared payload. Deliveries whose
//! bytes depend on more than that ([`Message::shares_encoding`]) are encoded from
//! [`Message::to_publish`] each time.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use bytes::{Bytes, BytesMut};
use tokio::time::Instant;

use crate::protocol::{
    encode, encoded_len, MqttString, Packet, PacketId, ProtocolVersion, Publish, PublishProperties,
    QoS,
};
use crate::topic::TopicName;

/// A message on its way through the broker.
#[derive(Debug, Clone)]
pub struct Message {
    /// The topic (never empty: aliases are resolved on receipt).
    pub topic: TopicName,
    /// The payload.
    pub payload: bytes::Bytes,
    /// The QoS it was published with.
    pub qos: QoS,
    /// The RETAIN flag it was published with.
    pub retain: bool,
    /// Properties to forward: without Topic Alias and Subscription Identifiers, which are per
    /// connection, and with the expiry kept as a deadline instead.
    pub properties: PublishProperties,
    /// When the Message Expiry Interval runs out.
    pub expires_at: Option<Instant>,
    /// The publishing session, for No Local; 0 for the broker itself (`$SYS`, wills of gone
    /// sessions are still their session's).
    pub origin: u64,
    /// Who published it, for `check_retain_source`; kept for retained messages only, `None`
    /// for the broker's own messages and wills.
    pub publisher: Option<Publisher>,
    /// Its encoded PUBLISH heads, once a second subscriber needs one ([`put_publish`]).
    pub heads: Heads,
}

/// The client that published a message.
#[derive(Debug, Clone)]
pub struct Publisher {
    /// Its client identifier.
    pub client_id: Arc<str>,
    /// The user name it authenticated with.
    pub username: Option<Arc<str>>,
}

impl Message {
    /// Takes a received PUBLISH apart (its topic already resolved from any alias).
    pub fn from_publish(publish: Publish, topic: TopicName, origin: u64, now: Instant) -> Self {
        let mut properties = publish.properties;
        properties.topic_alias = None;
        properties.subscription_identifiers.clear();
        let expires_at = properties
            .message_expiry_interval
            .take()
            .map(|secs| now + std::time::Duration::from_secs(u64::from(secs)));
        Message {
            topic,
            payload: publish.payload,
            qos: publish.qos,
            retain: publish.retain,
            properties,
            expires_at,
            origin,
            publisher: None,
            heads: Heads::default(),
        }
    }

    /// The same message in memory of its own. Its topic, payload and properties were slices of
    /// the read buffer they arrived in, and would keep that whole chunk alive for as long as the
    /// message is kept: a retained message is kept until replaced.
    pub fn detached(&self) -> Message {
        let p = &self.properties;
        let properties = PublishProperties {
            response_topic: p.response_topic.as_ref().map(TopicName::detached),
            correlation_data: p.correlation_data.as_deref().map(Bytes::copy_from_slice),
            user_properties: (p.user_properties.iter())
                .map(|(k, v)| (k.detached(), v.detached()))
                .collect(),
            content_type: p.content_type.as_ref().map(MqttString::detached),
            ..p.clone()
        };
        Message {
            topic: self.topic.detached(),
            payload: Bytes::copy_from_slice(&self.payload),
            properties,
            ..self.clone()
        }
    }

    /// A message as a decoder leaves it: topic, payload and every string or binary property
    /// are slices of `chunk`, a read buffer.
    #[cfg(test)]
    pub(crate) fn sliced_from(chunk: &Bytes) -> Arc<Message> {
        let s = |range: std::ops::Range<usize>| MqttString::from_bytes(chunk.slice(range)).unwrap();
        Arc::new(Message {
            topic: TopicName::from_mqtt_string(s(0..5)).unwrap(),
            payload: chunk.slice(5..10),
            qos: QoS::AtLeastOnce,
            retain: true,
            properties: PublishProperties {
                content_type: Some(s(10..12)),
                correlation_data: Some(chunk.slice(12..14)),
                user_properties: vec![(s(14..16), s(16..18))],
                response_topic: Some(TopicName::from_mqtt_string(s(18..20)).unwrap()),
                ..PublishProperties::default()
            },
            expires_at: None,
            origin: 1,
            publisher: None,
            heads: Default::default(),
        })
    }

    /// Whether any of the message's topic, payload and properties points into `chunk`.
    #[cfg(test)]
    pub(crate) fn points_into(&self, chunk: &[u8]) -> bool {
        let p = &self.properties;
        let mut fields: Vec<&[u8]> = vec![self.topic.as_str().as_bytes(), &self.payload];
        fields.extend(p.content_type.iter().map(|s| s.as_str().as_bytes()));
        fields.extend(p.correlation_data.iter().map(|b| &b[..]));
        fields.extend(p.response_topic.iter().map(|t| t.as_str().as_bytes()));
        for (key, value) in &p.user_properties {
            fields.extend([key.as_str().as_bytes(), value.as_str().as_bytes()]);
        }
        let range = chunk.as_ptr_range();
        fields.iter().any(|f| range.contains(&f.as_ptr()))
    }

    /// Whether the message expired at `now` (5.0 §3.3.2.3.3).
    pub fn expired(&self, now: Instant) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// The PUBLISH that carries this message to one subscriber. The Message Expiry Interval is
    /// what is left of it [MQTT-3.3.2-6].
    pub fn to_publish(
        &self,
        qos: QoS,
        retain: bool,
        packet_id: Option<PacketId>,
        subscription_ids: &[NonZeroU32],
        now: Instant,
    ) -> Publish {
        let mut properties = self.properties.clone();
        properties.subscription_identifiers = subscription_ids.to_vec();
        properties.message_expiry_interval = self
            .expires_at
            .map(|at| at.saturating_duration_since(now).as_secs().max(1) as u32);
        Publish {
            dup: false,
            qos,
            retain,
            topic: self.topic.clone(),
            packet_id,
            payload: self.payload.clone(),
            properties,
        }
    }

    /// Whether a delivery to a `version` client with these Subscription Identifiers is the same
    /// PUBLISH for every such subscriber but for its [`Framing`]. 3.1 and 3.1.1 carry no
    /// properties; a 5.0 PUBLISH does not when it carries Subscription Identifiers, or a Message
    /// Expiry Interval (what is left of it depends on the time of delivery). Topic aliases and
    /// mount points are the connection's to rule out.
    pub fn shares_encoding(
        &self,
        version: ProtocolVersion,
        subscription_ids: &[NonZeroU32],
    ) -> bool {
        !version.is_v5() || (subscription_ids.is_empty() && self.expires_at.is_none())
    }
}

/// A message queued for one subscriber, with what its subscription decided.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The shared message.
    pub message: Arc<Message>,
    /// The QoS to deliver with ([`crate::broker::Config::delivery_qos`]).
    pub qos: QoS,
    /// The RETAIN flag to send.
    pub retain: bool,
    /// The matching subscriptions' identifiers.
    pub subscription_ids: Vec<NonZeroU32>,
    /// Its place in the session's send order, given when it is queued (also its key in the
    /// durable store).
    pub seq: u64,
    /// For a QoS 2 message to a persistent session: set once its record is durable. It is not
    /// sent before, so that after a crash the receiver's QoS 2 state never names a message the
    /// broker does not have (and would then take a new one for a duplicate).
    pub durable: Option<crate::broker::store::Durable>,
}

/// What one delivery decides about a message's PUBLISH when its encoding is shared
/// ([`Message::shares_encoding`]): everything that may differ between such subscribers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framing {
    /// The receiver's protocol version.
    pub version: ProtocolVersion,
    /// The QoS to deliver with.
    pub qos: QoS,
    /// The RETAIN flag to send.
    pub retain: bool,
    /// DUP: a resend.
    pub dup: bool,
    /// The packet identifier, present exactly when QoS > 0.
    pub packet_id: Option<PacketId>,
}

impl Framing {
    /// The PUBLISH this framing gives `message`, encoded by [`put_publish`].
    pub fn to_publish(self, message: &Message, now: Instant) -> Publish {
        let mut publish = message.to_publish(self.qos, self.retain, self.packet_id, &[], now);
        publish.dup = self.dup;
        publish
    }

    /// The log form of that PUBLISH ([`Publish::log_summary`]), without copying properties,
    /// which it does not show.
    pub fn log_summary(self, message: &Message) -> String {
        let publish = Publish {
            dup: self.dup,
            qos: self.qos,
            retain: self.retain,
            topic: message.topic.clone(),
            packet_id: self.packet_id,
            payload: message.payload.clone(),
            properties: PublishProperties::default(),
        };
        publish.log_summary(message.topic.as_str())
    }

    /// The first byte of the PUBLISH: type 3, DUP, QoS and RETAIN (§3.3.1).
    fn first_byte(self) -> u8 {
        0x30 | (u8::from(self.dup) << 3) | (self.qos.as_u8() << 1) | u8::from(self.retain)
    }
}

/// Appends `packet`, encoded for `version`, to `out` if it takes at most `max_len` bytes
/// [MQTT-3.1.2-25]. Returns whether it did; otherwise nothing was written.
pub(crate) fn encode_within(
    packet: &Packet,
    version: ProtocolVersion,
    max_len: usize,
    out: &mut BytesMut,
) -> bool {
    // Measured first: a packet too large for the receiver is never copied.
    encoded_len(packet, version).is_ok_and(|len| len <= max_len)
        && encode(packet, version, out).is_ok()
}

/// Appends to `out` the PUBLISH carrying `message` with `framing`, the same bytes as encoding
/// [`Framing::to_publish`], if it takes at most `max_len` bytes. Returns whether it did;
/// otherwise nothing was written.
///
/// The first delivery of a message in a shape is encoded as usual; the second one keeps the
/// encoded head; later ones copy it. A message delivered once costs no allocation, so
/// one-to-one traffic does not pay for the heads.
pub fn put_publish(
    message: &Message,
    framing: Framing,
    max_len: usize,
    now: Instant,
    out: &mut BytesMut,
) -> bool {
    match Shape::of(message, framing) {
        Some(shape) => message
            .heads
            .put(message, shape, framing, max_len, now, out),
        None => {
            let packet = Packet::Publish(framing.to_publish(message, now));
            encode_within(&packet, framing.version, max_len, out)
        }
    }
}

/// Heads larger than this are not kept: a message with such a head is encoded per delivery.
const MAX_HEAD: usize = 1024;

/// The part of the encoding a head is valid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shape {
    /// 5.0 (with a property block) rather than 3.1/3.1.1, whose PUBLISH is the same.
    v5: bool,
    /// With a packet identifier (QoS 1 and 2).
    with_id: bool,
}

impl Shape {
    /// The shape of a delivery that can use a head; `None` for the others (including framings
    /// that do not encode, which must fail as [`encode`] does).
    fn of(message: &Message, f: Framing) -> Option<Shape> {
        let with_id = f.packet_id.is_some();
        // A packet identifier exactly when QoS > 0 [MQTT-2.2.1-2]; DUP only then [MQTT-3.3.1-2].
        let valid = with_id == (f.qos != QoS::AtMostOnce) && (with_id || !f.dup);
        let v5 = f.version.is_v5();
        (valid && message.shares_encoding(f.version, &[])).then_some(Shape { v5, with_id })
    }

    fn index(self) -> usize {
        usize::from(self.v5) * 2 + usize::from(self.with_id)
    }
}

/// A message's encoded heads, one per [`Shape`], each kept from the second delivery in that
/// shape on. A clone starts empty: a cloned message may be changed before it is sent.
#[derive(Debug, Default)]
pub struct Heads {
    seen: [AtomicBool; 4],
    kept: [OnceLock<Head>; 4],
}

impl Clone for Heads {
    fn clone(&self) -> Self {
        Heads::default()
    }
}

impl Heads {
    fn put(
        &self,
        message: &Message,
        shape: Shape,
        framing: Framing,
        max_len: usize,
        now: Instant,
        out: &mut BytesMut,
    ) -> bool {
        let i = shape.index();
        if let Some(head) = self.kept[i].get() {
            return head.put(framing, &message.payload, max_len, out);
        }
        let start = out.len();
        let packet = Packet::Publish(framing.to_publish(message, now));
        if !encode_within(&packet, framing.version, max_len, out) {
            return false;
        }
        if self.seen[i].swap(true, Ordering::Relaxed) {
            let head = &out[start..out.len() - message.payload.len()];
            if head.len() <= MAX_HEAD {
                let _ = self.kept[i].set(Head::new(message, head));
            }
        }
        true
    }

    /// Whether a head is kept for deliveries like `f`.
    #[cfg(test)]
    fn keeps(&self, message: &Message, f: Framing) -> bool {
        Shape::of(message, f).is_some_and(|shape| self.kept[shape.index()].get().is_some())
    }
}

/// The encoded PUBLISH of one message up to its payload.
#[derive(Debug)]
struct Head {
    bytes: Box<[u8]>,
    /// Where the packet identifier is, when there is one.
    id_at: usize,
}

impl Head {
    fn new(message: &Message, bytes: &[u8]) -> Head {
        // First byte, Remaining Length (1 to 4 bytes, the last one below 0x80), topic field.
        let length_bytes = bytes[1..].iter().take_while(|b| **b & 0x80 != 0).count() + 1;
        Head {
            bytes: bytes.into(),
            id_at: 1 + length_bytes + 2 + message.topic.len(),
        }
    }

    fn put(&self, framing: Framing, payload: &[u8], max_len: usize, out: &mut BytesMut) -> bool {
        if self.bytes.len() + payload.len() > max_len {
            return false;
        }
        let start = out.len();
        out.reserve(self.bytes.len() + payload.len());
        out.extend_from_slice(&self.bytes);
        out.extend_from_slice(payload);
        out[start] = framing.first_byte();
        if let Some(id) = framing.packet_id {
            let at = start + self.id_at;
            out[at..at + 2].copy_from_slice(&id.get().to_be_bytes());
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{MqttString, PayloadFormat};

    fn message(properties: PublishProperties, expires_at: Option<Instant>) -> Arc<Message> {
        Arc::new(Message {
            topic: TopicName::new("sensors/kitchen/temp").unwrap(),
            payload: bytes::Bytes::from_static(b"21.5 degrees"),
            qos: QoS::ExactlyOnce,
            retain: true,
            properties,
            expires_at,
            origin: 7,
            publisher: None,
            heads: Heads::default(),
        })
    }

    fn with_properties() -> PublishProperties {
        let s = |v: &str| MqttString::new(v).unwrap();
        PublishProperties {
            payload_format_indicator: Some(PayloadFormat::Utf8),
            content_type: Some(s("text/plain")),
            response_topic: Some(TopicName::new("replies/kitchen").unwrap()),
            correlation_data: Some(bytes::Bytes::from_static(b"\x00\x01")),
            user_properties: vec![(s("unit"), s("celsius")), (s("unit"), s("kelvin"))],
            ..PublishProperties::default()
        }
    }

    /// Every framing a delivery can have: 3.1, 3.1.1 and 5.0, QoS 0/1/2, RETAIN, DUP on QoS > 0.
    fn framings(packet_id: u16) -> Vec<Framing> {
        let mut all = Vec::new();
        for version in [
            ProtocolVersion::V31,
            ProtocolVersion::V311,
            ProtocolVersion::V5,
        ] {
            for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
                let packet_id = (qos != QoS::AtMostOnce).then(|| PacketId::new(packet_id).unwrap());
                for (retain, dup) in [(false, false), (true, false), (false, true), (true, true)] {
                    if !(dup && qos == QoS::AtMostOnce) {
                        all.push(Framing {
                            version,
                            qos,
                            retain,
                            dup,
                            packet_id,
                        });
                    }
                }
            }
        }
        all
    }

    /// Today's bytes: the PUBLISH built for one subscriber, encoded.
    fn expected(message: &Message, f: Framing, now: Instant) -> BytesMut {
        let mut buf = BytesMut::new();
        encode(
            &Packet::Publish(f.to_publish(message, now)),
            f.version,
            &mut buf,
        )
        .unwrap();
        buf
    }

    /// Puts `message` with `f`, after something else in the buffer, and returns what it wrote.
    fn put(message: &Arc<Message>, f: Framing, max_len: usize, now: Instant) -> Option<BytesMut> {
        let mut buf = BytesMut::from(&b"before"[..]);
        let written = put_publish(message, f, max_len, now, &mut buf);
        assert_eq!(written, buf.len() > 6, "writes exactly when it says so");
        Some(buf.split_off(6)).filter(|_| written)
    }

    /// Whether `message` keeps a head for deliveries like `f`.
    fn kept(message: &Arc<Message>, f: Framing) -> bool {
        message.heads.keeps(message, f)
    }

    #[test]
    fn shared_bytes_equal_encoding_the_publish_for_every_framing() {
        let now = Instant::now();
        for properties in [PublishProperties::default(), with_properties()] {
            for f in framings(1) {
                let message = message(properties.clone(), None);
                // Seen, then kept, then copied: three deliveries, three ways, one result.
                for (delivery, packet_id) in [(1, 1), (2, 0x1234), (3, 0xFFFF), (4, 0x0100)] {
                    let f = Framing {
                        packet_id: f.packet_id.map(|_| PacketId::new(packet_id).unwrap()),
                        ..f
                    };
                    let got = put(&message, f, usize::MAX, now).unwrap();
                    assert_eq!(
                        got,
                        expected(&message, f, now),
                        "delivery {delivery}: {f:?}"
                    );
                }
                assert!(kept(&message, f), "{f:?}");
            }
        }
    }

    #[test]
    fn one_head_serves_every_qos_retain_and_dup_of_its_shape() {
        let now = Instant::now();
        let message = message(with_properties(), None);
        for f in framings(9)
            .into_iter()
            .chain(framings(300))
            .chain(framings(9))
        {
            assert_eq!(
                put(&message, f, usize::MAX, now).unwrap(),
                expected(&message, f, now)
            );
        }
    }

    #[test]
    fn a_kept_head_still_refuses_what_the_receiver_does_not_accept_mqtt_3_1_2_25() {
        let now = Instant::now();
        for f in framings(5) {
            let message = message(with_properties(), None);
            let len = expected(&message, f, now).len();
            for _ in 0..3 {
                assert_eq!(put(&message, f, len - 1, now), None, "{f:?}");
                assert_eq!(
                    put(&message, f, len, now).unwrap(),
                    expected(&message, f, now)
                );
            }
        }
    }

    #[test]
    fn deliveries_that_depend_on_the_subscriber_are_not_shared() {
        let now = Instant::now();
        let id = [NonZeroU32::new(3).unwrap()];
        let plain = message(PublishProperties::default(), None);
        let expiring = message(
            with_properties(),
            Some(now + std::time::Duration::from_secs(90)),
        );
        assert!(plain.shares_encoding(ProtocolVersion::V5, &[]));
        assert!(!plain.shares_encoding(ProtocolVersion::V5, &id));
        assert!(!expiring.shares_encoding(ProtocolVersion::V5, &[]));
        // 3.1.1 carries neither Subscription Identifiers nor the expiry.
        assert!(plain.shares_encoding(ProtocolVersion::V311, &id));
        assert!(expiring.shares_encoding(ProtocolVersion::V311, &[]));
        // The expiry left changes with the time of delivery: each one is encoded afresh.
        for (i, f) in framings(2)
            .into_iter()
            .filter(|f| f.version.is_v5())
            .enumerate()
        {
            for later in 0..4 {
                let at = now + std::time::Duration::from_secs(10 * (later + i as u64));
                let got = put(&expiring, f, usize::MAX, at).unwrap();
                assert_eq!(got, expected(&expiring, f, at), "{f:?}");
            }
            assert_eq!(Shape::of(&expiring, f), None);
        }
    }

    #[test]
    fn framings_that_cannot_be_encoded_are_refused_as_before() {
        let message = message(PublishProperties::default(), None);
        let now = Instant::now();
        let no_id = Framing {
            version: ProtocolVersion::V311,
            qos: QoS::AtLeastOnce,
            retain: false,
            dup: false,
            packet_id: None,
        };
        let dup_qos0 = Framing {
            qos: QoS::AtMostOnce,
            dup: true,
            ..no_id
        };
        for f in [no_id, dup_qos0] {
            for _ in 0..3 {
                assert_eq!(put(&message, f, usize::MAX, now), None, "{f:?}");
            }
        }
    }

    #[test]
    fn large_heads_are_not_kept() {
        let now = Instant::now();
        let mut properties = with_properties();
        properties.correlation_data = Some(vec![7; MAX_HEAD].into());
        let message = message(properties, None);
        let f = framings(1).into_iter().find(|f| f.version.is_v5()).unwrap();
        for _ in 0..3 {
            assert_eq!(
                put(&message, f, usize::MAX, now).unwrap(),
                expected(&message, f, now)
            );
        }
        assert!(!kept(&message, f));
    }

    #[test]
    fn log_summary_is_the_publishs() {
        let message = message(with_properties(), None);
        for f in framings(77) {
            let publish = f.to_publish(&message, Instant::now());
            assert_eq!(
                f.log_summary(&message),
                publish.log_summary(publish.topic.as_str())
            );
        }
    }
}
