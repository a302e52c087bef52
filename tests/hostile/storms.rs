//! SUBSCRIBE storms: thousands of filters in one SUBSCRIBE and in many, filters tens of
//! thousands of levels deep, and topics and filters of the full 65,535 bytes
//! [MQTT-4.7.3-3]. The broker answers every SUBSCRIBE with one reason code per filter
//! [MQTT-3.8.4-6], keeps routing, keeps serving others, and stays under a memory bound.

use mqkit::protocol::{Packet, ProtocolVersion, QoS, ReasonCode, SubAck, Unsubscribe};

use crate::attack::{mqtt, unique, Broker, Raw};

/// Filters in the one big SUBSCRIBE.
const ONE_PACKET: usize = 10_000;
/// SUBSCRIBE packets in the pipelined storm, and filters in each.
const MANY_PACKETS: usize = 500;
const FILTERS_EACH: usize = 20;
/// Peak RSS growth allowed for 20,000 subscriptions.
const STORM_RSS_BOUND_MIB: u64 = 64;

fn filters(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{prefix}/{i}/+/x")).collect()
}

fn suback(raw: &mut Raw) -> SubAck {
    match raw.recv() {
        Packet::SubAck(s) => s,
        other => panic!("expected SUBACK, got {other:?}"),
    }
}

#[test]
fn thousands_of_filters_in_one_subscribe_and_in_many() {
    let broker = Broker::start();
    broker.assert_serves("before the storm");
    let rss = broker.rss();
    let mut storm = broker.client(ProtocolVersion::V5, &unique("storm"));
    let big = filters("storm", 0..ONE_PACKET);
    let refs: Vec<&str> = big.iter().map(String::as_str).collect();
    let granted = storm.subscribe(&refs, QoS::AtMostOnce);
    assert_eq!(granted.reason_codes.len(), ONE_PACKET);
    assert!(granted
        .reason_codes
        .iter()
        .all(|c| *c == ReasonCode::GRANTED_QOS_0));
    broker.assert_serves("after one SUBSCRIBE of 10,000 filters");
    // Many SUBSCRIBEs sent back to back, read afterwards in bounded slices so neither side's
    // socket buffer fills.
    for slice in 0..MANY_PACKETS / 50 {
        let packets: Vec<Packet> = (0..50)
            .map(|k| {
                let start = ONE_PACKET + (slice * 50 + k) * FILTERS_EACH;
                let these = filters("storm", start..start + FILTERS_EACH);
                let refs: Vec<&str> = these.iter().map(String::as_str).collect();
                storm.subscribe_packet(&refs, QoS::AtMostOnce)
            })
            .collect();
        storm.send_all(packets);
        for _ in 0..50 {
            assert_eq!(suback(&mut storm).reason_codes.len(), FILTERS_EACH);
        }
    }
    broker.assert_serves("after 500 more SUBSCRIBEs");
    // Routing still works through 20,000 subscriptions.
    let total = ONE_PACKET + MANY_PACKETS * FILTERS_EACH;
    let topic = format!("storm/{}/any/x", total - 1);
    let mut publisher = broker.client(ProtocolVersion::V311, &unique("storm-pub"));
    publisher.publish_qos1(&topic, "reached");
    assert_eq!(storm.recv_publish().topic.as_str(), topic);
    rss.assert_peak_below(STORM_RSS_BOUND_MIB, "with 20,000 subscriptions");
}

