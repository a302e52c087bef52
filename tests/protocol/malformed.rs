//! Malformed input: every way the bytes of a packet can break the specification, each mapped to
//! the exact [`DecodeError`] and to the reason code a receiver sends for it (0x81 Malformed
//! Packet, 0x82 Protocol Error, 0x84, 0x90, 0x94, 0x95); and the packets the encoder refuses to
//! write.
//!
//! Bytes are written by hand. The builders below ([`frame`], [`field`], [`props`], one per
//! packet) only add length prefixes, computed here rather than by the codec, and fixed fields,
//! so that each row shows the field under test. Statement numbers are MQTT 5.0's unless marked;
//! 3.1.1 numbers are given where they differ.

use std::num::{NonZeroU16, NonZeroU32};

use bytes::{Bytes, BytesMut};
use mqkit::protocol::{
    decode, encode, encoded_len, Ack, Auth, AuthProperties, ConnAck, Connect, DecodeError,
    EncodeError, LastWill, MqttString, Packet, PacketId, PacketType, ProtocolVersion, Publish, QoS,
    ReasonCode, StringError, Subscribe, SubscribeProperties, Unsubscribe, WillProperties,
};
use mqkit::topic::TopicName;

use DecodeError as E;
use PacketType as T;

const V31: ProtocolVersion = ProtocolVersion::V31;
const V3: ProtocolVersion = ProtocolVersion::V311;
const V5: ProtocolVersion = ProtocolVersion::V5;
/// 3.1.1 and 5.0.
const BOTH: [ProtocolVersion; 2] = [V3, V5];
const MAX: usize = 1 << 20;

const MALFORMED: u8 = 0x81;
const PROTOCOL_ERROR: u8 = 0x82;
const UNSUPPORTED_VERSION: u8 = 0x84;
const TOPIC_NAME_INVALID: u8 = 0x90;
const TOPIC_ALIAS_INVALID: u8 = 0x94;
const PACKET_TOO_LARGE: u8 = 0x95;

/// Asserts that `bytes` fail to decode with `version` as `expected`, whose reason code is `code`.
#[track_caller]
fn rejects(version: ProtocolVersion, bytes: &[u8], expected: DecodeError, code: u8) {
    let mut buf = BytesMut::from(bytes);
    let result = decode(&mut buf, version, MAX);
    assert_eq!(result, Err(expected), "MQTT {version}: {bytes:02X?}");
    let reason = result.unwrap_err().reason_code().as_u8();
    assert_eq!(reason, code, "reason code, MQTT {version}: {bytes:02X?}");
}

/// Decodes one whole packet that must be valid.
#[track_caller]
fn accepts(version: ProtocolVersion, bytes: &[u8]) -> Packet {
    let mut buf = BytesMut::from(bytes);
    let packet = decode(&mut buf, version, MAX);
    let packet = packet.unwrap_or_else(|e| panic!("MQTT {version}: {bytes:02X?}: {e}"));
    assert!(
        buf.is_empty(),
        "MQTT {version}: {bytes:02X?} left {buf:02X?}"
    );
    packet.expect("a whole packet")
}

// ---------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------

/// The parts, one after the other.
fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// A packet: `first` byte, remaining length as a variable byte integer (§1.5.5), `body`.
pub(crate) fn frame(first: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![first];
    let mut len = body.len();
    loop {
        let byte = (len % 128) as u8;
        len /= 128;
        out.push(if len > 0 { byte | 0x80 } else { byte });
        if len == 0 {
            break;
        }
    }
    out.extend_from_slice(body);
    out
}

/// A UTF-8 string or binary field: two-byte length, then the bytes (§1.5.4, §1.5.6).
fn field(bytes: &[u8]) -> Vec<u8> {
    let len = u16::try_from(bytes.len()).unwrap();
    cat(&[&len.to_be_bytes(), bytes])
}

/// A 5.0 property block: the property length (one byte here: tests stay under 128), then `p`.
fn props(p: &[u8]) -> Vec<u8> {
    assert!(p.len() < 128, "one-byte property length");
    cat(&[&[p.len() as u8], p])
}

/// The 5.0 property block `props(p)`, or nothing before 5.0.
fn props_if_v5(version: ProtocolVersion, p: &[u8]) -> Vec<u8> {
    if version == V5 {
        props(p)
    } else {
        Vec::new()
    }
}

/// The protocol level CONNECT carries for `version`.
fn level(version: ProtocolVersion) -> u8 {
    match version {
        ProtocolVersion::V31 => 3,
        ProtocolVersion::V311 => 4,
        ProtocolVersion::V5 => 5,
    }
}

/// CONNECT: protocol name "MQTT" ("MQIsdp" for level 3), `level`, connect `flags`, keep alive
/// 60, for level 5 the CONNECT properties `p`, then `payload` (client id, will, user name,
/// password).
fn connect(level: u8, flags: u8, p: &[u8], payload: &[u8]) -> Vec<u8> {
    let name = field(if level == 3 { b"MQIsdp" } else { b"MQTT" });
    let properties = if level == 5 { props(p) } else { Vec::new() };
    let fixed = [level, flags, 0x00, 0x3C];
    frame(0x10, &cat(&[&name, &fixed, &properties, payload]))
}

/// CONNECT with only client id "c" and the flags and properties given.
fn connect_c(version: ProtocolVersion, flags: u8, p: &[u8]) -> Vec<u8> {
    connect(level(version), flags, p, &field(b"c"))
}

/// CONNECT with a will (flags 0x06, plus `extra_flags`): client id "c", (5.0 will properties
/// `wp`), will topic `topic`, will payload "m".
fn connect_will(version: ProtocolVersion, extra_flags: u8, wp: &[u8], topic: &[u8]) -> Vec<u8> {
    let wp = props_if_v5(version, wp);
    let will = cat(&[&field(b"c"), &wp, &field(topic), &field(b"m")]);
    connect(level(version), 0x06 | extra_flags, &[], &will)
}

/// PUBLISH QoS 0: topic, (5.0 properties `p`), payload "x".
fn publish(version: ProtocolVersion, topic: &[u8], p: &[u8]) -> Vec<u8> {
    frame(0x30, &cat(&[&field(topic), &props_if_v5(version, p), b"x"]))
}

/// 5.0 PUBLISH QoS 0: topic "a", properties `p`, payload "x".
fn publish5(p: &[u8]) -> Vec<u8> {
    publish(V5, b"a", p)
}

/// 5.0 PUBACK: packet id 1, reason 0x00, properties `p`.
fn puback5(p: &[u8]) -> Vec<u8> {
    frame(0x40, &cat(&[&[0x00, 0x01, 0x00], &props(p)]))
}

/// 5.0 CONNACK: flags 0, reason 0x00, properties `p`.
fn connack5(p: &[u8]) -> Vec<u8> {
    frame(0x20, &cat(&[&[0x00, 0x00], &props(p)]))
}

/// SUBSCRIBE: packet id `id`, (5.0 properties `p`), `filter`, `options`.
fn subscribe(version: ProtocolVersion, id: u16, p: &[u8], filter: &[u8], options: u8) -> Vec<u8> {
    let (id, p) = (id.to_be_bytes(), props_if_v5(version, p));
    frame(0x82, &cat(&[&id, &p, &field(filter), &[options]]))
}

/// UNSUBSCRIBE: packet id `id`, (5.0 properties `p`), `filter`.
fn unsubscribe(version: ProtocolVersion, id: u16, p: &[u8], filter: &[u8]) -> Vec<u8> {
    let p = props_if_v5(version, p);
    frame(0xA2, &cat(&[&id.to_be_bytes(), &p, &field(filter)]))
}

/// A User Property (0x26): name and value.
fn user_property(name: &[u8], value: &[u8]) -> Vec<u8> {
    cat(&[&[0x26], &field(name), &field(value)])
}

/// A string property `id` holding `s`.
fn string_property(id: u8, s: &[u8]) -> Vec<u8> {
    cat(&[&[id], &field(s)])
}

