//! Tests of the store: round trips through close and reopen, delete semantics, group commit,
//! durability across a real `kill -9`, and damaged files.

use std::io::{BufRead, BufReader, Write};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use bytes::Bytes;

use super::writer::{MESSAGES, RETAINED, SESSIONS};
use super::*;
use crate::protocol::{
    MqttString, PayloadFormat, RetainHandling, SubscriptionOptions, WillProperties,
};

fn s(text: &str) -> MqttString {
    MqttString::new(text).unwrap()
}

fn message(topic: &str, payload: &'static str) -> StoredMessage {
    StoredMessage {
        topic: TopicName::new(topic).unwrap(),
        payload: Bytes::from_static(payload.as_bytes()),
        qos: QoS::AtLeastOnce,
        retain: false,
        properties: PublishProperties::default(),
        subscription_ids: Vec::new(),
        expires_at_unix_ms: None,
    }
}

/// A message with every field set.
fn full_message() -> StoredMessage {
    let properties = PublishProperties {
        payload_format_indicator: Some(PayloadFormat::Utf8),
        response_topic: Some(TopicName::new("reply/here").unwrap()),
        correlation_data: Some(Bytes::from_static(b"\x00\x01corr")),
        user_properties: vec![(s("k"), s("v")), (s("k"), s("v2"))],
        content_type: Some(s("text/plain")),
        ..Default::default()
    };
    StoredMessage {
        qos: QoS::ExactlyOnce,
        retain: true,
        properties,
        subscription_ids: vec![
            NonZeroU32::new(7).unwrap(),
            NonZeroU32::new(268_435_455).unwrap(),
        ],
        expires_at_unix_ms: Some(1_790_000_000_123),
        ..message("a/b/c", "payload \u{1F600}")
    }
}

fn session(client_id: &str) -> StoredSession {
    StoredSession {
        client_id: client_id.to_owned(),
        version: ProtocolVersion::V311,
        expiry_interval: 3600,
        offline_since_unix_ms: None,
        subscriptions: Vec::new(),
        will: None,
        last_packet_id: 0,
    }
}

/// A session with every field set.
fn full_session(client_id: &str) -> StoredSession {
    let options = SubscriptionOptions {
        qos: QoS::ExactlyOnce,
        no_local: true,
        retain_as_published: true,
        retain_handling: RetainHandling::DoNotSend,
    };
    let will = LastWill {
        topic: TopicName::new("clients/gone").unwrap(),
        payload: Bytes::from_static(b"bye"),
        qos: QoS::AtLeastOnce,
        retain: true,
        properties: WillProperties {
            will_delay_interval: Some(30),
            message_expiry_interval: Some(60),
            content_type: Some(s("text/plain")),
            user_properties: vec![(s("a"), s("b"))],
            ..Default::default()
        },
    };
    StoredSession {
        version: ProtocolVersion::V5,
        expiry_interval: u32::MAX,
        offline_since_unix_ms: Some(1_790_000_000_000),
        subscriptions: vec![
            (
                "a/+/c".to_owned(),
                StoredSubscription {
                    options,
                    id: NonZeroU32::new(42),
                },
            ),
            (
                "#".to_owned(),
                StoredSubscription {
                    options: SubscriptionOptions::default(),
                    id: None,
                },
            ),
        ],
        will: Some((will, 30)),
        last_packet_id: 65_535,
        ..session(client_id)
    }
}

fn put_message(client_id: &str, seq: u64, m: StoredMessage) -> Op {
    Op::PutMessage {
        client_id: client_id.to_owned(),
        seq,
        message: m,
        packet_id: None,
        released: false,
    }
}

fn store_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("mqbroker.db")
}

/// Writes `ops` in one batch to a store at `path`, then closes it.
async fn write(path: &Path, ops: Vec<Op>) {
    let (store, _) = Store::open(path).unwrap();
    store.submit(ops).await.unwrap();
    store.close().unwrap();
}

fn reopen(path: &Path) -> Snapshot {
    let (store, snapshot) = Store::open(path).unwrap();
    store.close().unwrap();
    snapshot
}

