//! Opening the file and reading everything stored into a [`Snapshot`].
//!
//! redb checks the whole file on open (`set_check_integrity_on_open`): every page checksum is
//! verified, so a damaged or truncated file is an error here instead of a panic later. A file
//! that exists but is empty is refused too: it is what a failed copy or a full disk leaves, and
//! starting empty over it would silently drop the sessions it should have held.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::Path;

use redb::{Builder, Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::codec::{self, FORMAT};
use super::writer::{INCOMING_QOS2, MESSAGES, META, RETAINED, SESSIONS};
use super::{RestoredSession, Snapshot, StoreError};

/// The key of the format record in the `meta` table.
const FORMAT_KEY: &[u8] = b"format";

/// Opens or creates the database at `path` and reads it.
pub(super) fn open(path: &Path) -> Result<(Database, Snapshot), StoreError> {
    let db = open_database(path)?;
    init(&db, path)?;
    let snapshot = read(&db, path).map_err(|e| classify(path, e))?;
    tracing::info!(
        "persistence store {}: {} retained messages, {} sessions, {} messages",
        path.display(),
        snapshot.retained.len(),
        snapshot.sessions.len(),
        snapshot
            .sessions
            .iter()
            .map(|s| s.messages.len())
            .sum::<usize>()
    );
    Ok((db, snapshot))
}

fn open_database(path: &Path) -> Result<Database, StoreError> {
    let mut builder = Builder::new();
    builder.set_check_integrity_on_open(true);
    let result = match std::fs::metadata(path) {
        Ok(m) if m.is_file() && m.len() == 0 => {
            return Err(StoreError::Corrupt {
                path: path.to_path_buf(),
                reason: "the file is empty".to_owned(),
            })
        }
        Ok(_) => builder.open(path),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            tracing::info!("persistence store {}: creating it", path.display());
            builder.create(path)
        }
        Err(e) => {
            return Err(StoreError::Open {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })
        }
    };
    result.map_err(|e| classify(path, e.into()))
}

/// Checks (or, in a new file, writes) the format record and creates the tables.
fn init(db: &Database, path: &Path) -> Result<(), StoreError> {
    let err = |e: redb::Error| classify(path, e);
    let txn = db.begin_write().map_err(|e| err(e.into()))?;
    let fresh = txn
        .list_tables()
        .map_err(|e| err(e.into()))?
        .next()
        .is_none();
    {
        let mut meta = txn.open_table(META).map_err(|e| err(e.into()))?;
        let format = meta
            .get(FORMAT_KEY)
            .map_err(|e| err(e.into()))?
            .map(|v| v.value().to_vec());
        match format.as_deref() {
            Some([FORMAT]) => {}
            None if fresh => {
                meta.insert(FORMAT_KEY, [FORMAT].as_slice())
                    .map_err(|e| err(e.into()))?;
            }
            None => return Err(corrupt(path, "no format record: not an mqbroker store")),
            Some(other) => {
                return Err(StoreError::Unsupported {
                    path: path.to_path_buf(),
                    reason: format!("format {other:?}, this mqbroker reads format [{FORMAT}]"),
                })
            }
        }
        for table in [RETAINED, SESSIONS, MESSAGES, INCOMING_QOS2] {
            txn.open_table(table).map_err(|e| err(e.into()))?;
        }
    }
    txn.commit().map_err(|e| err(e.into()))
}

fn corrupt(path: &Path, reason: &str) -> StoreError {
    StoreError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    }
}

/// Sorts a redb error into what the user can do about it.
fn classify(path: &Path, e: redb::Error) -> StoreError {
    let path = path.to_path_buf();
    match e {
        redb::Error::DatabaseAlreadyOpen | redb::Error::LockProtocolMismatch => {
            StoreError::InUse { path }
        }
        redb::Error::UpgradeRequired(v) => StoreError::Unsupported {
            path,
            reason: format!("redb file format {v}"),
        },
        redb::Error::Io(io)
            if !matches!(io.kind(), ErrorKind::InvalidData | ErrorKind::UnexpectedEof) =>
        {
            StoreError::Open {
                path,
                reason: io.to_string(),
            }
        }
        other => StoreError::Corrupt {
            path,
            reason: other.to_string(),
        },
    }
}