/// Byte sequences no MQTT UTF-8 string may hold, and why.
const BAD_STRINGS: [(&[u8], StringError); 4] = [
    // 0xFF never occurs in UTF-8 [MQTT-1.5.4-1] (3.1.1: MQTT-1.5.3-1).
    (b"a\xFFb", StringError::InvalidUtf8),
    // ED A0 80 encodes the surrogate U+D800 [MQTT-1.5.4-1] (3.1.1: MQTT-1.5.3-1).
    (b"a\xED\xA0\x80", StringError::InvalidUtf8),
    // C0 80 is an overlong encoding of U+0000: ill-formed UTF-8 [MQTT-1.5.4-1].
    (b"\xC0\x80", StringError::InvalidUtf8),
    // U+0000 [MQTT-1.5.4-2] (3.1.1: MQTT-1.5.3-2).
    (b"a\x00b", StringError::NullCharacter),
];

/// Asserts that each bad string, placed by `build` into a packet, makes it malformed, while the
/// same packet with a good string decodes.
#[track_caller]
fn rejects_bad_strings(
    versions: &[ProtocolVersion],
    build: impl Fn(ProtocolVersion, &[u8]) -> Vec<u8>,
) {
    for &v in versions {
        for (bad, why) in BAD_STRINGS {
            rejects(v, &build(v, bad), E::InvalidString(why), MALFORMED);
        }
        accepts(v, &build(v, b"ok"));
    }
}

// ---------------------------------------------------------------------------------------------
// Fixed header (§2.1) and variable byte integers (§1.5.5)
// ---------------------------------------------------------------------------------------------

#[test]
fn remaining_length_with_a_fifth_byte_is_malformed_mqtt_1_5_5_1() {
    for v in [V31, V3, V5] {
        // PUBLISH, remaining length FF FF FF FF 01: five bytes.
        let bytes = [0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01];
        rejects(v, &bytes, E::MalformedRemainingLength, MALFORMED);
        // Four bytes that all have the continuation bit already need a fifth: no waiting.
        let bytes = [0x30, 0x80, 0x80, 0x80, 0x80];
        rejects(v, &bytes, E::MalformedRemainingLength, MALFORMED);
    }
}

#[test]
fn property_length_with_a_fifth_byte_is_malformed_mqtt_1_5_5_1() {
    // PUBACK: packet id 1, reason 0x00, property length FF FF FF FF 01.
    let bytes = [0x40, 0x08, 0x00, 0x01, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x01];
    rejects(V5, &bytes, E::MalformedVariableInteger, MALFORMED);
    // SUBSCRIBE whose Subscription Identifier takes five bytes.
    let bytes = subscribe(V5, 1, &[0x0B, 0x81, 0x80, 0x80, 0x80, 0x01], b"a", 0x00);
    rejects(V5, &bytes, E::MalformedVariableInteger, MALFORMED);
}

#[test]
fn variable_byte_integers_not_minimally_encoded_are_malformed_mqtt_1_5_5_1() {
    for v in [V31, V3, V5] {
        // PINGREQ whose remaining length 0 takes two bytes (80 00).
        let bytes = [0xC0, 0x80, 0x00];
        rejects(v, &bytes, E::MalformedRemainingLength, MALFORMED);
        // PUBLISH, remaining length 5 in three bytes (85 80 00).
        let bytes = [0x30, 0x85, 0x80, 0x00, 0x00, 0x01, b'a', b'h', b'i'];
        rejects(v, &bytes, E::MalformedRemainingLength, MALFORMED);
    }
    // PUBACK: packet id 1, reason 0x00, property length 0 in two bytes (80 00).
    let bytes = [0x40, 0x05, 0x00, 0x01, 0x00, 0x80, 0x00];
    rejects(V5, &bytes, E::MalformedVariableInteger, MALFORMED);
    // PUBLISH: Subscription Identifier 1 in two bytes (81 00).
    let bytes = publish5(&[0x0B, 0x81, 0x00]);
    rejects(V5, &bytes, E::MalformedVariableInteger, MALFORMED);
    // The same values minimally encoded are fine.
    accepts(V5, &[0xC0, 0x00]);
    accepts(V5, &publish5(&[0x0B, 0x01]));
}

/// The fixed-header flags Table 2-2 requires: 0010 for PUBREL, SUBSCRIBE and UNSUBSCRIBE, 0000
/// for every other type but PUBLISH.
fn required_flags(packet_type: u8) -> u8 {
    match packet_type {
        6 | 8 | 10 => 0b0010,
        _ => 0b0000,
    }
}

#[test]
fn reserved_flags_are_malformed_for_every_fixed_flag_type_mqtt_2_1_3_1() {
    // 3.1.1: MQTT-2.2.2-1, MQTT-2.2.2-2. Type and flags are judged on the first byte alone.
    for v in [V31, V3, V5] {
        let last = if v == V5 { 15 } else { 14 };
        for t in (1..=last).filter(|&t| t != 3) {
            let packet = T::from_u8(t).unwrap();
            for flags in 0..16u8 {
                let first = t << 4 | flags;
                if flags == required_flags(t) {
                    let mut buf = BytesMut::from(&[first][..]);
                    let result = decode(&mut buf, v, MAX);
                    assert_eq!(result, Ok(None), "MQTT {v}: first byte {first:02X}");
                } else {
                    let expected = E::InvalidFixedHeaderFlags { packet, flags };
                    rejects(v, &[first], expected, MALFORMED);
                }
            }
        }
    }
}

#[test]
fn reserved_flags_in_whole_packets_are_malformed_mqtt_2_1_3_1() {
    let flags = |packet, flags| E::InvalidFixedHeaderFlags { packet, flags };
    for v in BOTH {
        // PUBREL with flags 0000 instead of 0010, packet id 1.
        rejects(v, &[0x60, 0x02, 0x00, 0x01], flags(T::PubRel, 0), MALFORMED);
        // SUBSCRIBE with 0x80 instead of 0x82.
        let mut bytes = subscribe(v, 1, &[], b"a", 0x00);
        bytes[0] = 0x80;
        rejects(v, &bytes, flags(T::Subscribe, 0), MALFORMED);
        // UNSUBSCRIBE with 0xA0 instead of 0xA2.
        let mut bytes = unsubscribe(v, 1, &[], b"a");
        bytes[0] = 0xA0;
        rejects(v, &bytes, flags(T::Unsubscribe, 0), MALFORMED);
        // PINGREQ 0xC1, PUBACK 0x42 (packet id 1), DISCONNECT 0xE8.
        rejects(v, &[0xC1, 0x00], flags(T::PingReq, 1), MALFORMED);
        rejects(v, &[0x42, 0x02, 0x00, 0x01], flags(T::PubAck, 2), MALFORMED);
        rejects(v, &[0xE8, 0x00], flags(T::Disconnect, 8), MALFORMED);
        // CONNECT 0x11, otherwise valid.
        let mut bytes = connect_c(v, 0x02, &[]);
        accepts(v, &bytes);
        bytes[0] = 0x11;
        rejects(v, &bytes, flags(T::Connect, 1), MALFORMED);
    }
    // AUTH 0xF1 (5.0 only).
    rejects(V5, &[0xF1, 0x00], flags(T::Auth, 1), MALFORMED);
}

#[test]
fn packet_type_0_is_malformed_and_type_15_exists_only_in_v5() {
    for v in [V31, V3, V5] {
        rejects(v, &[0x00, 0x00], E::InvalidPacketType(0), MALFORMED);
    }
    for v in [V31, V3] {
        rejects(v, &[0xF0, 0x00], E::InvalidPacketType(15), MALFORMED);
    }
    // 5.0: F0 00 is AUTH, Success, no properties (§3.15.2.1).
    let auth = Auth {
        reason_code: ReasonCode::Success,
        properties: AuthProperties::default(),
    };
    assert_eq!(accepts(V5, &[0xF0, 0x00]), Packet::Auth(auth));
}