#[tokio::test]
async fn every_op_kind_round_trips_through_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let in_flight = Op::PutMessage {
        client_id: "c1".to_owned(),
        seq: 2,
        message: full_message(),
        packet_id: Some(17),
        released: false,
    };
    let released = Op::PutMessage {
        client_id: "c1".to_owned(),
        seq: 3,
        message: message("x", ""),
        packet_id: Some(18),
        released: true,
    };
    let qos2 = |packet_id| Op::PutIncomingQos2 {
        client_id: "c1".to_owned(),
        packet_id,
    };
    let qos0 = StoredMessage {
        qos: QoS::AtMostOnce,
        ..message("q/0", "zero")
    };
    write(
        &path,
        vec![
            Op::PutRetained(full_message()),
            Op::PutRetained(message("plain", "")),
            Op::PutSession(full_session("c1")),
            Op::PutSession(session("c2")),
            put_message("c1", 1, qos0.clone()),
            in_flight,
            released,
            qos2(9),
            qos2(1),
        ],
    )
    .await;
    let snapshot = reopen(&path);
    assert_eq!(snapshot.skipped, 0);
    assert_eq!(
        snapshot.retained,
        vec![full_message(), message("plain", "")]
    );
    let queued = |message, packet_id, released| StoredQueued {
        message,
        packet_id,
        released,
    };
    let c1 = RestoredSession {
        session: full_session("c1"),
        messages: vec![
            (1, queued(qos0, None, false)),
            (2, queued(full_message(), Some(17), false)),
            (3, queued(message("x", ""), Some(18), true)),
        ],
        incoming_qos2: vec![1, 9],
    };
    let c2 = RestoredSession {
        session: session("c2"),
        messages: Vec::new(),
        incoming_qos2: Vec::new(),
    };
    assert_eq!(snapshot.sessions, vec![c1, c2]);
}

#[tokio::test]
async fn deletes_remove_exactly_their_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    // "a" is a byte prefix of "ab": deleting session "a" must leave "ab" whole.
    let mut ops = vec![
        Op::PutRetained(message("r/1", "1")),
        Op::PutRetained(message("r/2", "2")),
    ];
    for id in ["a", "ab"] {
        ops.push(Op::PutSession(session(id)));
        ops.push(put_message(id, 1, message("t", "1")));
        ops.push(put_message(id, 2, message("t", "2")));
        for packet_id in [1, 2] {
            let client_id = id.to_owned();
            ops.push(Op::PutIncomingQos2 {
                client_id,
                packet_id,
            });
        }
    }
    write(&path, ops).await;
    let deletes = vec![
        Op::DeleteRetained {
            topic: "r/1".to_owned(),
        },
        Op::DeleteRetained {
            topic: "never/stored".to_owned(),
        },
        Op::DeleteSession {
            client_id: "a".to_owned(),
        },
        Op::DeleteMessage {
            client_id: "ab".to_owned(),
            seq: 1,
        },
        Op::DeleteIncomingQos2 {
            client_id: "ab".to_owned(),
            packet_id: 2,
        },
    ];
    write(&path, deletes).await;
    let snapshot = reopen(&path);
    assert_eq!(snapshot.retained, vec![message("r/2", "2")]);
    assert_eq!(snapshot.sessions.len(), 1);
    let ab = &snapshot.sessions[0];
    assert_eq!(ab.session, session("ab"));
    assert_eq!(ab.messages.len(), 1);
    assert_eq!(ab.messages[0].0, 2);
    assert_eq!(ab.incoming_qos2, vec![1]);
    assert_eq!(
        snapshot.skipped, 0,
        "DeleteSession left no orphan records of 'a'"
    );
}

#[tokio::test]
async fn a_session_put_again_keeps_its_messages() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    write(
        &path,
        vec![
            Op::PutSession(session("c")),
            put_message("c", 5, message("t", "m")),
        ],
    )
    .await;
    write(&path, vec![Op::PutSession(full_session("c"))]).await;
    let snapshot = reopen(&path);
    assert_eq!(snapshot.sessions[0].session, full_session("c"));
    assert_eq!(snapshot.sessions[0].messages.len(), 1);
}

