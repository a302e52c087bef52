//! Ill-formed UTF-8 and U+0000 in every string field a client sends. Such a packet is
//! malformed [MQTT-1.5.4-1, MQTT-1.5.4-2] (3.1.1: [MQTT-1.5.3-1, MQTT-1.5.3-2], close the
//! connection): a 5.0 client gets CONNACK 0x81 for a bad CONNECT and DISCONNECT 0x81 afterwards,
//! then the connection is closed [MQTT-4.13.1-1]; a 3.1.1 client is closed without a word. No
//! such message is routed, and the broker keeps serving. U+FEFF, on the other hand, is a
//! character like any other and is kept [MQTT-1.5.4-3].
//!
//! Each packet is built with the codec around a placeholder string, whose bytes are then
//! replaced by the bad sequence (same length, so every length field stays right).

use bytes::Bytes;
use mqkit::protocol::{
    Ack, Connect, Disconnect, LastWill, Packet, PacketId, ProtocolVersion, Publish, QoS,
    ReasonCode, Unsubscribe,
};

use crate::attack::{encoded, mqtt, subscribe_packet, topic_name, unique, Broker, End, Raw, READ};

/// The placeholder put in the field under test.
const MARK: &str = "@@MARK@@";

/// Bad sequences, each padded with `x` to the placeholder's eight bytes.
const BAD: [(&str, &[u8; 8]); 5] = [
    ("byte 0xFF", b"x\xFFxxxxxx"),
    ("overlong NUL C0 80", b"x\xC0\x80xxxxx"),
    ("surrogate U+D800", b"x\xED\xA0\x80xxxx"),
    ("code point above U+10FFFF", b"x\xF4\x90\x80\x80xxx"),
    ("U+0000", b"x\x00xxxxxx"),
];

/// Where the field is: in CONNECT, or in a packet sent once connected.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Connect,
    Connected,
}

/// A string field and a packet that carries the placeholder in it.
struct Field {
    name: &'static str,
    stage: Stage,
    v5_only: bool,
    packet: fn(ProtocolVersion) -> Packet,
}

fn connect(version: ProtocolVersion, edit: impl FnOnce(&mut Connect)) -> Packet {
    let mut c = Connect::new(version, mqtt(&unique("utf8")));
    edit(&mut c);
    Packet::Connect(Box::new(c))
}

fn with_will(version: ProtocolVersion, edit: impl FnOnce(&mut LastWill)) -> Packet {
    connect(version, |c| {
        let mut will = LastWill {
            topic: topic_name("will/topic"),
            payload: Bytes::from_static(b"w"),
            qos: QoS::AtMostOnce,
            retain: false,
            properties: Default::default(),
        };
        edit(&mut will);
        c.will = Some(will);
    })
}

fn publish(edit: impl FnOnce(&mut Publish)) -> Packet {
    let mut p = Publish::new(topic_name("utf8/topic"), "x");
    p.qos = QoS::AtLeastOnce;
    p.packet_id = PacketId::new(7);
    edit(&mut p);
    Packet::Publish(p)
}

fn subscribe(filter: &str) -> Packet {
    subscribe_packet(
        PacketId::new(5).expect("non-zero"),
        &[filter],
        QoS::AtMostOnce,
    )
}

fn pair(
    name: &str,
    value: &str,
) -> Vec<(mqkit::protocol::MqttString, mqkit::protocol::MqttString)> {
    vec![(mqtt(name), mqtt(value))]
}

