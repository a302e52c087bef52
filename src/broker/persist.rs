//! The broker's side of `persistence true`: what it writes to the durable [`Store`] and when,
//! and how it rebuilds its state from a [`Snapshot`] on start.
//!
//! What is stored: retained messages (not `$SYS`), and for every persistent session (Session
//! Expiry Interval above 0) its subscriptions, will, expiry, the QoS 1/2 messages queued or in
//! flight to it (with packet identifier and PUBREL state) and the incoming QoS 2 identifiers
//! awaiting PUBREL. QoS 0 messages are not stored.
//!
//! When: a QoS 1/2 PUBLISH's records (its copies for persistent sessions, the retained change,
//! the QoS 2 identifier) go in one batch whose commit the connection awaits before PUBACK /
//! PUBREC, so an acknowledged message survives `kill -9`. Everything else (deliveries, acks from
//! subscribers, session changes) is submitted without waiting: the store applies batches in
//! order, so a later state never lands before an earlier one.

use std::sync::Arc;

use tokio::time::Instant;

use super::message::{Message, Outgoing};
use super::router::Subscription as RouterSub;
use super::session::{Inflight, InflightState, Session, SessionRef, SessionState};
use super::store::{Durable, Op, RestoredSession, Snapshot, StoredMessage, StoredSession};
use super::{lock, Inner};
use crate::protocol::QoS;
use crate::topic::TopicFilter;

/// Now, as an `Instant` and as Unix milliseconds, to convert between the two.
pub(crate) struct Clock {
    now: Instant,
    unix_ms: u64,
}

impl Clock {
    pub(crate) fn now() -> Clock {
        let unix_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        Clock {
            now: Instant::now(),
            unix_ms,
        }
    }

    fn to_unix(&self, at: Instant) -> u64 {
        let ahead = at.saturating_duration_since(self.now).as_millis() as u64;
        let behind = self.now.saturating_duration_since(at).as_millis() as u64;
        (self.unix_ms + ahead).saturating_sub(behind)
    }

    fn to_instant(&self, unix_ms: u64) -> Instant {
        let ms = |n: u64| std::time::Duration::from_millis(n);
        if unix_ms >= self.unix_ms {
            self.now + ms(unix_ms - self.unix_ms)
        } else {
            self.now
                .checked_sub(ms(self.unix_ms - unix_ms))
                .unwrap_or(self.now)
        }
    }
}

/// Whether a message queued to `st`'s session is kept in the store.
pub(crate) fn is_stored(st: &SessionState, qos: QoS) -> bool {
    st.persistent() && qos > QoS::AtMostOnce
}

/// The record of a message queued for or in flight to a session.
pub(crate) fn put_message(
    client_id: &str,
    out: &Outgoing,
    packet_id: Option<u16>,
    released: bool,
) -> Op {
    let clock = Clock::now();
    let message = StoredMessage {
        topic: out.message.topic.clone(),
        payload: out.message.payload.clone(),
        qos: out.qos,
        retain: out.retain,
        properties: out.message.properties.clone(),
        subscription_ids: out.subscription_ids.clone(),
        expires_at_unix_ms: out.message.expires_at.map(|at| clock.to_unix(at)),
    };
    Op::PutMessage {
        client_id: client_id.to_owned(),
        seq: out.seq,
        message,
        packet_id,
        released,
    }
}

/// Makes a QoS 2 copy for a persistent session wait for `mark` (made on first use).
pub(crate) fn hold_until_durable(out: &mut Outgoing, mark: &mut Option<Durable>) {
    if out.qos == QoS::ExactlyOnce {
        out.durable = Some(mark.get_or_insert_with(Durable::default).clone());
    }
}

/// The record removing a session's message.
pub(crate) fn delete_message(client_id: &str, seq: u64) -> Op {
    Op::DeleteMessage {
        client_id: client_id.to_owned(),
        seq,
    }
}

/// The record of a retained message (an empty payload deletes it).
pub(crate) fn retained(message: &Message) -> Option<Op> {
    if message.topic.as_str().starts_with("$SYS") {
        return None;
    }
    let topic = message.topic.as_str().to_owned();
    if message.payload.is_empty() {
        return Some(Op::DeleteRetained { topic });
    }
    let clock = Clock::now();
    Some(Op::PutRetained(StoredMessage {
        topic: message.topic.clone(),
        payload: message.payload.clone(),
        qos: message.qos,
        retain: true,
        properties: message.properties.clone(),
        subscription_ids: Vec::new(),
        expires_at_unix_ms: message.expires_at.map(|at| clock.to_unix(at)),
    }))
}

/// The record of a session (without its messages).
fn session_record(session: &Session, st: &SessionState) -> StoredSession {
    let clock = Clock::now();
    let will = st.pending_will.as_ref().map(|(will, due)| {
        let since = st.offline_since.unwrap_or(clock.now);
        (
            will.clone(),
            due.saturating_duration_since(since).as_secs() as u32,
        )
    });
    StoredSession {
        client_id: session.client_id.to_string(),
        version: st.version,
        expiry_interval: st.expiry_interval,
        offline_since_unix_ms: st.offline_since.map(|at| clock.to_unix(at)),
        subscriptions: st
            .subscriptions
            .iter()
            .map(|(f, s)| (f.clone(), s.clone()))
            .collect(),
        will,
        last_packet_id: st.last_packet_id,
    }
}

