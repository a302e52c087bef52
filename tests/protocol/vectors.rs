//! Hand-written byte vectors for every control packet of MQTT 3.1.1 and 5.0, plus the MQTT 3.1
//! (`MQIsdp`, level 3) CONNECT.
//!
//! Every vector is written out byte by byte with a comment per field and its expected [`Packet`]
//! is built by hand, so the codec never judges itself: `decode` must produce exactly that packet
//! and consume exactly those bytes, and `encode` must produce exactly those bytes again, with
//! `encoded_len` agreeing. Where MQTT 5.0 allows a longer form of the same packet (an explicit
//! Success reason code, an empty property length) the long form must decode to the same packet
//! and re-encode to the canonical short form.
//!
//! Properties are written in the order the specification's property tables list them, which is
//! also the order the encoder writes them. Section numbers are those of MQTT 3.1.1 for `v311`
//! tests and of MQTT 5.0 for `v5` tests.

use std::num::{NonZeroU16, NonZeroU32};

use bytes::{Bytes, BytesMut};
use mqkit::protocol::{
    decode, encode, encoded_len, Ack, AckProperties, Auth, AuthProperties, ConnAck,
    ConnAckProperties, Connect, ConnectProperties, ConnectReturnCode, DecodeError, Disconnect,
    DisconnectProperties, EncodeError, LastWill, MqttString, Packet, PacketId, PacketType,
    PayloadFormat, ProtocolVersion, Publish, PublishProperties, QoS, ReasonCode, RetainHandling,
    SubAck, Subscribe, SubscribeProperties, Subscription, SubscriptionOptions, UnsubAck,
    Unsubscribe, WillProperties,
};
use mqkit::topic::TopicName;

use ProtocolVersion::{V31, V311, V5};

/// The maximum packet size used unless a test is about it.
const MAX: usize = 1 << 20;

/// A byte appended after each vector: it must still be in the buffer after one decode.
const SENTINEL: u8 = 0xC0;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn hex(bytes: &[u8]) -> String {
    let parts: Vec<String> = bytes.iter().map(|b| format!("{b:02X}")).collect();
    parts.join(" ")
}

fn s(value: &'static str) -> MqttString {
    MqttString::from_static(value).unwrap()
}

fn topic(value: &str) -> TopicName {
    TopicName::new(value).unwrap()
}

fn pid(value: u16) -> PacketId {
    PacketId::new(value).unwrap()
}

fn nz16(value: u16) -> NonZeroU16 {
    NonZeroU16::new(value).unwrap()
}

fn nz32(value: u32) -> NonZeroU32 {
    NonZeroU32::new(value).unwrap()
}

fn bin(value: &'static [u8]) -> Bytes {
    Bytes::from_static(value)
}

fn user(name: &'static str, value: &'static str) -> (MqttString, MqttString) {
    (s(name), s(value))
}

/// Asserts that `bytes` decode to `expected`, consuming exactly `bytes`: alone in the buffer, and
/// followed by a stray byte that must be left behind.
#[track_caller]
fn assert_decodes(version: ProtocolVersion, bytes: &[u8], expected: &Packet) {
    let mut buf = BytesMut::from(bytes);
    let decoded = decode(&mut buf, version, MAX);
    assert_eq!(
        decoded,
        Ok(Some(expected.clone())),
        "decoding [{}] as {version}",
        hex(bytes)
    );
    assert!(
        buf.is_empty(),
        "decode left [{}] of [{}]",
        hex(&buf),
        hex(bytes)
    );

    let mut buf = BytesMut::from(bytes);
    buf.extend_from_slice(&[SENTINEL]);
    let decoded = decode(&mut buf, version, MAX);
    assert_eq!(
        decoded,
        Ok(Some(expected.clone())),
        "decoding [{}] + C0",
        hex(bytes)
    );
    assert_eq!(
        hex(&buf),
        hex(&[SENTINEL]),
        "decode consumed the wrong bytes"
    );
}

/// Asserts that `packet` encodes for `version` to exactly `bytes`, appended to what the buffer
/// already holds, and that `encoded_len` agrees.
#[track_caller]
fn assert_encodes(version: ProtocolVersion, packet: &Packet, bytes: &[u8]) {
    let mut out = BytesMut::from(&[0xAA][..]);
    encode(packet, version, &mut out)
        .unwrap_or_else(|e| panic!("encoding {packet:?} as {version}: {e}"));
    assert_eq!(out[0], 0xAA, "encode overwrote what the buffer held");
    assert_eq!(
        hex(&out[1..]),
        hex(bytes),
        "encoding {packet:?} as {version}"
    );
    assert_eq!(encoded_len(packet, version), Ok(bytes.len()), "encoded_len");
}

/// The canonical vector: `bytes` decode to `expected` and `expected` encodes to `bytes`.
#[track_caller]
fn check(version: ProtocolVersion, bytes: &[u8], expected: Packet) {
    assert_decodes(version, bytes, &expected);
    assert_encodes(version, &expected, bytes);
}

/// A longer form the specification also allows: `long` decodes to `expected`, which encodes to
/// the canonical `short` (which decodes to `expected` too).
#[track_caller]
fn check_long_form(version: ProtocolVersion, long: &[u8], short: &[u8], expected: Packet) {
    assert_ne!(long, short);
    assert_decodes(version, long, &expected);
    check(version, short, expected);
}

fn connect(c: Connect) -> Packet {
    Packet::Connect(Box::new(c))
}

// ---------------------------------------------------------------------------------------------
// CONNECT (3.1.1 §3.1, 5.0 §3.1, MQTT 3.1)
// ---------------------------------------------------------------------------------------------

#[test]
fn v311_connect_minimal_sec_3_1() {
    let bytes = [
        0x10, 0x0C, // CONNECT, remaining length 12
        0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name "MQTT"
        0x04, // protocol level 4 (3.1.1)
        0x02, // connect flags: clean session
        0x00, 0x00, // keep alive 0 (off)
        0x00, 0x00, // client identifier "" (allowed with clean session, [MQTT-3.1.3-7])
    ];
    let expected = Connect {
        version: V311,
        clean_start: true,
        keep_alive: 0,
        client_id: MqttString::default(),
        will: None,
        username: None,
        password: None,
        properties: ConnectProperties::default(),
    };
    check(V311, &bytes, connect(expected));
}

#[test]
fn v311_connect_will_qos1_retain_username_password_sec_3_1_2() {
    let bytes = [
        0x10, 0x20, // CONNECT, remaining length 32
        0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name "MQTT"
        0x04, // protocol level 4 (3.1.1)
        0xEE, // flags: user name 0x80, password 0x40, will retain 0x20, will QoS 1 0x08,
        //       will 0x04, clean session 0x02
        0x01, 0x2C, // keep alive 300 s (big-endian)
        0x00, 0x02, b'c', b'1', // client identifier "c1"
        0x00, 0x03, b'w', b'/', b't', // will topic "w/t"
        0x00, 0x03, b'b', b'y', b'e', // will message "bye"
        0x00, 0x01, b'u', // user name "u"
        0x00, 0x03, 0x70, 0x00, 0xFF, // password: binary data, 0x00 and 0xFF allowed
    ];
    let expected = Connect {
        version: V311,
        clean_start: true,
        keep_alive: 300,
        client_id: s("c1"),
        will: Some(LastWill {
            topic: topic("w/t"),
            payload: bin(b"bye"),
            qos: QoS::AtLeastOnce,
            retain: true,
            properties: WillProperties::default(),
        }),
        username: Some(s("u")),
        password: Some(bin(&[0x70, 0x00, 0xFF])),
        properties: ConnectProperties::default(),
    };
    check(V311, &bytes, connect(expected));
}

#[test]
fn v311_connect_persistent_session_will_qos2_sec_3_1_2_4() {
    let bytes = [
        0x10, 0x12, // CONNECT, remaining length 18
        0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name "MQTT"
        0x04, // protocol level 4
        0x14, // flags: will QoS 2 0x10, will 0x04; clean session 0 (resume the session)
        0xFF, 0xFF, // keep alive 65535 s
        0x00, 0x01, b'c', // client identifier "c"
        0x00, 0x01, b't', // will topic "t"
        0x00, 0x00, // will message: empty
    ];
    let expected = Connect {
        version: V311,
        clean_start: false,
        keep_alive: u16::MAX,
        client_id: s("c"),
        will: Some(LastWill {
            topic: topic("t"),
            payload: Bytes::new(),
            qos: QoS::ExactlyOnce,
            retain: false,
            properties: WillProperties::default(),
        }),
        username: None,
        password: None,
        properties: ConnectProperties::default(),
    };
    check(V311, &bytes, connect(expected));
}