/// Reads every table; records that do not decode are skipped, logged and counted.
fn read(db: &Database, path: &Path) -> Result<Snapshot, redb::Error> {
    let txn = db.begin_read()?;
    let mut snapshot = Snapshot::default();
    let mut skipped = 0;
    let mut skip_counted = |what: &str, key: &[u8], reason: String| {
        skipped += 1;
        let key = String::from_utf8_lossy(key);
        tracing::warn!("{}: skipping {what} '{key}': {reason}", path.display());
    };
    for entry in txn.open_table(RETAINED)?.iter()? {
        let (key, value) = entry?;
        match codec::decode_message(value.value()) {
            Ok(q) => snapshot.retained.push(q.message),
            Err(e) => skip_counted("retained message", key.value(), e),
        }
    }
    let mut sessions = BTreeMap::new();
    for entry in txn.open_table(SESSIONS)?.iter()? {
        let (key, value) = entry?;
        let decoded = String::from_utf8(key.value().to_vec())
            .map_err(|_| "client id is not UTF-8".to_owned())
            .and_then(|id| codec::decode_session(id, value.value()));
        match decoded {
            Ok(session) => {
                let restored = RestoredSession {
                    session,
                    messages: Vec::new(),
                    incoming_qos2: Vec::new(),
                };
                sessions.insert(restored.session.client_id.clone(), restored);
            }
            Err(e) => skip_counted("session", key.value(), e),
        }
    }
    read_messages(&txn, &mut sessions, &mut skip_counted)?;
    read_incoming_qos2(&txn, &mut sessions, &mut skip_counted)?;
    snapshot.sessions = sessions.into_values().collect();
    snapshot.skipped = skipped;
    Ok(snapshot)
}

type Sessions = BTreeMap<String, RestoredSession>;

/// Reads a per-session table: each entry's session, the key bytes after the client key, and
/// the value, or why it is to be skipped.
fn per_session(
    txn: &redb::ReadTransaction,
    table: TableDefinition<&'static [u8], &'static [u8]>,
    sessions: &mut Sessions,
    skip: &mut impl FnMut(&str, &[u8], String),
    what: &str,
    mut each: impl FnMut(&mut RestoredSession, &[u8], &[u8]) -> Result<(), String>,
) -> Result<(), redb::Error> {
    for entry in txn.open_table(table)?.iter()? {
        let (key, value) = entry?;
        let result = codec::split_client_key(key.value()).and_then(|(id, rest)| {
            let session = sessions
                .get_mut(&id)
                .ok_or_else(|| format!("no session '{id}'"))?;
            each(session, rest, value.value())
        });
        if let Err(e) = result {
            skip(what, key.value(), e);
        }
    }
    Ok(())
}

fn read_messages(
    txn: &redb::ReadTransaction,
    sessions: &mut Sessions,
    skip: &mut impl FnMut(&str, &[u8], String),
) -> Result<(), redb::Error> {
    // Keys are in client key then seq order, so each session's messages arrive in seq order.
    per_session(
        txn,
        MESSAGES,
        sessions,
        skip,
        "message",
        |s, rest, value| {
            let seq = <[u8; 8]>::try_from(rest).map_err(|_| "bad seq in key".to_owned())?;
            let queued = codec::decode_message(value)?;
            s.messages.push((u64::from_be_bytes(seq), queued));
            Ok(())
        },
    )
}

fn read_incoming_qos2(
    txn: &redb::ReadTransaction,
    sessions: &mut Sessions,
    skip: &mut impl FnMut(&str, &[u8], String),
) -> Result<(), redb::Error> {
    per_session(
        txn,
        INCOMING_QOS2,
        sessions,
        skip,
        "QoS 2 id",
        |s, rest, _| {
            let id = <[u8; 2]>::try_from(rest).map_err(|_| "bad packet id in key".to_owned())?;
            s.incoming_qos2.push(u16::from_be_bytes(id));
            Ok(())
        },
    )
}