const FIELDS: &[Field] = &[
    Field {
        name: "client identifier [MQTT-3.1.3-4]",
        stage: Stage::Connect,
        v5_only: false,
        packet: |v| connect(v, |c| c.client_id = mqtt(MARK)),
    },
    Field {
        name: "will topic [MQTT-3.1.3-9]",
        stage: Stage::Connect,
        v5_only: false,
        packet: |v| with_will(v, |w| w.topic = topic_name(MARK)),
    },
    Field {
        name: "user name [MQTT-3.1.3-10]",
        stage: Stage::Connect,
        v5_only: false,
        packet: |v| connect(v, |c| c.username = Some(mqtt(MARK))),
    },
    Field {
        name: "CONNECT user property name",
        stage: Stage::Connect,
        v5_only: true,
        packet: |v| connect(v, |c| c.properties.user_properties = pair(MARK, "v")),
    },
    Field {
        name: "CONNECT user property value",
        stage: Stage::Connect,
        v5_only: true,
        packet: |v| connect(v, |c| c.properties.user_properties = pair("k", MARK)),
    },
    Field {
        name: "will content type",
        stage: Stage::Connect,
        v5_only: true,
        packet: |v| with_will(v, |w| w.properties.content_type = Some(mqtt(MARK))),
    },
    Field {
        name: "will response topic",
        stage: Stage::Connect,
        v5_only: true,
        packet: |v| with_will(v, |w| w.properties.response_topic = Some(topic_name(MARK))),
    },
    Field {
        name: "will user property",
        stage: Stage::Connect,
        v5_only: true,
        packet: |v| with_will(v, |w| w.properties.user_properties = pair("k", MARK)),
    },
    Field {
        name: "PUBLISH topic name [MQTT-3.3.2-1]",
        stage: Stage::Connected,
        v5_only: false,
        packet: |_| publish(|p| p.topic = topic_name(MARK)),
    },
    Field {
        name: "SUBSCRIBE topic filter [MQTT-3.8.3-1]",
        stage: Stage::Connected,
        v5_only: false,
        packet: |_| subscribe(MARK),
    },
    Field {
        name: "UNSUBSCRIBE topic filter [MQTT-3.10.3-1]",
        stage: Stage::Connected,
        v5_only: false,
        packet: |_| unsubscribe(MARK),
    },
    Field {
        name: "PUBLISH content type [MQTT-3.3.2-19]",
        stage: Stage::Connected,
        v5_only: true,
        packet: |_| publish(|p| p.properties.content_type = Some(mqtt(MARK))),
    },
    Field {
        name: "PUBLISH response topic [MQTT-3.3.2-13]",
        stage: Stage::Connected,
        v5_only: true,
        packet: |_| publish(|p| p.properties.response_topic = Some(topic_name(MARK))),
    },
    Field {
        name: "PUBLISH user property name",
        stage: Stage::Connected,
        v5_only: true,
        packet: |_| publish(|p| p.properties.user_properties = pair(MARK, "v")),
    },
    Field {
        name: "PUBLISH user property value",
        stage: Stage::Connected,
        v5_only: true,
        packet: |_| publish(|p| p.properties.user_properties = pair("k", MARK)),
    },
    Field {
        name: "PUBREL reason string",
        stage: Stage::Connected,
        v5_only: true,
        packet: |_| pubrel_reason(MARK),
    },
    Field {
        name: "DISCONNECT reason string",
        stage: Stage::Connected,
        v5_only: true,
        packet: |_| disconnect_reason(MARK),
    },
];

fn unsubscribe(filter: &str) -> Packet {
    Packet::Unsubscribe(Unsubscribe {
        packet_id: PacketId::new(9).expect("non-zero"),
        filters: vec![mqtt(filter)],
        user_properties: Vec::new(),
    })
}

fn pubrel_reason(reason: &str) -> Packet {
    let mut ack = Ack::new(PacketId::new(3).expect("non-zero"));
    ack.properties.reason_string = Some(mqtt(reason));
    Packet::PubRel(ack)
}

fn disconnect_reason(reason: &str) -> Packet {
    let mut d = Disconnect::new(ReasonCode::NORMAL_DISCONNECTION);
    d.properties.reason_string = Some(mqtt(reason));
    Packet::Disconnect(d)
}

/// The bytes of `packet` with the placeholder replaced by `bad`.
fn corrupted(packet: &Packet, version: ProtocolVersion, bad: &[u8; 8]) -> Vec<u8> {
    let mut bytes = encoded(packet, version).to_vec();
    let at: Vec<usize> = (0..bytes.len().saturating_sub(7))
        .filter(|&i| &bytes[i..i + 8] == MARK.as_bytes())
        .collect();
    assert_eq!(at.len(), 1, "the placeholder once in {packet:?}");
    bytes[at[0]..at[0] + 8].copy_from_slice(bad);
    bytes
}