#[test]
fn bytes_after_the_last_field_are_malformed() {
    let trailing = |packet| E::TrailingBytes(packet, 1);
    for v in BOTH {
        // PINGREQ and PINGRESP have no body (§3.12, §3.13).
        rejects(v, &[0xC0, 0x01, 0x00], trailing(T::PingReq), MALFORMED);
        rejects(v, &[0xD0, 0x01, 0x00], trailing(T::PingResp), MALFORMED);
        // CONNECT: client id "c", then one byte no flag announced.
        let bytes = connect(level(v), 0x02, &[], &cat(&[&field(b"c"), &[0xAA]]));
        rejects(v, &bytes, trailing(T::Connect), MALFORMED);
    }
    // 3.1.1 PUBACK, PUBREC, PUBREL, PUBCOMP: packet id 1 and nothing else (§3.4–3.7).
    for (first, packet) in [
        (0x40, T::PubAck),
        (0x50, T::PubRec),
        (0x62, T::PubRel),
        (0x70, T::PubComp),
    ] {
        let bytes = [first, 0x03, 0x00, 0x01, 0x00];
        rejects(V3, &bytes, trailing(packet), MALFORMED);
        // In 5.0 the third byte is a reason code, Success.
        assert_eq!(accepts(V5, &bytes).packet_type(), packet);
    }
    // 3.1.1 CONNACK: flags 0, return code 0, one byte too many.
    let bytes = [0x20, 0x03, 0x00, 0x00, 0x00];
    rejects(V3, &bytes, trailing(T::ConnAck), MALFORMED);
    // 3.1.1 UNSUBACK: packet id 1; reason codes only exist in 5.0.
    let bytes = [0xB0, 0x03, 0x00, 0x01, 0x00];
    rejects(V3, &bytes, trailing(T::UnsubAck), MALFORMED);
    // 3.1.1 DISCONNECT has no body.
    rejects(V3, &[0xE0, 0x01, 0x00], trailing(T::Disconnect), MALFORMED);
}

#[test]
fn bytes_after_the_properties_are_malformed_in_v5() {
    let trailing = |packet| E::TrailingBytes(packet, 1);
    // PUBACK: packet id 1, reason 0x00, property length 0, then 0xAA.
    let bytes = [0x40, 0x05, 0x00, 0x01, 0x00, 0x00, 0xAA];
    rejects(V5, &bytes, trailing(T::PubAck), MALFORMED);
    // CONNACK: flags 0, reason 0x00, property length 0, then 0xAA.
    let bytes = [0x20, 0x04, 0x00, 0x00, 0x00, 0xAA];
    rejects(V5, &bytes, trailing(T::ConnAck), MALFORMED);
    // DISCONNECT: reason 0x00, property length 0, then 0xAA.
    let bytes = [0xE0, 0x03, 0x00, 0x00, 0xAA];
    rejects(V5, &bytes, trailing(T::Disconnect), MALFORMED);
    // AUTH: reason 0x18, property length 0, then 0xAA.
    let bytes = [0xF0, 0x03, 0x18, 0x00, 0xAA];
    rejects(V5, &bytes, trailing(T::Auth), MALFORMED);
}

#[test]
fn packet_too_large_is_detected_from_the_fixed_header_alone_mqtt_3_1_2_24() {
    for v in [V31, V3, V5] {
        // Only the fixed header: PUBLISH announcing 268,435,455 bytes (FF FF FF 7F) against a
        // 1 MiB limit. No body byte exists, yet the answer is an error, not "need more".
        let mut buf = BytesMut::from(&[0x30, 0xFF, 0xFF, 0xFF, 0x7F][..]);
        let result = decode(&mut buf, v, 1 << 20);
        let expected = E::PacketTooLarge {
            size: 268_435_455 + 5,
            max: 1 << 20,
        };
        assert_eq!(result, Err(expected), "MQTT {v}");
        assert_eq!(result.unwrap_err().reason_code().as_u8(), PACKET_TOO_LARGE);
    }
}

#[test]
fn packet_of_exactly_the_maximum_size_decodes_mqtt_3_1_2_24() {
    for v in BOTH {
        let bytes = publish(v, b"a", &[]);
        let size = bytes.len();
        let mut buf = BytesMut::from(&bytes[..]);
        assert!(matches!(
            decode(&mut buf, v, size),
            Ok(Some(Packet::Publish(_)))
        ));
        let mut buf = BytesMut::from(&bytes[..]);
        let max = size - 1;
        let expected = E::PacketTooLarge { size, max };
        assert_eq!(decode(&mut buf, v, max), Err(expected.clone()), "MQTT {v}");
        assert_eq!(expected.reason_code().as_u8(), PACKET_TOO_LARGE);
    }
}

// ---------------------------------------------------------------------------------------------
// Packet identifiers (§2.2.1)
// ---------------------------------------------------------------------------------------------

#[test]
fn packet_identifier_0_is_a_protocol_error_mqtt_2_2_1_3() {
    // 3.1.1: MQTT-2.3.1-1.
    let zero = E::ZeroPacketId;
    for v in BOTH {
        // PUBLISH QoS 1 and QoS 2: topic "a", packet id 0, (5.0 property length 0).
        for first in [0x32, 0x34] {
            let bytes = frame(first, &cat(&[&field(b"a"), &[0, 0], &props_if_v5(v, &[])]));
            rejects(v, &bytes, zero(T::Publish), PROTOCOL_ERROR);
        }
        // PUBACK, PUBREC, PUBREL, PUBCOMP with packet id 0.
        for (first, packet) in [
            (0x40, T::PubAck),
            (0x50, T::PubRec),
            (0x62, T::PubRel),
            (0x70, T::PubComp),
        ] {
            rejects(v, &[first, 0x02, 0x00, 0x00], zero(packet), PROTOCOL_ERROR);
        }
        let bytes = subscribe(v, 0, &[], b"a", 0x00);
        rejects(v, &bytes, zero(T::Subscribe), PROTOCOL_ERROR);
        let bytes = unsubscribe(v, 0, &[], b"a");
        rejects(v, &bytes, zero(T::Unsubscribe), PROTOCOL_ERROR);
        // SUBACK: packet id 0, (properties), granted QoS 0.
        let bytes = frame(0x90, &cat(&[&[0, 0], &props_if_v5(v, &[]), &[0x00]]));
        rejects(v, &bytes, zero(T::SubAck), PROTOCOL_ERROR);
    }
    // UNSUBACK: packet id 0 (3.1.1); packet id 0, property length 0, Success (5.0).
    let bytes = [0xB0, 0x02, 0x00, 0x00];
    rejects(V3, &bytes, zero(T::UnsubAck), PROTOCOL_ERROR);
    let bytes = [0xB0, 0x04, 0x00, 0x00, 0x00, 0x00];
    rejects(V5, &bytes, zero(T::UnsubAck), PROTOCOL_ERROR);
}

// ---------------------------------------------------------------------------------------------
// UTF-8 strings (§1.5.4) in every field that carries one
// ---------------------------------------------------------------------------------------------

#[test]
fn bad_strings_in_a_topic_name_are_malformed_mqtt_1_5_4_1_mqtt_1_5_4_2() {
    rejects_bad_strings(&BOTH, |v, s| publish(v, s, &[]));
}

#[test]
fn bad_strings_in_a_client_id_are_malformed_mqtt_1_5_4_1_mqtt_1_5_4_2() {
    rejects_bad_strings(&[V31, V3, V5], |v, s| {
        connect(level(v), 0x02, &[], &field(s))
    });
}

#[test]
fn bad_strings_in_a_user_name_are_malformed_mqtt_1_5_4_1_mqtt_1_5_4_2() {
    rejects_bad_strings(&BOTH, |v, s| {
        // Flags 0x82: user name, clean start. Payload: client id "c", user name.
        connect(level(v), 0x82, &[], &cat(&[&field(b"c"), &field(s)]))
    });
}

#[test]
fn bad_strings_in_a_will_topic_are_malformed_mqtt_1_5_4_1_mqtt_1_5_4_2() {
    rejects_bad_strings(&BOTH, |v, s| connect_will(v, 0, &[], s));
}

#[test]
fn bad_strings_in_the_protocol_name_are_malformed_mqtt_1_5_4_1() {
    for v in BOTH {
        for (bad, why) in BAD_STRINGS {
            let bytes = frame(0x10, &cat(&[&field(bad), &[level(v), 0x02, 0x00, 0x3C]]));
            rejects(v, &bytes, E::InvalidString(why), MALFORMED);
        }
    }
}