#[test]
fn v31_connect_mqisdp_level_3_sec_3_1() {
    let bytes = [
        0x10, 0x17, // CONNECT, remaining length 23
        0x00, 0x06, b'M', b'Q', b'I', b's', b'd', b'p', // protocol name "MQIsdp" (MQTT 3.1)
        0x03, // protocol version 3
        0xC2, // flags: user name 0x80, password 0x40, clean session 0x02
        0x00, 0x3C, // keep alive 60 s
        0x00, 0x02, b'c', b'1', // client identifier "c1"
        0x00, 0x01, b'u', // user name "u"
        0x00, 0x02, b'p', b'w', // password "pw"
    ];
    let expected = Connect {
        version: V31,
        clean_start: true,
        keep_alive: 60,
        client_id: s("c1"),
        will: None,
        username: Some(s("u")),
        password: Some(bin(b"pw")),
        properties: ConnectProperties::default(),
    };
    check(V31, &bytes, connect(expected.clone()));
    // CONNECT carries its own version: a server decodes it before it knows the connection's.
    assert_decodes(V311, &bytes, &connect(expected.clone()));
    assert_decodes(V5, &bytes, &connect(expected));
}

#[test]
fn v5_connect_every_property_and_every_will_property_sec_3_1_2_11_sec_3_1_3_2() {
    let bytes = [
        0x10, 0x6D, // CONNECT, remaining length 109
        0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name "MQTT"
        0x05, // protocol level 5
        0x16, // flags: will QoS 2 0x10, will 0x04, clean start 0x02
        0x00, 0x0A, // keep alive 10 s
        0x2F, // property length 47
        0x11, 0x00, 0x00, 0x0E, 0x10, // session expiry interval 3600 s
        0x21, 0x00, 0x14, // receive maximum 20
        0x27, 0x00, 0x10, 0x00, 0x00, // maximum packet size 1,048,576
        0x22, 0x00, 0x0A, // topic alias maximum 10
        0x19, 0x01, // request response information: yes
        0x17, 0x00, // request problem information: no
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'1', // user property "k" = "1"
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'2', // user property "k" = "2" (same name, kept)
        0x15, 0x00, 0x05, b'S', b'C', b'R', b'A', b'M', // authentication method "SCRAM"
        0x16, 0x00, 0x02, 0x01, 0x02, // authentication data 01 02
        0x00, 0x02, b'c', b'5', // client identifier "c5"
        0x25, // will property length 37
        0x18, 0x00, 0x00, 0x00, 0x1E, // will delay interval 30 s
        0x01, 0x01, // payload format indicator: UTF-8
        0x02, 0x00, 0x00, 0x01, 0x2C, // message expiry interval 300 s
        0x03, 0x00, 0x04, b't', b'e', b'x', b't', // content type "text"
        0x08, 0x00, 0x03, b'r', b'/', b'1', // response topic "r/1"
        0x09, 0x00, 0x02, 0xAB, 0xCD, // correlation data AB CD
        0x26, 0x00, 0x01, b'a', 0x00, 0x01, b'b', // user property "a" = "b"
        0x00, 0x03, b'w', b'/', b't', // will topic "w/t"
        0x00, 0x02, b'h', b'i', // will payload "hi"
    ];
    let expected = Connect {
        version: V5,
        clean_start: true,
        keep_alive: 10,
        client_id: s("c5"),
        will: Some(LastWill {
            topic: topic("w/t"),
            payload: bin(b"hi"),
            qos: QoS::ExactlyOnce,
            retain: false,
            properties: WillProperties {
                will_delay_interval: Some(30),
                payload_format_indicator: Some(PayloadFormat::Utf8),
                message_expiry_interval: Some(300),
                content_type: Some(s("text")),
                response_topic: Some(topic("r/1")),
                correlation_data: Some(bin(&[0xAB, 0xCD])),
                user_properties: vec![user("a", "b")],
            },
        }),
        username: None,
        password: None,
        properties: ConnectProperties {
            session_expiry_interval: Some(3600),
            receive_maximum: Some(nz16(20)),
            maximum_packet_size: Some(nz32(1 << 20)),
            topic_alias_maximum: Some(10),
            request_response_information: Some(true),
            request_problem_information: Some(false),
            user_properties: vec![user("k", "1"), user("k", "2")],
            authentication_method: Some(s("SCRAM")),
            authentication_data: Some(bin(&[0x01, 0x02])),
        },
    };
    check(V5, &bytes, connect(expected));
}

#[test]
fn v5_connect_password_without_user_name_sec_3_1_2_9() {
    let bytes = [
        0x10, 0x12, // CONNECT, remaining length 18
        0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name "MQTT"
        0x05, // protocol level 5
        0x42, // flags: password 0x40, clean start 0x02; no user name
        0x00, 0x3C, // keep alive 60 s
        0x00, // property length 0
        0x00, 0x01, b'c', // client identifier "c"
        0x00, 0x02, b'p', b'w', // password "pw"
    ];
    let expected = Connect {
        version: V5,
        clean_start: true,
        keep_alive: 60,
        client_id: s("c"),
        will: None,
        username: None,
        password: Some(bin(b"pw")),
        properties: ConnectProperties::default(),
    };
    check(V5, &bytes, connect(expected.clone()));

    // 3.1.1 forbids the same [MQTT-3.1.2-22], in both directions.
    let v311 = Connect {
        version: V311,
        ..expected
    };
    let mut out = BytesMut::new();
    assert_eq!(
        encode(&connect(v311), V311, &mut out),
        Err(EncodeError::PasswordWithoutUsername)
    );
    assert!(out.is_empty(), "a failed encode writes nothing");
    let bytes_311 = [
        0x10, 0x11, // CONNECT, remaining length 17
        0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name "MQTT"
        0x04, // protocol level 4
        0x42, // flags: password 0x40, clean session 0x02; no user name
        0x00, 0x3C, // keep alive 60 s
        0x00, 0x01, b'c', // client identifier "c"
        0x00, 0x02, b'p', b'w', // password "pw"
    ];
    assert_eq!(
        decode(&mut BytesMut::from(&bytes_311[..]), V311, MAX),
        Err(DecodeError::PasswordWithoutUsername)
    );
}

#[test]
fn v311_connect_encode_leaves_out_v5_properties_sec_3_1_2() {
    // A 3.1.1 CONNECT with 5.0 properties set: the properties have no place on the wire.
    let packet = connect(Connect {
        version: V311,
        clean_start: true,
        keep_alive: 60,
        client_id: s("c1"),
        will: None,
        username: None,
        password: None,
        properties: ConnectProperties {
            session_expiry_interval: Some(60),
            user_properties: vec![user("k", "v")],
            ..ConnectProperties::default()
        },
    });
    let bytes = [
        0x10, 0x0E, // CONNECT, remaining length 14
        0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name "MQTT"
        0x04, // protocol level 4
        0x02, // flags: clean session
        0x00, 0x3C, // keep alive 60 s
        0x00, 0x02, b'c', b'1', // client identifier "c1"
    ];
    assert_encodes(V311, &packet, &bytes);
}

// ---------------------------------------------------------------------------------------------
// CONNACK (3.1.1 §3.2, 5.0 §3.2)
// ---------------------------------------------------------------------------------------------

#[test]
fn v311_connack_accepted_session_present_sec_3_2_2_2() {
    let bytes = [
        0x20, 0x02, // CONNACK, remaining length 2
        0x01, // acknowledge flags: session present
        0x00, // return code 0: connection accepted
    ];
    let expected = ConnAck {
        session_present: true,
        reason_code: ReasonCode::Success,
        properties: ConnAckProperties::default(),
    };
    assert_eq!(expected.code_for(V311), 0);
    check(V311, &bytes, Packet::ConnAck(expected));
}