#[tokio::test]
async fn messages_come_back_in_seq_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let seqs = [256, 0, u64::MAX, 255, 1, 65_536, 2];
    let mut ops = vec![Op::PutSession(session("c"))];
    ops.extend(
        seqs.iter()
            .map(|&seq| put_message("c", seq, message("t", "m"))),
    );
    write(&path, ops).await;
    let snapshot = reopen(&path);
    let restored: Vec<u64> = snapshot.sessions[0]
        .messages
        .iter()
        .map(|(seq, _)| *seq)
        .collect();
    let mut sorted = seqs.to_vec();
    sorted.sort_unstable();
    assert_eq!(restored, sorted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_submitters_share_commits() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let (store, _) = Store::open(&path).unwrap();
    store
        .submit(vec![Op::PutSession(session("c"))])
        .await
        .unwrap();
    let base = store.stats();
    let tasks: Vec<_> = (0..50u64)
        .map(|task| {
            let store = store.clone();
            tokio::spawn(async move {
                // Each task has its 20 messages in flight at once, as a connection with a
                // receive maximum of 20 would.
                let commits: Vec<Commit> = (0..20)
                    .map(|i| store.submit(vec![put_message("c", task * 20 + i, message("t", "m"))]))
                    .collect();
                for commit in commits {
                    commit.await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let stats = store.stats();
    let transactions = stats.transactions - base.transactions;
    assert_eq!(stats.batches - base.batches, 1000);
    assert_eq!(stats.ops - base.ops, 1000);
    assert!(
        transactions <= 100,
        "1,000 batches took {transactions} commits"
    );
    store.close().unwrap();
    assert_eq!(reopen(&path).sessions[0].messages.len(), 1000);
}

#[tokio::test]
async fn a_resolved_commit_is_on_disk_while_the_store_is_still_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let (store, _) = Store::open(&path).unwrap();
    store
        .submit(vec![Op::PutRetained(message("t", "durable"))])
        .await
        .unwrap();
    // The file as it is now is what a kill -9 leaves: open a copy of it.
    let copy = dir.path().join("copy.db");
    std::fs::copy(&path, &copy).unwrap();
    assert_eq!(reopen(&copy).retained, vec![message("t", "durable")]);
    store.close().unwrap();
}

#[test]
fn handles_and_commits_cross_tasks_and_threads() {
    fn assert_send<T: Send + Sync + 'static>() {}
    assert_send::<Store>();
    fn assert_future<T: std::future::Future + Send + 'static>() {}
    assert_future::<Commit>();
}

#[tokio::test]
async fn a_dropped_commit_is_still_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let (store, _) = Store::open(&path).unwrap();
    drop(store.submit(vec![Op::PutRetained(message("t", "dropped"))]));
    store.close().unwrap();
    assert_eq!(reopen(&path).retained, vec![message("t", "dropped")]);
}

#[tokio::test]
async fn batches_after_close_fail_with_closed() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let (store, _) = Store::open(&path).unwrap();
    let other = store.clone();
    store.close().unwrap();
    let error = other
        .submit(vec![Op::PutRetained(message("t", "late"))])
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Closed { .. }), "{error}");
    assert!(error.to_string().contains(&path.display().to_string()));
}

#[tokio::test]
async fn an_unencodable_batch_fails_whole_and_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let (store, _) = Store::open(&path).unwrap();
    // Subscription Identifiers end at 268,435,455 (5.0 §3.3.2.3.8).
    let bad = StoredMessage {
        subscription_ids: vec![NonZeroU32::new(268_435_456).unwrap()],
        ..message("bad", "x")
    };
    let error = store
        .submit(vec![
            Op::PutRetained(message("good", "x")),
            Op::PutRetained(bad),
        ])
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Encode { .. }), "{error}");
    assert!(
        error.to_string().contains("retained message 'bad'"),
        "{error}"
    );
    store
        .submit(vec![Op::PutRetained(message("other", "y"))])
        .await
        .unwrap();
    store.close().unwrap();
    assert_eq!(reopen(&path).retained, vec![message("other", "y")]);
}

#[tokio::test]
async fn a_store_open_elsewhere_is_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let (store, _) = Store::open(&path).unwrap();
    let error = Store::open(&path).unwrap_err();
    assert!(matches!(error, StoreError::InUse { .. }), "{error}");
    store.close().unwrap();
}

#[test]
fn a_missing_directory_is_an_open_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/mqbroker.db");
    let error = Store::open(&path).unwrap_err();
    assert!(matches!(error, StoreError::Open { .. }), "{error}");
    assert!(
        error.to_string().starts_with(&path.display().to_string()),
        "{error}"
    );
}

/// Opens a damaged file: it must fail as corrupt, naming the path and what to do.
fn assert_refused(path: &Path) -> String {
    let error = Store::open(path).unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, StoreError::Corrupt { .. }), "{text}");
    assert!(text.starts_with(&path.display().to_string()), "{text}");
    assert!(
        text.contains("move it away to start empty, or restore a backup"),
        "{text}"
    );
    text
}

#[test]
fn an_empty_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    std::fs::write(&path, b"").unwrap();
    let text = assert_refused(&path);
    assert!(text.contains("empty"), "{text}");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "left as it was");
}

#[test]
fn a_file_of_random_bytes_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let mut rng = fastrand::Rng::with_seed(7);
    for len in [1, 100, 4096, 65_536] {
        let bytes: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
        std::fs::write(&path, &bytes).unwrap();
        assert_refused(&path);
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "left as it was");
    }
}

/// A closed store with a few records, as bytes.
async fn valid_file(dir: &tempfile::TempDir) -> Vec<u8> {
    let path = dir.path().join("valid.db");
    let mut ops = vec![
        Op::PutRetained(full_message()),
        Op::PutSession(full_session("c")),
    ];
    ops.extend((0..50).map(|seq| put_message("c", seq, full_message())));
    write(&path, ops).await;
    std::fs::read(&path).unwrap()
}

#[tokio::test]
async fn a_truncated_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = valid_file(&dir).await;
    let path = store_path(&dir);
    for len in [bytes.len() / 2, bytes.len() - 1, 600, 10] {
        std::fs::write(&path, &bytes[..len]).unwrap();
        assert_refused(&path);
    }
}

