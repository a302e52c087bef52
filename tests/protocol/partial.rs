//! Partial input: a read buffer rarely holds exactly one packet. Every strict prefix of a packet
//! is "need more bytes" (`Ok(None)`) and leaves the buffer as it was; a whole packet decodes and
//! takes exactly its own bytes; packets back to back come out one by one, however the bytes
//! arrive.

use std::num::{NonZeroU16, NonZeroU32};

use bytes::{Bytes, BytesMut};
use mqkit::protocol::{
    decode, encode, Ack, AckProperties, Auth, AuthProperties, ConnAck, ConnAckProperties, Connect,
    ConnectProperties, Disconnect, DisconnectProperties, LastWill, MqttString, Packet, PacketId,
    PayloadFormat, ProtocolVersion, Publish, PublishProperties, QoS, ReasonCode, RetainHandling,
    SubAck, Subscribe, SubscribeProperties, Subscription, SubscriptionOptions, UnsubAck,
    Unsubscribe, WillProperties,
};
use mqkit::topic::TopicName;

const V3: ProtocolVersion = ProtocolVersion::V311;
const V5: ProtocolVersion = ProtocolVersion::V5;
const MAX: usize = 1 << 20;

fn string(s: &str) -> MqttString {
    MqttString::new(s).unwrap()
}

fn topic(s: &str) -> TopicName {
    TopicName::new(s).unwrap()
}

fn id(value: u16) -> PacketId {
    PacketId::new(value).unwrap()
}

fn user_properties() -> Vec<(MqttString, MqttString)> {
    vec![(string("k"), string("v1")), (string("k"), string("v2"))]
}

fn connect(version: ProtocolVersion) -> Packet {
    let v5 = version == V5;
    let mut c = Connect::new(version, string("partial-client"));
    c.keep_alive = 30;
    c.username = Some(string("user"));
    c.password = Some(Bytes::from_static(b"secret"));
    c.will = Some(LastWill {
        topic: topic("clients/partial/state"),
        payload: Bytes::from_static(b"offline"),
        qos: QoS::AtLeastOnce,
        retain: true,
        properties: if v5 {
            WillProperties {
                will_delay_interval: Some(5),
                payload_format_indicator: Some(PayloadFormat::Utf8),
                message_expiry_interval: Some(3600),
                content_type: Some(string("text/plain")),
                response_topic: Some(topic("replies")),
                correlation_data: Some(Bytes::from_static(b"\x00\x01")),
                user_properties: user_properties(),
            }
        } else {
            WillProperties::default()
        },
    });
    if v5 {
        c.properties = ConnectProperties {
            session_expiry_interval: Some(120),
            receive_maximum: NonZeroU16::new(20),
            maximum_packet_size: NonZeroU32::new(1 << 20),
            topic_alias_maximum: Some(10),
            request_response_information: Some(true),
            request_problem_information: Some(false),
            user_properties: user_properties(),
            authentication_method: Some(string("SCRAM-SHA-1")),
            authentication_data: Some(Bytes::from_static(b"client-first")),
        };
    }
    Packet::Connect(Box::new(c))
}

fn connack(version: ProtocolVersion) -> Packet {
    let mut c = ConnAck::new(ReasonCode::Success, true);
    if version == V5 {
        c.properties = ConnAckProperties {
            session_expiry_interval: Some(60),
            receive_maximum: NonZeroU16::new(100),
            maximum_qos: Some(QoS::AtLeastOnce),
            retain_available: Some(false),
            maximum_packet_size: NonZeroU32::new(65_536),
            assigned_client_identifier: Some(string("auto-1")),
            topic_alias_maximum: Some(5),
            reason_string: Some(string("welcome")),
            user_properties: user_properties(),
            server_keep_alive: Some(45),
            ..ConnAckProperties::default()
        };
    }
    Packet::ConnAck(c)
}

