//! Property-based round trips: every valid packet of every type, for MQTT 3.1, 3.1.1 and 5.0,
//! decodes to itself after encoding, with `encoded_len` predicting the size; and arbitrary bytes
//! never make the decoder panic, nor make it accept a packet the encoder cannot reproduce.
//!
//! The 3.1 / 3.1.1 strategies generate only what those versions can carry: no properties,
//! success reason codes, CONNACK codes that map to a return code, SUBACK codes 0x00–0x02 and
//! 0x80, UNSUBACK without codes.

use std::num::{NonZeroU16, NonZeroU32};

use bytes::{Bytes, BytesMut};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::Union;
use proptest::test_runner::TestCaseError;

use mqkit::protocol::{
    decode, encode, encoded_len, Ack, AckProperties, Auth, AuthProperties, ConnAck,
    ConnAckProperties, Connect, ConnectProperties, DecodeError, Disconnect, DisconnectProperties,
    LastWill, MqttString, Packet, PacketId, PacketType, PayloadFormat, ProtocolVersion, Publish,
    PublishProperties, QoS, ReasonCode, RetainHandling, SubAck, Subscribe, SubscribeProperties,
    Subscription, SubscriptionOptions, UnsubAck, Unsubscribe, WillProperties,
};
use mqkit::topic::TopicName;

use crate::malformed::frame;

const V31: ProtocolVersion = ProtocolVersion::V31;
const V311: ProtocolVersion = ProtocolVersion::V311;
const V5: ProtocolVersion = ProtocolVersion::V5;

type UserProperties = Vec<(MqttString, MqttString)>;

// ---------------------------------------------------------------------------------------------
// Fields
// ---------------------------------------------------------------------------------------------

/// A UTF-8 string, possibly empty, with some multi-byte characters.
fn string() -> impl Strategy<Value = MqttString> {
    "[a-zA-Z0-9/ _é€😀-]{0,20}".prop_map(|s| MqttString::new(&s).unwrap())
}

/// A valid, non-empty topic name: no `+`, no `#`.
fn topic() -> impl Strategy<Value = TopicName> {
    "[$]?[a-zA-Z0-9/ _é-]{1,20}".prop_map(|s| TopicName::new(&s).unwrap())
}

/// A topic filter as SUBSCRIBE carries it: any string, wildcards included, valid or not.
fn filter() -> impl Strategy<Value = MqttString> {
    prop_oneof![
        string(),
        "[a-z]{1,5}(/(\\+|#|[a-z]{1,5})){0,3}".prop_map(|s| MqttString::new(&s).unwrap()),
        Just(MqttString::new("$share/group/a/+").unwrap()),
    ]
}

fn binary(max: usize) -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

fn packet_id() -> impl Strategy<Value = PacketId> {
    (1..=u16::MAX).prop_map(|v| PacketId::new(v).unwrap())
}

fn qos() -> impl Strategy<Value = QoS> {
    select(vec![QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce])
}

fn user_properties() -> impl Strategy<Value = UserProperties> {
    vec((string(), string()), 0..3)
}

fn payload_format() -> impl Strategy<Value = PayloadFormat> {
    select(vec![PayloadFormat::Unspecified, PayloadFormat::Utf8])
}

fn nonzero_u16() -> impl Strategy<Value = NonZeroU16> {
    (1..=u16::MAX).prop_map(|v| NonZeroU16::new(v).unwrap())
}

fn nonzero_u32() -> impl Strategy<Value = NonZeroU32> {
    (1..=u32::MAX).prop_map(|v| NonZeroU32::new(v).unwrap())
}

/// A Subscription Identifier: 1 to 268,435,455 (§3.3.2.3.8).
fn subscription_id() -> impl Strategy<Value = NonZeroU32> {
    prop_oneof![
        1..=127u32,
        128..=16_383u32,
        16_384..=268_435_455u32,
        Just(268_435_455u32),
    ]
    .prop_map(|v| NonZeroU32::new(v).unwrap())
}

