//! A subscriber that never reads (its TCP window fills) while a publisher floods it at QoS 0
//! and QoS 1. The broker stops writing to it, keeps at most its queue for it, and goes on
//! serving the publisher and everyone else at normal speed; its memory stays bounded by the
//! per-client limits, whatever the size of the messages.

use std::io::Write;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mqkit::protocol::{Packet, ProtocolVersion, QoS};

use crate::attack::{encoded_all, unique, Broker, Raw, ROUND_TRIP};

/// Messages per burst; each burst ends with a PINGREQ round trip, which proves the broker has
/// handled it.
const BURST: usize = 500;

/// Publishes `count` messages of `payload` on `topic` at `qos` in bursts; asserts each burst
/// (written, acknowledged at QoS 1, and followed by a PINGRESP) takes less than [`ROUND_TRIP`].
/// Returns the slowest burst.
fn flood(raw: &mut Raw, topic: &str, payload: &Bytes, qos: QoS, count: usize) -> Duration {
    let mut slowest = Duration::ZERO;
    for _ in 0..count / BURST {
        let started = Instant::now();
        let packets: Vec<Packet> = (0..BURST)
            .map(|_| Packet::Publish(raw.publish_packet(topic, payload.clone(), qos)))
            .collect();
        raw.send_all(packets);
        let answers = raw.ping();
        let acks = answers.iter().filter(|p| matches!(p, Packet::PubAck(_)));
        let expected = if qos == QoS::AtMostOnce { 0 } else { BURST };
        assert_eq!(acks.count(), expected, "every QoS 1 message acknowledged");
        slowest = slowest.max(started.elapsed());
    }
    assert!(
        slowest < ROUND_TRIP,
        "a burst of {BURST} took {slowest:?}: the publisher is held up by the slow subscriber"
    );
    slowest
}

/// Subscribes a client that will never read again to `filter` at QoS 1.
fn deaf_subscriber(broker: &Broker, filter: &str) -> Raw {
    let mut deaf = broker.client(ProtocolVersion::V311, &unique("deaf"));
    deaf.subscribe(&[filter], QoS::AtLeastOnce);
    deaf
}

#[test]
fn a_subscriber_that_never_reads_does_not_hold_up_or_grow_the_broker() {
    let broker = Broker::start();
    broker.assert_serves("before the flood");
    let rss = broker.rss();
    let _deaf = deaf_subscriber(&broker, "flood/#");
    let mut publisher = broker.client(ProtocolVersion::V5, &unique("flooder"));
    let payload = Bytes::from(vec![b'p'; 1024]);
    let qos0 = flood(&mut publisher, "flood/0", &payload, QoS::AtMostOnce, 20_000);
    broker.assert_serves("during the flood to a deaf subscriber");
    let qos1 = flood(&mut publisher, "flood/1", &payload, QoS::AtLeastOnce, 5_000);
    eprintln!("slowest burst of {BURST}: QoS 0 {qos0:?}, QoS 1 {qos1:?}");
    broker.assert_serves("after 25 MB flooded to a deaf subscriber");
    // 1,000 queued messages of 1 KiB, 256 KiB of write buffer, and the socket's.
    rss.assert_peak_below(48, "with 25,000 1 KiB messages for a deaf subscriber");
}

/// A message count (`max_queued_messages`, 1,000) alone lets large messages pin hundreds of
/// megabytes for one deaf subscriber; `max_queued_bytes` (mosquitto's) bounds the bytes: with
/// 16 MiB, 100 MiB of 256 KiB messages must not cost more than 64 MiB.
#[test]
fn a_deaf_subscriber_cannot_pin_unbounded_memory_with_large_messages() {
    let broker = Broker::with_conf("max_queued_bytes 16777216");
    broker.assert_serves("before the flood");
    let rss = broker.rss();
    let _deaf = deaf_subscriber(&broker, "large/#");
    let mut publisher = broker.client(ProtocolVersion::V5, &unique("large"));
    let payload = Bytes::from(vec![b'L'; 256 * 1024]);
    for _ in 0..400 / 50 {
        let packets: Vec<Packet> = (0..50)
            .map(|_| {
                Packet::Publish(publisher.publish_packet(
                    "large/x",
                    payload.clone(),
                    QoS::AtMostOnce,
                ))
            })
            .collect();
        publisher.send_all(packets);
        assert!(publisher.ping().is_empty());
    }
    broker.assert_serves("after 100 MiB flooded to a deaf subscriber");
    rss.assert_peak_below(64, "with 400 messages of 256 KiB for a deaf subscriber");
}

