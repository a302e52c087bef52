//! The allocation budget of the codec's hot path, pinned with a counting global allocator.
//!
//! Decoding PUBLISH packets from a read buffer that holds many of them allocates nothing per
//! packet: the first split of a `BytesMut` may allocate its shared header once, and after that
//! every packet, topic and payload is a reference-counted slice of the same memory. Encoding a
//! PUBLISH into a buffer with room allocates nothing either.
//!
//! The allocator comes from the `allocation-counter` dev-dependency (a hand-written one needs
//! `unsafe`, which the crate's lints forbid). It counts per thread, so the test harness and tests
//! running in parallel never enter a measurement. Nothing here measures time.

use std::hint::black_box;
use std::ops::Range;

use allocation_counter::measure;
use bytes::{Bytes, BytesMut};
use mqkit::protocol::{
    decode, encode, encoded_len, MqttString, Packet, PacketId, ProtocolVersion, Publish,
    PublishProperties, QoS,
};
use mqkit::topic::TopicName;

/// Packets in one read buffer.
const PACKETS: usize = 1000;
const MAX_PACKET_SIZE: usize = 1 << 20;

/// A PUBLISH with a 64-byte payload; the 5.0 one carries properties but no user property.
fn publish(version: ProtocolVersion, qos: QoS) -> Packet {
    let topic = TopicName::new("factory/line-4/station-17/sensor/temperature").unwrap();
    let payload: Bytes = (0..64u8).collect();
    let mut publish = Publish::new(topic, payload);
    publish.qos = qos;
    if qos != QoS::AtMostOnce {
        publish.packet_id = PacketId::new(42);
    }
    if version.is_v5() {
        publish.properties = PublishProperties {
            message_expiry_interval: Some(3600),
            content_type: Some(MqttString::new("application/json").unwrap()),
            ..PublishProperties::default()
        };
    }
    Packet::Publish(publish)
}

/// A read buffer holding `PACKETS` copies of `packet`, as a connection would have filled it.
fn read_buffer(packet: &Packet, version: ProtocolVersion) -> BytesMut {
    let len = encoded_len(packet, version).unwrap();
    let mut buf = BytesMut::with_capacity(len * PACKETS);
    for _ in 0..PACKETS {
        encode(packet, version, &mut buf).unwrap();
    }
    buf
}

/// What decoding a whole read buffer allocated, packet by packet.
struct Decoded {
    /// Allocations while decoding the first packet.
    first: u64,
    /// Allocations while decoding each later packet.
    later: Vec<u64>,
    /// Allocations while decoding all of them in one measured loop.
    total: u64,
    /// The packets of the per-packet pass.
    packets: Vec<Packet>,
    /// Where the read buffer of the per-packet pass lay in memory.
    buffer: Range<usize>,
}

fn decode_all(packet: &Packet, version: ProtocolVersion) -> Decoded {
    let mut buf = read_buffer(packet, version);
    let buffer = buf.as_ptr_range();
    let buffer = buffer.start as usize..buffer.end as usize;
    // Reserved up front so that keeping the packets allocates nothing while measuring.
    let mut packets = Vec::with_capacity(PACKETS);
    let mut counts = Vec::with_capacity(PACKETS);
    for _ in 0..PACKETS {
        let info = measure(|| {
            let decoded = decode(&mut buf, version, MAX_PACKET_SIZE);
            packets.push(decoded.unwrap().unwrap());
        });
        counts.push(info.count_total);
    }
    assert!(buf.is_empty(), "every byte was decoded");

    let mut again = read_buffer(packet, version);
    let total = measure(|| {
        for _ in 0..PACKETS {
            black_box(
                decode(&mut again, version, MAX_PACKET_SIZE)
                    .unwrap()
                    .unwrap(),
            );
        }
    })
    .count_total;
    assert!(again.is_empty(), "every byte was decoded");

    Decoded {
        first: counts[0],
        later: counts.split_off(1),
        total,
        packets,
        buffer,
    }
}