/// A topic and a filter of exactly 65,535 bytes, the most a UTF-8 string can carry
/// [MQTT-4.7.3-3], work like any other, retained messages included.
#[test]
fn topics_and_filters_of_65535_bytes() {
    let broker = Broker::start();
    let long_topic = format!("long/{}", "t".repeat(65_535 - 5));
    let long_filter = format!("{}/#", "f".repeat(65_535 - 2));
    assert_eq!((long_topic.len(), long_filter.len()), (65_535, 65_535));
    let mut sub = broker.client(ProtocolVersion::V5, &unique("long-sub"));
    let granted = sub.subscribe(&[&long_topic, &long_filter], QoS::AtLeastOnce);
    assert_eq!(granted.reason_codes, [ReasonCode::GrantedQoS1; 2]);
    let mut publisher = broker.client(ProtocolVersion::V5, &unique("long-pub"));
    let mut retained = publisher.publish_packet(&long_topic, "long", QoS::AtLeastOnce);
    retained.retain = true;
    publisher.send(&Packet::Publish(retained));
    assert!(matches!(publisher.recv(), Packet::PubAck(_)));
    assert_eq!(sub.recv_publish().topic.as_str(), long_topic);
    let mut late = broker.client(ProtocolVersion::V311, &unique("long-late"));
    late.subscribe(&["long/#"], QoS::AtLeastOnce);
    let got = late.recv_publish();
    assert!(got.retain && got.topic.as_str() == long_topic);
    broker.assert_serves("after 65,535-byte topics");
}

/// `levels` levels: `a/a/.../a/#` (a filter) and the topic `a/a/.../a` it matches.
fn deep(levels: usize) -> (String, String) {
    let topic = vec!["a"; levels].join("/");
    (format!("{topic}/#"), topic)
}

/// Subscribes to a filter `levels` deep, publishes to a topic that deep, unsubscribes, and
/// checks the broker still serves. A broker may refuse such a filter in SUBACK (0x8F Topic
/// Filter invalid or 0x97 Quota exceeded), but it must not fall over; a filter it grants works.
fn deep_filter_round_trip(levels: usize) {
    let broker = Broker::start();
    broker.assert_serves("before the deep filter");
    let rss = broker.rss();
    let (filter, topic) = deep(levels);
    let mut sub = broker.client(ProtocolVersion::V5, &unique("deep"));
    let code = sub.subscribe(&[&filter], QoS::AtLeastOnce).reason_codes[0];
    eprintln!("SUBACK for a filter of {levels} levels: {code:?}");
    let mut publisher = broker.client(ProtocolVersion::V311, &unique("deep-pub"));
    publisher.publish_qos1(&topic, "deep");
    match code {
        ReasonCode::GrantedQoS1 => assert_eq!(sub.recv_publish().topic.as_str(), topic),
        ReasonCode::TopicFilterInvalid | ReasonCode::QuotaExceeded => {}
        other => panic!("unexpected SUBACK code {other:?} for a deep filter"),
    }
    let id = sub.next_id();
    sub.send(&Packet::Unsubscribe(Unsubscribe {
        packet_id: id,
        filters: vec![mqtt(&filter)],
        user_properties: Vec::new(),
    }));
    assert!(matches!(sub.recv(), Packet::UnsubAck(_)));
    sub.disconnect();
    broker.assert_serves(&format!("after a filter of {levels} levels"));
    rss.assert_peak_below(32, &format!("with a filter of {levels} levels"));
}

/// Subscribes to a filter `levels` deep and disconnects: the session ends and the broker drops
/// the subscription (Clean Start, no expiry) [MQTT-3.1.2-4].
fn deep_filter_dropped_at_disconnect(levels: usize) {
    let broker = Broker::start();
    let (filter, _) = deep(levels);
    let mut sub = broker.client(ProtocolVersion::V5, &unique("deep-drop"));
    sub.subscribe(&[&filter], QoS::AtLeastOnce);
    sub.disconnect();
    broker.assert_serves(&format!("after dropping a filter of {levels} levels"));
}

#[test]
fn filters_1000_levels_deep() {
    deep_filter_round_trip(1_000);
    deep_filter_dropped_at_disconnect(1_000);
}

/// The deepest filter a SUBSCRIBE can carry, 32,767 levels in 65,535 bytes, routed to.
#[test]
fn filters_32767_levels_deep_routed() {
    deep_filter_round_trip(32_767);
}

/// The same filter, never published to: one SUBSCRIBE and a DISCONNECT are enough.
#[test]
fn filters_32767_levels_deep_dropped_at_disconnect() {
    deep_filter_dropped_at_disconnect(32_767);
}