#[test]
fn bad_strings_in_a_subscription_filter_are_malformed_mqtt_1_5_4_1_mqtt_1_5_4_2() {
    rejects_bad_strings(&BOTH, |v, s| subscribe(v, 1, &[], s, 0x01));
    rejects_bad_strings(&BOTH, |v, s| unsubscribe(v, 1, &[], s));
}

#[test]
fn bad_strings_in_a_user_property_are_malformed_mqtt_1_5_4_1_mqtt_1_5_4_2() {
    // 0x26 User Property: a name and a value, both UTF-8 strings (§1.5.7).
    rejects_bad_strings(&[V5], |_, s| publish5(&user_property(s, b"v")));
    rejects_bad_strings(&[V5], |_, s| publish5(&user_property(b"k", s)));
    rejects_bad_strings(&[V5], |_, s| puback5(&user_property(s, b"v")));
    rejects_bad_strings(&[V5], |_, s| puback5(&user_property(b"k", s)));
    rejects_bad_strings(&[V5], |v, s| connect_c(v, 0x02, &user_property(s, b"v")));
    rejects_bad_strings(&[V5], |v, s| connect_c(v, 0x02, &user_property(b"k", s)));
    rejects_bad_strings(&[V5], |v, s| {
        connect_will(v, 0, &user_property(s, b"v"), b"w")
    });
}

#[test]
fn bad_strings_in_string_properties_are_malformed_mqtt_1_5_4_1_mqtt_1_5_4_2() {
    // PUBACK 0x1F Reason String; PUBLISH 0x03 Content Type; CONNECT 0x15 Authentication Method.
    rejects_bad_strings(&[V5], |_, s| puback5(&string_property(0x1F, s)));
    rejects_bad_strings(&[V5], |_, s| publish5(&string_property(0x03, s)));
    rejects_bad_strings(&[V5], |v, s| connect_c(v, 0x02, &string_property(0x15, s)));
}

// ---------------------------------------------------------------------------------------------
// Lengths that overrun what contains them
// ---------------------------------------------------------------------------------------------

#[test]
fn string_length_overrunning_the_packet_is_malformed() {
    let truncated = E::Truncated;
    for v in BOTH {
        // PUBLISH: topic length 9, but only "abc" follows.
        let bytes = [0x30, 0x05, 0x00, 0x09, b'a', b'b', b'c'];
        rejects(v, &bytes, truncated(T::Publish), MALFORMED);
        // CONNECT: protocol name length 4, only "M" in the packet.
        let bytes = [0x10, 0x03, 0x00, 0x04, b'M'];
        rejects(v, &bytes, truncated(T::Connect), MALFORMED);
        // CONNECT: client id length 16, only "c".
        let bytes = connect(level(v), 0x02, &[], &[0x00, 0x10, b'c']);
        rejects(v, &bytes, truncated(T::Connect), MALFORMED);
        // CONNECT: user name "u", then password length 5 with only "p".
        let payload = cat(&[&field(b"c"), &field(b"u"), &[0x00, 0x05, b'p']]);
        let bytes = connect(level(v), 0xC2, &[], &payload);
        rejects(v, &bytes, truncated(T::Connect), MALFORMED);
        // SUBSCRIBE: filter length 5, only "a".
        let body = cat(&[&[0x00, 0x01], &props_if_v5(v, &[]), &[0x00, 0x05, b'a']]);
        rejects(v, &frame(0x82, &body), truncated(T::Subscribe), MALFORMED);
        // SUBSCRIBE: filter "a" without its options byte.
        let body = cat(&[&[0x00, 0x01], &props_if_v5(v, &[]), &field(b"a")]);
        rejects(v, &frame(0x82, &body), truncated(T::Subscribe), MALFORMED);
        // PUBACK with a one-byte packet identifier; CONNACK with only the flags byte.
        rejects(v, &[0x40, 0x01, 0x00], truncated(T::PubAck), MALFORMED);
        rejects(v, &[0x20, 0x01, 0x00], truncated(T::ConnAck), MALFORMED);
    }
}

#[test]
fn string_length_overrunning_its_property_block_is_malformed() {
    // A string inside a property may not run past the property block, even though the packet
    // has bytes after it.
    let bytes = [
        0x40, 0x0D, // PUBACK, remaining length 13
        0x00, 0x01, // packet id 1
        0x00, // reason: Success
        0x06, // property length 6
        0x26, 0x00, 0x01, b'k', // User Property, name "k"
        0x00, 0x05, // value length 5: past the property block
        b'v', b'v', b'v', // three more bytes in the packet
    ];
    rejects(V5, &bytes, E::Truncated(T::PubAck), MALFORMED);
    // A fixed-size value cut by the end of the block: read on into the payload, its two bytes
    // would make a Topic Alias of 0, a Protocol Error [MQTT-3.3.2-8] rather than Malformed.
    let bytes = [
        0x30, 0x08, // PUBLISH QoS 0, remaining length 8
        0x00, 0x01, b'a', // topic "a"
        0x02, // property length 2
        0x23, 0x00, // Topic Alias, one byte of two
        0x00, 0x00, // payload
    ];
    rejects(V5, &bytes, E::Truncated(T::Publish), MALFORMED);
}

#[test]
fn property_length_overrunning_the_packet_is_malformed() {
    let truncated = E::Truncated;
    // PUBLISH: topic "a", property length 5, one byte left.
    let bytes = [0x30, 0x05, 0x00, 0x01, b'a', 0x05, 0x01];
    rejects(V5, &bytes, truncated(T::Publish), MALFORMED);
    // PUBACK: id 1, reason 0, property length 9, nothing left.
    let bytes = [0x40, 0x04, 0x00, 0x01, 0x00, 0x09];
    rejects(V5, &bytes, truncated(T::PubAck), MALFORMED);
    // DISCONNECT: reason 0, property length 5, nothing left.
    let bytes = [0xE0, 0x02, 0x00, 0x05];
    rejects(V5, &bytes, truncated(T::Disconnect), MALFORMED);
    // CONNECT: property length 127, nothing left.
    let bytes = frame(
        0x10,
        &cat(&[&field(b"MQTT"), &[0x05, 0x02, 0x00, 0x3C, 0x7F]]),
    );
    rejects(V5, &bytes, truncated(T::Connect), MALFORMED);
    // CONNECT: will properties length 100 after client id "c", nothing left.
    let bytes = connect(5, 0x06, &[], &cat(&[&field(b"c"), &[0x64]]));
    rejects(V5, &bytes, truncated(T::Connect), MALFORMED);
    // A four-byte property value cut short: Session Expiry Interval with two bytes.
    let bytes = connect_c(V5, 0x02, &[0x11, 0x00, 0x00]);
    rejects(V5, &bytes, truncated(T::Connect), MALFORMED);
}

// ---------------------------------------------------------------------------------------------
// Properties (§2.2.2)
// ---------------------------------------------------------------------------------------------

#[test]
fn a_property_given_twice_is_a_protocol_error() {
    let twice = E::DuplicateProperty;
    // CONNECT: Session Expiry Interval 10, twice.
    let p = [0x11, 0x00, 0x00, 0x00, 0x0A, 0x11, 0x00, 0x00, 0x00, 0x0A];
    rejects(V5, &connect_c(V5, 0x02, &p), twice(0x11), PROTOCOL_ERROR);
    // Will properties: Will Delay Interval 5, twice.
    let wp = [0x18, 0x00, 0x00, 0x00, 0x05, 0x18, 0x00, 0x00, 0x00, 0x05];
    let bytes = connect_will(V5, 0, &wp, b"w");
    rejects(V5, &bytes, twice(0x18), PROTOCOL_ERROR);
    // PUBLISH: Topic Alias 1, Topic Alias 2.
    let bytes = publish5(&[0x23, 0x00, 0x01, 0x23, 0x00, 0x02]);
    rejects(V5, &bytes, twice(0x23), PROTOCOL_ERROR);
    // PUBACK: Reason String "a", Reason String "b".
    let p = cat(&[&string_property(0x1F, b"a"), &string_property(0x1F, b"b")]);
    rejects(V5, &puback5(&p), twice(0x1F), PROTOCOL_ERROR);
    // CONNACK: Maximum QoS 0, twice.
    let bytes = connack5(&[0x24, 0x00, 0x24, 0x00]);
    rejects(V5, &bytes, twice(0x24), PROTOCOL_ERROR);
    // SUBSCRIBE: Subscription Identifier 1, twice.
    let bytes = subscribe(V5, 1, &[0x0B, 0x01, 0x0B, 0x01], b"a", 0x00);
    rejects(V5, &bytes, twice(0x0B), PROTOCOL_ERROR);
}

