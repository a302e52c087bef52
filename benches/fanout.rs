//! Fan-out encoding: the cost of writing one message's PUBLISH for N subscribers, N = 20 and
//! 1,000, into one write buffer.
//!
//! - `per_subscriber`: what the broker did for every delivery before the shared encoding, and
//!   still does for deliveries that depend on the subscriber: `Message::to_publish` (cloning
//!   properties, topic and payload handles), `encoded_len` against the Maximum Packet Size,
//!   `encode`.
//! - `shared`: `message::put_publish`, as `write_publish` calls it now: the head of the packet is
//!   encoded once per message and copied, patched, for the other subscribers.
//!
//! Every iteration takes a new `Arc<Message>` (made outside the timed region), so `shared`
//! pays for its first two deliveries (encoded as usual, then kept) as the broker does for each
//! new message. QoS 1 copies get packet identifiers 1..=N. Before timing, each case checks that
//! both ways write the same bytes.

use std::hint::black_box;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use criterion::{BatchSize, Criterion, Throughput};
use mqkit::broker::message::{put_publish, Framing, Message};
use mqkit::protocol::{
    encode, encoded_len, MqttString, Packet, PacketId, ProtocolVersion, PublishProperties, QoS,
};
use mqkit::topic::TopicName;
use tokio::time::Instant;

/// Subscriber counts.
const FAN_OUT: [usize; 2] = [20, 1_000];
/// The receivers' Maximum Packet Size: everything fits, but it is checked.
const MAX_PACKET: usize = 1 << 20;

/// One message and how it is delivered: `(name, version, QoS, payload bytes, properties)`.
type Case = (&'static str, ProtocolVersion, QoS, usize, bool);

const CASES: [Case; 4] = [
    (
        "v311_qos0_64B",
        ProtocolVersion::V311,
        QoS::AtMostOnce,
        64,
        false,
    ),
    (
        "v311_qos1_64B",
        ProtocolVersion::V311,
        QoS::AtLeastOnce,
        64,
        false,
    ),
    (
        "v311_qos0_1KB",
        ProtocolVersion::V311,
        QoS::AtMostOnce,
        1024,
        false,
    ),
    (
        "v5_qos1_64B_2props",
        ProtocolVersion::V5,
        QoS::AtLeastOnce,
        64,
        true,
    ),
];

fn message(payload: usize, with_properties: bool) -> Message {
    let s = |v: &str| MqttString::new(v).expect("valid string");
    let mut properties = PublishProperties::default();
    if with_properties {
        properties.content_type = Some(s("application/json"));
        properties.user_properties = vec![(s("client"), s("mqkit-bench"))];
    }
    Message {
        topic: TopicName::new("factory/line-4/station-17/sensor/temperature").expect("topic"),
        payload: (0..payload).map(|i| (i % 251) as u8).collect::<Bytes>(),
        qos: QoS::ExactlyOnce,
        retain: false,
        properties,
        expires_at: None,
        origin: 1,
        publisher: None,
        heads: Default::default(),
    }
}

/// The framing of delivery `i` (packet identifier `i + 1` for QoS > 0).
fn framing(version: ProtocolVersion, qos: QoS, i: usize) -> Framing {
    let packet_id = (qos != QoS::AtMostOnce).then(|| PacketId::new(i as u16 + 1).expect("id"));
    Framing {
        version,
        qos,
        retain: false,
        dup: false,
        packet_id,
    }
}

/// Today's per-delivery path of `write_publish` before the shared encoding.
fn per_subscriber(message: &Arc<Message>, f: Framing, now: Instant, out: &mut BytesMut) {
    let mut publish = message.to_publish(f.qos, f.retain, f.packet_id, &[], now);
    publish.dup = f.dup;
    let packet = Packet::Publish(publish);
    if encoded_len(&packet, f.version).is_ok_and(|len| len <= MAX_PACKET) {
        encode(&packet, f.version, out).expect("encodes");
    }
}

fn shared(message: &Arc<Message>, f: Framing, now: Instant, out: &mut BytesMut) {
    put_publish(message, f, MAX_PACKET, now, out);
}

type Writer = fn(&Arc<Message>, Framing, Instant, &mut BytesMut);

/// Writes `message` for `n` subscribers into `out`.
fn fan_out(write: Writer, message: &Arc<Message>, case: Case, n: usize, out: &mut BytesMut) {
    let now = Instant::now();
    out.clear();
    for i in 0..n {
        write(message, framing(case.1, case.2, i), now, out);
    }
}

fn fanout(c: &mut Criterion) {
    for case in CASES {
        let template = message(case.3, case.4);
        for n in FAN_OUT {
            let (mut old, mut new) = (BytesMut::new(), BytesMut::new());
            fan_out(
                per_subscriber,
                &Arc::new(template.clone()),
                case,
                n,
                &mut old,
            );
            fan_out(shared, &Arc::new(template.clone()), case, n, &mut new);
            assert_eq!(old, new, "{} x {n}: the same bytes", case.0);
            let mut group = c.benchmark_group(format!("fanout/{}/{n}", case.0));
            group.throughput(Throughput::Elements(n as u64));
            let ways: [(&str, Writer); 2] =
                [("per_subscriber", per_subscriber), ("shared", shared)];
            for (name, write) in ways {
                let mut out = BytesMut::with_capacity(old.len());
                group.bench_function(name, |b| {
                    b.iter_batched(
                        || Arc::new(template.clone()),
                        |message| {
                            fan_out(write, black_box(&message), case, n, &mut out);
                            message
                        },
                        BatchSize::SmallInput,
                    )
                });
            }
            group.finish();
        }
    }
}

// What `criterion_group!`/`criterion_main!` expand to, written out: the macro's `pub fn` has no
// doc comment, which `missing_docs` flags.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    fanout(&mut c);
    c.final_summary();
}
