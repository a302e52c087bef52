//! Malformed packets and protocol errors after CONNECT: the broker closes the connection (5.0:
//! after DISCONNECT with the reason code, 0x81 Malformed Packet or 0x82 Protocol Error unless a
//! more specific one exists), and keeps serving everybody else.
//!
//! The offending packets are hand-written bytes: the codec would refuse to encode most of them.

use mqkit::broker::Config;
use mqkit::protocol::{Packet, ProtocolVersion, QoS, ReasonCode};

use crate::support::{config, message, TestBroker};

both_versions!(
    publish_with_qos_3_is_malformed_mqtt_3_3_1_4,
    publish_with_dup_and_qos_0_is_malformed_mqtt_3_3_1_2,
    reserved_fixed_header_flags_are_malformed_mqtt_2_2_2_2,
    reserved_packet_type_0_is_malformed_section_2_2_1,
    remaining_length_longer_than_four_bytes_is_malformed_section_2_2_3,
    topic_that_is_not_utf8_is_malformed_mqtt_1_5_3_1,
    topic_with_a_null_character_is_malformed_mqtt_1_5_3_2,
    wildcard_in_a_publish_topic_is_refused_mqtt_3_3_2_2,
    qos1_publish_with_packet_identifier_0_is_refused_mqtt_2_3_1_1,
    subscribe_without_filters_is_a_protocol_error_mqtt_3_8_3_3,
    subscribe_with_reserved_option_bits_is_malformed_mqtt_3_8_3_4,
    packet_only_a_server_sends_is_a_protocol_error_section_2_2_1,
    packet_above_the_maximum_packet_size_is_refused_section_3_2_2_3_6,
);

/// The bytes for `v`: `v311` for 3.1.1, `v5` for 5.0.
fn pick<'a>(v: ProtocolVersion, v311: &'a [u8], v5: &'a [u8]) -> &'a [u8] {
    if v.is_v5() {
        v5
    } else {
        v311
    }
}

/// Connects a client, sends `bytes`, checks the broker ends the connection for `reason`, and
/// that another pair of clients can still talk through the broker.
async fn offend(v: ProtocolVersion, bytes: &[u8], reason: ReasonCode) {
    let broker = TestBroker::start().await;
    let mut client = broker.connect(v, "offender").await;
    client.send_raw(bytes).await;
    client.expect_disconnect(reason).await;
    broker.assert_still_works().await;
}

async fn publish_with_qos_3_is_malformed_mqtt_3_3_1_4(v: ProtocolVersion) {
    #[rustfmt::skip]
    let bytes = pick(
        v,
        &[0x36, 0x08, 0x00, 0x03, b'q', b'/', b'3', 0x00, 0x01, b'x'],
        &[0x36, 0x09, 0x00, 0x03, b'q', b'/', b'3', 0x00, 0x01, 0x00, b'x'],
    );
    offend(v, bytes, ReasonCode::MalformedPacket).await;
}

/// DUP must be 0 on a QoS 0 message.
async fn publish_with_dup_and_qos_0_is_malformed_mqtt_3_3_1_2(v: ProtocolVersion) {
    #[rustfmt::skip]
    let bytes = pick(
        v,
        &[0x38, 0x06, 0x00, 0x03, b'd', b'/', b'0', b'x'],
        &[0x38, 0x07, 0x00, 0x03, b'd', b'/', b'0', 0x00, b'x'],
    );
    offend(v, bytes, ReasonCode::MalformedPacket).await;
}

/// 5.0 [MQTT-2.1.3-1]: flags other than those the packet type requires close the connection.
async fn reserved_fixed_header_flags_are_malformed_mqtt_2_2_2_2(v: ProtocolVersion) {
    // PINGREQ with flags 0001.
    offend(v, &[0xC1, 0x00], ReasonCode::MalformedPacket).await;
    // PUBREL with flags 0000 instead of 0010.
    offend(v, &[0x60, 0x02, 0x00, 0x01], ReasonCode::MalformedPacket).await;
    // SUBSCRIBE with flags 0000 instead of 0010.
    #[rustfmt::skip]
    let subscribe = pick(
        v,
        &[0x80, 0x06, 0x00, 0x01, 0x00, 0x01, b't', 0x00],
        &[0x80, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, b't', 0x00],
    );
    offend(v, subscribe, ReasonCode::MalformedPacket).await;
}

/// Packet type 0 is reserved (forbidden).
async fn reserved_packet_type_0_is_malformed_section_2_2_1(v: ProtocolVersion) {
    offend(v, &[0x00, 0x00], ReasonCode::MalformedPacket).await;
}

async fn remaining_length_longer_than_four_bytes_is_malformed_section_2_2_3(v: ProtocolVersion) {
    let bytes = [0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01];
    offend(v, &bytes, ReasonCode::MalformedPacket).await;
}