/// Writes `packet` in batches of 100,000 (at most `batches`) to a socket with a one-second
/// write timeout until a write times out, that is until the broker stops reading. Returns how
/// many were written, and whether the broker pushed back.
fn write_until_pushed_back(raw: &mut Raw, packet: &Packet, batches: usize) -> (usize, bool) {
    raw.stream()
        .set_write_timeout(Some(Duration::from_secs(1)))
        .expect("write timeout");
    let batch = encoded_all(&vec![packet.clone(); 100_000], ProtocolVersion::V311);
    let mut written = 0;
    let pushed_back = (0..batches).any(|_| {
        written += 100_000;
        raw.stream().write_all(&batch).is_err()
    });
    (written, pushed_back)
}

/// A client that sends PINGREQ after PINGREQ and never reads a PINGRESP: once the kernel
/// buffers and 256 KiB of answers wait for it, the broker stops reading from it (back-pressure)
/// instead of buffering answers without end, and keeps serving everyone else.
#[test]
fn a_client_that_never_reads_its_answers_is_pushed_back() {
    let broker = Broker::start();
    broker.assert_serves("before the deaf pinger");
    let rss = broker.rss();
    let mut pinger = broker.client(ProtocolVersion::V311, &unique("deaf-ping"));
    let (written, pushed_back) = write_until_pushed_back(&mut pinger, &Packet::PingReq, 100);
    eprintln!("deaf pinger: about {written} PINGREQ written, pushed back: {pushed_back}");
    assert!(
        pushed_back,
        "the broker read {written} PINGREQ whose answers were never read"
    );
    broker.assert_serves("while a client ignores its answers");
    rss.assert_peak_below(16, "with a client that never reads its answers");
}

/// Publishes 1,000 retained messages of 1 KiB on `amp/0` ... `amp/999`.
fn retain_1000_messages(broker: &Broker) {
    let mut publisher = broker.client(ProtocolVersion::V5, &unique("amp-pub"));
    let payload = Bytes::from(vec![b'r'; 1024]);
    let retained: Vec<Packet> = (0..1_000)
        .map(|i| {
            let topic = format!("amp/{i}");
            let mut p = publisher.publish_packet(&topic, payload.clone(), QoS::AtMostOnce);
            p.retain = true;
            Packet::Publish(p)
        })
        .collect();
    publisher.send_all(retained);
    assert!(publisher.ping().is_empty());
}

/// Opens `clients` connections that each send 1,000 SUBSCRIBEs to `amp/#` at once (12 bytes
/// asking for 1 MiB each) and never read. Returns them, to keep them open.
fn amplify(broker: &Broker, clients: usize) -> Vec<Raw> {
    (0..clients)
        .map(|_| {
            let mut amplifier = broker.client(ProtocolVersion::V311, &unique("amplifier"));
            let subscribes: Vec<Packet> = (0..1_000)
                .map(|_| amplifier.subscribe_packet(&["amp/#"], QoS::AtMostOnce))
                .collect();
            amplifier.send_all(subscribes);
            amplifier
        })
        .collect()
}

/// Retained-message amplification: 1,000 SUBSCRIBEs of 12 bytes, each asking for 1,000 retained
/// messages of 1 KiB (1 GiB in all), from a client that never reads, cost the broker at most
/// that client's queue (`max_queued_messages`) and write buffer.
#[test]
fn retained_message_amplification_is_bounded_by_the_queue() {
    let broker = Broker::start();
    retain_1000_messages(&broker);
    broker.assert_serves("with 1,000 retained messages");
    let rss = broker.rss();
    let _amplifier = amplify(&broker, 1);
    // Let the attack run: the broker fills the kernel's buffers and its own, then stops reading.
    std::thread::sleep(Duration::from_millis(500));
    // The latency is the next test's subject; here only that the broker still serves.
    let took = crate::attack::round_trip(broker.port());
    eprintln!("round trip with one amplifier: {took:?}");
    rss.assert_peak_below(32, "with a deaf client amplifying retained messages");
}

/// The broker handles every packet already in a connection's read buffer before it yields:
/// 1,000 SUBSCRIBEs that each scan 1,000 retained messages hold a runtime worker for seconds,
/// and with one such client per worker nobody else is served. A connection should yield (or
/// budget its work) between packets so others keep normal latency.
#[test]
fn retained_message_amplification_does_not_stall_other_clients() {
    let broker = Broker::start();
    retain_1000_messages(&broker);
    broker.assert_serves("with 1,000 retained messages");
    let _amplifiers = amplify(&broker, 8);
    broker.assert_serves("while 8 clients amplify retained messages");
}