/// The message a stored record describes, as the broker holds it.
fn message_from(stored: &StoredMessage, clock: &Clock) -> Message {
    Message {
        topic: stored.topic.clone(),
        payload: stored.payload.clone(),
        qos: stored.qos,
        retain: stored.retain,
        properties: stored.properties.clone(),
        expires_at: stored.expires_at_unix_ms.map(|ms| clock.to_instant(ms)),
        origin: 0,
        // Not stored: check_retain_source cannot re-check a restored retained message.
        publisher: None,
        heads: Default::default(),
    }
}

impl Inner {
    /// Submits `ops` to the store, if there is one, without waiting for the commit.
    pub(crate) fn persist(&self, ops: Vec<Op>) {
        self.persist_marked(ops, None);
    }

    /// [`Inner::persist`], setting `mark` once they are written.
    pub(crate) fn persist_marked(&self, ops: Vec<Op>, mark: Option<Durable>) {
        if let (Some(store), false) = (&self.store, ops.is_empty()) {
            // Dropping the Commit does not cancel the write; batches are applied in order.
            drop(store.submit_marked(ops, mark));
        }
    }

    /// Writes `session`'s record when it is persistent, or removes a record written before
    /// when it no longer is.
    pub(crate) fn persist_session(&self, session: &Session) {
        self.persist(self.session_op(session).into_iter().collect());
    }

    /// The record [`Inner::persist_session`] writes, if any.
    pub(crate) fn session_op(&self, session: &Session) -> Option<Op> {
        self.store.as_ref()?;
        let mut st = session.lock();
        if !st.persistent() {
            drop(st);
            return self.forget_op(session);
        }
        st.stored = true;
        Some(Op::PutSession(session_record(session, &st)))
    }

    /// Removes `session` and its messages from the store, if it was written there.
    pub(crate) fn forget_session(&self, session: &Session) {
        self.persist(self.forget_op(session).into_iter().collect());
    }

    fn forget_op(&self, session: &Session) -> Option<Op> {
        self.store.as_ref()?;
        std::mem::take(&mut session.lock().stored).then(|| Op::DeleteSession {
            client_id: session.client_id.to_string(),
        })
    }

    /// Rebuilds retained messages and offline sessions from `snapshot` (on start).
    pub(crate) fn restore(&self, snapshot: Snapshot) {
        let clock = Clock::now();
        {
            let mut store = lock(&self.retained);
            for stored in &snapshot.retained {
                let message = message_from(stored, &clock);
                if !message.expired(clock.now) {
                    store.store(&Arc::new(message));
                }
            }
        }
        for restored in snapshot.sessions {
            self.restore_session(restored, &clock);
        }
    }

    fn restore_session(&self, restored: RestoredSession, clock: &Clock) {
        let record = restored.session;
        let client_id: Arc<str> = Arc::from(record.client_id.as_str());
        let config = self.config();
        let max = config.max_queued_messages;
        let session = Arc::new(Session::new(
            self.next_id(),
            Arc::clone(&client_id),
            record.version,
            max,
        ));
        {
            let mut st = session.lock();
            let since = record
                .offline_since_unix_ms
                .map_or(clock.now, |ms| clock.to_instant(ms));
            st.stored = true;
            st.expiry_interval = record.expiry_interval;
            st.offline_since = Some(since);
            st.last_packet_id = record.last_packet_id;
            st.max_queued_bytes = config.max_queued_bytes;
            st.queue_qos0 = config.queue_qos0_messages;
            st.subscriptions = record.subscriptions.iter().cloned().collect();
            st.pending_will = record.will.map(|(will, delay)| {
                (
                    will,
                    since + std::time::Duration::from_secs(u64::from(delay)),
                )
            });
            st.incoming_qos2 = restored.incoming_qos2.into_iter().collect();
            for (seq, queued) in restored.messages {
                let out = Outgoing {
                    message: Arc::new(message_from(&queued.message, clock)),
                    qos: queued.message.qos,
                    retain: queued.message.retain,
                    subscription_ids: queued.message.subscription_ids.clone(),
                    seq,
                    durable: None,
                };
                st.next_seq = st.next_seq.max(seq + 1);
                match queued.packet_id {
                    Some(id) => {
                        let state = match queued.released {
                            true => InflightState::Release,
                            false => InflightState::Publish(out),
                        };
                        st.inflight.insert(id, Inflight { seq, state });
                    }
                    None => {
                        st.queued_bytes += out.message.payload.len();
                        st.queue.push_back(out);
                    }
                }
            }
        }
        for (filter, sub) in &record.subscriptions {
            let Ok(filter) = TopicFilter::new(filter) else {
                tracing::warn!("Stored session {client_id}: invalid filter '{filter}' skipped");
                continue;
            };
            let entry = RouterSub {
                client: SessionRef(Arc::clone(&session)),
                options: sub.options,
                id: sub.id,
            };
            self.subscribe(&filter, entry);
        }
        lock(&self.sessions).insert(client_id, session);
    }
}
