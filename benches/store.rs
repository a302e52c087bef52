//! The durable store's group commit: QoS-1-sized messages committed per second (each one fsync'd
//! before its future resolves) with 1, 16 and 256 concurrent submitters.
//!
//! Each submitter acts as a connection whose PUBLISH matched one persistent session: it submits
//! a batch that stores the message (64-byte payload, QoS 1) and deletes the one before it (as the
//! subscriber's PUBACK would, so the file stays at a steady size), and awaits the commit before
//! the next one, as the broker awaits it before PUBACK. One element is one committed message.
//!
//! Usage: `cargo bench --bench store` (the store lives in a temporary directory under `$TMPDIR`,
//! so that is the disk measured).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput};
use mqkit::broker::store::{Op, Store, StoredMessage, StoredSession};
use mqkit::protocol::{ProtocolVersion, PublishProperties, QoS};
use mqkit::topic::TopicName;

fn message() -> StoredMessage {
    StoredMessage {
        topic: TopicName::new("sensors/device-0001/temperature").expect("valid topic"),
        payload: Bytes::from(vec![b'x'; 64]),
        qos: QoS::AtLeastOnce,
        retain: false,
        properties: PublishProperties::default(),
        subscription_ids: Vec::new(),
        expires_at_unix_ms: None,
    }
}

fn session() -> StoredSession {
    StoredSession {
        client_id: "subscriber".to_owned(),
        version: ProtocolVersion::V311,
        expiry_interval: u32::MAX,
        offline_since_unix_ms: None,
        subscriptions: Vec::new(),
        will: None,
        last_packet_id: 0,
    }
}

/// One submitter: `count` messages, each committed before the next, seqs from `first`.
async fn submitter(store: Store, first: u64, count: u64) {
    for seq in first..first + count {
        let mut batch = vec![Op::PutMessage {
            client_id: "subscriber".to_owned(),
            seq,
            message: message(),
            packet_id: None,
            released: false,
        }];
        if seq > first {
            let client_id = "subscriber".to_owned();
            batch.push(Op::DeleteMessage {
                client_id,
                seq: seq - 1,
            });
        }
        store.submit(batch).await.expect("committed");
    }
}

/// Commits `total` messages from `submitters` tasks; returns the time taken.
fn run(rt: &tokio::runtime::Runtime, store: &Store, submitters: u64, total: u64) -> Duration {
    // Seqs never repeat across runs, so every message is a new key.
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let base = NEXT.fetch_add(total, Ordering::Relaxed);
    rt.block_on(async {
        let start = Instant::now();
        let mut first = base;
        let mut tasks = Vec::new();
        for i in 0..submitters {
            let count = total / submitters + u64::from(i < total % submitters);
            tasks.push(tokio::spawn(submitter(store.clone(), first, count)));
            first += count;
        }
        for task in tasks {
            task.await.expect("submitter finished");
        }
        start.elapsed()
    })
}

fn store_bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (store, _) = Store::open(&dir.path().join("bench.db")).expect("store");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(store.submit(vec![Op::PutSession(session())]))
        .expect("session");
    let mut group = c.benchmark_group("store_commit_qos1_64B");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    for submitters in [1u64, 16, 256] {
        let before = store.stats();
        group.bench_function(format!("{submitters}_submitters"), |b| {
            b.iter_custom(|iters| run(&rt, &store, submitters, iters))
        });
        let after = store.stats();
        let (batches, commits) = (
            after.batches - before.batches,
            after.transactions - before.transactions,
        );
        eprintln!(
            "{submitters} submitters: {batches} messages in {commits} commits ({:.1} per commit)",
            batches as f64 / commits.max(1) as f64
        );
    }
    group.finish();
    store.close().expect("closed");
}

// `criterion_group!` would define an undocumented `pub fn` (missing_docs): written out.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    store_bench(&mut c);
    c.final_summary();
}
