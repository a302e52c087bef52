//! Will messages: published when a connection ends without DISCONNECT, discarded on DISCONNECT,
//! with the QoS and RETAIN the client asked for. (5.0's Will Delay Interval and DISCONNECT 0x04:
//! `v5.rs`.)

use mqkit::protocol::{Connect, ProtocolVersion, QoS};

use crate::support::{connect_packet, will, RawClient, TestBroker};

both_versions!(
    will_is_published_when_the_connection_drops_mqtt_3_1_2_8,
    will_is_discarded_on_disconnect_mqtt_3_14_4_3,
    will_is_published_when_the_broker_closes_for_a_protocol_error_mqtt_3_1_2_8,
    will_qos_and_retain_are_honoured_mqtt_3_1_2_17,
);

both_versions!(paused: will_is_published_after_a_keep_alive_timeout_mqtt_3_1_2_8);

/// A subscriber to `will/#` at QoS 2.
async fn watcher(broker: &TestBroker, v: ProtocolVersion) -> RawClient {
    let mut watcher = broker.connect(v, "watcher").await;
    watcher.subscribe("will/#", QoS::ExactlyOnce).await;
    watcher
}

/// A client of version `v` with a QoS 0 will on `will/<id>`.
fn with_will(v: ProtocolVersion, id: &str) -> Connect {
    let mut connect = connect_packet(v, id);
    connect.will = Some(will(&format!("will/{id}"), "gone", QoS::AtMostOnce, false));
    connect
}

async fn will_is_published_when_the_connection_drops_mqtt_3_1_2_8(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let mut watcher = watcher(&broker, v).await;
    let (client, _) = broker.connect_with(with_will(v, "fragile")).await;
    drop(client);
    let got = watcher.recv_message().await;
    assert_eq!(got.topic.as_str(), "will/fragile");
    assert_eq!(&got.payload[..], b"gone");
    assert!(!got.retain);
}

/// 5.0 [MQTT-3.14.4-3] too, for Reason Code 0x00.
async fn will_is_discarded_on_disconnect_mqtt_3_14_4_3(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let mut watcher = watcher(&broker, v).await;
    let (client, _) = broker.connect_with(with_will(v, "polite")).await;
    // `disconnect` returns once the broker closed the connection: the will would be out by then.
    client.disconnect().await;
    watcher.expect_nothing().await;
}

/// The broker closing the connection because of a protocol error is not a DISCONNECT: the will
/// goes out (3.1.1 §3.1.2.5, 5.0 §3.1.2.5).
async fn will_is_published_when_the_broker_closes_for_a_protocol_error_mqtt_3_1_2_8(
    v: ProtocolVersion,
) {
    let broker = TestBroker::start().await;
    let mut watcher = watcher(&broker, v).await;
    let (mut client, _) = broker.connect_with(with_will(v, "rude")).await;
    client.send_raw(&[0xC1, 0x00]).await; // PINGREQ with a reserved flag bit set
    client
        .expect_disconnect(mqkit::protocol::ReasonCode::MalformedPacket)
        .await;
    let got = watcher.recv_message().await;
    assert_eq!(got.topic.as_str(), "will/rude");
}

/// The will goes out at its Will QoS, and with Will Retain it is also stored as the topic's
/// retained message, which a later subscriber gets with RETAIN 1.
async fn will_qos_and_retain_are_honoured_mqtt_3_1_2_17(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let mut watcher = watcher(&broker, v).await;
    let mut connect = connect_packet(v, "lasting");
    connect.will = Some(will("will/lasting", "bye", QoS::AtLeastOnce, true));
    let (client, _) = broker.connect_with(connect).await;
    drop(client);
    let got = watcher.recv_message().await;
    assert_eq!((got.qos, got.retain), (QoS::AtLeastOnce, false));
    assert_eq!(&got.payload[..], b"bye");

    let mut late = broker.connect(v, "late").await;
    late.subscribe("will/lasting", QoS::ExactlyOnce).await;
    let got = late.recv_message().await;
    assert_eq!((got.qos, got.retain), (QoS::AtLeastOnce, true));
    assert_eq!(&got.payload[..], b"bye");
}

async fn will_is_published_after_a_keep_alive_timeout_mqtt_3_1_2_8(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let mut watcher = watcher(&broker, v).await;
    let mut connect = with_will(v, "silent");
    connect.keep_alive = 1;
    let (_client, _) = broker.connect_with(connect).await;
    // The watcher has keep alive 60: it must not time out while waiting here.
    let got = watcher.recv_message().await;
    assert_eq!(got.topic.as_str(), "will/silent");
}