#[test]
fn properties_that_may_repeat_are_kept_in_order() {
    // PUBACK with two User Properties: allowed (§3.4.2.2.3).
    let p = cat(&[&user_property(b"k", b"1"), &user_property(b"k", b"2")]);
    let Packet::PubAck(ack) = accepts(V5, &puback5(&p)) else {
        panic!("not a PUBACK")
    };
    let user_properties = &ack.properties.user_properties;
    let values: Vec<_> = user_properties.iter().map(|(_, v)| v.as_str()).collect();
    assert_eq!(values, ["1", "2"]);
    // PUBLISH with two Subscription Identifiers: allowed (§3.3.2.3.8).
    let Packet::Publish(publish) = accepts(V5, &publish5(&[0x0B, 0x01, 0x0B, 0x02])) else {
        panic!("not a PUBLISH")
    };
    let ids = &publish.properties.subscription_identifiers;
    assert_eq!(ids.iter().map(|i| i.get()).collect::<Vec<_>>(), [1, 2]);
}

#[test]
fn a_property_the_packet_may_not_carry_is_malformed() {
    let not_allowed = |packet, id| E::PropertyNotAllowed { packet, id };
    let session_expiry = [0x11, 0x00, 0x00, 0x00, 0x0A];
    let will_delay = [0x18, 0x00, 0x00, 0x00, 0x05];
    let topic_alias = [0x23, 0x00, 0x01];
    let cases: Vec<(Vec<u8>, PacketType, u8)> = vec![
        // CONNECT with Topic Alias; with Will Delay Interval (a will property).
        (connect_c(V5, 0x02, &topic_alias), T::Connect, 0x23),
        (connect_c(V5, 0x02, &will_delay), T::Connect, 0x18),
        // Will properties with Session Expiry Interval (a CONNECT property).
        (connect_will(V5, 0, &session_expiry, b"w"), T::Connect, 0x11),
        // PUBLISH with Session Expiry Interval.
        (publish5(&session_expiry), T::Publish, 0x11),
        // UNSUBSCRIBE with Subscription Identifier 1.
        (
            unsubscribe(V5, 1, &[0x0B, 0x01], b"a"),
            T::Unsubscribe,
            0x0B,
        ),
        // PUBACK with Topic Alias.
        (puback5(&topic_alias), T::PubAck, 0x23),
        // SUBACK with Subscription Identifier 1: packet id 1, properties, granted QoS 0.
        (
            frame(0x90, &cat(&[&[0, 1], &props(&[0x0B, 0x01]), &[0]])),
            T::SubAck,
            0x0B,
        ),
        // CONNACK with Will Delay Interval.
        (connack5(&will_delay), T::ConnAck, 0x18),
        // DISCONNECT with Topic Alias: reason 0x00, properties.
        (
            frame(0xE0, &cat(&[&[0x00], &props(&topic_alias)])),
            T::Disconnect,
            0x23,
        ),
        // AUTH with Session Expiry Interval: reason 0x18, properties.
        (
            frame(0xF0, &cat(&[&[0x18], &props(&session_expiry)])),
            T::Auth,
            0x11,
        ),
    ];
    for (bytes, packet, id) in cases {
        rejects(V5, &bytes, not_allowed(packet, id), MALFORMED);
    }
}

#[test]
fn an_unknown_property_identifier_is_malformed() {
    let unknown = |packet| E::PropertyNotAllowed { packet, id: 0x7F };
    // Property 0x7F (with one byte) in PUBLISH, CONNECT, PUBACK.
    rejects(V5, &publish5(&[0x7F, 0x00]), unknown(T::Publish), MALFORMED);
    let bytes = connect_c(V5, 0x02, &[0x7F, 0x00]);
    rejects(V5, &bytes, unknown(T::Connect), MALFORMED);
    rejects(V5, &puback5(&[0x7F, 0x00]), unknown(T::PubAck), MALFORMED);
    // An identifier that needs two bytes (0x80 0x02 = 256) names no property either.
    let bytes = publish5(&[0x80, 0x02, 0x00]);
    let err = decode(&mut BytesMut::from(&bytes[..]), V5, MAX).unwrap_err();
    let publish = T::Publish;
    assert!(
        matches!(err, E::PropertyNotAllowed { packet, .. } if packet == publish),
        "{err:?}"
    );
    assert_eq!(err.reason_code().as_u8(), MALFORMED);
}

#[test]
fn forbidden_property_values_are_protocol_errors() {
    let cases: Vec<(Vec<u8>, u8)> = vec![
        // Receive Maximum 0 (§3.1.2.11.3, §3.2.2.3.3).
        (connect_c(V5, 0x02, &[0x21, 0x00, 0x00]), 0x21),
        (connack5(&[0x21, 0x00, 0x00]), 0x21),
        // Maximum Packet Size 0 (§3.1.2.11.4, §3.2.2.3.6).
        (connect_c(V5, 0x02, &[0x27, 0x00, 0x00, 0x00, 0x00]), 0x27),
        (connack5(&[0x27, 0x00, 0x00, 0x00, 0x00]), 0x27),
        // Request Response Information 2, Request Problem Information 2 (§3.1.2.11.6-7).
        (connect_c(V5, 0x02, &[0x19, 0x02]), 0x19),
        (connect_c(V5, 0x02, &[0x17, 0x02]), 0x17),
        // Payload Format Indicator 2, in PUBLISH and in will properties (§3.3.2.3.2).
        (publish5(&[0x01, 0x02]), 0x01),
        (connect_will(V5, 0, &[0x01, 0x02], b"w"), 0x01),
        // Subscription Identifier 0, in PUBLISH and SUBSCRIBE (§3.3.2.3.8, §3.8.2.1.2).
        (publish5(&[0x0B, 0x00]), 0x0B),
        (subscribe(V5, 1, &[0x0B, 0x00], b"a", 0x00), 0x0B),
        // Maximum QoS 2: only 0 or 1 may be sent (§3.2.2.3.4).
        (connack5(&[0x24, 0x02]), 0x24),
        // Retain / Wildcard / Subscription Identifiers / Shared Subscription Available 2.
        (connack5(&[0x25, 0x02]), 0x25),
        (connack5(&[0x28, 0x02]), 0x28),
        (connack5(&[0x29, 0x02]), 0x29),
        (connack5(&[0x2A, 0x02]), 0x2A),
        // Response Topic with a wildcard [MQTT-3.3.2-14].
        (publish5(&string_property(0x08, b"r/#")), 0x08),
    ];
    for (bytes, id) in cases {
        rejects(V5, &bytes, E::InvalidPropertyValue(id), PROTOCOL_ERROR);
    }
}

#[test]
fn authentication_data_without_a_method_is_a_protocol_error_in_connect() {
    // 5.0 §3.1.2.11.10: "It is a Protocol Error to include Authentication Data if there is no
    // Authentication Method." CONNECT properties: 0x16 Authentication Data "x", no 0x15.
    let bytes = connect_c(V5, 0x02, &[0x16, 0x00, 0x01, b'x']);
    rejects(V5, &bytes, E::InvalidPropertyValue(0x16), PROTOCOL_ERROR);
}

