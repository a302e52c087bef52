//! Flow control (the performance issue's "no collapse" rule): publishers that write as fast as
//! TCP allows to a subscriber that reads slowly are held to the subscriber's pace instead of
//! having their messages dropped — nothing is lost, not even at QoS 0, per-publisher order
//! holds [MQTT-4.6.0-6], and the broker's memory stays bounded. A subscriber that does not read
//! at all takes that back-pressure away only from itself (slow_reader.rs: its publishers are
//! not held up), not from a reading subscriber of the same messages.

use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mqkit::protocol::{Packet, ProtocolVersion, QoS};

use crate::attack::{unique, Broker, Raw};

/// Messages per write of a publisher.
const BATCH: u64 = 250;

/// The payload of message `n` of publisher `p`: both numbers, padded to `size` bytes.
fn payload(p: u64, n: u64, size: usize) -> Bytes {
    let mut bytes = vec![b'.'; size];
    bytes[..8].copy_from_slice(&p.to_be_bytes());
    bytes[8..16].copy_from_slice(&n.to_be_bytes());
    Bytes::from(bytes)
}

/// Publisher `p` writes `count` messages to `topic` at `qos` unpaced, then waits for every
/// PUBACK (QoS 1) and a PINGRESP.
fn flood(port: u16, p: u64, topic: &'static str, qos: QoS, count: u64) -> thread::JoinHandle<()> {
    flood_as(ProtocolVersion::V311, port, p, (topic, qos), count)
}

/// [`flood`] by a `version` client.
fn flood_as(
    version: ProtocolVersion,
    port: u16,
    p: u64,
    (topic, qos): (&'static str, QoS),
    count: u64,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut publisher = Raw::connect(port, version, &unique("flood"));
        for first in (0..count).step_by(BATCH as usize) {
            let packets: Vec<Packet> = (first..(first + BATCH).min(count))
                .map(|n| Packet::Publish(publisher.publish_packet(topic, payload(p, n, 1024), qos)))
                .collect();
            publisher.send_all(packets);
        }
        let answers = publisher.ping();
        let acks = answers
            .iter()
            .filter(|a| matches!(a, Packet::PubAck(_)))
            .count() as u64;
        let expected = if qos == QoS::AtMostOnce { 0 } else { count };
        assert_eq!(
            acks, expected,
            "publisher {p}: every QoS 1 message acknowledged"
        );
    })
}

/// Reads `expected` messages slowly (a pause after every 100), acknowledging QoS 1; asserts
/// each publisher's messages arrive once each, in order. Returns how long it took.
fn slow_subscriber(mut sub: Raw, publishers: u64, expected: u64) -> Duration {
    let started = Instant::now();
    let mut next = vec![0u64; publishers as usize];
    for received in 0..expected {
        let publish = sub.recv_publish();
        let p = u64::from_be_bytes(publish.payload[..8].try_into().unwrap());
        let n = u64::from_be_bytes(publish.payload[8..16].try_into().unwrap());
        assert_eq!(
            n, next[p as usize],
            "publisher {p}'s message {n} arrived after {received} messages: expected message \
             {} (a message was lost, duplicated or reordered)",
            next[p as usize]
        );
        next[p as usize] += 1;
        if received % 100 == 99 {
            thread::sleep(Duration::from_millis(4));
        }
    }
    started.elapsed()
}

#[test]
fn an_unpaced_qos0_publisher_is_held_to_a_slow_subscribers_pace_and_loses_nothing() {
    let broker = Broker::start();
    let rss = broker.rss();
    let mut sub = broker.client(ProtocolVersion::V311, &unique("slow"));
    sub.subscribe(&["flow/#"], QoS::AtMostOnce);
    // 20,000 messages: twenty times the subscriber's queue (max_queued_messages 1,000).
    let publisher = flood(broker.port(), 0, "flow/0", QoS::AtMostOnce, 20_000);
    let took = slow_subscriber(sub, 1, 20_000);
    publisher.join().expect("the publisher finished");
    eprintln!("20,000 QoS 0 messages of 1 KiB through a slow subscriber in {took:?}");
    broker.assert_serves("after the flood");
    rss.assert_peak_below(32, "with an unpaced publisher and a slow subscriber");
}

#[test]
fn several_unpaced_qos1_publishers_lose_nothing_to_a_slow_subscriber() {
    several_unpaced_qos1_publishers(ProtocolVersion::V311);
}

#[test]
fn several_unpaced_qos1_publishers_lose_nothing_to_a_slow_subscriber_v5() {
    several_unpaced_qos1_publishers(ProtocolVersion::V5);
}

fn several_unpaced_qos1_publishers(version: ProtocolVersion) {
    let broker = Broker::start();
    let rss = broker.rss();
    let mut sub = broker.client(version, &unique("slow"));
    sub.subscribe(&["flow/#"], QoS::AtLeastOnce);
    let topic = ("flow/1", QoS::AtLeastOnce);
    let publishers: Vec<_> = (0..4)
        .map(|p| flood_as(version, broker.port(), p, topic, 5_000))
        .collect();
    let took = slow_subscriber(sub, 4, 20_000);
    for publisher in publishers {
        publisher.join().expect("a publisher finished");
    }
    eprintln!("4 x 5,000 QoS 1 messages of 1 KiB through a slow subscriber in {took:?}");
    rss.assert_peak_below(
        32,
        "with four unpaced QoS 1 publishers and a slow subscriber",
    );
}

#[test]
fn a_deaf_subscriber_does_not_take_back_pressure_away_from_a_reading_one() {
    let broker = Broker::start();
    let mut deaf = broker.client(ProtocolVersion::V311, &unique("deaf"));
    deaf.subscribe(&["flow/#"], QoS::AtMostOnce);
    let mut sub = broker.client(ProtocolVersion::V311, &unique("slow"));
    sub.subscribe(&["flow/#"], QoS::AtMostOnce);
    let publisher = flood(broker.port(), 0, "flow/2", QoS::AtMostOnce, 20_000);
    slow_subscriber(sub, 1, 20_000);
    publisher.join().expect("the publisher finished");
    broker.assert_serves("with a deaf subscriber");
    drop(deaf);
}