/// Every reason code the table of 5.0 §2.4 allows in `packet`.
fn reason_in(packet: PacketType) -> impl Strategy<Value = ReasonCode> {
    let allowed: Vec<ReasonCode> = (0..=u8::MAX)
        .filter_map(ReasonCode::from_u8)
        .filter(|c| c.allowed_in(packet))
        .collect();
    select(allowed)
}

/// `strategy` in 5.0, the default value before it.
fn v5_only<T: Default + Clone + std::fmt::Debug + 'static>(
    version: ProtocolVersion,
    strategy: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<T> {
    if version == V5 {
        strategy.boxed()
    } else {
        Just(T::default()).boxed()
    }
}

// ---------------------------------------------------------------------------------------------
// Properties (5.0)
// ---------------------------------------------------------------------------------------------

fn connect_properties() -> impl Strategy<Value = ConnectProperties> {
    (
        option::of(any::<u32>()),
        option::of(nonzero_u16()),
        option::of(nonzero_u32()),
        option::of(any::<u16>()),
        option::of(any::<bool>()),
        option::of(any::<bool>()),
        user_properties(),
        option::of(string()),
        option::of(binary(16)),
    )
        .prop_map(
            |(sei, rm, mps, tam, rri, rpi, up, method, data)| ConnectProperties {
                session_expiry_interval: sei,
                receive_maximum: rm,
                maximum_packet_size: mps,
                topic_alias_maximum: tam,
                request_response_information: rri,
                request_problem_information: rpi,
                user_properties: up,
                // Authentication Data needs an Authentication Method (§3.1.2.11.10).
                authentication_data: method.as_ref().and(data),
                authentication_method: method,
            },
        )
}

fn will_properties() -> impl Strategy<Value = WillProperties> {
    (
        option::of(any::<u32>()),
        option::of(payload_format()),
        option::of(any::<u32>()),
        option::of(string()),
        option::of(topic()),
        option::of(binary(16)),
        user_properties(),
    )
        .prop_map(|(delay, pfi, mei, ct, rt, cd, up)| WillProperties {
            will_delay_interval: delay,
            payload_format_indicator: pfi,
            message_expiry_interval: mei,
            content_type: ct,
            response_topic: rt,
            correlation_data: cd,
            user_properties: up,
        })
}

fn connack_properties() -> impl Strategy<Value = ConnAckProperties> {
    let first = (
        option::of(any::<u32>()),
        option::of(nonzero_u16()),
        option::of(select(vec![QoS::AtMostOnce, QoS::AtLeastOnce])),
        option::of(any::<bool>()),
        option::of(nonzero_u32()),
        option::of(string()),
        option::of(any::<u16>()),
        option::of(string()),
        user_properties(),
    );
    let second = (
        option::of(any::<bool>()),
        option::of(any::<bool>()),
        option::of(any::<bool>()),
        option::of(any::<u16>()),
        option::of(string()),
        option::of(string()),
        option::of(string()),
        option::of(binary(16)),
    );
    (first, second).prop_map(|(a, b)| ConnAckProperties {
        session_expiry_interval: a.0,
        receive_maximum: a.1,
        maximum_qos: a.2,
        retain_available: a.3,
        maximum_packet_size: a.4,
        assigned_client_identifier: a.5,
        topic_alias_maximum: a.6,
        reason_string: a.7,
        user_properties: a.8,
        wildcard_subscription_available: b.0,
        subscription_identifiers_available: b.1,
        shared_subscription_available: b.2,
        server_keep_alive: b.3,
        response_information: b.4,
        server_reference: b.5,
        authentication_method: b.6,
        authentication_data: b.7,
    })
}

fn publish_properties() -> impl Strategy<Value = PublishProperties> {
    (
        option::of(payload_format()),
        option::of(any::<u32>()),
        option::of(nonzero_u16()),
        option::of(topic()),
        option::of(binary(16)),
        user_properties(),
        vec(subscription_id(), 0..3),
        option::of(string()),
    )
        .prop_map(|(pfi, mei, alias, rt, cd, up, ids, ct)| PublishProperties {
            payload_format_indicator: pfi,
            message_expiry_interval: mei,
            topic_alias: alias,
            response_topic: rt,
            correlation_data: cd,
            user_properties: up,
            subscription_identifiers: ids,
            content_type: ct,
        })
}