/// A PUBLISH with `payload_len` bytes of payload; 5.0 adds properties.
fn publish(version: ProtocolVersion, qos: QoS, payload_len: usize) -> Packet {
    let payload: Vec<u8> = (0..payload_len).map(|i| (i % 251) as u8).collect();
    let mut p = Publish::new(topic("sensors/kitchen/temperature"), payload);
    p.qos = qos;
    p.packet_id = (qos != QoS::AtMostOnce).then(|| id(7));
    p.retain = qos == QoS::AtMostOnce;
    if version == V5 {
        p.properties = PublishProperties {
            payload_format_indicator: Some(PayloadFormat::Unspecified),
            message_expiry_interval: Some(30),
            topic_alias: NonZeroU16::new(3),
            response_topic: Some(topic("replies/kitchen")),
            correlation_data: Some(Bytes::from_static(b"corr")),
            user_properties: user_properties(),
            subscription_identifiers: vec![
                NonZeroU32::new(1).unwrap(),
                NonZeroU32::new(300).unwrap(),
            ],
            content_type: Some(string("application/octet-stream")),
        };
    }
    Packet::Publish(p)
}

fn ack(version: ProtocolVersion, reason: ReasonCode) -> Ack {
    let mut a = Ack::new(id(7));
    if version == V5 {
        a.reason_code = reason;
        a.properties = AckProperties {
            reason_string: Some(string("because")),
            user_properties: user_properties(),
        };
    }
    a
}

fn subscribe(version: ProtocolVersion) -> Packet {
    let v5 = version == V5;
    let options = SubscriptionOptions {
        qos: QoS::ExactlyOnce,
        no_local: v5,
        retain_as_published: v5,
        retain_handling: if v5 {
            RetainHandling::SendIfNew
        } else {
            RetainHandling::SendAtSubscribe
        },
    };
    Packet::Subscribe(Subscribe {
        packet_id: id(8),
        subscriptions: vec![
            Subscription {
                filter: string("sensors/+/temperature"),
                options,
            },
            Subscription {
                filter: string("alerts/#"),
                options: SubscriptionOptions::default(),
            },
        ],
        properties: if v5 {
            SubscribeProperties {
                subscription_identifier: NonZeroU32::new(268_435_455),
                user_properties: user_properties(),
            }
        } else {
            SubscribeProperties::default()
        },
    })
}

fn suback(version: ProtocolVersion) -> Packet {
    let v5 = version == V5;
    Packet::SubAck(SubAck {
        packet_id: id(8),
        reason_codes: vec![ReasonCode::GrantedQoS2, ReasonCode::UnspecifiedError],
        properties: if v5 {
            ack(version, ReasonCode::Success).properties
        } else {
            AckProperties::default()
        },
    })
}

fn unsubscribe(version: ProtocolVersion) -> Packet {
    Packet::Unsubscribe(Unsubscribe {
        packet_id: id(9),
        filters: vec![string("sensors/+/temperature"), string("alerts/#")],
        user_properties: if version == V5 {
            user_properties()
        } else {
            Vec::new()
        },
    })
}

fn unsuback(version: ProtocolVersion) -> Packet {
    let v5 = version == V5;
    Packet::UnsubAck(UnsubAck {
        packet_id: id(9),
        reason_codes: if v5 {
            vec![ReasonCode::Success, ReasonCode::NoSubscriptionExisted]
        } else {
            Vec::new()
        },
        properties: if v5 {
            ack(version, ReasonCode::Success).properties
        } else {
            AckProperties::default()
        },
    })
}

fn disconnect(version: ProtocolVersion) -> Packet {
    if version != V5 {
        return Packet::Disconnect(Disconnect::default());
    }
    Packet::Disconnect(Disconnect {
        reason_code: ReasonCode::DisconnectWithWillMessage,
        properties: DisconnectProperties {
            session_expiry_interval: Some(0),
            reason_string: Some(string("bye")),
            user_properties: user_properties(),
            server_reference: None,
        },
    })
}

fn auth() -> Packet {
    Packet::Auth(Auth {
        reason_code: ReasonCode::ContinueAuthentication,
        properties: AuthProperties {
            authentication_method: Some(string("SCRAM-SHA-1")),
            authentication_data: Some(Bytes::from_static(b"server-first")),
            reason_string: None,
            user_properties: user_properties(),
        },
    })
}

