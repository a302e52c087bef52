//! Packet-identifier exhaustion, both ways. A publisher that keeps all 65,535 QoS 2 identifiers
//! waiting for a PUBREL it never sends costs the broker a bounded amount (the identifiers, not
//! the messages), and a resent identifier is not delivered twice [MQTT-4.3.3-10]. A subscriber
//! that never acknowledges holds at most its window of 65,535 identifiers, each used once
//! [MQTT-2.2.1-4], and gets the next message only when it frees one. A Receive Maximum set by
//! the operator is announced and enforced with DISCONNECT 0x93 [MQTT-3.3.4-7].

use std::collections::HashSet;

use mqkit::protocol::{Ack, Connect, Packet, PacketId, ProtocolVersion, Publish, QoS, ReasonCode};

use crate::attack::{mqtt, unique, Broker, Raw};

/// PUBLISH packets written before their acknowledgements are read.
const BATCH: usize = 1_000;
/// Every packet identifier there is.
const ALL_IDS: usize = 65_535;
/// Peak RSS growth allowed with 65,535 QoS 2 identifiers awaiting PUBREL.
const QOS2_RSS_BOUND_MIB: u64 = 32;
/// Peak RSS growth allowed with 65,535 QoS 1 messages in flight to one subscriber.
const INFLIGHT_RSS_BOUND_MIB: u64 = 96;

/// Publishes `count` messages on `topic` at `qos` in batches, reading the acknowledgements
/// (PUBACK or PUBREC, never answered with PUBREL) after each batch; returns their codes.
fn flood(raw: &mut Raw, topic: &str, qos: QoS, count: usize) -> Vec<ReasonCode> {
    let mut codes = Vec::with_capacity(count);
    let mut left = count;
    while left > 0 {
        let n = left.min(BATCH);
        let packets: Vec<Packet> = (0..n)
            .map(|_| Packet::Publish(raw.publish_packet(topic, "x", qos)))
            .collect();
        raw.send_all(packets);
        for _ in 0..n {
            match raw.recv() {
                Packet::PubAck(a) | Packet::PubRec(a) => codes.push(a.reason_code),
                other => panic!("expected an acknowledgement, got {other:?}"),
            }
        }
        left -= n;
    }
    codes
}

#[test]
fn qos2_flood_never_sending_pubrel_is_bounded_and_delivered_once() {
    let broker = Broker::start();
    broker.assert_serves("before the QoS 2 flood");
    let rss = broker.rss();
    let mut observer = broker.client(ProtocolVersion::V5, &unique("qos2-observer"));
    observer.subscribe(&["qos2/once"], QoS::AtMostOnce);
    let (mut raw, connack) = Raw::connect_with(
        broker.port(),
        Connect::new(ProtocolVersion::V5, mqtt(&unique("qos2"))),
    );
    // No Receive Maximum in CONNACK: 65,535, every identifier there is.
    assert_eq!(connack.properties.receive_maximum, None, "{connack:?}");
    let once = raw.publish_packet("qos2/once", "once", QoS::ExactlyOnce);
    raw.send(&Packet::Publish(once.clone()));
    assert!(matches!(raw.recv(), Packet::PubRec(_)));
    let codes = flood(&mut raw, "qos2/flood", QoS::ExactlyOnce, ALL_IDS - 1);
    assert!(
        codes.iter().all(|c| !c.is_error()),
        "every PUBREC a success"
    );
    broker.assert_serves("with 65,535 QoS 2 identifiers awaiting PUBREL");
    rss.assert_peak_below(QOS2_RSS_BOUND_MIB, "with 65,535 QoS 2 messages unreleased");
    // The first message again, DUP set: acknowledged, not delivered again.
    let dup = Publish { dup: true, ..once };
    raw.send(&Packet::Publish(dup));
    assert!(matches!(raw.recv(), Packet::PubRec(_)));
    let delivered: Vec<Packet> = observer.ping();
    assert_eq!(delivered.len(), 1, "delivered exactly once: {delivered:?}");
}

/// mosquitto announces `max_inflight_messages` as the Receive Maximum of a 5.0 CONNACK and
/// disconnects a client that exceeds it with 0x93 (`send_connack.c`, `handle_publish.c`).
#[test]
fn receive_maximum_exceeded_is_disconnected_with_0x93() {
    let broker = Broker::with_conf("max_inflight_messages 10");
    let (mut raw, connack) = Raw::connect_with(
        broker.port(),
        Connect::new(ProtocolVersion::V5, mqtt(&unique("rm"))),
    );
    assert_eq!(
        connack.properties.receive_maximum.map(|r| r.get()),
        Some(10),
        "{connack:?}"
    );
    let codes = flood(&mut raw, "rm/flood", QoS::ExactlyOnce, 10);
    assert!(codes.iter().all(|c| !c.is_error()));
    let eleventh = raw.publish_packet("rm/flood", "x", QoS::ExactlyOnce);
    raw.send(&Packet::Publish(eleventh));
    assert_eq!(
        raw.expect_closed("the 11th unreleased QoS 2 PUBLISH"),
        Some(ReasonCode::ReceiveMaximumExceeded)
    );
    broker.assert_serves("after the Receive Maximum was exceeded");
}

/// Reads `count` PUBLISH packets without acknowledging them; returns their identifiers.
fn take_unacknowledged(sub: &mut Raw, count: usize) -> Vec<u16> {
    (0..count)
        .map(|i| match sub.recv() {
            Packet::Publish(p) => p.packet_id.expect("QoS 1").get(),
            other => panic!("message {i}: expected PUBLISH, got {other:?}"),
        })
        .collect()
}

#[test]
fn subscriber_holding_all_65535_identifiers_gets_more_only_as_it_frees_them() {
    let broker = Broker::with_conf("max_inflight_messages 65535\nmax_queued_messages 70000");
    broker.assert_serves("before the exhaustion");
    let rss = broker.rss();
    let mut sub = broker.client(ProtocolVersion::V5, &unique("hoarder"));
    sub.subscribe(&["hoard/#"], QoS::AtLeastOnce);
    let mut publisher = broker.client(ProtocolVersion::V5, &unique("hoard-pub"));
    let extra = 10;
    let mut ids = Vec::with_capacity(ALL_IDS);
    let mut published = 0;
    while published < ALL_IDS + extra {
        let n = BATCH.min(ALL_IDS + extra - published);
        flood(&mut publisher, "hoard/x", QoS::AtLeastOnce, n);
        published += n;
        let want = n.min(ALL_IDS - ids.len());
        ids.extend(take_unacknowledged(&mut sub, want));
    }
    let distinct: HashSet<u16> = ids.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        ALL_IDS,
        "65,535 messages in flight, each its own identifier"
    );
    assert!(
        sub.ping().is_empty(),
        "nothing more while every identifier is in flight"
    );
    broker.assert_serves("with 65,535 identifiers held by one subscriber");
    rss.assert_peak_below(
        INFLIGHT_RSS_BOUND_MIB,
        "with 65,535 QoS 1 messages in flight",
    );
    let freed = ids[12_345];
    sub.send(&Packet::PubAck(Ack::new(
        PacketId::new(freed).expect("non-zero"),
    )));
    let next = take_unacknowledged(&mut sub, 1)[0];
    assert_eq!(
        next, freed,
        "the only free identifier is the one just acknowledged"
    );
    assert!(
        sub.ping().is_empty(),
        "exactly one more message per identifier freed"
    );
}
