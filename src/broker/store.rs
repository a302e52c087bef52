//! Durable persistence for `mqbroker` (`persistence true`): retained messages and persistent
//! sessions in one redb file, written by group commit.
//!
//! [`Store::open`] reads everything stored into a [`Snapshot`] and starts one writer thread that
//! owns the database. Connections [`Store::submit`] batches of [`Op`]s from any task without
//! blocking; the writer takes everything queued, applies it in ONE write transaction, commits it
//! with an fsync (redb `Durability::Immediate`) and only then resolves each batch's [`Commit`].
//! The broker awaits that future before it sends PUBACK / PUBREC, so an acknowledged message
//! survives `kill -9`; the more connections wait at once, the more each fsync carries.
//!
//! Values are encoded in the submitting task (`store/codec.rs`): the writer does B-tree work only.
//! Times are wall-clock Unix milliseconds, never `Instant`, so they mean the same after a restart.
//! A file that is not a readable store is refused with a [`StoreError`] naming it and saying what
//! to do; a single record that does not decode is skipped, logged with `tracing::warn!` and
//! counted in [`Snapshot::skipped`], never dropped silently.

mod codec;
mod load;
#[cfg(test)]
mod tests;
mod writer;

use std::future::Future;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll};
use std::thread::JoinHandle;

use bytes::Bytes;
use tokio::sync::oneshot;

use super::session::StoredSubscription;
use crate::protocol::{LastWill, ProtocolVersion, PublishProperties, QoS};
use crate::topic::TopicName;

/// An application message as stored: a retained message, or one queued for or in flight to a
/// session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// The topic.
    pub topic: TopicName,
    /// The payload.
    pub payload: Bytes,
    /// The QoS: as published for a retained message, the delivery QoS (the lower of publish and
    /// subscription) for a session's message.
    pub qos: QoS,
    /// The RETAIN flag: as published, or as it is to be delivered.
    pub retain: bool,
    /// The properties to forward. Topic Alias and Subscription Identifiers are per connection:
    /// they are not stored (the latter live in `subscription_ids`).
    pub properties: PublishProperties,
    /// The matching subscriptions' identifiers, for a session's message.
    pub subscription_ids: Vec<NonZeroU32>,
    /// When the Message Expiry Interval runs out, in Unix milliseconds.
    pub expires_at_unix_ms: Option<u64>,
}

/// A persistent session without its messages (those are separate records, so that queueing one
/// does not rewrite the session).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// The client identifier.
    pub client_id: String,
    /// The protocol version of the last connection.
    pub version: ProtocolVersion,
    /// Session Expiry Interval in seconds; `u32::MAX` never expires.
    pub expiry_interval: u32,
    /// When the session went offline, in Unix milliseconds; `None` while connected.
    pub offline_since_unix_ms: Option<u64>,
    /// Subscriptions by filter.
    pub subscriptions: Vec<(String, StoredSubscription)>,
    /// The will and its Will Delay Interval in seconds (counted from `offline_since_unix_ms`).
    pub will: Option<(LastWill, u32)>,
    /// The last packet identifier handed out.
    pub last_packet_id: u16,
}

/// A message of a session: queued, or in flight under a packet identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredQueued {
    /// The message as it is to be delivered.
    pub message: StoredMessage,
    /// The packet identifier once it was sent (in flight); `None` while queued.
    pub packet_id: Option<u16>,
    /// QoS 2: PUBREL was sent (waiting for PUBCOMP) rather than PUBLISH (waiting for PUBREC).
    pub released: bool,
}