/// What the broker did about a packet.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Answered CONNACK with this code, then closed.
    ConnAck(ReasonCode),
    /// Sent DISCONNECT with this code, then closed.
    Disconnect(ReasonCode),
    /// Closed without a word.
    Closed,
    /// Anything else: what happened.
    Wrong(String),
}

fn outcome(raw: &mut Raw) -> Outcome {
    let first = match raw.next(READ) {
        Ok(Packet::ConnAck(c)) => Outcome::ConnAck(c.reason_code),
        Ok(Packet::Disconnect(d)) => Outcome::Disconnect(d.reason_code),
        Ok(other) => return Outcome::Wrong(format!("answered {other:?}")),
        Err(End::Closed) => return Outcome::Closed,
        Err(End::Silent) => return Outcome::Wrong(format!("still open after {READ:?}")),
    };
    match raw.next(READ) {
        Err(End::Closed) => first,
        Ok(other) => Outcome::Wrong(format!("{first:?}, then {other:?}")),
        Err(End::Silent) => Outcome::Wrong(format!("{first:?}, then still open")),
    }
}

/// What the specification asks for.
fn expected(stage: Stage, version: ProtocolVersion) -> Outcome {
    match (stage, version) {
        (_, ProtocolVersion::V311) => Outcome::Closed,
        (Stage::Connect, _) => Outcome::ConnAck(ReasonCode::MalformedPacket),
        (Stage::Connected, _) => Outcome::Disconnect(ReasonCode::MalformedPacket),
    }
}

#[test]
fn ill_formed_utf8_and_nul_in_every_string_field_are_malformed_packets() {
    let broker = Broker::start();
    let mut observer = broker.client(ProtocolVersion::V5, &unique("utf8-observer"));
    observer.subscribe(&["#"], QoS::AtMostOnce);
    let (mut wrong, mut checked) = (Vec::new(), 0);
    for field in FIELDS {
        for version in [ProtocolVersion::V5, ProtocolVersion::V311] {
            if field.v5_only && version != ProtocolVersion::V5 {
                continue;
            }
            for (what, bad) in BAD {
                let bytes = corrupted(&(field.packet)(version), version, bad);
                let mut raw = match field.stage {
                    Stage::Connect => Raw::open(broker.port(), version),
                    Stage::Connected => broker.client(version, &unique("utf8")),
                };
                raw.write(&bytes);
                let (got, want) = (outcome(&mut raw), expected(field.stage, version));
                checked += 1;
                if got != want {
                    let name = field.name;
                    wrong.push(format!(
                        "{version:?} {name} with {what}: {got:?}, want {want:?}"
                    ));
                }
            }
        }
    }
    eprintln!("{checked} malformed-string cases checked");
    assert!(
        wrong.is_empty(),
        "{} of {checked} cases wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(
        observer.ping().is_empty(),
        "nothing from a malformed packet was routed"
    );
    broker.assert_serves("after the malformed strings");
}

/// 0xEF 0xBB 0xBF is U+FEFF wherever it appears, never skipped or stripped [MQTT-1.5.4-3]:
/// a topic starting with it is not the topic without it.
#[test]
fn a_byte_order_mark_is_kept_as_a_character() {
    let broker = Broker::start();
    let with_bom = "\u{FEFF}bom/topic";
    let mut exact = broker.client(ProtocolVersion::V5, &unique("bom"));
    exact.subscribe(&[with_bom], QoS::AtLeastOnce);
    let mut stripped = broker.client(ProtocolVersion::V311, &unique("no-bom"));
    stripped.subscribe(&["bom/topic"], QoS::AtLeastOnce);
    let mut publisher = broker.client(ProtocolVersion::V311, &unique("bom-pub"));
    publisher.publish_qos1(with_bom, "b");
    assert_eq!(exact.recv_publish().topic.as_str(), with_bom);
    assert!(
        stripped.ping().is_empty(),
        "U+FEFF was stripped from the topic"
    );
}