#[test]
fn v311_connack_each_refusal_return_code_sec_3_2_2_3() {
    let cases = [
        (0x01, ReasonCode::UnsupportedProtocolVersion), // unacceptable protocol version
        (0x02, ReasonCode::ClientIdentifierNotValid),   // identifier rejected
        (0x03, ReasonCode::ServerUnavailable),          // server unavailable
        (0x04, ReasonCode::BadUserNameOrPassword),      // bad user name or password
        (0x05, ReasonCode::NotAuthorized),              // not authorized
    ];
    for (code, reason) in cases {
        let bytes = [
            0x20, 0x02, // CONNACK, remaining length 2
            0x00, // acknowledge flags: no session [MQTT-3.2.2-4]
            code, // return code
        ];
        let expected = ConnAck::new(reason, false);
        assert_eq!(expected.code_for(V311), code, "{reason}");
        assert_eq!(expected.code_for(V31), code, "{reason}");
        assert_eq!(
            ConnectReturnCode::from_u8(code).map(|c| c.to_reason_code()),
            Some(reason)
        );
        check(V311, &bytes, Packet::ConnAck(expected.clone()));
        check(V31, &bytes, Packet::ConnAck(expected));
    }
}

#[test]
fn v311_connack_carries_nearest_return_code_for_v5_only_reasons_sec_3_2_2_3() {
    // 5.0 reasons with no 3.1.1 return code travel as the nearest one, as mosquitto does.
    let cases = [
        (ReasonCode::NotAuthorized, 0x05),
        (ReasonCode::Banned, 0x05),
        (ReasonCode::BadAuthenticationMethod, 0x04),
        (ReasonCode::ServerBusy, 0x03),
        (ReasonCode::UnspecifiedError, 0x03),
    ];
    for (reason, code) in cases {
        let packet = Packet::ConnAck(ConnAck {
            session_present: false,
            reason_code: reason,
            properties: ConnAckProperties {
                reason_string: Some(s("dropped in 3.1.1")),
                ..ConnAckProperties::default()
            },
        });
        let bytes = [
            0x20, 0x02, // CONNACK, remaining length 2
            0x00, // acknowledge flags
            code, // return code; reason string left out
        ];
        assert_encodes(V311, &packet, &bytes);
    }
}

#[test]
fn v5_connack_every_property_sec_3_2_2_3() {
    let bytes = [
        0x20, 0x4B, // CONNACK, remaining length 75
        0x01, // acknowledge flags: session present
        0x00, // reason code 0x00 Success
        0x48, // property length 72
        0x11, 0x00, 0x00, 0x00, 0x78, // session expiry interval 120 s
        0x21, 0x00, 0x0A, // receive maximum 10
        0x24, 0x01, // maximum QoS 1
        0x25, 0x00, // retain available: no
        0x27, 0x00, 0x00, 0xFF, 0xFF, // maximum packet size 65,535
        0x12, 0x00, 0x03, b'a', b'b', b'c', // assigned client identifier "abc"
        0x22, 0x00, 0x05, // topic alias maximum 5
        0x1F, 0x00, 0x02, b'o', b'k', // reason string "ok"
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // user property "k" = "v"
        0x28, 0x01, // wildcard subscription available: yes
        0x29, 0x00, // subscription identifiers available: no
        0x2A, 0x01, // shared subscription available: yes
        0x13, 0x00, 0x1E, // server keep alive 30 s
        0x1A, 0x00, 0x04, b'r', b'e', b's', b'p', // response information "resp"
        0x1C, 0x00, 0x03, b's', b'r', b'v', // server reference "srv"
        0x15, 0x00, 0x05, b'S', b'C', b'R', b'A', b'M', // authentication method "SCRAM"
        0x16, 0x00, 0x01, 0xFF, // authentication data FF
    ];
    let expected = ConnAck {
        session_present: true,
        reason_code: ReasonCode::Success,
        properties: ConnAckProperties {
            session_expiry_interval: Some(120),
            receive_maximum: Some(nz16(10)),
            maximum_qos: Some(QoS::AtLeastOnce),
            retain_available: Some(false),
            maximum_packet_size: Some(nz32(65_535)),
            assigned_client_identifier: Some(s("abc")),
            topic_alias_maximum: Some(5),
            reason_string: Some(s("ok")),
            user_properties: vec![user("k", "v")],
            wildcard_subscription_available: Some(true),
            subscription_identifiers_available: Some(false),
            shared_subscription_available: Some(true),
            server_keep_alive: Some(30),
            response_information: Some(s("resp")),
            server_reference: Some(s("srv")),
            authentication_method: Some(s("SCRAM")),
            authentication_data: Some(bin(&[0xFF])),
        },
    };
    check(V5, &bytes, Packet::ConnAck(expected));
}

#[test]
fn v5_connack_maximum_qos_0_sec_3_2_2_3_4() {
    let bytes = [
        0x20, 0x05, // CONNACK, remaining length 5
        0x00, // acknowledge flags
        0x00, // reason code 0x00 Success
        0x02, // property length 2
        0x24, 0x00, // maximum QoS 0
    ];
    let expected = ConnAck {
        session_present: false,
        reason_code: ReasonCode::Success,
        properties: ConnAckProperties {
            maximum_qos: Some(QoS::AtMostOnce),
            ..ConnAckProperties::default()
        },
    };
    check(V5, &bytes, Packet::ConnAck(expected));
}

#[test]
fn v5_connack_refused_not_authorized_sec_3_2_2_2() {
    let bytes = [
        0x20, 0x03, // CONNACK, remaining length 3
        0x00, // acknowledge flags: no session [MQTT-3.2.2-6]
        0x87, // reason code 0x87 Not authorized
        0x00, // property length 0
    ];
    let expected = ConnAck::new(ReasonCode::NotAuthorized, false);
    assert_eq!(expected.code_for(V5), 0x87);
    assert_eq!(expected.code_for(V311), 0x05);
    check(V5, &bytes, Packet::ConnAck(expected));
}