/// One change to the store. A batch of them is applied atomically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Stores (or replaces) the retained message of its topic.
    PutRetained(StoredMessage),
    /// Removes the retained message of `topic`.
    DeleteRetained {
        /// The topic.
        topic: String,
    },
    /// Stores (or replaces) a session; its messages and QoS 2 ids are kept.
    PutSession(StoredSession),
    /// Removes a session with all its messages and incoming QoS 2 ids.
    DeleteSession {
        /// The client identifier.
        client_id: String,
    },
    /// Stores (or replaces) message `seq` of a session.
    PutMessage {
        /// The client identifier.
        client_id: String,
        /// The message's place in the session's order (restored in increasing order).
        seq: u64,
        /// The message.
        message: StoredMessage,
        /// The packet identifier once it is in flight.
        packet_id: Option<u16>,
        /// PUBREL was sent for it (QoS 2).
        released: bool,
    },
    /// Removes message `seq` of a session (acknowledged, expired or dropped).
    DeleteMessage {
        /// The client identifier.
        client_id: String,
        /// The message's `seq`.
        seq: u64,
    },
    /// Records an incoming QoS 2 packet identifier awaiting PUBREL.
    PutIncomingQos2 {
        /// The client identifier.
        client_id: String,
        /// The packet identifier.
        packet_id: u16,
    },
    /// Forgets an incoming QoS 2 packet identifier (PUBREL received).
    DeleteIncomingQos2 {
        /// The client identifier.
        client_id: String,
        /// The packet identifier.
        packet_id: u16,
    },
}

/// A session as restored by [`Store::open`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoredSession {
    /// The session.
    pub session: StoredSession,
    /// Its messages by `seq`, in increasing order.
    pub messages: Vec<(u64, StoredQueued)>,
    /// Incoming QoS 2 packet identifiers awaiting PUBREL, in increasing order.
    pub incoming_qos2: Vec<u16>,
}

/// Everything a store held when it was opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Retained messages (expired ones included: the broker drops those by their deadline).
    pub retained: Vec<StoredMessage>,
    /// Persistent sessions.
    pub sessions: Vec<RestoredSession>,
    /// Records that did not decode and were skipped (each logged with a warning).
    pub skipped: usize,
}

/// A store's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Write transactions committed (one fsync each).
    pub transactions: u64,
    /// Batches made durable.
    pub batches: u64,
    /// Ops written.
    pub ops: u64,
}

/// What can go wrong with the store. Every variant names the file.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The file could not be opened or created (permissions, missing directory, I/O error).
    #[error("{}: cannot open the persistence store: {reason}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// The file is not a readable store: damaged, truncated, empty or not a store at all.
    #[error(
        "{}: the persistence store is damaged ({reason}); move it away to start empty, or restore \
         a backup",
        path.display()
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Another process holds the file.
    #[error("{}: the persistence store is in use by another process", path.display())]
    InUse {
        /// The file.
        path: PathBuf,
    },
    /// The file was written in a format this version does not read.
    #[error(
        "{}: unsupported persistence store ({reason}); use the mqbroker that wrote it, or move it \
         away to start empty",
        path.display()
    )]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// Which format it has.
        reason: String,
    },
    /// An op could not be encoded (nothing of its batch was written).
    #[error("{}: cannot store {what}: {reason}", path.display())]
    Encode {
        /// The file.
        path: PathBuf,
        /// The record.
        what: String,
        /// Why.
        reason: String,
    },
    /// A write transaction failed (nothing of the batch was written).
    #[error("{}: writing the persistence store failed: {reason}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// The store was closed, or its writer stopped.
    #[error("{}: the persistence store is closed", path.display())]
    Closed {
        /// The file.
        path: PathBuf,
    },
}

/// A handle on an open store; cheap to clone, usable from any thread or task.
#[derive(Debug, Clone)]
pub struct Store {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    /// Bumped by the writer after every transaction (see [`Store::commits`]).
    commits: tokio::sync::watch::Receiver<u64>,
    path: PathBuf,
    queue: mpsc::Sender<writer::Request>,
    thread: Mutex<Option<JoinHandle<()>>>,
    counters: Arc<Counters>,
}

/// Counters the writer updates and [`Store::stats`] reads.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    transactions: AtomicU64,
    batches: AtomicU64,
    ops: AtomicU64,
}

