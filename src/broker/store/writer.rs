//! The writer thread and its group commit.
//!
//! One thread owns the [`Database`]. It blocks for the first request, then takes everything else
//! already queued (up to [`MAX_GROUP_OPS`] ops), applies the whole group in one write transaction
//! and commits it once with `Durability::Immediate` (one fsync), then answers every batch of the
//! group. While it is in fsync, new batches queue up and form the next group, so the number of
//! commits per second stays bounded by the disk while the batches per commit grow with the load.
//!
//! If a group fails, each of its batches is retried in its own transaction, so one bad batch
//! fails alone and the others are still written.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use redb::{Database, Durability, TableDefinition, WriteTransaction};
use tokio::sync::{oneshot, watch};

use super::codec::{Record, Table};
use super::{Counters, Durable, StoreError};

/// The tables; keys and values are bytes encoded by [`super::codec`].
pub(super) type Bytes = TableDefinition<'static, &'static [u8], &'static [u8]>;
/// Store metadata: `format` → the store format.
pub(super) const META: Bytes = TableDefinition::new("meta");
/// Retained messages by topic.
pub(super) const RETAINED: Bytes = TableDefinition::new("retained");
/// Sessions by client id.
pub(super) const SESSIONS: Bytes = TableDefinition::new("sessions");
/// Session messages by client key and seq.
pub(super) const MESSAGES: Bytes = TableDefinition::new("messages");
/// Incoming QoS 2 packet ids by client key and packet id.
pub(super) const INCOMING_QOS2: Bytes = TableDefinition::new("incoming_qos2");

/// A group stops growing at this many ops, so one transaction stays a bounded amount of work.
const MAX_GROUP_OPS: u64 = 65_536;

/// What the writer is asked to do.
#[derive(Debug)]
pub(super) enum Request {
    /// Write `records` atomically, then answer on `done`.
    Batch {
        records: Vec<Record>,
        ops: u64,
        done: oneshot::Sender<Result<(), StoreError>>,
        /// Set once the batch is written (or failed to be), before `commits` is bumped.
        mark: Option<Durable>,
    },
    /// Finish everything queued before, close the database, answer and stop.
    Close {
        done: mpsc::SyncSender<Result<(), StoreError>>,
    },
}

type Batch = (
    Vec<Record>,
    u64,
    oneshot::Sender<Result<(), StoreError>>,
    Option<Durable>,
);

/// Starts the writer thread owning `db`.
pub(super) fn spawn(
    db: Database,
    path: PathBuf,
    counters: Arc<Counters>,
    commits: watch::Sender<u64>,
) -> Result<(mpsc::Sender<Request>, JoinHandle<()>), StoreError> {
    let (tx, rx) = mpsc::channel();
    let error_path = path.clone();
    let writer = Writer {
        db,
        path,
        counters,
        commits,
    };
    let thread = std::thread::Builder::new()
        .name("mqbroker-store".to_owned())
        .spawn(move || writer.run(rx))
        .map_err(|e| StoreError::Open {
            path: error_path,
            reason: format!("cannot start the writer thread: {e}"),
        })?;
    Ok((tx, thread))
}

struct Writer {
    db: Database,
    path: PathBuf,
    counters: Arc<Counters>,
    /// Bumped after every group, once its batches' marks are set.
    commits: watch::Sender<u64>,
}

impl Writer {
    fn run(self, rx: mpsc::Receiver<Request>) {
        while let Ok(first) = rx.recv() {
            let mut group = Vec::new();
            let mut close = None;
            let mut ops = 0;
            let mut next = Some(first);
            while let Some(request) = next.take() {
                match request {
                    Request::Batch {
                        records,
                        ops: n,
                        done,
                        mark,
                    } => {
                        ops += n;
                        group.push((records, n, done, mark));
                    }
                    Request::Close { done } => close = Some(done),
                }
                if close.is_none() && ops < MAX_GROUP_OPS {
                    next = rx.try_recv().ok();
                }
            }
            if !group.is_empty() {
                self.commit_group(group);
                self.commits.send_modify(|n| *n += 1);
            }
            if let Some(done) = close {
                let _ = done.send(self.close());
                return;
            }
        }
        // Every handle is gone: what was queued is written; the database closes on drop.
        tracing::debug!("persistence store {}: writer stopped", self.path.display());
    }

    fn close(self) -> Result<(), StoreError> {
        let path = self.path;
        tracing::debug!("persistence store {}: closing", path.display());
        self.db.close().map_err(|e| StoreError::Write {
            path,
            reason: format!("closing: {e}"),
        })
    }