/// A representative valid packet of every type `version` has, including PUBLISHes whose
/// remaining length takes one, two and three bytes.
fn packets(version: ProtocolVersion) -> Vec<Packet> {
    let mut all = vec![
        connect(version),
        connack(version),
        publish(version, QoS::AtMostOnce, 5),
        publish(version, QoS::AtLeastOnce, 200),
        publish(version, QoS::ExactlyOnce, 20_000),
        Packet::PubAck(ack(version, ReasonCode::NoMatchingSubscribers)),
        Packet::PubRec(ack(version, ReasonCode::QuotaExceeded)),
        Packet::PubRel(ack(version, ReasonCode::PacketIdentifierNotFound)),
        Packet::PubComp(ack(version, ReasonCode::Success)),
        // The 5.0 short forms: reason code and properties left off (§3.4.2.1, §3.14.2.1).
        Packet::PubAck(Ack::new(id(1))),
        Packet::Disconnect(Disconnect::default()),
        subscribe(version),
        suback(version),
        unsubscribe(version),
        unsuback(version),
        Packet::PingReq,
        Packet::PingResp,
        disconnect(version),
    ];
    if version == V5 {
        all.push(auth());
    }
    all
}

fn encoded(packet: &Packet, version: ProtocolVersion) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode(packet, version, &mut out).unwrap();
    out.to_vec()
}

/// How many bytes the remaining length of `bytes` takes (read here, not by the codec).
fn remaining_length_bytes(bytes: &[u8]) -> usize {
    1 + bytes[1..].iter().take_while(|&&b| b & 0x80 != 0).count()
}

#[test]
fn the_publish_samples_need_one_two_and_three_length_bytes() {
    for version in [V3, V5] {
        let sizes: Vec<usize> = [5, 200, 20_000]
            .into_iter()
            .map(|len| publish(version, QoS::AtLeastOnce, len))
            .map(|p| remaining_length_bytes(&encoded(&p, version)))
            .collect();
        assert_eq!(sizes, [1, 2, 3], "MQTT {version}");
    }
}

#[test]
fn an_empty_buffer_needs_more_bytes() {
    for version in [V3, V5] {
        let mut buf = BytesMut::new();
        assert_eq!(decode(&mut buf, version, MAX), Ok(None));
    }
}

#[test]
fn every_strict_prefix_needs_more_bytes_and_is_left_intact() {
    for version in [V3, V5] {
        for packet in packets(version) {
            let bytes = encoded(&packet, version);
            for n in 0..bytes.len() {
                let mut buf = BytesMut::from(&bytes[..n]);
                let result = decode(&mut buf, version, MAX);
                assert_eq!(
                    result,
                    Ok(None),
                    "MQTT {version}: {} prefix of {n}/{} bytes",
                    packet.packet_type(),
                    bytes.len()
                );
                assert_eq!(&buf[..], &bytes[..n], "buffer changed");
            }
        }
    }
}

#[test]
fn the_whole_packet_decodes_and_takes_exactly_its_bytes() {
    for version in [V3, V5] {
        for packet in packets(version) {
            let bytes = encoded(&packet, version);
            let mut buf = BytesMut::from(&bytes[..]);
            assert_eq!(
                decode(&mut buf, version, MAX),
                Ok(Some(packet)),
                "MQTT {version}"
            );
            assert!(buf.is_empty());
        }
    }
}

#[test]
fn packets_back_to_back_decode_one_after_another() {
    for version in [V3, V5] {
        let all = packets(version);
        let stream: Vec<u8> = all.iter().flat_map(|p| encoded(p, version)).collect();
        let mut buf = BytesMut::from(&stream[..]);
        for expected in &all {
            let before = buf.len();
            let packet = decode(&mut buf, version, MAX).unwrap();
            assert_eq!(packet.as_ref(), Some(expected), "MQTT {version}");
            assert_eq!(before - buf.len(), encoded(expected, version).len());
        }
        assert!(buf.is_empty());
        assert_eq!(decode(&mut buf, version, MAX), Ok(None));
    }
}