/// "If a server sends a CONNACK packet containing a non-zero return code it MUST set Session
/// Present to 0" [MQTT-3.2.2-4] (5.0: [MQTT-3.2.2-6]). `encode` refuses packets that break a
/// rule of the specification, so a refusal with `session_present: true` must either fail to
/// encode or go out with the flag cleared; it must never be written as `01`.
#[test]
fn connack_refusal_never_sets_session_present_mqtt_3_2_2_4() {
    let v311 = [
        0x20, 0x02, // CONNACK, remaining length 2
        0x00, // acknowledge flags: session present MUST be 0
        0x05, // return code 5: not authorized
    ];
    let v5 = [
        0x20, 0x03, // CONNACK, remaining length 3
        0x00, // acknowledge flags: session present MUST be 0
        0x87, // reason code 0x87 Not authorized
        0x00, // property length 0
    ];
    let packet = Packet::ConnAck(ConnAck::new(ReasonCode::NotAuthorized, true));
    for (version, compliant) in [(V311, &v311[..]), (V5, &v5[..])] {
        let mut out = BytesMut::new();
        if encode(&packet, version, &mut out).is_ok() {
            assert_eq!(
                hex(&out),
                hex(compliant),
                "{version}: a refused CONNACK went out with Session Present set"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// PUBLISH (3.1.1 §3.3, 5.0 §3.3)
// ---------------------------------------------------------------------------------------------

#[test]
fn v311_publish_qos0_sec_3_3() {
    let bytes = [
        0x30, 0x0A, // PUBLISH QoS 0, remaining length 10
        0x00, 0x03, b'a', b'/', b'b', // topic name "a/b"
        b'h', b'e', b'l', b'l', b'o', // payload "hello" (no packet identifier at QoS 0)
    ];
    let expected = Publish {
        dup: false,
        qos: QoS::AtMostOnce,
        retain: false,
        topic: topic("a/b"),
        packet_id: None,
        payload: bin(b"hello"),
        properties: PublishProperties::default(),
    };
    check(V311, &bytes, Packet::Publish(expected.clone()));
    check(V31, &bytes, Packet::Publish(expected));
}

#[test]
fn v311_publish_qos1_with_packet_identifier_sec_3_3_2_2() {
    let bytes = [
        0x32, 0x0B, // PUBLISH QoS 1 (flags 0010), remaining length 11
        0x00, 0x03, b'a', b'/', b'b', // topic name "a/b"
        0x12, 0x34, // packet identifier 0x1234 (big-endian)
        b'd', b'a', b't', b'a', // payload "data"
    ];
    let expected = Publish {
        dup: false,
        qos: QoS::AtLeastOnce,
        retain: false,
        topic: topic("a/b"),
        packet_id: Some(pid(0x1234)),
        payload: bin(b"data"),
        properties: PublishProperties::default(),
    };
    check(V311, &bytes, Packet::Publish(expected));
}

#[test]
fn v311_publish_qos2_dup_retain_sec_3_3_1() {
    let bytes = [
        0x3D, 0x08, // PUBLISH DUP 1000 | QoS 2 0100 | RETAIN 0001, remaining length 8
        0x00, 0x01, b't', // topic name "t"
        0xFF, 0xFE, // packet identifier 65534
        0x01, 0x02, 0x03, // payload 01 02 03
    ];
    let expected = Publish {
        dup: true,
        qos: QoS::ExactlyOnce,
        retain: true,
        topic: topic("t"),
        packet_id: Some(pid(65_534)),
        payload: bin(&[0x01, 0x02, 0x03]),
        properties: PublishProperties::default(),
    };
    check(V311, &bytes, Packet::Publish(expected));
}

#[test]
fn v311_publish_empty_payload_retained_clears_retained_message_mqtt_3_3_1_10() {
    let bytes = [
        0x31, 0x03, // PUBLISH QoS 0 RETAIN, remaining length 3
        0x00, 0x01, b't', // topic name "t"; payload: empty
    ];
    let expected = Publish {
        dup: false,
        qos: QoS::AtMostOnce,
        retain: true,
        topic: topic("t"),
        packet_id: None,
        payload: Bytes::new(),
        properties: PublishProperties::default(),
    };
    check(V311, &bytes, Packet::Publish(expected));
}

#[test]
fn v311_publish_empty_payload_qos1_sec_3_3_3() {
    let bytes = [
        0x32, 0x05, // PUBLISH QoS 1, remaining length 5
        0x00, 0x01, b't', // topic name "t"
        0x00, 0x01, // packet identifier 1; payload: empty
    ];
    let expected = Publish {
        dup: false,
        qos: QoS::AtLeastOnce,
        retain: false,
        topic: topic("t"),
        packet_id: Some(pid(1)),
        payload: Bytes::new(),
        properties: PublishProperties::default(),
    };
    check(V311, &bytes, Packet::Publish(expected));
}

#[test]
fn v311_publish_utf8_topic_sec_1_5_3() {
    let bytes = [
        0x30, 0x07, // PUBLISH QoS 0, remaining length 7
        0x00, 0x04, // topic name length 4 (bytes, not characters)
        0xC3, 0xBC, b'/', b'x', // "ü/x" (U+00FC is C3 BC)
        b'!', // payload "!"
    ];
    let expected = Publish::new(topic("ü/x"), "!");
    check(V311, &bytes, Packet::Publish(expected));
}

/// A PUBLISH whose remaining length is `len`: topic "t", then `len - 3` payload bytes of 'x'.
fn long_publish(header: &[u8], len: usize) -> (Vec<u8>, Packet) {
    let payload = vec![b'x'; len - 3];
    let mut bytes = header.to_vec();
    bytes.extend_from_slice(&[0x00, 0x01, b't']); // topic name "t"
    bytes.extend_from_slice(&payload);
    (bytes, Packet::Publish(Publish::new(topic("t"), payload)))
}

#[test]
fn v311_publish_remaining_length_encoding_boundaries_sec_2_2_3() {
    let cases: [(&[u8], usize); 6] = [
        (&[0x30, 0x7F], 127),                // PUBLISH, remaining length 127 (1 byte)
        (&[0x30, 0x80, 0x01], 128),          // 128 = 0x00 + 1 * 128 (2 bytes)
        (&[0x30, 0xC8, 0x01], 200),          // 200 = 0x48 + 1 * 128
        (&[0x30, 0xFF, 0x7F], 16_383),       // 16,383: largest with 2 bytes
        (&[0x30, 0x80, 0x80, 0x01], 16_384), // 16,384: smallest with 3 bytes
        (&[0x30, 0x80, 0x80, 0x80, 0x01], 2_097_152), // smallest with 4 bytes
    ];
    for (header, len) in cases {
        let (bytes, expected) = long_publish(header, len);
        let mut buf = BytesMut::from(&bytes[..]);
        let max = bytes.len();
        assert_eq!(
            decode(&mut buf, V311, max),
            Ok(Some(expected.clone())),
            "{len}"
        );
        assert!(buf.is_empty());
        let mut out = BytesMut::new();
        encode(&expected, V311, &mut out).unwrap();
        assert!(out[..] == bytes[..], "encoding remaining length {len}");
        assert_eq!(encoded_len(&expected, V311), Ok(bytes.len()));
    }
}

#[test]
fn v5_publish_every_property_sec_3_3_2_3() {
    let bytes = [
        0x32, 0x3D, // PUBLISH QoS 1, remaining length 61
        0x00, 0x03, b'a', b'/', b'b', // topic name "a/b"
        0x00, 0x07, // packet identifier 7
        0x33, // property length 51
        0x01, 0x01, // payload format indicator: UTF-8
        0x02, 0x00, 0x00, 0x00, 0x3C, // message expiry interval 60 s
        0x23, 0x00, 0x05, // topic alias 5
        0x08, 0x00, 0x05, b'r', b'e', b'p', b'/', b'1', // response topic "rep/1"
        0x09, 0x00, 0x03, 0x01, 0x02, 0x03, // correlation data 01 02 03
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // user property "k" = "v"
        0x0B, 0x01, // subscription identifier 1
        0x0B, 0xFF, 0xFF, 0xFF, 0x7F, // subscription identifier 268,435,455 (4-byte varint)
        0x03, 0x00, 0x0A, // content type, length 10:
        b't', b'e', b'x', b't', b'/', b'p', b'l', b'a', b'i', b'n', // "text/plain"
        b'h', b'i', // payload "hi"
    ];
    let expected = Publish {
        dup: false,
        qos: QoS::AtLeastOnce,
        retain: false,
        topic: topic("a/b"),
        packet_id: Some(pid(7)),
        payload: bin(b"hi"),
        properties: PublishProperties {
            payload_format_indicator: Some(PayloadFormat::Utf8),
            message_expiry_interval: Some(60),
            topic_alias: Some(nz16(5)),
            response_topic: Some(topic("rep/1")),
            correlation_data: Some(bin(&[0x01, 0x02, 0x03])),
            user_properties: vec![user("k", "v")],
            subscription_identifiers: vec![nz32(1), nz32(268_435_455)],
            content_type: Some(s("text/plain")),
        },
    };
    check(V5, &bytes, Packet::Publish(expected));
}

#[test]
fn v5_publish_no_properties_has_property_length_0_sec_3_3_2_3_1() {
    let bytes = [
        0x30, 0x05, // PUBLISH QoS 0, remaining length 5
        0x00, 0x01, b't', // topic name "t"
        0x00, // property length 0
        b'x', // payload "x"
    ];
    let expected = Publish::new(topic("t"), "x");
    check(V5, &bytes, Packet::Publish(expected));
}

#[test]
fn v5_publish_empty_topic_with_topic_alias_sec_3_3_2_3_4() {
    let bytes = [
        0x30, 0x08, // PUBLISH QoS 0, remaining length 8
        0x00, 0x00, // topic name "" (the topic alias stands for it)
        0x03, // property length 3
        0x23, 0x00, 0x05, // topic alias 5
        b'o', b'k', // payload "ok"
    ];
    let expected = Publish {
        dup: false,
        qos: QoS::AtMostOnce,
        retain: false,
        topic: TopicName::empty(),
        packet_id: None,
        payload: bin(b"ok"),
        properties: PublishProperties {
            topic_alias: Some(nz16(5)),
            ..PublishProperties::default()
        },
    };
    check(V5, &bytes, Packet::Publish(expected));
}

#[test]
fn v5_publish_payload_format_unspecified_and_utf8_payload_sec_3_3_2_3_2() {
    let bytes = [
        0x30, 0x0A, // PUBLISH QoS 0, remaining length 10
        0x00, 0x01, b't', // topic name "t"
        0x02, // property length 2
        0x01, 0x00, // payload format indicator: unspecified bytes
        0xE2, 0x82, 0xAC, // payload: U+20AC (opaque bytes to the codec)
        0x00, // payload continues: 0x00 is fine in a payload
    ];
    let expected = Publish {
        properties: PublishProperties {
            payload_format_indicator: Some(PayloadFormat::Unspecified),
            ..PublishProperties::default()
        },
        ..Publish::new(topic("t"), bin(&[0xE2, 0x82, 0xAC, 0x00]))
    };
    check(V5, &bytes, Packet::Publish(expected));
}

#[test]
fn v311_publish_encode_leaves_out_v5_properties_sec_3_3_2() {
    let packet = Packet::Publish(Publish {
        properties: PublishProperties {
            message_expiry_interval: Some(60),
            topic_alias: Some(nz16(3)),
            user_properties: vec![user("k", "v")],
            ..PublishProperties::default()
        },
        ..Publish::new(topic("t"), "x")
    });
    let bytes = [
        0x30, 0x04, // PUBLISH QoS 0, remaining length 4
        0x00, 0x01, b't', // topic name "t"; no property length in 3.1.1
        b'x', // payload "x"
    ];
    assert_encodes(V311, &packet, &bytes);
    // Without a topic name 3.1.1 cannot send it at all: it has no topic alias.
    let aliased = Packet::Publish(Publish {
        topic: TopicName::empty(),
        properties: PublishProperties {
            topic_alias: Some(nz16(3)),
            ..PublishProperties::default()
        },
        ..Publish::new(topic("t"), "x")
    });
    let mut out = BytesMut::new();
    assert_eq!(
        encode(&aliased, V311, &mut out),
        Err(EncodeError::EmptyTopicName)
    );
}

// ---------------------------------------------------------------------------------------------
// PUBACK, PUBREC, PUBREL, PUBCOMP (3.1.1 §3.4–3.7, 5.0 §3.4–3.7)
// ---------------------------------------------------------------------------------------------

#[test]
fn v311_puback_sec_3_4() {
    let bytes = [
        0x40, 0x02, // PUBACK, remaining length 2
        0x00, 0x01, // packet identifier 1
    ];
    check(V311, &bytes, Packet::PubAck(Ack::new(pid(1))));
    check(V31, &bytes, Packet::PubAck(Ack::new(pid(1))));
}

#[test]
fn v311_pubrec_sec_3_5() {
    let bytes = [
        0x50, 0x02, // PUBREC, remaining length 2
        0x12, 0x34, // packet identifier 0x1234
    ];
    check(V311, &bytes, Packet::PubRec(Ack::new(pid(0x1234))));
}

#[test]
fn v311_pubrel_fixed_header_flags_0010_mqtt_3_6_1_1() {
    let bytes = [
        0x62, 0x02, // PUBREL with reserved flags 0010, remaining length 2
        0xFF, 0xFF, // packet identifier 65535
    ];
    check(V311, &bytes, Packet::PubRel(Ack::new(pid(65_535))));
    check(V31, &bytes, Packet::PubRel(Ack::new(pid(65_535))));
}

#[test]
fn v311_pubcomp_sec_3_7() {
    let bytes = [
        0x70, 0x02, // PUBCOMP, remaining length 2
        0x00, 0x03, // packet identifier 3
    ];
    check(V311, &bytes, Packet::PubComp(Ack::new(pid(3))));
}

/// One of the four acknowledgements: its constructor, its first byte and a reason code other
/// than Success that it may carry.
struct AckKind {
    make: fn(Ack) -> Packet,
    first: u8,
    reason: ReasonCode,
}

const ACKS: [AckKind; 4] = [
    AckKind {
        make: Packet::PubAck,
        first: 0x40,                               // PUBACK
        reason: ReasonCode::NoMatchingSubscribers, // 0x10
    },
    AckKind {
        make: Packet::PubRec,
        first: 0x50,                               // PUBREC
        reason: ReasonCode::PacketIdentifierInUse, // 0x91
    },
    AckKind {
        make: Packet::PubRel,
        first: 0x62,                                  // PUBREL, reserved flags 0010
        reason: ReasonCode::PacketIdentifierNotFound, // 0x92
    },
    AckKind {
        make: Packet::PubComp,
        first: 0x70,                                  // PUBCOMP
        reason: ReasonCode::PacketIdentifierNotFound, // 0x92
    },
];

#[test]
fn v5_acks_remaining_length_2_means_success_sec_3_4_2_1() {
    for AckKind { make, first, .. } in ACKS {
        let bytes = [
            first, 0x02, // PUBACK / PUBREC / PUBREL / PUBCOMP, remaining length 2
            0x12, 0x34, // packet identifier 0x1234; reason code omitted = 0x00 Success
        ];
        let expected = make(Ack::new(pid(0x1234)));
        assert_eq!(expected.packet_type() as u8, first >> 4);
        check(V5, &bytes, expected);
    }
}

#[test]
fn v5_acks_reason_code_without_properties_sec_3_4_2_2_1() {
    for AckKind {
        make,
        first,
        reason,
    } in ACKS
    {
        let code = reason.as_u8();
        let bytes = [
            first, 0x03, // PUBACK / PUBREC / PUBREL / PUBCOMP, remaining length 3
            0x00, 0x05, // packet identifier 5
            code, // reason code; property length omitted = 0
        ];
        let expected = make(Ack {
            packet_id: pid(5),
            reason_code: reason,
            properties: AckProperties::default(),
        });
        assert_eq!(expected.packet_type() as u8, first >> 4);
        check(V5, &bytes, expected);
    }
}

#[test]
fn v5_puback_not_authorized_0x87_sec_3_4_2_1() {
    let bytes = [
        0x40, 0x03, // PUBACK, remaining length 3
        0x00, 0x09, // packet identifier 9
        0x87, // reason code 0x87 Not authorized
    ];
    let expected = Ack {
        packet_id: pid(9),
        reason_code: ReasonCode::NotAuthorized,
        properties: AckProperties::default(),
    };
    check(V5, &bytes, Packet::PubAck(expected));
}

#[test]
fn v5_acks_reason_code_reason_string_user_property_sec_3_4_2_2() {
    for AckKind {
        make,
        first,
        reason,
    } in ACKS
    {
        let code = reason.as_u8();
        let bytes = [
            first, 0x12, // PUBACK / PUBREC / PUBREL / PUBCOMP, remaining length 18
            0x00, 0x05, // packet identifier 5
            code, // reason code
            0x0E, // property length 14
            0x1F, 0x00, 0x04, b'w', b'h', b'y', b'?', // reason string "why?"
            0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // user property "k" = "v"
        ];
        let expected = make(Ack {
            packet_id: pid(5),
            reason_code: reason,
            properties: AckProperties {
                reason_string: Some(s("why?")),
                user_properties: vec![user("k", "v")],
            },
        });
        assert_eq!(expected.packet_type() as u8, first >> 4);
        check(V5, &bytes, expected);
    }
}

#[test]
fn v5_puback_success_with_reason_string_sec_3_4_2_2() {
    let bytes = [
        0x40, 0x0A, // PUBACK, remaining length 10
        0x00, 0x01, // packet identifier 1
        0x00, // reason code 0x00 Success: written because properties follow
        0x06, // property length 6
        0x1F, 0x00, 0x03, b'y', b'a', b'y', // reason string "yay"
    ];
    let expected = Ack {
        packet_id: pid(1),
        reason_code: ReasonCode::Success,
        properties: AckProperties {
            reason_string: Some(s("yay")),
            user_properties: Vec::new(),
        },
    };
    check(V5, &bytes, Packet::PubAck(expected));
}

#[test]
fn v5_acks_long_forms_decode_like_short_forms_sec_3_4_2_2_1() {
    for AckKind {
        make,
        first,
        reason,
    } in ACKS
    {
        let success = make(Ack::new(pid(1)));
        let short = [first, 0x02, 0x00, 0x01]; // remaining length 2, packet identifier 1
        let long = [
            first, 0x03, // remaining length 3
            0x00, 0x01, // packet identifier 1
            0x00, // reason code 0x00 Success, stated
        ];
        check_long_form(V5, &long, &short, success.clone());
        let long = [
            first, 0x04, // remaining length 4
            0x00, 0x01, // packet identifier 1
            0x00, // reason code 0x00 Success
            0x00, // property length 0
        ];
        check_long_form(V5, &long, &short, success);

        let failure = make(Ack {
            packet_id: pid(1),
            reason_code: reason,
            properties: AckProperties::default(),
        });
        let code = reason.as_u8();
        let short = [first, 0x03, 0x00, 0x01, code]; // remaining length 3, packet id 1, code
        let long = [
            first, 0x04, // remaining length 4
            0x00, 0x01, // packet identifier 1
            code, // reason code
            0x00, // property length 0, stated
        ];
        check_long_form(V5, &long, &short, failure);
    }
}

#[test]
fn v311_ack_encode_leaves_out_reason_code_and_properties_sec_3_4_2() {
    let puback = Ack {
        packet_id: pid(1),
        reason_code: ReasonCode::NoMatchingSubscribers,
        properties: AckProperties {
            reason_string: Some(s("nobody")),
            user_properties: vec![user("k", "v")],
        },
    };
    let bytes = [
        0x40, 0x02, // PUBACK, remaining length 2
        0x00, 0x01, // packet identifier 1; 3.1.1 has no reason code
    ];
    assert_encodes(V311, &Packet::PubAck(puback.clone()), &bytes);
    assert_encodes(V31, &Packet::PubAck(puback), &bytes);
}

// ---------------------------------------------------------------------------------------------
// SUBSCRIBE and SUBACK (3.1.1 §3.8–3.9, 5.0 §3.8–3.9)
// ---------------------------------------------------------------------------------------------

fn qos_only(qos: QoS) -> SubscriptionOptions {
    SubscriptionOptions {
        qos,
        ..SubscriptionOptions::default()
    }
}

#[test]
fn v311_subscribe_three_filters_qos_0_1_2_sec_3_8() {
    let bytes = [
        0x82, 0x12, // SUBSCRIBE with reserved flags 0010 [MQTT-3.8.1-1], remaining length 18
        0x00, 0x0A, // packet identifier 10
        0x00, 0x03, b'a', b'/', b'b', // topic filter "a/b"
        0x00, // requested QoS 0
        0x00, 0x03, b'c', b'/', b'+', // topic filter "c/+"
        0x01, // requested QoS 1
        0x00, 0x01, b'#', // topic filter "#"
        0x02, // requested QoS 2
    ];
    let expected = Subscribe {
        packet_id: pid(10),
        subscriptions: vec![
            Subscription {
                filter: s("a/b"),
                options: qos_only(QoS::AtMostOnce),
            },
            Subscription {
                filter: s("c/+"),
                options: qos_only(QoS::AtLeastOnce),
            },
            Subscription {
                filter: s("#"),
                options: qos_only(QoS::ExactlyOnce),
            },
        ],
        properties: SubscribeProperties::default(),
    };
    check(V311, &bytes, Packet::Subscribe(expected.clone()));
    check(V31, &bytes, Packet::Subscribe(expected));
}

fn v5_subscribe() -> Subscribe {
    Subscribe {
        packet_id: pid(11),
        subscriptions: vec![
            Subscription {
                filter: s("a/+"),
                options: SubscriptionOptions {
                    qos: QoS::AtLeastOnce,
                    no_local: true,
                    retain_as_published: false,
                    retain_handling: RetainHandling::SendAtSubscribe,
                },
            },
            Subscription {
                filter: s("b/#"),
                options: SubscriptionOptions {
                    qos: QoS::ExactlyOnce,
                    no_local: false,
                    retain_as_published: true,
                    retain_handling: RetainHandling::SendIfNew,
                },
            },
            Subscription {
                filter: s("c"),
                options: SubscriptionOptions {
                    qos: QoS::AtMostOnce,
                    no_local: true,
                    retain_as_published: true,
                    retain_handling: RetainHandling::DoNotSend,
                },
            },
        ],
        properties: SubscribeProperties {
            subscription_identifier: Some(nz32(128)),
            user_properties: vec![user("k", "v")],
        },
    }
}

#[test]
fn v5_subscribe_identifier_user_property_and_options_sec_3_8_2_1_sec_3_8_3_1() {
    let bytes = [
        0x82, 0x1D, // SUBSCRIBE, remaining length 29
        0x00, 0x0B, // packet identifier 11
        0x0A, // property length 10
        0x0B, 0x80, 0x01, // subscription identifier 128 (2-byte varint)
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // user property "k" = "v"
        0x00, 0x03, b'a', b'/', b'+', // topic filter "a/+"
        0x05, // options: QoS 1 (01), no local (04)
        0x00, 0x03, b'b', b'/', b'#', // topic filter "b/#"
        0x1A, // options: QoS 2 (02), retain as published (08), retain handling 1 (10)
        0x00, 0x01, b'c', // topic filter "c"
        0x2C, // options: QoS 0, no local (04), retain as published (08), retain handling 2 (20)
    ];
    check(V5, &bytes, Packet::Subscribe(v5_subscribe()));
}

#[test]
fn v311_subscribe_encode_keeps_only_the_qos_bits_mqtt_3_8_3_4() {
    let bytes = [
        0x82, 0x12, // SUBSCRIBE, remaining length 18; no properties in 3.1.1
        0x00, 0x0B, // packet identifier 11
        0x00, 0x03, b'a', b'/', b'+', // topic filter "a/+"
        0x01, // requested QoS 1; the upper six bits are reserved, 0
        0x00, 0x03, b'b', b'/', b'#', // topic filter "b/#"
        0x02, // requested QoS 2
        0x00, 0x01, b'c', // topic filter "c"
        0x00, // requested QoS 0
    ];
    assert_encodes(V311, &Packet::Subscribe(v5_subscribe()), &bytes);
}

#[test]
fn v311_suback_granted_qos_and_failure_sec_3_9_3() {
    let bytes = [
        0x90, 0x06, // SUBACK, remaining length 6
        0x00, 0x0A, // packet identifier 10
        0x00, // return code: success, maximum QoS 0
        0x01, // success, maximum QoS 1
        0x02, // success, maximum QoS 2
        0x80, // failure
    ];
    let expected = SubAck {
        packet_id: pid(10),
        reason_codes: vec![
            ReasonCode::GRANTED_QOS_0,
            ReasonCode::GrantedQoS1,
            ReasonCode::GrantedQoS2,
            ReasonCode::UnspecifiedError,
        ],
        properties: AckProperties::default(),
    };
    check(V311, &bytes, Packet::SubAck(expected));
}

#[test]
fn v311_suback_sends_every_failure_as_0x80_sec_3_9_3() {
    let packet = Packet::SubAck(SubAck {
        packet_id: pid(10),
        reason_codes: vec![
            ReasonCode::NotAuthorized,
            ReasonCode::GrantedQoS1,
            ReasonCode::TopicFilterInvalid,
        ],
        properties: AckProperties {
            reason_string: Some(s("dropped in 3.1.1")),
            user_properties: Vec::new(),
        },
    });
    let bytes = [
        0x90, 0x05, // SUBACK, remaining length 5; no properties in 3.1.1
        0x00, 0x0A, // packet identifier 10
        0x80, // failure (was 0x87 Not authorized)
        0x01, // success, maximum QoS 1
        0x80, // failure (was 0x8F Topic Filter invalid)
    ];
    assert_encodes(V311, &packet, &bytes);
}

#[test]
fn v5_suback_reason_string_and_failure_codes_sec_3_9_3() {
    let bytes = [
        0x90, 0x0D, // SUBACK, remaining length 13
        0x00, 0x0B, // packet identifier 11
        0x06, // property length 6
        0x1F, 0x00, 0x03, b'b', b'a', b'd', // reason string "bad"
        0x01, // 0x01 Granted QoS 1
        0x8F, // 0x8F Topic Filter invalid
        0x87, // 0x87 Not authorized
        0xA2, // 0xA2 Wildcard Subscriptions not supported
    ];
    let expected = SubAck {
        packet_id: pid(11),
        reason_codes: vec![
            ReasonCode::GrantedQoS1,
            ReasonCode::TopicFilterInvalid,
            ReasonCode::NotAuthorized,
            ReasonCode::WildcardSubscriptionsNotSupported,
        ],
        properties: AckProperties {
            reason_string: Some(s("bad")),
            user_properties: Vec::new(),
        },
    };
    check(V5, &bytes, Packet::SubAck(expected));
}

#[test]
fn v5_suback_no_properties_sec_3_9_2_1() {
    let bytes = [
        0x90, 0x04, // SUBACK, remaining length 4
        0x00, 0x0B, // packet identifier 11
        0x00, // property length 0 (always present in SUBACK)
        0x00, // 0x00 Granted QoS 0
    ];
    let expected = SubAck {
        packet_id: pid(11),
        reason_codes: vec![ReasonCode::GRANTED_QOS_0],
        properties: AckProperties::default(),
    };
    check(V5, &bytes, Packet::SubAck(expected));
}

// ---------------------------------------------------------------------------------------------
// UNSUBSCRIBE and UNSUBACK (3.1.1 §3.10–3.11, 5.0 §3.10–3.11)
// ---------------------------------------------------------------------------------------------

#[test]
fn v311_unsubscribe_two_filters_sec_3_10() {
    let bytes = [
        0xA2, 0x0C, // UNSUBSCRIBE, flags 0010 [MQTT-3.10.1-1], remaining length 12
        0x00, 0x0C, // packet identifier 12
        0x00, 0x03, b'a', b'/', b'b', // topic filter "a/b"
        0x00, 0x03, b'c', b'/', b'#', // topic filter "c/#"
    ];
    let expected = Unsubscribe {
        packet_id: pid(12),
        filters: vec![s("a/b"), s("c/#")],
        user_properties: Vec::new(),
    };
    check(V311, &bytes, Packet::Unsubscribe(expected.clone()));
    check(V31, &bytes, Packet::Unsubscribe(expected));
}

#[test]
fn v5_unsubscribe_user_property_sec_3_10_2_1() {
    let bytes = [
        0xA2, 0x0F, // UNSUBSCRIBE, remaining length 15
        0x00, 0x0D, // packet identifier 13
        0x07, // property length 7
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // user property "k" = "v"
        0x00, 0x03, b'a', b'/', b'b', // topic filter "a/b"
    ];
    let expected = Unsubscribe {
        packet_id: pid(13),
        filters: vec![s("a/b")],
        user_properties: vec![user("k", "v")],
    };
    check(V5, &bytes, Packet::Unsubscribe(expected));
}

#[test]
fn v311_unsuback_sec_3_11() {
    let bytes = [
        0xB0, 0x02, // UNSUBACK, remaining length 2
        0x00, 0x0C, // packet identifier 12
    ];
    let expected = UnsubAck {
        packet_id: pid(12),
        reason_codes: Vec::new(),
        properties: AckProperties::default(),
    };
    check(V311, &bytes, Packet::UnsubAck(expected.clone()));
    check(V31, &bytes, Packet::UnsubAck(expected));
}

#[test]
fn v5_unsuback_success_and_no_subscription_existed_sec_3_11_3() {
    let bytes = [
        0xB0, 0x05, // UNSUBACK, remaining length 5
        0x00, 0x0D, // packet identifier 13
        0x00, // property length 0
        0x00, // 0x00 Success
        0x11, // 0x11 No subscription existed
    ];
    let expected = UnsubAck {
        packet_id: pid(13),
        reason_codes: vec![ReasonCode::Success, ReasonCode::NoSubscriptionExisted],
        properties: AckProperties::default(),
    };
    check(V5, &bytes, Packet::UnsubAck(expected.clone()));

    // 3.1.1 UNSUBACK has no payload: the codes are left out.
    let bytes = [
        0xB0, 0x02, // UNSUBACK, remaining length 2
        0x00, 0x0D, // packet identifier 13
    ];
    assert_encodes(V311, &Packet::UnsubAck(expected), &bytes);
}

#[test]
fn v5_unsuback_reason_string_and_user_property_sec_3_11_2_1() {
    let bytes = [
        0xB0, 0x13, // UNSUBACK, remaining length 19
        0x00, 0x0D, // packet identifier 13
        0x0E, // property length 14
        0x1F, 0x00, 0x04, b'n', b'o', b'p', b'e', // reason string "nope"
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // user property "k" = "v"
        0x87, // 0x87 Not authorized
        0x8F, // 0x8F Topic Filter invalid
    ];
    let expected = UnsubAck {
        packet_id: pid(13),
        reason_codes: vec![ReasonCode::NotAuthorized, ReasonCode::TopicFilterInvalid],
        properties: AckProperties {
            reason_string: Some(s("nope")),
            user_properties: vec![user("k", "v")],
        },
    };
    check(V5, &bytes, Packet::UnsubAck(expected));
}

// ---------------------------------------------------------------------------------------------
// PINGREQ, PINGRESP (3.1.1 §3.12–3.13, 5.0 §3.12–3.13)
// ---------------------------------------------------------------------------------------------

#[test]
fn pingreq_all_versions_sec_3_12() {
    let bytes = [
        0xC0, 0x00, // PINGREQ, remaining length 0
    ];
    for version in [V31, V311, V5] {
        check(version, &bytes, Packet::PingReq);
    }
}

#[test]
fn pingresp_all_versions_sec_3_13() {
    let bytes = [
        0xD0, 0x00, // PINGRESP, remaining length 0
    ];
    for version in [V31, V311, V5] {
        check(version, &bytes, Packet::PingResp);
    }
}

// ---------------------------------------------------------------------------------------------
// DISCONNECT (3.1.1 §3.14, 5.0 §3.14)
// ---------------------------------------------------------------------------------------------

#[test]
fn v311_disconnect_sec_3_14() {
    let bytes = [
        0xE0, 0x00, // DISCONNECT, remaining length 0
    ];
    check(V311, &bytes, Packet::Disconnect(Disconnect::default()));
    check(V31, &bytes, Packet::Disconnect(Disconnect::default()));
}

#[test]
fn v5_disconnect_reason_code_omitted_is_normal_disconnection_sec_3_14_2_1() {
    // What mosquitto sends.
    let bytes = [
        0xE0, 0x00, // DISCONNECT, remaining length 0: 0x00 Normal disconnection
    ];
    let expected = Disconnect::new(ReasonCode::NORMAL_DISCONNECTION);
    assert_eq!(expected, Disconnect::default());
    check(V5, &bytes, Packet::Disconnect(expected));
}

#[test]
fn v5_disconnect_session_taken_over_sec_3_14_2_1() {
    let bytes = [
        0xE0, 0x01, // DISCONNECT, remaining length 1
        0x8E, // reason code 0x8E Session taken over; property length omitted = 0
    ];
    check(
        V5,
        &bytes,
        Packet::Disconnect(Disconnect::new(ReasonCode::SessionTakenOver)),
    );
}

#[test]
fn v5_disconnect_with_will_message_0x04_sec_3_14_2_1() {
    let bytes = [
        0xE0, 0x01, // DISCONNECT, remaining length 1
        0x04, // reason code 0x04 Disconnect with Will Message
    ];
    check(
        V5,
        &bytes,
        Packet::Disconnect(Disconnect::new(ReasonCode::DisconnectWithWillMessage)),
    );
}

#[test]
fn v5_disconnect_every_property_sec_3_14_2_2() {
    let bytes = [
        0xE0, 0x1F, // DISCONNECT, remaining length 31
        0x9D, // reason code 0x9D Server moved
        0x1D, // property length 29
        0x11, 0x00, 0x00, 0x00, 0x00, // session expiry interval 0
        0x1F, 0x00, 0x04, b'm', b'o', b'v', b'e', // reason string "move"
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // user property "k" = "v"
        0x1C, 0x00, 0x07, b'b', b'2', b':', b'1', b'8', b'8',
        b'3', // server reference "b2:1883"
    ];
    let expected = Disconnect {
        reason_code: ReasonCode::ServerMoved,
        properties: DisconnectProperties {
            session_expiry_interval: Some(0),
            reason_string: Some(s("move")),
            user_properties: vec![user("k", "v")],
            server_reference: Some(s("b2:1883")),
        },
    };
    check(V5, &bytes, Packet::Disconnect(expected));
}

#[test]
fn v5_disconnect_long_forms_decode_like_short_forms_sec_3_14_2_2_1() {
    let normal = Packet::Disconnect(Disconnect::default());
    let short = [0xE0, 0x00]; // DISCONNECT, remaining length 0
    let long = [
        0xE0, 0x01, // DISCONNECT, remaining length 1
        0x00, // reason code 0x00 Normal disconnection, stated
    ];
    check_long_form(V5, &long, &short, normal.clone());
    let long = [
        0xE0, 0x02, // DISCONNECT, remaining length 2
        0x00, // reason code 0x00 Normal disconnection
        0x00, // property length 0, stated
    ];
    check_long_form(V5, &long, &short, normal);

    let taken_over = Packet::Disconnect(Disconnect::new(ReasonCode::SessionTakenOver));
    let short = [0xE0, 0x01, 0x8E]; // DISCONNECT, remaining length 1, 0x8E
    let long = [
        0xE0, 0x02, // DISCONNECT, remaining length 2
        0x8E, // reason code 0x8E Session taken over
        0x00, // property length 0, stated
    ];
    check_long_form(V5, &long, &short, taken_over);
}

#[test]
fn v311_disconnect_encode_leaves_out_reason_code_and_properties_sec_3_14_2() {
    let packet = Packet::Disconnect(Disconnect {
        reason_code: ReasonCode::SessionTakenOver,
        properties: DisconnectProperties {
            reason_string: Some(s("bye")),
            ..DisconnectProperties::default()
        },
    });
    let bytes = [
        0xE0, 0x00, // DISCONNECT, remaining length 0: 3.1.1 DISCONNECT has no body
    ];
    assert_encodes(V311, &packet, &bytes);
}

// ---------------------------------------------------------------------------------------------
// AUTH (5.0 §3.15)
// ---------------------------------------------------------------------------------------------

#[test]
fn v5_auth_remaining_length_0_is_success_sec_3_15_2_1() {
    let bytes = [
        0xF0, 0x00, // AUTH, remaining length 0: 0x00 Success, no properties
    ];
    let expected = Auth {
        reason_code: ReasonCode::Success,
        properties: AuthProperties::default(),
    };
    check(V5, &bytes, Packet::Auth(expected));
}

#[test]
fn v5_auth_continue_authentication_every_property_sec_3_15_2_2() {
    let bytes = [
        0xF0, 0x1F, // AUTH, remaining length 31
        0x18, // reason code 0x18 Continue authentication
        0x1D, // property length 29
        0x15, 0x00, 0x05, b'S', b'C', b'R', b'A', b'M', // authentication method "SCRAM"
        0x16, 0x00, 0x04, 0xDE, 0xAD, 0xBE, 0xEF, // authentication data DE AD BE EF
        0x1F, 0x00, 0x04, b'm', b'o', b'r', b'e', // reason string "more"
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // user property "k" = "v"
    ];
    let expected = Auth {
        reason_code: ReasonCode::ContinueAuthentication,
        properties: AuthProperties {
            authentication_method: Some(s("SCRAM")),
            authentication_data: Some(bin(&[0xDE, 0xAD, 0xBE, 0xEF])),
            reason_string: Some(s("more")),
            user_properties: vec![user("k", "v")],
        },
    };
    check(V5, &bytes, Packet::Auth(expected));
}

#[test]
fn v5_auth_re_authenticate_sec_3_15_2_1() {
    let bytes = [
        0xF0, 0x0A, // AUTH, remaining length 10
        0x19, // reason code 0x19 Re-authenticate
        0x08, // property length 8
        0x15, 0x00, 0x05, b'S', b'C', b'R', b'A', b'M', // authentication method "SCRAM"
    ];
    let expected = Auth {
        reason_code: ReasonCode::ReAuthenticate,
        properties: AuthProperties {
            authentication_method: Some(s("SCRAM")),
            ..AuthProperties::default()
        },
    };
    check(V5, &bytes, Packet::Auth(expected));
}

#[test]
fn v5_auth_long_and_short_forms_sec_3_15_2_2_1() {
    let success = Packet::Auth(Auth {
        reason_code: ReasonCode::Success,
        properties: AuthProperties::default(),
    });
    let long = [
        0xF0, 0x02, // AUTH, remaining length 2
        0x00, // reason code 0x00 Success, stated
        0x00, // property length 0, stated
    ];
    check_long_form(V5, &long, &[0xF0, 0x00], success);

    // Unlike PUBACK and DISCONNECT, AUTH has no "less than 2" rule: once the reason code is
    // there, so is the property length (§3.15.2.1), as mosquitto reads it too.
    let cont = Packet::Auth(Auth {
        reason_code: ReasonCode::ContinueAuthentication,
        properties: AuthProperties::default(),
    });
    let one_byte = [
        0xF0, 0x01, // AUTH, remaining length 1
        0x18, // reason code 0x18 Continue authentication; property length missing
    ];
    let mut buf = BytesMut::from(&one_byte[..]);
    assert_eq!(
        decode(&mut buf, V5, 1 << 20),
        Err(DecodeError::Truncated(PacketType::Auth))
    );
    let canonical = [
        0xF0, 0x02, // AUTH, remaining length 2
        0x18, // reason code 0x18 Continue authentication
        0x00, // property length 0
    ];
    check(V5, &canonical, cont);
}

#[test]
fn v311_auth_does_not_exist_type_15_is_reserved_sec_2_2_1() {
    let packet = Packet::Auth(Auth {
        reason_code: ReasonCode::Success,
        properties: AuthProperties::default(),
    });
    for version in [V31, V311] {
        let mut out = BytesMut::new();
        assert_eq!(
            encode(&packet, version, &mut out),
            Err(EncodeError::NotInVersion("AUTH", version))
        );
        assert!(out.is_empty(), "a failed encode writes nothing");
        assert_eq!(
            encoded_len(&packet, version),
            Err(EncodeError::NotInVersion("AUTH", version))
        );
        // Type 15 is reserved in 3.1.1.
        let mut buf = BytesMut::from(&[0xF0, 0x00][..]);
        assert_eq!(
            decode(&mut buf, version, MAX),
            Err(DecodeError::InvalidPacketType(15))
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Framing
// ---------------------------------------------------------------------------------------------

#[test]
fn packets_back_to_back_decode_one_after_another_sec_2_1() {
    let bytes = [
        0x32, 0x06, // PUBLISH QoS 1, remaining length 6
        0x00, 0x01, b't', // topic name "t"
        0x00, 0x2A, // packet identifier 42
        b'!', // payload "!"
        0x40, 0x02, // PUBACK, remaining length 2
        0x00, 0x2A, // packet identifier 42
        0xC0, 0x00, // PINGREQ
        0xE0, 0x00, // DISCONNECT
        0x30, // the first byte of a PUBLISH still on its way
    ];
    let mut buf = BytesMut::from(&bytes[..]);
    let publish = Publish {
        qos: QoS::AtLeastOnce,
        packet_id: Some(pid(42)),
        ..Publish::new(topic("t"), "!")
    };
    let expected = [
        Packet::Publish(publish),
        Packet::PubAck(Ack::new(pid(42))),
        Packet::PingReq,
        Packet::Disconnect(Disconnect::default()),
    ];
    for packet in expected {
        assert_eq!(decode(&mut buf, V311, MAX), Ok(Some(packet)));
    }
    assert_eq!(decode(&mut buf, V311, MAX), Ok(None));
    assert_eq!(hex(&buf), "30", "the partial packet stays in the buffer");
}

#[test]
fn v5_packets_back_to_back_with_properties_sec_2_1() {
    let bytes = [
        0x40, 0x03, // PUBACK, remaining length 3
        0x00, 0x01, // packet identifier 1
        0x10, // reason code 0x10 No matching subscribers
        0xE0, 0x01, // DISCONNECT, remaining length 1
        0x8E, // reason code 0x8E Session taken over
    ];
    let mut buf = BytesMut::from(&bytes[..]);
    let puback = Ack {
        packet_id: pid(1),
        reason_code: ReasonCode::NoMatchingSubscribers,
        properties: AckProperties::default(),
    };
    assert_eq!(decode(&mut buf, V5, MAX), Ok(Some(Packet::PubAck(puback))));
    assert_eq!(
        decode(&mut buf, V5, MAX),
        Ok(Some(Packet::Disconnect(Disconnect::new(
            ReasonCode::SessionTakenOver
        ))))
    );
    assert!(buf.is_empty());
    assert_eq!(decode(&mut buf, V5, MAX), Ok(None));
}

#[test]
fn maximum_packet_size_counts_the_whole_packet_sec_3_1_2_11_4() {
    // The limit is the whole packet, fixed header included: PINGREQ is 2 bytes.
    let bytes = [
        0xC0, 0x00, // PINGREQ, remaining length 0
    ];
    let mut buf = BytesMut::from(&bytes[..]);
    assert_eq!(decode(&mut buf, V5, 2), Ok(Some(Packet::PingReq)));
    let mut buf = BytesMut::from(&bytes[..]);
    assert_eq!(
        decode(&mut buf, V5, 1),
        Err(DecodeError::PacketTooLarge { size: 2, max: 1 })
    );
}