impl Store {
    /// Opens the store at `path`, creating it when the file does not exist, and returns the
    /// handle and everything stored. An existing file that is empty, damaged or not a store is
    /// refused: the broker must not start (and later overwrite it) as if it held nothing.
    ///
    /// Blocks while it checks and reads the whole file: call it before serving, or from
    /// `spawn_blocking`.
    pub fn open(path: &Path) -> Result<(Store, Snapshot), StoreError> {
        let (db, snapshot) = load::open(path)?;
        let counters = Arc::new(Counters::default());
        let (commits_tx, commits) = tokio::sync::watch::channel(0);
        let (queue, thread) =
            writer::spawn(db, path.to_path_buf(), Arc::clone(&counters), commits_tx)?;
        let shared = Shared {
            commits,
            path: path.to_path_buf(),
            queue,
            thread: Mutex::new(Some(thread)),
            counters,
        };
        let store = Store {
            shared: Arc::new(shared),
        };
        Ok((store, snapshot))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// Queues `batch` for the writer and returns a future that resolves once it is committed to
    /// disk, or with the error that kept it from being written; the batch is all or nothing.
    /// Never blocks. Batches are applied in the order they were submitted. Dropping the future
    /// does not cancel the write.
    pub fn submit(&self, batch: Vec<Op>) -> Commit {
        self.submit_marked(batch, None)
    }

    /// [`Store::submit`], setting `mark` once the batch is written (or failed to be) and before
    /// [`Store::commits`] changes: a connection holds back what must not be sent before it is
    /// durable, and waits on `commits` to look again.
    pub fn submit_marked(&self, batch: Vec<Op>, mark: Option<Durable>) -> Commit {
        let path = &self.shared.path;
        let records = match codec::records(&batch) {
            Ok(records) => records,
            Err((what, reason)) => {
                let path = path.clone();
                let error = StoreError::Encode { path, what, reason };
                return Commit::ready(Err(error));
            }
        };
        let (done, wait) = oneshot::channel();
        let request = writer::Request::Batch {
            records,
            ops: batch.len() as u64,
            done,
            mark,
        };
        if self.shared.queue.send(request).is_err() {
            return Commit::ready(Err(StoreError::Closed { path: path.clone() }));
        }
        Commit {
            state: CommitState::Pending(wait, path.clone()),
        }
    }

    /// Waits until every batch submitted before it is written, then stops the writer and closes
    /// the file. Blocks the calling thread (from async code, use `spawn_blocking`). Batches other
    /// handles submit afterwards fail with [`StoreError::Closed`].
    pub fn close(self) -> Result<(), StoreError> {
        let closed = || StoreError::Closed {
            path: self.shared.path.clone(),
        };
        let (done, wait) = mpsc::sync_channel(1);
        let request = writer::Request::Close { done };
        self.shared.queue.send(request).map_err(|_| closed())?;
        let result = wait.recv().unwrap_or_else(|_| Err(closed()));
        let thread = self
            .shared
            .thread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
        result
    }

    /// Changes after every transaction the writer commits.
    pub fn commits(&self) -> tokio::sync::watch::Receiver<u64> {
        self.shared.commits.clone()
    }

    /// The counters: transactions committed, batches and ops written.
    pub fn stats(&self) -> StoreStats {
        let c = &self.shared.counters;
        StoreStats {
            transactions: c.transactions.load(Ordering::Relaxed),
            batches: c.batches.load(Ordering::Relaxed),
            ops: c.ops.load(Ordering::Relaxed),
        }
    }
}

/// Set once a batch is written: what the broker must not send before its record is durable
/// (a QoS 2 message to a persistent session) carries it.
#[derive(Debug, Clone, Default)]
pub struct Durable(Arc<std::sync::atomic::AtomicBool>);

impl Durable {
    /// Whether the batch it marks was written.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn set(&self) {
        self.0.store(true, Ordering::Release);
    }
}

/// The future of a submitted batch: resolves when it is durable. `Send`, `'static`, and dropping
/// it does not cancel the write.
#[derive(Debug)]
#[must_use = "the batch is durable only when the Commit resolves"]
pub struct Commit {
    state: CommitState,
}

#[derive(Debug)]
enum CommitState {
    Ready(Option<Result<(), StoreError>>),
    Pending(oneshot::Receiver<Result<(), StoreError>>, PathBuf),
}

impl Commit {
    fn ready(result: Result<(), StoreError>) -> Self {
        Commit {
            state: CommitState::Ready(Some(result)),
        }
    }
}

impl Future for Commit {
    type Output = Result<(), StoreError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().state {
            CommitState::Ready(result) => Poll::Ready(result.take().unwrap_or_else(|| {
                Err(StoreError::Closed {
                    path: PathBuf::new(),
                })
            })),
            CommitState::Pending(wait, path) => Pin::new(wait).poll(cx).map(|r| {
                // The writer went away without answering: it stopped (closed or failed).
                r.unwrap_or_else(|_| Err(StoreError::Closed { path: path.clone() }))
            }),
        }
    }
}