fn ack_properties() -> impl Strategy<Value = AckProperties> {
    (option::of(string()), user_properties()).prop_map(|(reason_string, user_properties)| {
        AckProperties {
            reason_string,
            user_properties,
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Packets
// ---------------------------------------------------------------------------------------------

fn last_will(version: ProtocolVersion) -> impl Strategy<Value = LastWill> {
    (
        topic(),
        binary(32),
        qos(),
        any::<bool>(),
        v5_only(version, will_properties()),
    )
        .prop_map(|(topic, payload, qos, retain, properties)| LastWill {
            topic,
            payload,
            qos,
            retain,
            properties,
        })
}

fn connect(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    // A 3.1 / 3.1.1 connection may also see the other of the two (CONNECT carries its own).
    let versions = if version == V5 {
        vec![V5]
    } else {
        vec![V31, V311]
    };
    (
        select(versions),
        any::<bool>(),
        any::<u16>(),
        string(),
        option::of(last_will(version)),
        option::of(string()),
        option::of(binary(16)),
        v5_only(version, connect_properties()),
    )
        .prop_map(
            |(v, clean, keep_alive, id, will, username, password, properties)| {
                // 3.1 / 3.1.1: no password without a user name [MQTT-3.1.2-22].
                let password = if v == V5 || username.is_some() {
                    password
                } else {
                    None
                };
                Packet::Connect(Box::new(Connect {
                    version: v,
                    clean_start: clean,
                    keep_alive,
                    client_id: id,
                    will,
                    username,
                    password,
                    properties,
                }))
            },
        )
}

fn connack(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let codes = if version == V5 {
        reason_in(PacketType::ConnAck).boxed()
    } else {
        // The codes that stand for a 3.1.1 return code (§3.2.2.3).
        select(vec![
            ReasonCode::Success,
            ReasonCode::UnsupportedProtocolVersion,
            ReasonCode::ClientIdentifierNotValid,
            ReasonCode::ServerUnavailable,
            ReasonCode::BadUserNameOrPassword,
            ReasonCode::NotAuthorized,
        ])
        .boxed()
    };
    (any::<bool>(), codes, v5_only(version, connack_properties())).prop_map(
        |(session_present, reason_code, properties)| {
            Packet::ConnAck(ConnAck {
                // A refusal never claims a session [MQTT-3.2.2-6] (3.1.1: MQTT-3.2.2-4).
                session_present: session_present && !reason_code.is_error(),
                reason_code,
                properties,
            })
        },
    )
}

fn publish(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let payload = prop_oneof![4 => binary(64), 1 => binary(3000)];
    (
        qos(),
        any::<bool>(),
        any::<bool>(),
        topic(),
        any::<bool>(),
        packet_id(),
        payload,
        v5_only(version, publish_properties()),
    )
        .prop_map(
            |(qos, dup, retain, topic, use_alias, id, payload, properties)| {
                let has_id = qos != QoS::AtMostOnce;
                // 5.0: a Topic Alias may stand in for the topic name (§3.3.2.3.4).
                let topic = if use_alias && properties.topic_alias.is_some() {
                    TopicName::empty()
                } else {
                    topic
                };
                Packet::Publish(Publish {
                    dup: dup && has_id,
                    qos,
                    retain,
                    topic,
                    packet_id: has_id.then_some(id),
                    payload,
                    properties,
                })
            },
        )
}

fn ack(version: ProtocolVersion, packet: PacketType) -> impl Strategy<Value = Ack> {
    let reason = if version == V5 {
        reason_in(packet).boxed()
    } else {
        Just(ReasonCode::Success).boxed()
    };
    (packet_id(), reason, v5_only(version, ack_properties())).prop_map(
        |(packet_id, reason_code, properties)| Ack {
            packet_id,
            reason_code,
            properties,
        },
    )
}

fn subscription_options(version: ProtocolVersion) -> impl Strategy<Value = SubscriptionOptions> {
    let handling = select(vec![
        RetainHandling::SendAtSubscribe,
        RetainHandling::SendIfNew,
        RetainHandling::DoNotSend,
    ]);
    (qos(), any::<bool>(), any::<bool>(), handling).prop_map(move |(qos, nl, rap, rh)| {
        if version == V5 {
            SubscriptionOptions {
                qos,
                no_local: nl,
                retain_as_published: rap,
                retain_handling: rh,
            }
        } else {
            SubscriptionOptions {
                qos,
                ..SubscriptionOptions::default()
            }
        }
    })
}

fn subscribe(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let subscription = (filter(), subscription_options(version))
        .prop_map(|(filter, options)| Subscription { filter, options });
    let properties = (option::of(subscription_id()), user_properties()).prop_map(|(id, up)| {
        SubscribeProperties {
            subscription_identifier: id,
            user_properties: up,
        }
    });
    (
        packet_id(),
        vec(subscription, 1..4),
        v5_only(version, properties),
    )
        .prop_map(|(packet_id, subscriptions, properties)| {
            Packet::Subscribe(Subscribe {
                packet_id,
                subscriptions,
                properties,
            })
        })
}

fn suback(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let code = if version == V5 {
        reason_in(PacketType::SubAck).boxed()
    } else {
        // 3.1.1 §3.9.3: granted QoS 0, 1, 2 or failure 0x80.
        select(vec![
            ReasonCode::GRANTED_QOS_0,
            ReasonCode::GrantedQoS1,
            ReasonCode::GrantedQoS2,
            ReasonCode::UnspecifiedError,
        ])
        .boxed()
    };
    (
        packet_id(),
        vec(code, 1..5),
        v5_only(version, ack_properties()),
    )
        .prop_map(|(packet_id, reason_codes, properties)| {
            Packet::SubAck(SubAck {
                packet_id,
                reason_codes,
                properties,
            })
        })
}

fn unsubscribe(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    (
        packet_id(),
        vec(filter(), 1..4),
        v5_only(version, user_properties()),
    )
        .prop_map(|(packet_id, filters, user_properties)| {
            Packet::Unsubscribe(Unsubscribe {
                packet_id,
                filters,
                user_properties,
            })
        })
}

fn unsuback(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    // 3.1.1 UNSUBACK has no reason codes (§3.11).
    let codes = v5_only(version, vec(reason_in(PacketType::UnsubAck), 1..5));
    (packet_id(), codes, v5_only(version, ack_properties())).prop_map(
        |(packet_id, reason_codes, properties)| {
            Packet::UnsubAck(UnsubAck {
                packet_id,
                reason_codes,
                properties,
            })
        },
    )
}

fn disconnect(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let properties = (
        option::of(any::<u32>()),
        option::of(string()),
        user_properties(),
        option::of(string()),
    )
        .prop_map(|(sei, rs, up, sr)| DisconnectProperties {
            session_expiry_interval: sei,
            reason_string: rs,
            user_properties: up,
            server_reference: sr,
        });
    let reason = v5_only(version, reason_in(PacketType::Disconnect));
    (reason, v5_only(version, properties)).prop_map(|(reason_code, properties)| {
        Packet::Disconnect(Disconnect {
            reason_code,
            properties,
        })
    })
}

fn auth() -> impl Strategy<Value = Packet> {
    let properties = (
        option::of(string()),
        option::of(binary(16)),
        option::of(string()),
        user_properties(),
    )
        .prop_map(|(method, data, rs, up)| AuthProperties {
            authentication_method: method,
            authentication_data: data,
            reason_string: rs,
            user_properties: up,
        });
    (reason_in(PacketType::Auth), properties).prop_map(|(reason_code, properties)| {
        Packet::Auth(Auth {
            reason_code,
            properties,
        })
    })
}

/// An arbitrary valid packet of any type `version` has.
fn packet(version: ProtocolVersion) -> BoxedStrategy<Packet> {
    let ack_of = |t: PacketType, wrap: fn(Ack) -> Packet| ack(version, t).prop_map(wrap).boxed();
    let mut all = vec![
        connect(version).boxed(),
        connack(version).boxed(),
        publish(version).boxed(),
        ack_of(PacketType::PubAck, Packet::PubAck),
        ack_of(PacketType::PubRec, Packet::PubRec),
        ack_of(PacketType::PubRel, Packet::PubRel),
        ack_of(PacketType::PubComp, Packet::PubComp),
        subscribe(version).boxed(),
        suback(version).boxed(),
        unsubscribe(version).boxed(),
        unsuback(version).boxed(),
        Just(Packet::PingReq).boxed(),
        Just(Packet::PingResp).boxed(),
        disconnect(version).boxed(),
    ];
    if version == V5 {
        all.push(auth().boxed());
    }
    Union::new(all).boxed()
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

/// Encodes `packet`, failing the case on an encoder error.
fn encoded(packet: &Packet, version: ProtocolVersion) -> Result<BytesMut, TestCaseError> {
    let mut out = BytesMut::new();
    encode(packet, version, &mut out)
        .map_err(|e| TestCaseError::fail(format!("encode {packet:?} for {version}: {e}")))?;
    prop_assert_eq!(encoded_len(packet, version), Ok(out.len()));
    Ok(out)
}

/// `decode(encode(packet)) == packet`, with exactly the encoded bytes consumed; the packet's
/// own size is also the smallest maximum packet size that admits it.
fn round_trip(packet: &Packet, version: ProtocolVersion) -> Result<(), TestCaseError> {
    let bytes = encoded(packet, version)?;
    let size = bytes.len();
    let mut buf = bytes.clone();
    prop_assert_eq!(decode(&mut buf, version, size), Ok(Some(packet.clone())));
    prop_assert!(buf.is_empty());
    let mut buf = bytes;
    let too_small = decode(&mut buf, version, size - 1);
    let expected = DecodeError::PacketTooLarge {
        size,
        max: size - 1,
    };
    prop_assert_eq!(too_small, Err(expected));
    Ok(())
}

/// Decodes everything in `bytes`: never a panic; "need more" leaves the buffer alone; each
/// packet takes its bytes from the front; and each packet the decoder accepts, the encoder
/// reproduces and the decoder reads back as the same packet.
fn decode_all(bytes: &[u8], version: ProtocolVersion, max: usize) -> Result<(), TestCaseError> {
    let mut buf = BytesMut::from(bytes);
    loop {
        let before = buf.clone();
        match decode(&mut buf, version, max) {
            Ok(None) => {
                prop_assert_eq!(&buf[..], &before[..]);
                return Ok(());
            }
            Err(e) => {
                // Every error has a reason code and a message.
                let _ = e.reason_code();
                prop_assert!(!e.to_string().is_empty());
                return Ok(());
            }
            Ok(Some(packet)) => {
                let consumed = before.len() - buf.len();
                prop_assert!(consumed > 0 && consumed <= max);
                prop_assert_eq!(&before[consumed..], &buf[..]);
                let mut again = encoded(&packet, version)?;
                let reread = decode(&mut again, version, usize::MAX);
                prop_assert_eq!(
                    reread,
                    Ok(Some(packet)),
                    "from {:02X?}",
                    &before[..consumed]
                );
                prop_assert!(again.is_empty());
            }
        }
    }
}

/// A random body in which small bytes are common, so that length prefixes (00 01, 00 02...)
/// often fit the body and decoding gets past them.
fn body() -> impl Strategy<Value = Vec<u8>> {
    vec(prop_oneof![any::<u8>(), 0..4u8], 0..48)
}

/// Maximum packet sizes the fuzz tests try.
const MAX_SIZES: [usize; 5] = [0, 2, 16, 128, usize::MAX];

/// One change to a valid packet's bytes.
#[derive(Debug, Clone)]
enum Mutation {
    /// Overwrite a byte.
    Set(prop::sample::Index, u8),
    /// Flip one bit.
    Flip(prop::sample::Index, u8),
    /// Cut the body short, and fix the remaining length to match.
    Truncate(prop::sample::Index),
    /// Insert a byte into the body, and fix the remaining length to match.
    Insert(prop::sample::Index, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<prop::sample::Index>(), 0..8u8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<prop::sample::Index>().prop_map(Mutation::Truncate),
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
    ]
}

/// The first byte and the body of a packet (its remaining length skipped here, not decoded;
/// an earlier mutation may have broken it, so no byte counts are trusted).
fn split(bytes: &[u8]) -> (u8, Vec<u8>) {
    let header = 2 + bytes[1..].iter().take_while(|&&b| b & 0x80 != 0).count();
    (bytes[0], bytes.get(header..).unwrap_or_default().to_vec())
}

fn mutate(bytes: &[u8], m: &Mutation) -> Vec<u8> {
    let mut bytes = bytes.to_vec();
    match m {
        Mutation::Set(i, b) => {
            let i = i.index(bytes.len());
            bytes[i] = *b;
            bytes
        }
        Mutation::Flip(i, bit) => {
            let i = i.index(bytes.len());
            bytes[i] ^= 1 << bit;
            bytes
        }
        Mutation::Truncate(i) => {
            let (first, mut body) = split(&bytes);
            body.truncate(i.index(body.len() + 1));
            frame(first, &body)
        }
        Mutation::Insert(i, b) => {
            let (first, mut body) = split(&bytes);
            body.insert(i.index(body.len() + 1), *b);
            frame(first, &body)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

/// Unwraps a property check outside `proptest!`.
#[track_caller]
fn check(result: Result<(), TestCaseError>) {
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn connack_refusal_claiming_a_session_decodes_to_what_reencodes_mqtt_3_2_2_6() {
    // A server MUST NOT set Session Present with a non-zero code [MQTT-3.2.2-6] (3.1.1:
    // MQTT-3.2.2-4), and the encoder clears it. Whatever the decoder makes of one that does
    // (refuse it, or clear the flag), the result must survive encode + decode unchanged.
    // 3.1.1: session present, return code 5 (not authorized).
    check(decode_all(&[0x20, 0x02, 0x01, 0x05], V311, usize::MAX));
    // 5.0: session present, reason 0x87 (not authorized), property length 0.
    check(decode_all(&[0x20, 0x03, 0x01, 0x87, 0x00], V5, usize::MAX));
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_valid_v311_packet_round_trips(p in packet(V311)) {
        round_trip(&p, V311)?;
    }

    #[test]
    fn every_valid_v31_packet_round_trips(p in packet(V31)) {
        round_trip(&p, V31)?;
    }

    #[test]
    fn every_valid_v5_packet_round_trips(p in packet(V5)) {
        round_trip(&p, V5)?;
    }

    #[test]
    fn valid_packets_back_to_back_round_trip(
        v311 in vec(packet(V311), 1..5),
        v5 in vec(packet(V5), 1..5),
    ) {
        for (version, packets) in [(V311, v311), (V5, v5)] {
            let mut buf = BytesMut::new();
            for p in &packets {
                buf.extend_from_slice(&encoded(p, version)?);
            }
            for p in packets {
                prop_assert_eq!(decode(&mut buf, version, usize::MAX), Ok(Some(p)));
            }
            prop_assert!(buf.is_empty());
        }
    }

    #[test]
    fn mutated_valid_packets_never_panic_and_reencode(
        v311 in packet(V311),
        v5 in packet(V5),
        mutations in vec(mutation(), 1..3),
    ) {
        for (version, p) in [(V311, v311), (V5, v5)] {
            let mut bytes = encoded(&p, version)?.to_vec();
            for m in &mutations {
                bytes = mutate(&bytes, m);
            }
            decode_all(&bytes, version, usize::MAX)?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 5000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_bytes_never_panic_and_what_decodes_reencodes(bytes in vec(any::<u8>(), 0..300)) {
        for version in [V311, V5] {
            for max in MAX_SIZES {
                decode_all(&bytes, version, max)?;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 500,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Behind a plausible fixed header (every first byte, a remaining length that matches the
    /// body) the decoder reaches each packet's body parser with random bytes.
    #[test]
    fn random_bodies_behind_every_first_byte_never_panic(body in body()) {
        for first in 0..=u8::MAX {
            let bytes = frame(first, &body);
            for version in [V311, V5] {
                decode_all(&bytes, version, usize::MAX)?;
            }
        }
    }
}