/// 5.0 [MQTT-1.5.4-1]: ill-formed UTF-8 in a topic name closes the connection.
async fn topic_that_is_not_utf8_is_malformed_mqtt_1_5_3_1(v: ProtocolVersion) {
    #[rustfmt::skip]
    let bytes = pick(
        v,
        &[0x30, 0x05, 0x00, 0x02, 0xFF, 0xFE, b'x'],
        &[0x30, 0x06, 0x00, 0x02, 0xFF, 0xFE, 0x00, b'x'],
    );
    offend(v, bytes, ReasonCode::MalformedPacket).await;
}

/// 5.0 [MQTT-1.5.4-2]: U+0000 in a topic name closes the connection.
async fn topic_with_a_null_character_is_malformed_mqtt_1_5_3_2(v: ProtocolVersion) {
    #[rustfmt::skip]
    let bytes = pick(
        v,
        &[0x30, 0x05, 0x00, 0x02, b'a', 0x00, b'x'],
        &[0x30, 0x06, 0x00, 0x02, b'a', 0x00, 0x00, b'x'],
    );
    offend(v, bytes, ReasonCode::MalformedPacket).await;
}

/// A topic name must not contain wildcards; 5.0 says 0x90 Topic Name invalid.
async fn wildcard_in_a_publish_topic_is_refused_mqtt_3_3_2_2(v: ProtocolVersion) {
    #[rustfmt::skip]
    let bytes = pick(
        v,
        &[0x30, 0x05, 0x00, 0x02, b'a', b'#', b'x'],
        &[0x30, 0x06, 0x00, 0x02, b'a', b'#', 0x00, b'x'],
    );
    offend(v, bytes, ReasonCode::TopicNameInvalid).await;
}

/// 5.0 [MQTT-2.2.1-3]: a QoS 1 PUBLISH needs a non-zero packet identifier.
async fn qos1_publish_with_packet_identifier_0_is_refused_mqtt_2_3_1_1(v: ProtocolVersion) {
    #[rustfmt::skip]
    let bytes = pick(
        v,
        &[0x32, 0x08, 0x00, 0x03, b'z', b'/', b'0', 0x00, 0x00, b'x'],
        &[0x32, 0x09, 0x00, 0x03, b'z', b'/', b'0', 0x00, 0x00, 0x00, b'x'],
    );
    offend(v, bytes, ReasonCode::ProtocolError).await;
}

/// 5.0 [MQTT-3.8.3-2]: SUBSCRIBE needs at least one filter.
async fn subscribe_without_filters_is_a_protocol_error_mqtt_3_8_3_3(v: ProtocolVersion) {
    #[rustfmt::skip]
    let bytes = pick(
        v,
        &[0x82, 0x02, 0x00, 0x01],
        &[0x82, 0x03, 0x00, 0x01, 0x00],
    );
    offend(v, bytes, ReasonCode::ProtocolError).await;
}

/// 3.1.1: bits 7-2 of the options byte are reserved; 5.0 [MQTT-3.8.3-5]: bits 7-6 are.
async fn subscribe_with_reserved_option_bits_is_malformed_mqtt_3_8_3_4(v: ProtocolVersion) {
    #[rustfmt::skip]
    let bytes = pick(
        v,
        &[0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b't', 0x04],
        &[0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, b't', 0xC0],
    );
    offend(v, bytes, ReasonCode::MalformedPacket).await;
}

/// PINGRESP, CONNACK, SUBACK and UNSUBACK only flow from server to client.
async fn packet_only_a_server_sends_is_a_protocol_error_section_2_2_1(v: ProtocolVersion) {
    offend(v, &[0xD0, 0x00], ReasonCode::ProtocolError).await;
    let connack = pick(
        v,
        &[0x20, 0x02, 0x00, 0x00],
        &[0x20, 0x03, 0x00, 0x00, 0x00],
    );
    offend(v, connack, ReasonCode::ProtocolError).await;
    let suback = pick(
        v,
        &[0x90, 0x03, 0x00, 0x01, 0x00],
        &[0x90, 0x04, 0x00, 0x01, 0x00, 0x00],
    );
    offend(v, suback, ReasonCode::ProtocolError).await;
}

/// A packet above the broker's maximum (announced in the 5.0 CONNACK as Maximum Packet Size)
/// ends the connection; 5.0 says 0x95 Packet too large.
async fn packet_above_the_maximum_packet_size_is_refused_section_3_2_2_3_6(v: ProtocolVersion) {
    let broker = TestBroker::with_config(Config {
        max_packet_size: 1024,
        ..config()
    })
    .await;
    let (mut client, connack) = broker
        .connect_with(crate::support::connect_packet(v, "bulky"))
        .await;
    if v.is_v5() {
        let max = connack.properties.maximum_packet_size.map(|m| m.get());
        assert_eq!(max, Some(1024));
    }
    // Just below the limit is fine.
    client
        .publish(message("big/t", &"x".repeat(900), QoS::AtLeastOnce))
        .await;
    let big = message("big/t", &"x".repeat(2000), QoS::AtMostOnce);
    client.send(Packet::Publish(big)).await;
    client.expect_disconnect(ReasonCode::PacketTooLarge).await;
    broker.assert_still_works().await;
}