#[tokio::test]
async fn damaged_bytes_anywhere_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = valid_file(&dir).await;
    let path = store_path(&dir);
    let mut rng = fastrand::Rng::with_seed(11);
    let mut refused = 0;
    for _ in 0..64 {
        let mut damaged = bytes.clone();
        let at = rng.usize(..damaged.len());
        damaged[at] ^= rng.u8(1..);
        std::fs::write(&path, &damaged).unwrap();
        // Unused space may take damage harmlessly; anything else is a clear error.
        match Store::open(&path) {
            Ok((store, _)) => store.close().unwrap(),
            Err(e) => {
                assert!(
                    e.to_string().starts_with(&path.display().to_string()),
                    "{e}"
                );
                refused += 1;
            }
        }
    }
    assert!(refused > 0, "no damage was noticed");
}

#[tokio::test]
async fn records_that_do_not_decode_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let good = vec![
        Op::PutRetained(message("good", "g")),
        Op::PutSession(session("c")),
        put_message("c", 1, message("t", "m")),
    ];
    write(&path, good).await;
    {
        let db = redb::Database::open(&path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut retained = txn.open_table(RETAINED).unwrap();
            retained
                .insert(b"bad".as_slice(), b"\x01garbage".as_slice())
                .unwrap();
            let mut sessions = txn.open_table(SESSIONS).unwrap();
            sessions
                .insert(b"broken".as_slice(), b"\x09".as_slice())
                .unwrap();
            let mut messages = txn.open_table(MESSAGES).unwrap();
            let key = |id: &str, seq: u64| {
                [codec::client_key(id).unwrap(), seq.to_be_bytes().to_vec()].concat()
            };
            messages
                .insert(key("c", 2).as_slice(), b"".as_slice())
                .unwrap();
            let valid = codec::records(&[put_message("x", 1, message("t", "m"))]).unwrap();
            let codec::Record::Put { value, .. } = &valid[0] else {
                unreachable!()
            };
            // A message whose session is not stored.
            messages
                .insert(key("orphan", 1).as_slice(), value.as_slice())
                .unwrap();
        }
        txn.commit().unwrap();
    }
    let snapshot = reopen(&path);
    assert_eq!(snapshot.skipped, 4);
    assert_eq!(snapshot.retained, vec![message("good", "g")]);
    assert_eq!(snapshot.sessions.len(), 1);
    assert_eq!(snapshot.sessions[0].messages.len(), 1);
}

#[test]
fn a_store_of_another_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    {
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(super::writer::META)
            .unwrap()
            .insert(b"format".as_slice(), b"\x09".as_slice())
            .unwrap();
        txn.commit().unwrap();
    }
    let error = Store::open(&path).unwrap_err();
    assert!(matches!(error, StoreError::Unsupported { .. }), "{error}");
}

const CRASH_CHILD: &str = "MQKIT_STORE_CRASH_CHILD";

/// The child of [`acknowledged_messages_survive_kill_9`]: commits messages one at a time and
/// prints the seq of each once its commit resolved, until it is killed (or a minute passed).
#[tokio::test]
async fn crash_child() {
    let Some(path) = std::env::var_os(CRASH_CHILD) else {
        return; // Only runs as the child process.
    };
    let (store, _) = Store::open(Path::new(&path)).unwrap();
    store
        .submit(vec![Op::PutSession(session("c"))])
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut stdout = std::io::stdout();
    for seq in 0.. {
        store
            .submit(vec![put_message("c", seq, message("t", "m"))])
            .await
            .unwrap();
        writeln!(stdout, "committed {seq}").unwrap();
        stdout.flush().unwrap();
        if std::time::Instant::now() > deadline {
            break;
        }
    }
}

#[test]
fn acknowledged_messages_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "broker::store::tests::crash_child",
            "--exact",
            "--nocapture",
        ])
        .env(CRASH_CHILD, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut last = None;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(seq) = line.strip_prefix("committed ") {
            last = Some(seq.parse::<u64>().unwrap());
            if last == Some(100) {
                child.kill().unwrap(); // SIGKILL: no destructor, no flush, no close.
                break;
            }
        }
    }
    child.wait().unwrap();
    let last = last.expect("the child committed nothing");
    assert_eq!(last, 100, "the child stopped early");
    let snapshot = reopen(&path);
    let seqs: Vec<u64> = snapshot.sessions[0]
        .messages
        .iter()
        .map(|(seq, _)| *seq)
        .collect();
    // Everything acknowledged is there; the child may have committed more before it died.
    assert!(seqs.len() > 100, "{} messages", seqs.len());
    assert!(seqs.iter().copied().eq(0..seqs.len() as u64));
}