    /// Writes `group` in one transaction; on failure, each batch alone.
    fn commit_group(&self, group: Vec<Batch>) {
        let all = group.iter().map(|(records, _, _, _)| records.as_slice());
        match self.write(all) {
            Ok(()) => {
                self.count(&group);
                for (_, _, done, mark) in group {
                    mark.inspect(Durable::set);
                    let _ = done.send(Ok(()));
                }
            }
            Err(e) if group.len() == 1 => {
                let error = self.error(&e);
                tracing::error!("{error}");
                for (_, _, done, mark) in group {
                    // Not durable, but nothing more will make it so: do not hold it back.
                    mark.inspect(Durable::set);
                    let _ = done.send(Err(error.clone()));
                }
            }
            Err(e) => {
                tracing::warn!(
                    "persistence store {}: a group of {} batches failed ({e}), retrying each alone",
                    self.path.display(),
                    group.len()
                );
                for batch in group {
                    self.commit_group(vec![batch]);
                }
            }
        }
    }

    fn count(&self, group: &[Batch]) {
        let c = &self.counters;
        let ops: u64 = group.iter().map(|(_, n, _, _)| n).sum();
        c.transactions.fetch_add(1, Ordering::Relaxed);
        c.batches.fetch_add(group.len() as u64, Ordering::Relaxed);
        c.ops.fetch_add(ops, Ordering::Relaxed);
    }

    fn error(&self, e: &redb::Error) -> StoreError {
        StoreError::Write {
            path: self.path.clone(),
            reason: e.to_string(),
        }
    }

    fn write<'a>(&self, batches: impl Iterator<Item = &'a [Record]>) -> Result<(), redb::Error> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        {
            let mut tables = Tables::open(&txn)?;
            for record in batches.flatten() {
                tables.apply(record)?;
            }
        }
        txn.commit()?;
        Ok(())
    }
}

/// The data tables, open in one write transaction.
struct Tables<'txn> {
    retained: redb::Table<'txn, &'static [u8], &'static [u8]>,
    sessions: redb::Table<'txn, &'static [u8], &'static [u8]>,
    messages: redb::Table<'txn, &'static [u8], &'static [u8]>,
    incoming_qos2: redb::Table<'txn, &'static [u8], &'static [u8]>,
}

impl<'txn> Tables<'txn> {
    fn open(txn: &'txn WriteTransaction) -> Result<Self, redb::Error> {
        Ok(Tables {
            retained: txn.open_table(RETAINED)?,
            sessions: txn.open_table(SESSIONS)?,
            messages: txn.open_table(MESSAGES)?,
            incoming_qos2: txn.open_table(INCOMING_QOS2)?,
        })
    }

    fn table(&mut self, table: Table) -> &mut redb::Table<'txn, &'static [u8], &'static [u8]> {
        match table {
            Table::Retained => &mut self.retained,
            Table::Sessions => &mut self.sessions,
            Table::Messages => &mut self.messages,
            Table::IncomingQos2 => &mut self.incoming_qos2,
        }
    }

    fn apply(&mut self, record: &Record) -> Result<(), redb::Error> {
        match record {
            Record::Put { table, key, value } => {
                self.table(*table)
                    .insert(key.as_slice(), value.as_slice())?;
            }
            Record::Delete { table, key } => {
                self.table(*table).remove(key.as_slice())?;
            }
            Record::DeleteSession {
                client_id,
                client_key,
            } => self.delete_session(client_id, client_key)?,
        }
        Ok(())
    }

    /// Removes the session and every message and QoS 2 id under its client key.
    fn delete_session(&mut self, client_id: &[u8], client_key: &[u8]) -> Result<(), redb::Error> {
        self.sessions.remove(client_id)?;
        let (lo, hi) = key_range(client_key, 8);
        self.messages
            .retain_in::<&[u8], _>(lo.as_slice()..=hi.as_slice(), |_, _| false)?;
        let (lo, hi) = key_range(client_key, 2);
        self.incoming_qos2
            .retain_in::<&[u8], _>(lo.as_slice()..=hi.as_slice(), |_, _| false)?;
        Ok(())
    }
}

/// The smallest and largest key made of `prefix` and `width` more bytes.
fn key_range(prefix: &[u8], width: usize) -> (Vec<u8>, Vec<u8>) {
    let mut lo = prefix.to_vec();
    let mut hi = prefix.to_vec();
    lo.resize(prefix.len() + width, 0);
    hi.resize(prefix.len() + width, 0xFF);
    (lo, hi)
}
