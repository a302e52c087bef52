//! Half-open sockets and abrupt resets. A client that falls silent is closed after one and a
//! half keep-alive periods [MQTT-3.1.2-24]; a client that half-closes its socket, or whose
//! socket is reset in the middle of a packet, is cleaned up at once, which its will proves: it
//! is published because the connection ended without DISCONNECT [MQTT-3.1.2-8].
//!
//! The resets are real TCP RSTs without `SO_LINGER` (which std cannot set): Linux answers
//! `close()` with RST instead of FIN when received data is still unread, so each client closes
//! with its CONNACK still unread in its receive buffer.

use std::net::Shutdown;
use std::time::{Duration, Instant};

use mqkit::protocol::{
    Connect, LastWill, Packet, PacketId, ProtocolVersion, Publish, QoS, ReasonCode,
};

use crate::attack::{encoded, mqtt, topic_name, unique, Broker, Raw, READ};

/// Clients reset in the middle of a packet.
const RESETS: usize = 100;

/// A CONNECT as `id` with a QoS 1 will on `will_topic`.
fn connect_with_will(version: ProtocolVersion, id: &str, will_topic: &str) -> Connect {
    let mut connect = Connect::new(version, mqtt(id));
    connect.will = Some(LastWill {
        topic: topic_name(will_topic),
        payload: bytes::Bytes::from_static(b"gone"),
        qos: QoS::AtLeastOnce,
        retain: false,
        properties: Default::default(),
    });
    connect
}

/// Receives `count` wills on the observer; returns their topics.
fn wills(observer: &mut Raw, count: usize) -> Vec<String> {
    (0..count)
        .map(|_| observer.recv_publish().topic.as_str().to_owned())
        .collect()
}

#[test]
fn a_client_that_falls_silent_is_closed_after_one_and_a_half_keep_alives() {
    let broker = Broker::start();
    for (version, expected) in [
        (ProtocolVersion::V5, Some(ReasonCode::KeepAliveTimeout)),
        (ProtocolVersion::V311, None),
    ] {
        let mut connect = Connect::new(version, mqtt(&unique("silent")));
        connect.keep_alive = 1;
        let (mut raw, _) = Raw::connect_with(broker.port(), connect);
        let started = Instant::now();
        assert_eq!(
            raw.expect_closed("a silent client"),
            expected,
            "{version:?}"
        );
        let took = started.elapsed();
        eprintln!("{version:?}: silent client closed after {took:?}");
        assert!(
            took >= Duration::from_millis(1400) && took < Duration::from_secs(3),
            "{version:?}: closed after {took:?}, expected 1.5 s"
        );
    }
    broker.assert_serves("after closing silent clients");
}

#[test]
fn a_half_closed_client_is_released_and_its_will_published() {
    let broker = Broker::start();
    let mut observer = broker.client(ProtocolVersion::V5, &unique("half-observer"));
    observer.subscribe(&["half/will/#"], QoS::AtLeastOnce);
    for version in [ProtocolVersion::V5, ProtocolVersion::V311] {
        let topic = format!("half/will/{version:?}");
        let connect = connect_with_will(version, &unique("half"), &topic);
        let (mut raw, _) = Raw::connect_with(broker.port(), connect);
        raw.stream().shutdown(Shutdown::Write).expect("half-close");
        assert_eq!(wills(&mut observer, 1), [topic]);
        assert_eq!(raw.expect_closed("a half-closed client"), None);
    }
    broker.assert_serves("after half-closed clients");
}

/// Opens a client with a will, waits until its CONNACK is in the receive buffer (peeked, not
/// read), writes the first `cut` bytes of `packet`, and drops the socket: a reset mid-packet.
fn reset_mid_packet(port: u16, will_topic: &str, packet: &[u8], cut: usize) {
    let connect = connect_with_will(ProtocolVersion::V311, &unique("reset"), will_topic);
    let mut raw = Raw::open(port, ProtocolVersion::V311);
    raw.send(&Packet::Connect(Box::new(connect)));
    raw.stream()
        .set_read_timeout(Some(READ))
        .expect("read timeout");
    let mut peeked = [0u8; 4];
    let n = raw.stream().peek(&mut peeked).expect("CONNACK arrives");
    assert!(
        n > 0 && peeked[0] == 0x20,
        "expected CONNACK, got {:?}",
        &peeked[..n]
    );
    raw.write(&packet[..cut]);
}

#[test]
fn resets_in_the_middle_of_packets_release_the_clients() {
    let broker = Broker::start();
    broker.assert_serves("before the resets");
    let rss = broker.rss();
    let mut observer = broker.client(ProtocolVersion::V5, &unique("reset-observer"));
    observer.subscribe(&["reset/will/#"], QoS::AtLeastOnce);
    let mut publish = Publish::new(topic_name("reset/data"), vec![b'd'; 4096]);
    publish.qos = QoS::AtLeastOnce;
    publish.packet_id = PacketId::new(1);
    let publish = encoded(&Packet::Publish(publish), ProtocolVersion::V311);
    let mut expected = Vec::new();
    for i in 0..RESETS {
        let topic = format!("reset/will/{i}");
        // Cut anywhere: inside the fixed header, the topic, the packet identifier, the payload.
        let cut = 1 + i * 41 % (publish.len() - 1);
        reset_mid_packet(broker.port(), &topic, &publish, cut);
        expected.push(topic);
    }
    let mut got = wills(&mut observer, RESETS);
    got.sort();
    expected.sort();
    assert_eq!(got, expected, "one will per reset client");
    // Resets and closes in the middle of CONNECT, before any session exists.
    let connect = connect_with_will(ProtocolVersion::V5, "never", "reset/never");
    let connect = encoded(&Packet::Connect(Box::new(connect)), ProtocolVersion::V5);
    for i in 0..RESETS {
        let mut raw = Raw::open(broker.port(), ProtocolVersion::V5);
        raw.write(&connect[..1 + i % (connect.len() - 1)]);
    }
    broker.assert_serves("after 200 resets mid-packet");
    assert!(
        observer.ping().is_empty(),
        "no will from a client that never connected"
    );
    rss.assert_peak_below(16, "after 200 resets mid-packet");
}
