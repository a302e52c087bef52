//! The subscriber side of mqbench without the network: decoding a read buffer full of QoS 0
//! PUBLISH packets (64-byte stamped payloads, 8 publishers) and counting each in a [`Tally`]
//! (latency histogram, sequence tracking). The time per message bounds how many deliveries one
//! core can count (issue target: ≥ 1M deliveries/s).
//!
//! `cargo bench --bench receive`

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{BatchSize, Criterion, Throughput};
use mqkit::bench::stamp::Stamp;
use mqkit::bench::tally::Tally;
use mqkit::protocol::{decode, encode, Packet, ProtocolVersion, Publish};
use mqkit::topic::TopicName;

const BATCH: u64 = 1024;
const V: ProtocolVersion = ProtocolVersion::V311;

fn buffer() -> BytesMut {
    let mut buf = BytesMut::new();
    for i in 0..BATCH {
        let mut payload = vec![b'x'; 64];
        let stamp = Stamp {
            sent_ns: 1_000_000 + i,
            publisher: (i % 8) as u32,
            seq: i / 8,
        };
        stamp.write(&mut payload);
        let topic = TopicName::new(&format!("mqbench/{}", i % 8)).expect("topic");
        encode(&Packet::Publish(Publish::new(topic, payload)), V, &mut buf).expect("encodable");
    }
    buf
}

fn receive(c: &mut Criterion) {
    let template = buffer();
    let mut group = c.benchmark_group("mqbench_receive");
    group.throughput(Throughput::Elements(BATCH));
    group.bench_function("decode_and_tally_64B", |b| {
        let mut tally = Tally::default();
        b.iter_batched(
            || template.clone(),
            |mut buf| {
                while let Some(Packet::Publish(p)) = decode(&mut buf, V, 1 << 20).expect("valid") {
                    tally.record(&p.payload, 2_000_000, true);
                }
                black_box(&tally);
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

// `criterion_group!` would define an undocumented `pub fn` (missing_docs): written out.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    receive(&mut c);
    c.final_summary();
}