#[test]
fn packets_back_to_back_decode_when_fed_one_byte_at_a_time() {
    for version in [V3, V5] {
        let all = packets(version);
        // Where each packet ends in the stream.
        let mut ends = Vec::new();
        let mut stream = Vec::new();
        for packet in &all {
            stream.extend(encoded(packet, version));
            ends.push(stream.len());
        }
        let mut buf = BytesMut::new();
        let mut decoded = Vec::new();
        for (i, &byte) in stream.iter().enumerate() {
            buf.extend_from_slice(&[byte]);
            while let Some(packet) = decode(&mut buf, version, MAX).unwrap() {
                decoded.push(packet);
            }
            // A packet comes out exactly when its last byte arrives, not before, not after.
            let complete = ends.iter().filter(|&&end| end <= i + 1).count();
            assert_eq!(decoded.len(), complete, "MQTT {version}: after byte {i}");
            let start = ends[..complete].last().copied().unwrap_or(0);
            assert_eq!(
                &buf[..],
                &stream[start..=i],
                "MQTT {version}: after byte {i}"
            );
        }
        assert_eq!(decoded, all, "MQTT {version}");
        assert!(buf.is_empty());
    }
}

#[test]
fn a_packet_followed_by_half_of_another_leaves_exactly_the_half() {
    for version in [V3, V5] {
        let all = packets(version);
        for (first, second) in all.iter().zip(all.iter().cycle().skip(1)) {
            let next = encoded(second, version);
            let half = &next[..next.len() / 2];
            let mut buf = BytesMut::from(&encoded(first, version)[..]);
            buf.extend_from_slice(half);
            assert_eq!(
                decode(&mut buf, version, MAX).unwrap().as_ref(),
                Some(first)
            );
            assert_eq!(
                &buf[..],
                half,
                "MQTT {version}: after {}",
                first.packet_type()
            );
            assert_eq!(decode(&mut buf, version, MAX), Ok(None));
            assert_eq!(&buf[..], half);
        }
    }
}

/// 3.1.1 PUBLISH, written by hand.
const PUBLISH_V311: &[u8] = &[
    0x32, 0x09, // PUBLISH, QoS 1; remaining length 9
    0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
    0x00, 0x0A, // packet id 10
    b'h', b'i', // payload
];

/// 5.0 PUBACK with a reason code and a property, written by hand.
const PUBACK_V5: &[u8] = &[
    0x40, 0x09, // PUBACK; remaining length 9
    0x00, 0x01, // packet id 1
    0x10, // reason: No matching subscribers
    0x05, // property length 5
    0x1F, 0x00, 0x02, b'n', b'o', // Reason String "no"
];

/// 5.0 CONNECT with one property, written by hand.
const CONNECT_V5: &[u8] = &[
    0x10, 0x13, // CONNECT; remaining length 19
    0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name
    0x05, // protocol level 5
    0x02, // flags: clean start
    0x00, 0x3C, // keep alive 60
    0x05, // property length 5
    0x11, 0x00, 0x00, 0x00, 0x0A, // Session Expiry Interval 10
    0x00, 0x01, b'c', // client id "c"
];

/// 3.1.1 SUBSCRIBE, written by hand.
const SUBSCRIBE_V311: &[u8] = &[
    0x82, 0x08, // SUBSCRIBE; remaining length 8
    0x00, 0x02, // packet id 2
    0x00, 0x03, b'a', b'/', b'#', // filter "a/#"
    0x01, // options: QoS 1
];

#[test]
fn prefixes_of_hand_written_packets_need_more_bytes() {
    // Independent of the encoder.
    let cases = [
        (V3, PUBLISH_V311),
        (V5, PUBACK_V5),
        (V5, CONNECT_V5),
        (V3, SUBSCRIBE_V311),
    ];
    for (version, bytes) in cases {
        for n in 0..bytes.len() {
            let mut buf = BytesMut::from(&bytes[..n]);
            assert_eq!(
                decode(&mut buf, version, MAX),
                Ok(None),
                "{bytes:02X?} at {n}"
            );
            assert_eq!(&buf[..], &bytes[..n]);
        }
        let mut buf = BytesMut::from(bytes);
        assert!(
            decode(&mut buf, version, MAX).unwrap().is_some(),
            "{bytes:02X?}"
        );
        assert!(buf.is_empty());
    }
}
