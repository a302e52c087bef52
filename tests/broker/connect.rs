//! Opening and keeping a connection: CONNECT first and only once, the connect timeout, protocol
//! levels, client identifiers, session takeover, keep alive, PINGREQ and broker shutdown.

use std::time::Duration;

use mqkit::broker::Config;
use mqkit::protocol::{Packet, ProtocolVersion, QoS, ReasonCode};
use tokio::time::Instant;

use crate::support::{config, connect_packet, message, TestBroker};

both_versions!(
    publish_before_connect_closes_the_connection_mqtt_3_1_0_1,
    pingreq_before_connect_closes_the_connection_mqtt_3_1_0_1,
    second_connect_is_a_protocol_error_mqtt_3_1_0_2,
    empty_client_id_is_accepted_and_a_unique_one_assigned_mqtt_3_1_3_6,
    new_connection_with_the_same_client_id_closes_the_old_one_mqtt_3_1_4_2,
    pingreq_is_answered_with_pingresp_mqtt_3_12_4_1,
    shutdown_closes_every_connection_section_3_14,
    connect_with_the_reserved_flag_set_is_malformed_mqtt_3_1_2_3,
);

both_versions!(
    paused: silent_socket_is_closed_after_the_connect_timeout_section_3_1_4,
    silent_client_is_disconnected_after_one_and_a_half_keep_alives_mqtt_3_1_2_24,
    any_packet_resets_the_keep_alive_timer_mqtt_3_1_2_24,
    keep_alive_0_turns_the_timer_off_section_3_1_2_10,
);

async fn publish_before_connect_closes_the_connection_mqtt_3_1_0_1(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let mut client = broker.open(v).await;
    client
        .send(Packet::Publish(message("early", "x", QoS::AtMostOnce)))
        .await;
    client.expect_closed().await;
    broker.assert_still_works().await;
}

async fn pingreq_before_connect_closes_the_connection_mqtt_3_1_0_1(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let mut client = broker.open(v).await;
    client.send(Packet::PingReq).await;
    client.expect_closed().await;
    broker.assert_still_works().await;
}

/// 5.0 [MQTT-3.1.0-2] too; a 5.0 client is told 0x82 Protocol Error.
async fn second_connect_is_a_protocol_error_mqtt_3_1_0_2(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let mut client = broker.connect(v, "twice").await;
    client
        .send(Packet::Connect(Box::new(connect_packet(v, "twice"))))
        .await;
    client.expect_disconnect(ReasonCode::ProtocolError).await;
    broker.assert_still_works().await;
}

/// The broker closes a socket that sends nothing at all once `connect_timeout` has passed.
async fn silent_socket_is_closed_after_the_connect_timeout_section_3_1_4(v: ProtocolVersion) {
    let broker = TestBroker::with_config(Config {
        connect_timeout: Duration::from_millis(300),
        ..config()
    })
    .await;
    let start = Instant::now();
    let mut client = broker.open(v).await;
    client.expect_closed().await;
    let waited = start.elapsed();
    assert!(
        (Duration::from_millis(300)..Duration::from_secs(1)).contains(&waited),
        "closed after {waited:?}"
    );
    broker.assert_still_works().await;
}

/// The reserved bit 0 of the connect flags must be 0; otherwise the connection closes (5.0
/// [MQTT-3.1.2-3], and a 5.0 client is told CONNACK 0x81 Malformed Packet first).
async fn connect_with_the_reserved_flag_set_is_malformed_mqtt_3_1_2_3(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let mut client = broker.open(v).await;
    if v.is_v5() {
        #[rustfmt::skip]
        client.send_raw(&[
            0x10, 0x0E, // CONNECT, remaining length 14
            0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, // protocol name and level
            0x03, // connect flags: clean start and the reserved bit
            0x00, 0x3C, 0x00, // keep alive 60, no properties
            0x00, 0x01, b'c', // client identifier "c"
        ]).await;
        match client.recv().await {
            Packet::ConnAck(c) => assert_eq!(c.reason_code, ReasonCode::MalformedPacket),
            other => panic!("expected CONNACK, got {other:?}"),
        }
    } else {
        #[rustfmt::skip]
        client.send_raw(&[
            0x10, 0x0D, // CONNECT, remaining length 13
            0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, // protocol name and level
            0x03, // connect flags: clean session and the reserved bit
            0x00, 0x3C, // keep alive 60
            0x00, 0x01, b'c', // client identifier "c"
        ]).await;
    }
    client.expect_closed().await;
    broker.assert_still_works().await;
}

/// [MQTT-3.1.2-2]: a protocol level the server does not support gets CONNACK return code 0x01
/// (unacceptable protocol level), then the connection closes.
#[tokio::test]
async fn unsupported_protocol_level_gets_return_code_1_and_close_mqtt_3_1_2_2() {
    let broker = TestBroker::start().await;
    let mut client = broker.open(ProtocolVersion::V311).await;
    client
        .send_raw(&[
            0x10, 0x0C, // CONNECT, remaining length 12
            0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name
            0x06, // protocol level 6: no such version
            0x02, // connect flags: clean session
            0x00, 0x3C, // keep alive 60
            0x00, 0x00, // empty client identifier
        ])
        .await;
    assert_eq!(client.recv_raw(4).await, [0x20, 0x02, 0x00, 0x01]);
    client.expect_closed().await;
    broker.assert_still_works().await;
}