#[test]
fn topic_alias_0_is_topic_alias_invalid_mqtt_3_3_2_8() {
    // PUBLISH: topic "a", Topic Alias 0.
    let bytes = publish5(&[0x23, 0x00, 0x00]);
    rejects(V5, &bytes, E::TopicAliasZero, TOPIC_ALIAS_INVALID);
    // PUBLISH: empty topic, Topic Alias 0.
    let bytes = publish(V5, b"", &[0x23, 0x00, 0x00]);
    rejects(V5, &bytes, E::TopicAliasZero, TOPIC_ALIAS_INVALID);
}

// ---------------------------------------------------------------------------------------------
// PUBLISH (§3.3)
// ---------------------------------------------------------------------------------------------

#[test]
fn publish_with_qos_3_is_malformed_mqtt_3_3_1_4() {
    for v in BOTH {
        // QoS bits 11 (with DUP, with RETAIN): topic "a", packet id 1, (properties).
        for first in [0x36, 0x3E, 0x37] {
            let bytes = frame(first, &cat(&[&field(b"a"), &[0, 1], &props_if_v5(v, &[])]));
            rejects(v, &bytes, E::InvalidQoS, MALFORMED);
        }
    }
}

#[test]
fn dup_on_qos_0_is_malformed_mqtt_3_3_1_2() {
    for v in BOTH {
        // DUP, QoS 0 (and with RETAIN): topic "a", (properties), payload "x".
        let mut bytes = publish(v, b"a", &[]);
        for first in [0x38, 0x39] {
            bytes[0] = first;
            rejects(v, &bytes, E::DupOnQoS0, MALFORMED);
        }
        // DUP with QoS 1 is fine: topic "a", packet id 1, (properties), payload "x".
        let bytes = frame(
            0x3A,
            &cat(&[&field(b"a"), &[0, 1], &props_if_v5(v, &[]), b"x"]),
        );
        accepts(v, &bytes);
    }
}

#[test]
fn wildcards_in_a_topic_name_are_topic_name_invalid_mqtt_3_3_2_2() {
    for v in BOTH {
        for topic in ["a/+", "#", "a/#", "+", "a+b/c"] {
            let expected = E::WildcardInTopicName(topic.to_owned());
            let bytes = publish(v, topic.as_bytes(), &[]);
            rejects(v, &bytes, expected, TOPIC_NAME_INVALID);
        }
    }
}

/// A PUBLISH with several faults is refused for the first field's: the decoder reads the packet
/// id and the properties before it checks the topic (for speed), and must still report a bad
/// topic [MQTT-3.3.2-2] before a zero packet id [MQTT-2.2.1-3], and either before bad
/// properties (a Message Expiry Interval twice: 0x02 00 00 00 01, twice).
#[test]
fn a_publish_with_several_faults_is_refused_for_the_first_field() {
    let twice: &[u8] = &[0x02, 0, 0, 0, 1, 0x02, 0, 0, 0, 1];
    for v in BOTH {
        // QoS 1: topic "a/#", packet id 0, (5.0: the property twice).
        let bytes = frame(
            0x32,
            &cat(&[&field(b"a/#"), &[0, 0], &props_if_v5(v, twice)]),
        );
        let wildcard = E::WildcardInTopicName("a/#".to_owned());
        rejects(v, &bytes, wildcard, TOPIC_NAME_INVALID);
        // The body ends inside the packet id: still the topic first.
        let bytes = frame(0x32, &cat(&[&field(b"a/#"), &[0]]));
        let wildcard = E::WildcardInTopicName("a/#".to_owned());
        rejects(v, &bytes, wildcard, TOPIC_NAME_INVALID);
        // A good topic: the zero packet id before the properties.
        let bytes = frame(0x32, &cat(&[&field(b"a"), &[0, 0], &props_if_v5(v, twice)]));
        rejects(v, &bytes, E::ZeroPacketId(T::Publish), PROTOCOL_ERROR);
    }
    // 5.0, QoS 0: a topic holding U+0000 before the properties.
    let bytes = publish(V5, b"a\0b", twice);
    let null = E::InvalidString(mqkit::protocol::StringError::NullCharacter);
    rejects(V5, &bytes, null, MALFORMED);
}

#[test]
fn empty_topic_without_alias_is_a_protocol_error_mqtt_4_7_3_1() {
    // 3.1 and 3.1.1 have no Topic Alias; 5.0 without one [MQTT-3.3.2-1].
    for v in [V31, V3, V5] {
        rejects(v, &publish(v, b"", &[]), E::EmptyTopicName, PROTOCOL_ERROR);
    }
    // 5.0 with Topic Alias 1 it is fine.
    let bytes = publish(V5, b"", &[0x23, 0x00, 0x01]);
    let Packet::Publish(publish) = accepts(V5, &bytes) else {
        panic!("not a PUBLISH")
    };
    assert!(publish.topic.is_empty());
    assert_eq!(publish.properties.topic_alias.map(|a| a.get()), Some(1));
}

// ---------------------------------------------------------------------------------------------
// CONNECT (§3.1)
// ---------------------------------------------------------------------------------------------

#[test]
fn connect_reserved_flag_is_malformed_mqtt_3_1_2_3() {
    for v in [V31, V3, V5] {
        // Flags 0x03: clean start and the reserved bit.
        let bytes = connect_c(v, 0x03, &[]);
        rejects(v, &bytes, E::ConnectReservedFlag, MALFORMED);
    }
}

#[test]
fn will_qos_without_will_flag_is_malformed_mqtt_3_1_2_11() {
    // 3.1.1: MQTT-3.1.2-13. Flags 0x0A / 0x12: Will QoS 1 / 2, clean start, no will flag.
    for v in BOTH {
        for flags in [0x0A, 0x12] {
            let bytes = connect_c(v, flags, &[]);
            rejects(v, &bytes, E::WillFlagsWithoutWill, MALFORMED);
        }
    }
}

#[test]
fn will_retain_without_will_flag_is_malformed_mqtt_3_1_2_13() {
    // 3.1.1: MQTT-3.1.2-15. Flags 0x22: Will Retain, clean start, no will flag.
    for v in BOTH {
        let bytes = connect_c(v, 0x22, &[]);
        rejects(v, &bytes, E::WillFlagsWithoutWill, MALFORMED);
    }
}

#[test]
fn will_qos_3_is_malformed_mqtt_3_1_2_12() {
    // 3.1.1: MQTT-3.1.2-14.
    for v in BOTH {
        // Will QoS bits 11 (0x18) with the will flag.
        let bytes = connect_will(v, 0x18, &[], b"w");
        rejects(v, &bytes, E::InvalidQoS, MALFORMED);
        // The same will with QoS 2 (0x10) is fine.
        let Packet::Connect(c) = accepts(v, &connect_will(v, 0x10, &[], b"w")) else {
            panic!("not a CONNECT")
        };
        assert_eq!(c.will.map(|w| w.qos), Some(QoS::ExactlyOnce));
    }
}

#[test]
fn will_topic_must_be_a_valid_topic_name() {
    for v in BOTH {
        // [MQTT-3.3.2-2] applies to the will topic, which becomes a PUBLISH topic.
        let expected = E::WildcardInTopicName("w/#".to_owned());
        let bytes = connect_will(v, 0, &[], b"w/#");
        rejects(v, &bytes, expected, TOPIC_NAME_INVALID);
        // [MQTT-4.7.3-1]: a topic name is at least one character long.
        let bytes = connect_will(v, 0, &[], b"");
        rejects(v, &bytes, E::EmptyTopicName, PROTOCOL_ERROR);
    }
}

#[test]
fn password_without_user_name_is_malformed_in_v311_mqtt_3_1_2_22() {
    // Flags 0x42: password, clean start, no user name. Client id "c", password "pw".
    let payload = cat(&[&field(b"c"), &field(b"pw")]);
    for v in [V31, V3] {
        let bytes = connect(level(v), 0x42, &[], &payload);
        rejects(v, &bytes, E::PasswordWithoutUsername, MALFORMED);
    }
    // MQTT 5.0 allows a password without a user name (§3.1.2.9).
    let Packet::Connect(c) = accepts(V5, &connect(5, 0x42, &[], &payload)) else {
        panic!("not a CONNECT")
    };
    assert_eq!(c.username, None);
    assert_eq!(c.password.as_deref(), Some(&b"pw"[..]));
}