/// Asserts the per-packet budget: at most one allocation for the first packet, none after it.
fn assert_no_allocation_after_the_first_packet(packet: &Packet, version: ProtocolVersion) {
    let decoded = decode_all(packet, version);
    assert!(decoded.packets.iter().all(|p| p == packet), "round trip");
    assert!(
        decoded.first <= 1,
        "first packet: {} allocations, expected at most the shared header",
        decoded.first
    );
    let allocating: Vec<(usize, u64)> = (1..).zip(decoded.later).filter(|&(_, n)| n > 0).collect();
    assert!(
        allocating.is_empty(),
        "(packet index, allocations) after the first packet: {allocating:?}"
    );
}

/// Asserts the whole-buffer budget: a small constant for `PACKETS` packets.
fn assert_at_most_two_allocations_per_buffer(packet: &Packet, version: ProtocolVersion) {
    let total = decode_all(packet, version).total;
    assert!(
        total <= 2,
        "decoding {PACKETS} packets from one buffer: {total} allocations"
    );
}

fn contains(range: &Range<usize>, slice: &[u8]) -> bool {
    let start = slice.as_ptr() as usize;
    range.contains(&start) && start + slice.len() <= range.end
}

#[test]
fn counting_allocator_sees_this_threads_allocations() {
    // Guards every zero below against passing because nothing was being counted.
    let info = measure(|| {
        black_box(Box::new(1_u64));
    });
    assert_eq!(info.count_total, 1);
}

#[test]
fn decoding_v311_qos0_publish_allocates_nothing_after_the_first_packet_of_a_buffer() {
    let version = ProtocolVersion::V311;
    assert_no_allocation_after_the_first_packet(&publish(version, QoS::AtMostOnce), version);
}

#[test]
fn decoding_v311_qos1_publish_allocates_nothing_after_the_first_packet_of_a_buffer() {
    let version = ProtocolVersion::V311;
    assert_no_allocation_after_the_first_packet(&publish(version, QoS::AtLeastOnce), version);
}

#[test]
fn decoding_v5_publish_without_user_properties_allocates_nothing_after_the_first_packet() {
    let version = ProtocolVersion::V5;
    assert_no_allocation_after_the_first_packet(&publish(version, QoS::AtLeastOnce), version);
}

#[test]
fn decoding_1000_v311_publish_packets_from_one_buffer_allocates_at_most_twice() {
    let version = ProtocolVersion::V311;
    assert_at_most_two_allocations_per_buffer(&publish(version, QoS::AtMostOnce), version);
    assert_at_most_two_allocations_per_buffer(&publish(version, QoS::AtLeastOnce), version);
}

#[test]
fn decoding_1000_v5_publish_packets_from_one_buffer_allocates_at_most_twice() {
    let version = ProtocolVersion::V5;
    assert_at_most_two_allocations_per_buffer(&publish(version, QoS::AtLeastOnce), version);
}

#[test]
fn decoded_publish_payload_topic_and_content_type_are_slices_of_the_read_buffer() {
    for (version, qos) in [
        (ProtocolVersion::V311, QoS::AtMostOnce),
        (ProtocolVersion::V311, QoS::AtLeastOnce),
        (ProtocolVersion::V5, QoS::AtLeastOnce),
    ] {
        let decoded = decode_all(&publish(version, qos), version);
        for packet in &decoded.packets {
            let Packet::Publish(p) = packet else {
                panic!("decoded {packet:?}");
            };
            assert!(contains(&decoded.buffer, &p.payload), "{version} payload");
            let topic = p.topic.as_str().as_bytes();
            assert!(contains(&decoded.buffer, topic), "{version} topic");
            if let Some(content_type) = &p.properties.content_type {
                assert!(contains(&decoded.buffer, content_type.as_bytes()));
            }
        }
    }
}

#[test]
fn encoding_publish_into_a_buffer_with_room_allocates_nothing() {
    for (version, qos) in [
        (ProtocolVersion::V311, QoS::AtMostOnce),
        (ProtocolVersion::V311, QoS::AtLeastOnce),
        (ProtocolVersion::V5, QoS::AtLeastOnce),
    ] {
        let packet = publish(version, qos);
        let len = encoded_len(&packet, version).unwrap();
        let mut out = BytesMut::with_capacity(len * PACKETS);
        let info = measure(|| {
            for _ in 0..PACKETS {
                encode(&packet, version, &mut out).unwrap();
            }
        });
        assert_eq!(out.len(), len * PACKETS);
        assert_eq!(
            info.count_total, 0,
            "{version} {qos:?}: encoding {PACKETS} packets allocated"
        );
    }
}