/// 5.0: the same rule, and the identifier comes back as Assigned Client Identifier
/// [MQTT-3.1.3-7]. Two such clients get different identifiers: neither takes the other over.
async fn empty_client_id_is_accepted_and_a_unique_one_assigned_mqtt_3_1_3_6(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let (mut first, first_ack) = broker.connect_with(connect_packet(v, "")).await;
    let (mut second, second_ack) = broker.connect_with(connect_packet(v, "")).await;
    for ack in [&first_ack, &second_ack] {
        assert_eq!(ack.reason_code, ReasonCode::Success, "{ack:?}");
        assert!(!ack.session_present);
    }
    if v.is_v5() {
        let id = |ack: &mqkit::protocol::ConnAck| {
            let id = ack.properties.assigned_client_identifier.clone();
            id.expect("Assigned Client Identifier").as_str().to_owned()
        };
        let (a, b) = (id(&first_ack), id(&second_ack));
        assert!(!a.is_empty() && !b.is_empty());
        assert_ne!(a, b, "assigned identifiers are unique");
    } else {
        assert_eq!(first_ack.properties, Default::default());
    }
    // Both connections still work, and as ordinary clients.
    first.subscribe("anonymous/t", QoS::AtLeastOnce).await;
    second
        .publish(message("anonymous/t", "hi", QoS::AtLeastOnce))
        .await;
    assert_eq!(&first.recv_message().await.payload[..], b"hi");
}

/// [MQTT-3.1.3-8]: a 3.1.1 client with an empty identifier and Clean Session 0 gets return code
/// 0x02 (identifier rejected), then the connection closes.
#[tokio::test]
async fn empty_client_id_with_clean_session_0_is_rejected_mqtt_3_1_3_8() {
    let broker = TestBroker::start().await;
    let mut client = broker.open(ProtocolVersion::V311).await;
    let mut connect = connect_packet(ProtocolVersion::V311, "");
    connect.clean_start = false;
    client.send(Packet::Connect(Box::new(connect))).await;
    assert_eq!(client.recv_raw(4).await, [0x20, 0x02, 0x00, 0x02]);
    client.expect_closed().await;
    broker.assert_still_works().await;
}

/// 5.0 [MQTT-3.1.4-3]: the existing connection is closed, and a 5.0 client is told 0x8E Session
/// taken over first.
async fn new_connection_with_the_same_client_id_closes_the_old_one_mqtt_3_1_4_2(
    v: ProtocolVersion,
) {
    let broker = TestBroker::start().await;
    let mut first = broker.connect(v, "twin").await;
    let mut second = broker.connect(v, "twin").await;
    first.expect_disconnect(ReasonCode::SessionTakenOver).await;
    second.ping().await;
    broker.assert_still_works().await;
}

async fn pingreq_is_answered_with_pingresp_mqtt_3_12_4_1(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let mut client = broker.connect(v, "pinger").await;
    for _ in 0..3 {
        client.send(Packet::PingReq).await;
        assert_eq!(client.recv().await, Packet::PingResp);
    }
}

/// When the broker stops, it closes every connection; 5.0 clients are told 0x8B Server
/// shutting down.
async fn shutdown_closes_every_connection_section_3_14(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let mut client = broker.connect(v, "bystander").await;
    broker.stop().await;
    client
        .expect_disconnect(ReasonCode::ServerShuttingDown)
        .await;
}

/// 5.0 [MQTT-3.1.2-22]: no packet for 1.5 times the keep alive ends the connection (5.0: with
/// DISCONNECT 0x8D Keep Alive timeout), and not before the keep alive itself has passed.
async fn silent_client_is_disconnected_after_one_and_a_half_keep_alives_mqtt_3_1_2_24(
    v: ProtocolVersion,
) {
    let broker = TestBroker::start().await;
    let mut connect = connect_packet(v, "sleepy");
    connect.keep_alive = 1;
    let (mut client, connack) = broker.connect_with(connect).await;
    assert_eq!(connack.reason_code, ReasonCode::Success);
    let start = Instant::now();
    client.expect_disconnect(ReasonCode::KeepAliveTimeout).await;
    let waited = start.elapsed();
    assert!(
        (Duration::from_secs(1)..=Duration::from_secs(2)).contains(&waited),
        "disconnected after {waited:?}"
    );
    broker.assert_still_works().await;
}

async fn any_packet_resets_the_keep_alive_timer_mqtt_3_1_2_24(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let mut connect = connect_packet(v, "lively");
    connect.keep_alive = 1;
    let (mut client, _) = broker.connect_with(connect).await;
    // Five seconds of activity, a packet each second: well past 1.5 s in total.
    for i in 0..5 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if i % 2 == 0 {
            client.ping().await;
        } else {
            client
                .publish(message("lively/t", "x", QoS::AtLeastOnce))
                .await;
        }
    }
}

async fn keep_alive_0_turns_the_timer_off_section_3_1_2_10(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let mut connect = connect_packet(v, "patient");
    connect.keep_alive = 0;
    let (mut client, _) = broker.connect_with(connect).await;
    tokio::time::sleep(Duration::from_secs(600)).await;
    client.ping().await;
}