#[test]
fn unknown_protocol_name_is_a_protocol_error_mqtt_3_1_2_1() {
    for v in BOTH {
        // Protocol name "MQTX", level 4 / 5, flags 0x02, keep alive 60, client id "c".
        let header = [level(v), 0x02, 0x00, 0x3C];
        let body = cat(&[&field(b"MQTX"), &header, &props_if_v5(v, &[]), &field(b"c")]);
        let expected = E::InvalidProtocolName("MQTX".to_owned());
        rejects(v, &frame(0x10, &body), expected, PROTOCOL_ERROR);
    }
}

#[test]
fn unsupported_protocol_level_is_unsupported_protocol_version_mqtt_3_1_2_2() {
    let cases: [(&[u8], u8); 6] = [
        (b"MQTT", 6),
        (b"MQTT", 0),
        (b"MQTT", 3),   // level 3 is 3.1, whose name is "MQIsdp"
        (b"MQIsdp", 4), // "MQIsdp" is only 3.1
        (b"MQIsdp", 5),
        (b"MQIsdp", 6),
    ];
    for (name, level) in cases {
        let body = cat(&[&field(name), &[level, 0x02, 0x00, 0x3C], &field(b"c")]);
        for v in BOTH {
            let expected = E::UnsupportedProtocolVersion(level);
            rejects(v, &frame(0x10, &body), expected, UNSUPPORTED_VERSION);
        }
    }
    // "MQIsdp" level 3 is MQTT 3.1.
    let Packet::Connect(c) = accepts(V3, &connect_c(V31, 0x02, &[])) else {
        panic!("not a CONNECT")
    };
    assert_eq!(c.version, V31);
}

// ---------------------------------------------------------------------------------------------
// CONNACK (§3.2)
// ---------------------------------------------------------------------------------------------

#[test]
fn connack_reserved_flags_are_malformed_mqtt_3_2_2_1() {
    for flags in [0x02, 0x80, 0xFF] {
        // Flags, return code 0.
        let bytes = [0x20, 0x02, flags, 0x00];
        rejects(V3, &bytes, E::ConnAckReservedFlags, MALFORMED);
        // Flags, reason 0x00, property length 0.
        let bytes = [0x20, 0x03, flags, 0x00, 0x00];
        rejects(V5, &bytes, E::ConnAckReservedFlags, MALFORMED);
    }
}

#[test]
fn connack_return_code_6_is_malformed_in_v311() {
    // 3.1.1 §3.2.2.3: return codes 6–255 are reserved.
    for code in [0x06, 0x80, 0x87, 0xFF] {
        let expected = E::InvalidReasonCode {
            packet: T::ConnAck,
            code,
        };
        rejects(V3, &[0x20, 0x02, 0x00, code], expected, MALFORMED);
    }
}

#[test]
fn reason_codes_a_packet_may_not_carry_are_malformed() {
    let invalid = |packet, code| E::InvalidReasonCode { packet, code };
    let cases: [(&[u8], PacketType, u8); 10] = [
        // PUBACK, id 1, 0x8E Session taken over (DISCONNECT only).
        (&[0x40, 0x03, 0x00, 0x01, 0x8E], T::PubAck, 0x8E),
        // PUBREC, id 1, 0x92 Packet Identifier not found (PUBREL/PUBCOMP only).
        (&[0x50, 0x03, 0x00, 0x01, 0x92], T::PubRec, 0x92),
        // PUBREL, id 1, 0x10 No matching subscribers.
        (&[0x62, 0x03, 0x00, 0x01, 0x10], T::PubRel, 0x10),
        // PUBCOMP, id 1, 0x80 Unspecified error.
        (&[0x70, 0x03, 0x00, 0x01, 0x80], T::PubComp, 0x80),
        // PUBACK, id 1, 0x03: no such reason code.
        (&[0x40, 0x03, 0x00, 0x01, 0x03], T::PubAck, 0x03),
        // DISCONNECT 0x01 Granted QoS 1.
        (&[0xE0, 0x01, 0x01], T::Disconnect, 0x01),
        // SUBACK, id 1, property length 0, 0x11 No subscription existed (UNSUBACK only).
        (&[0x90, 0x04, 0x00, 0x01, 0x00, 0x11], T::SubAck, 0x11),
        // UNSUBACK, id 1, property length 0, 0x01 Granted QoS 1.
        (&[0xB0, 0x04, 0x00, 0x01, 0x00, 0x01], T::UnsubAck, 0x01),
        // CONNACK, flags 0, 0x10 No matching subscribers, property length 0.
        (&[0x20, 0x03, 0x00, 0x10, 0x00], T::ConnAck, 0x10),
        // AUTH 0x87 Not authorized, property length 0.
        (&[0xF0, 0x02, 0x87, 0x00], T::Auth, 0x87),
    ];
    for (bytes, packet, code) in cases {
        rejects(V5, bytes, invalid(packet, code), MALFORMED);
    }
    // 3.1.1 SUBACK: only 0x00, 0x01, 0x02 and 0x80 (§3.9.3).
    for code in [0x03, 0x11, 0x87] {
        let bytes = [0x90, 0x03, 0x00, 0x01, code];
        rejects(V3, &bytes, invalid(T::SubAck, code), MALFORMED);
    }
}

// ---------------------------------------------------------------------------------------------
// SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK (§3.8–3.11)
// ---------------------------------------------------------------------------------------------

#[test]
fn subscribe_without_filters_is_a_protocol_error_mqtt_3_8_3_3() {
    // 5.0: MQTT-3.8.3-2. Packet id 1 and (property length 0), nothing else.
    let bytes = [0x82, 0x02, 0x00, 0x01];
    rejects(V3, &bytes, E::NoSubscriptions, PROTOCOL_ERROR);
    let bytes = [0x82, 0x03, 0x00, 0x01, 0x00];
    rejects(V5, &bytes, E::NoSubscriptions, PROTOCOL_ERROR);
}

#[test]
fn unsubscribe_without_filters_is_a_protocol_error_mqtt_3_10_3_2() {
    // Packet id 1 and (property length 0), nothing else.
    let bytes = [0xA2, 0x02, 0x00, 0x01];
    rejects(V3, &bytes, E::NoUnsubscriptions, PROTOCOL_ERROR);
    let bytes = [0xA2, 0x03, 0x00, 0x01, 0x00];
    rejects(V5, &bytes, E::NoUnsubscriptions, PROTOCOL_ERROR);
}

#[test]
fn subscribe_option_reserved_bits_are_malformed_in_v311_mqtt_3_8_3_4() {
    // 3.1.1: bits 7–2 of the requested QoS byte are reserved.
    for options in [0x04, 0x08, 0x10, 0x40, 0x80] {
        let bytes = subscribe(V3, 1, &[], b"a", options);
        let expected = E::SubscriptionOptionsReserved(options);
        rejects(V3, &bytes, expected, MALFORMED);
    }
}

#[test]
fn subscribe_option_reserved_bits_are_malformed_in_v5_mqtt_3_8_3_5() {
    // 5.0: bits 7–6 are reserved ([MQTT-3-8.3-5] as the specification numbers it).
    for options in [0x40, 0x80, 0xC1] {
        let bytes = subscribe(V5, 1, &[], b"a", options);
        let expected = E::SubscriptionOptionsReserved(options);
        rejects(V5, &bytes, expected, MALFORMED);
    }
    // 0x2C: No Local, Retain As Published, Retain Handling 2: all defined in 5.0.
    let Packet::Subscribe(s) = accepts(V5, &subscribe(V5, 1, &[], b"a", 0x2C)) else {
        panic!("not a SUBSCRIBE")
    };
    let options = s.subscriptions[0].options;
    assert!(options.no_local && options.retain_as_published);
}

#[test]
fn retain_handling_3_is_a_protocol_error() {
    // 5.0 §3.8.3.1: "It is a Protocol Error to send a Retain Handling value of 3."
    let bytes = subscribe(V5, 1, &[], b"a", 0x30);
    rejects(V5, &bytes, E::InvalidRetainHandling, PROTOCOL_ERROR);
}

