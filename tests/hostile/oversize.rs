//! Oversized packets: a PUBLISH whose remaining length announces 256 MB and then sends nothing
//! or trickles. The decoder checks the announced size before it buffers the body, so the
//! announcement costs nothing; with `max_packet_size 1024` the broker disconnects a 5.0 client
//! with 0x95 Packet too large and closes a 3.1.1 client without waiting for the body; and a
//! partial packet does not count as traffic for the keep alive.

use std::time::{Duration, Instant};

use mqkit::protocol::{Connect, Packet, ProtocolVersion, ReasonCode};

use crate::attack::{mqtt, unique, Broker, End, Raw};

/// A PUBLISH (QoS 0) fixed header announcing a remaining length of 268,435,455 bytes, the
/// largest the four-byte variable integer can carry (256 MB), followed by the first bytes of
/// its body.
const HUGE_PUBLISH_START: [u8; 8] = [
    0x30, // PUBLISH, QoS 0, no DUP, no RETAIN
    0xFF, 0xFF, 0xFF, 0x7F, // remaining length 268,435,455
    0x00, 0x01, b't', // topic name "t"
];

/// Connections that each announce 256 MB.
const ANNOUNCERS: usize = 50;
/// Bytes of body each of them actually sends.
const SENT_PER_ANNOUNCER: usize = 16 * 1024;
/// Peak RSS growth allowed while 50 clients announce 256 MB each (12.5 GB in all).
const RSS_BOUND_MIB: u64 = 16;

#[test]
fn announcing_256_mb_and_trickling_costs_only_what_is_sent() {
    let broker = Broker::start();
    broker.assert_serves("before the announcements");
    let rss = broker.rss();
    let mut announcers: Vec<Raw> = (0..ANNOUNCERS)
        .map(|_| broker.client(ProtocolVersion::V311, &unique("huge")))
        .collect();
    for raw in &mut announcers {
        raw.write(&HUGE_PUBLISH_START);
    }
    broker.assert_serves("with 50 clients announcing 256 MB");
    let chunk = vec![b'x'; 1024];
    for _ in 0..SENT_PER_ANNOUNCER / chunk.len() {
        for raw in &mut announcers {
            raw.write(&chunk);
        }
    }
    broker.assert_serves("with 50 clients trickling 256 MB packets");
    rss.assert_peak_below(RSS_BOUND_MIB, "with 50 clients announcing 256 MB");
    // The default maximum is the protocol's, so the announcers are within their rights and are
    // still connected, waiting for the rest.
    for raw in &mut announcers {
        assert_eq!(
            raw.next(Duration::from_millis(10)).unwrap_err(),
            End::Silent
        );
    }
}

/// A client whose packet never completes is not kept alive by its trickle: after 1.5 times the
/// keep alive the broker closes it [MQTT-3.1.2-24], a 5.0 client with DISCONNECT 0x8D.
#[test]
fn a_trickled_packet_does_not_count_as_keep_alive_traffic() {
    let broker = Broker::start();
    for (version, expected) in [
        (ProtocolVersion::V5, Some(ReasonCode::KeepAliveTimeout)),
        (ProtocolVersion::V311, None),
    ] {
        let mut connect = Connect::new(version, mqtt(&unique("trickle")));
        connect.keep_alive = 1;
        let (mut raw, _) = Raw::connect_with(broker.port(), connect);
        raw.write(&HUGE_PUBLISH_START);
        let started = Instant::now();
        let closed = trickle_until_closed(&mut raw, Duration::from_secs(5));
        let took = started.elapsed();
        eprintln!("{version:?} trickler closed after {took:?}: {closed:?}");
        assert_eq!(closed, Some(expected), "{version:?}: after {took:?}");
        assert!(
            took < Duration::from_secs(3),
            "{version:?}: closed only after {took:?}"
        );
    }
    broker.assert_serves("after the tricklers");
}

/// Sends one more byte every 200 ms (the attack's own pace) until the broker closes the
/// connection or `limit` passes; returns the DISCONNECT reason (`Some(None)`: closed without
/// one), or `None` if still open.
fn trickle_until_closed(raw: &mut Raw, limit: Duration) -> Option<Option<ReasonCode>> {
    let started = Instant::now();
    while started.elapsed() < limit {
        match raw.next(Duration::from_millis(200)) {
            Ok(Packet::Disconnect(d)) => return Some(Some(d.reason_code)),
            Ok(other) => panic!("unexpected {other:?} while trickling"),
            Err(End::Closed) => return Some(None),
            Err(End::Silent) => raw.try_write(b"x"),
        }
    }
    None
}

/// With `max_packet_size 1024`, the announcement alone is enough: a 5.0 client gets
/// DISCONNECT 0x95 (Packet too large, 5.0 §3.2.2.3.6; the client broke [MQTT-3.2.2-15]) and a
/// 3.1.1 client is closed, both before sending the body.
#[test]
fn max_packet_size_1024_refuses_the_announcement_with_0x95() {
    let broker = Broker::with_conf("max_packet_size 1024");
    let (mut v5, connack) = Raw::connect_with(
        broker.port(),
        Connect::new(ProtocolVersion::V5, mqtt(&unique("big5"))),
    );
    assert_eq!(connack.reason_code, ReasonCode::Success);
    assert_eq!(
        connack.properties.maximum_packet_size.map(|m| m.get()),
        Some(1024),
        "CONNACK tells a 5.0 client the limit: {connack:?}"
    );
    v5.write(&HUGE_PUBLISH_START);
    assert_eq!(
        v5.expect_closed("5.0 client announcing 256 MB"),
        Some(ReasonCode::PacketTooLarge)
    );
    let mut v311 = broker.client(ProtocolVersion::V311, &unique("big311"));
    v311.write(&HUGE_PUBLISH_START);
    assert_eq!(v311.expect_closed("3.1.1 client announcing 256 MB"), None);
    // A CONNECT over the limit is refused with CONNACK 0x95 (5.0) or closed (3.1.1).
    for (version, expected) in [
        (ProtocolVersion::V5, Some(ReasonCode::PacketTooLarge)),
        (ProtocolVersion::V311, None),
    ] {
        let mut connect = Connect::new(version, mqtt(&unique("bigconnect")));
        connect.username = Some(mqtt(&"u".repeat(2000)));
        let mut raw = Raw::open(broker.port(), version);
        raw.send(&Packet::Connect(Box::new(connect)));
        let answer = match raw.next(crate::attack::READ) {
            Ok(Packet::ConnAck(c)) => Some(c.reason_code),
            Ok(other) => panic!("expected CONNACK or close, got {other:?}"),
            Err(End::Closed) => None,
            Err(End::Silent) => panic!("{version:?}: oversized CONNECT left unanswered"),
        };
        assert_eq!(answer, expected, "{version:?} oversized CONNECT");
        if answer.is_some() {
            assert_eq!(raw.expect_closed("after CONNACK 0x95"), None);
        }
    }
    broker.assert_serves("after the oversized packets");
}