#[test]
fn subscription_qos_3_is_malformed_mqtt_3_8_3_4() {
    // 5.0: MQTT-3.8.3-5 (the QoS field may not be 3).
    for v in BOTH {
        let bytes = subscribe(v, 1, &[], b"a", 0x03);
        rejects(v, &bytes, E::InvalidQoS, MALFORMED);
    }
}

#[test]
fn suback_and_unsuback_need_a_reason_code_per_filter() {
    // SUBACK: packet id 1, (property length 0), no return code.
    let bytes = [0x90, 0x02, 0x00, 0x01];
    rejects(V3, &bytes, E::Truncated(T::SubAck), MALFORMED);
    let bytes = [0x90, 0x03, 0x00, 0x01, 0x00];
    rejects(V5, &bytes, E::Truncated(T::SubAck), MALFORMED);
    // 5.0 UNSUBACK: packet id 1, property length 0, no reason code.
    let bytes = [0xB0, 0x03, 0x00, 0x01, 0x00];
    rejects(V5, &bytes, E::Truncated(T::UnsubAck), MALFORMED);
}

// ---------------------------------------------------------------------------------------------
// What the encoder refuses to write
// ---------------------------------------------------------------------------------------------

/// Asserts that encoding `packet` with `version` fails as `expected`, writing nothing, and that
/// `encoded_len` agrees.
#[track_caller]
fn refuses(packet: &Packet, version: ProtocolVersion, expected: EncodeError) {
    let mut out = BytesMut::from(&b"kept"[..]);
    let result = encode(packet, version, &mut out);
    assert_eq!(result, Err(expected.clone()), "MQTT {version}");
    assert_eq!(&out[..], b"kept", "nothing written on error");
    assert_eq!(encoded_len(packet, version), Err(expected), "encoded_len");
}

fn string(s: &str) -> MqttString {
    MqttString::new(s).unwrap()
}

fn id(value: u16) -> PacketId {
    PacketId::new(value).unwrap()
}

/// A PUBLISH to "a/b" with payload "x".
fn publish_packet(qos: QoS, packet_id: Option<PacketId>) -> Publish {
    Publish {
        qos,
        packet_id,
        ..Publish::new(TopicName::new("a/b").unwrap(), "x")
    }
}

#[test]
fn encoder_refuses_fields_longer_than_65535_bytes() {
    let too_long = Bytes::from(vec![b'p'; 70_000]);
    let field_too_long = |field| EncodeError::FieldTooLong { field, len: 70_000 };
    for v in [V31, V3, V5] {
        let mut c = Connect::new(v, string("c"));
        c.username = Some(string("u"));
        c.password = Some(too_long.clone());
        refuses(&Packet::Connect(Box::new(c)), v, field_too_long("password"));

        let mut c = Connect::new(v, string("c"));
        c.will = Some(LastWill {
            topic: TopicName::new("w").unwrap(),
            payload: too_long.clone(),
            qos: QoS::AtMostOnce,
            retain: false,
            properties: WillProperties::default(),
        });
        refuses(
            &Packet::Connect(Box::new(c)),
            v,
            field_too_long("will payload"),
        );
    }
    // 5.0 Correlation Data is binary data with a two-byte length too (§1.5.6).
    let mut p = publish_packet(QoS::AtMostOnce, None);
    p.properties.correlation_data = Some(too_long);
    refuses(&Packet::Publish(p), V5, field_too_long("property"));
}

#[test]
fn encoder_refuses_packet_id_mismatch_mqtt_2_2_1_2() {
    // QoS 1 and 2 need a packet identifier; QoS 0 must not have one.
    let cases = [
        (QoS::AtLeastOnce, None),
        (QoS::ExactlyOnce, None),
        (QoS::AtMostOnce, Some(id(1))),
    ];
    for v in BOTH {
        for (qos, packet_id) in cases {
            let p = Packet::Publish(publish_packet(qos, packet_id));
            refuses(&p, v, EncodeError::PacketIdMismatch);
        }
    }
}

#[test]
fn encoder_refuses_dup_on_qos_0_mqtt_3_3_1_2() {
    for v in BOTH {
        let p = Publish {
            dup: true,
            ..publish_packet(QoS::AtMostOnce, None)
        };
        refuses(&Packet::Publish(p), v, EncodeError::DupOnQoS0);
    }
}

#[test]
fn encoder_refuses_empty_topic_without_alias_mqtt_4_7_3_1() {
    for v in [V31, V3, V5] {
        let p = Publish::new(TopicName::empty(), "x");
        refuses(&Packet::Publish(p), v, EncodeError::EmptyTopicName);
    }
    // 3.1.1 has no Topic Alias, so an empty topic is refused even with one set.
    let mut p = Publish::new(TopicName::empty(), "x");
    p.properties.topic_alias = NonZeroU16::new(1);
    refuses(&Packet::Publish(p), V3, EncodeError::EmptyTopicName);
}

#[test]
fn encoder_refuses_subscribe_and_unsubscribe_without_filters_mqtt_3_8_3_3() {
    for v in BOTH {
        let s = Subscribe {
            packet_id: id(1),
            subscriptions: Vec::new(),
            properties: SubscribeProperties::default(),
        };
        refuses(
            &Packet::Subscribe(s),
            v,
            EncodeError::NoFilters(T::Subscribe),
        );
        let u = Unsubscribe {
            packet_id: id(1),
            filters: Vec::new(),
            user_properties: Vec::new(),
        };
        refuses(
            &Packet::Unsubscribe(u),
            v,
            EncodeError::NoFilters(T::Unsubscribe),
        );
    }
}

#[test]
fn encoder_refuses_auth_before_v5() {
    let auth = Packet::Auth(Auth {
        reason_code: ReasonCode::Success,
        properties: AuthProperties::default(),
    });
    for v in [V31, V3] {
        refuses(&auth, v, EncodeError::NotInVersion("AUTH", v));
    }
}

#[test]
fn encoder_refuses_password_without_user_name_in_v311_mqtt_3_1_2_22() {
    for v in [V31, V3] {
        let mut c = Connect::new(v, string("c"));
        c.password = Some(Bytes::from_static(b"pw"));
        let c = Packet::Connect(Box::new(c));
        refuses(&c, v, EncodeError::PasswordWithoutUsername);
    }
}

#[test]
fn encoder_refuses_reason_codes_the_packet_may_not_carry() {
    let mut ack = Ack::new(id(1));
    ack.reason_code = ReasonCode::ServerShuttingDown;
    let expected = EncodeError::InvalidReasonCode {
        packet: T::PubAck,
        code: ReasonCode::ServerShuttingDown,
    };
    refuses(&Packet::PubAck(ack), V5, expected);
    let connack = ConnAck::new(ReasonCode::GrantedQoS1, false);
    let expected = EncodeError::InvalidReasonCode {
        packet: T::ConnAck,
        code: ReasonCode::GrantedQoS1,
    };
    refuses(&Packet::ConnAck(connack), V5, expected);
}

#[test]
fn encoder_refuses_property_values_the_decoder_rejects() {
    // Maximum QoS 2 (§3.2.2.3.4).
    let mut connack = ConnAck::new(ReasonCode::Success, false);
    connack.properties.maximum_qos = Some(QoS::ExactlyOnce);
    let expected = EncodeError::InvalidPropertyValue("Maximum QoS");
    refuses(&Packet::ConnAck(connack), V5, expected);
    // Authentication Data without Authentication Method (§3.1.2.11.10).
    let mut c = Connect::new(V5, string("c"));
    c.properties.authentication_data = Some(Bytes::from_static(b"x"));
    let expected = EncodeError::InvalidPropertyValue("Authentication Data");
    refuses(&Packet::Connect(Box::new(c)), V5, expected);
    // Subscription Identifier above 268,435,455 (§3.3.2.3.8).
    let mut p = publish_packet(QoS::AtMostOnce, None);
    p.properties.subscription_identifiers = vec![NonZeroU32::new(268_435_456).unwrap()];
    let expected = EncodeError::InvalidPropertyValue("Subscription Identifier");
    refuses(&Packet::Publish(p), V5, expected);
}
