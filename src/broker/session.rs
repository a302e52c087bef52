//! Sessions: what the broker keeps for a client id across connections (MQTT 5.0 §4.1) —
//! subscriptions, QoS 1/2 messages in flight both ways, the bounded queue of messages not yet
//! sent, and the expiry and will bookkeeping of an offline session.
//!
//! A [`Session`] is shared (`Arc`) between the router, which pushes messages into it from any
//! publisher's task, and the connection task that currently owns it, which drains it. The state is
//! behind a short-held `std::sync::Mutex` (never held across `.await`); [`Session::wake`] tells the
//! owning task there is something to send.
//!
//! Flow control: a publisher whose message lands in an online session's queue past
//! [`SessionState::press_at`] is told so ([`Enqueued::Pressing`]) and stops reading its socket
//! until the queue is back under [`SessionState::low_water`] ([`Session::room`] wakes it), so
//! a subscriber that is slower than its publishers slows them down instead of losing messages.
//! A subscriber that does not get its queue down within [`PRESS_LIMIT`] (one that does not
//! read) presses nobody until it does: it cannot hold its publishers up, and loses what
//! overflows its queue as before.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{oneshot, Notify};
use tokio::time::Instant;

use super::message::Outgoing;
use crate::protocol::{LastWill, PacketId, ProtocolVersion, QoS, ReasonCode, SubscriptionOptions};

/// A client's session.
#[derive(Debug)]
pub struct Session {
    /// Unique for the broker's lifetime; the router's key.
    pub id: u64,
    /// The client identifier.
    pub client_id: Arc<str>,
    state: Mutex<SessionState>,
    /// Whether a connection owns the session now (mirrors `SessionState::owner` for readers
    /// that must not lock, such as the router picking a shared-group member).
    pub online: std::sync::atomic::AtomicBool,
    /// Signalled when messages were queued for the owning connection.
    pub wake: Notify,
    /// Signalled (to every waiting publisher) when a pressed queue is back under its low
    /// water mark, or its session goes offline.
    pub room: Notify,
}

/// How long a queue past its press mark holds its publishers up before it is taken for a
/// subscriber that does not read (and then holds nobody up until it is drained).
pub const PRESS_LIMIT: std::time::Duration = std::time::Duration::from_millis(500);

/// The press mark never exceeds this many messages, however long the queue may be: a longer
/// backlog adds latency, not throughput.
const MAX_PRESS_AT: usize = 1024;

/// What became of a message given to [`Session::enqueue_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// Dropped: the queue was full, or QoS 0 for an offline session.
    Dropped,
    /// Queued.
    Queued,
    /// Queued, and the queue is past its press mark: the publisher should wait for
    /// [`Session::room`] before reading more.
    Pressing,
}

impl Enqueued {
    /// Whether the message was queued.
    pub fn queued(self) -> bool {
        self != Enqueued::Dropped
    }
}

/// Where an outgoing QoS 1/2 message stands.
#[derive(Debug, Clone)]
pub enum InflightState {
    /// PUBLISH sent, waiting for PUBACK (QoS 1) or PUBREC (QoS 2).
    Publish(Outgoing),
    /// PUBREL sent, waiting for PUBCOMP.
    Release,
}

/// An outgoing message in flight, with its place in the send order (packet identifiers wrap,
/// so they do not give the order [MQTT-4.6.0-1]).
#[derive(Debug, Clone)]
pub struct Inflight {
    /// Increases with every message put in flight.
    pub seq: u64,
    /// Where it stands.
    pub state: InflightState,
}

/// A subscription as the session remembers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSubscription {
    /// Its options.
    pub options: SubscriptionOptions,
    /// Its Subscription Identifier.
    pub id: Option<NonZeroU32>,
}

/// The mutable part of a session.
#[derive(Debug)]
pub struct SessionState {
    /// The protocol version of the last connection.
    pub version: ProtocolVersion,
    /// Messages waiting to be sent, oldest first.
    pub queue: VecDeque<Outgoing>,
    /// Outgoing QoS 1/2 messages by packet identifier.
    pub inflight: BTreeMap<u16, Inflight>,
    /// The `seq` of the next message queued.
    pub next_seq: u64,
    /// Incoming QoS 2 packet identifiers received and not yet released by PUBREL.
    pub incoming_qos2: HashSet<u16>,
    /// Subscriptions by filter.
    pub subscriptions: HashMap<String, StoredSubscription>,
    /// The last packet identifier handed out.
    pub last_packet_id: u16,
    /// The connection that owns the session (its number), or `None` while offline.
    pub owner: Option<u64>,
    /// Tells the owning connection to close because another took the session over.
    pub takeover: Option<oneshot::Sender<ReasonCode>>,
    /// Session Expiry Interval in seconds; `u32::MAX` never expires.
    pub expiry_interval: u32,
    /// When the session went offline.
    pub offline_since: Option<Instant>,
    /// A will waiting for its Will Delay Interval, and when it is due.
    pub pending_will: Option<(LastWill, Instant)>,
    /// Limit on `queue`.
    pub max_queued: usize,
    /// Payload bytes in `queue`.
    pub queued_bytes: usize,
    /// Limit on `queued_bytes`; 0 is none (mosquitto `max_queued_bytes`).
    pub max_queued_bytes: usize,
    /// Queue QoS 0 messages while offline.
    pub queue_qos0: bool,
    /// Messages dropped because the queue was full (or QoS 0 while offline).
    pub dropped: u64,
    /// Since when the queue has been past its press mark (and not yet back under its low
    /// water mark).
    pub pressed_since: Option<Instant>,
    /// Whether the session has a record in the durable store.
    pub stored: bool,
}

impl Session {
    /// A new, empty, offline session.
    pub fn new(id: u64, client_id: Arc<str>, version: ProtocolVersion, max_queued: usize) -> Self {
        Session {
            id,
            client_id,
            state: Mutex::new(SessionState {
                version,
                queue: VecDeque::new(),
                inflight: BTreeMap::new(),
                next_seq: 0,
                incoming_qos2: HashSet::new(),
                subscriptions: HashMap::new(),
                last_packet_id: 0,
                owner: None,
                takeover: None,
                expiry_interval: 0,
                offline_since: None,
                pending_will: None,
                max_queued,
                queued_bytes: 0,
                max_queued_bytes: 0,
                queue_qos0: false,
                dropped: 0,
                pressed_since: None,
                stored: false,
            }),
            online: std::sync::atomic::AtomicBool::new(false),
            wake: Notify::new(),
            room: Notify::new(),
        }
    }

    /// Locks the state. A poisoned lock (a panic elsewhere) still yields the state: sessions
    /// hold plain data whose invariants a panic cannot half-break.
    pub fn lock(&self) -> MutexGuard<'_, SessionState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `out` for delivery, or drops it when the queue is full or it is QoS 0 for an
    /// offline session. Returns whether it was queued.
    pub fn enqueue(&self, out: Outgoing) -> bool {
        self.enqueue_with(out, |_, _| {}).queued()
    }

    /// [`Session::enqueue`], calling `queued` with the session state and the message (its
    /// `seq` given) when it is queued, under the session's lock; tells whether the queue now
    /// presses its publishers.
    pub fn enqueue_with(
        &self,
        mut out: Outgoing,
        queued: impl FnOnce(&SessionState, &mut Outgoing),
    ) -> Enqueued {
        let mut wake = false;
        let enqueued = {
            let mut st = self.lock();
            let offline = st.owner.is_none();
            let size = out.message.payload.len();
            let over_bytes =
                st.max_queued_bytes > 0 && st.queued_bytes + size > st.max_queued_bytes;
            if (offline && out.qos == QoS::AtMostOnce && !st.queue_qos0)
                || st.queue.len() >= st.max_queued
                || over_bytes
            {
                st.dropped += 1;
                Enqueued::Dropped
            } else {
                st.queued_bytes += size;
                out.seq = st.next_seq;
                st.next_seq += 1;
                queued(&st, &mut out);
                st.queue.push_back(out);
                // A queue that was not empty has a wake-up on its way, or its connection is
                // waiting for something that makes it drain anyway (an acknowledgement to
                // open the send window, the socket to take more, the store).
                wake = st.queue.len() == 1;
                st.press()
            }
        };
        if wake {
            self.wake.notify_one();
        }
        enqueued
    }

    /// Whether publishers should still wait for this session's queue to drain.
    pub fn pressing(&self) -> bool {
        self.pressing_until().is_some()
    }

    /// Until when publishers wait for this queue to drain (`None`: they do not wait).
    pub fn pressing_until(&self) -> Option<Instant> {
        let st = self.lock();
        let until = st.pressed_since? + PRESS_LIMIT;
        (st.owner.is_some() && Instant::now() < until).then_some(until)
    }
}

impl SessionState {
    /// Gives the messages that only this session holds, queued or in flight, memory of their
    /// own, for a session going offline: slices of the read buffer they arrived in would keep
    /// that whole chunk alive for as long as the session waits. A message other sessions hold
    /// too stays shared: a copy for each would take more memory than the chunk. (Messages
    /// queued while it is offline are copies already: see `Inner::route`.)
    pub fn detach_messages(&mut self) {
        let inflight = self
            .inflight
            .values_mut()
            .filter_map(|i| match &mut i.state {
                InflightState::Publish(out) => Some(out),
                InflightState::Release => None,
            });
        for out in self.queue.iter_mut().chain(inflight) {
            if Arc::strong_count(&out.message) == 1 {
                out.message = Arc::new(out.message.detached());
            }
        }
    }

    /// Takes the oldest queued message. The caller wakes the publishers waiting for room
    /// ([`Session::room`]) when [`SessionState::relieved`] says so.
    pub fn pop_queued(&mut self) -> Option<Outgoing> {
        let out = self.queue.pop_front()?;
        self.queued_bytes = self.queued_bytes.saturating_sub(out.message.payload.len());
        Some(out)
    }

    /// The queue length from which publishers are held up: half the queue's limits, at most
    /// [`MAX_PRESS_AT`] messages.
    fn press_at(&self) -> (usize, usize) {
        let bytes = match self.max_queued_bytes {
            0 => usize::MAX,
            max => max / 2,
        };
        ((self.max_queued / 2).clamp(1, MAX_PRESS_AT), bytes)
    }

    /// Marks the queue pressed once it passes its press mark; tells whether it presses its
    /// publishers (an offline session, or one pressed for longer than [`PRESS_LIMIT`], does not).
    fn press(&mut self) -> Enqueued {
        let (count, bytes) = self.press_at();
        if self.queue.len() < count && self.queued_bytes < bytes {
            return Enqueued::Queued;
        }
        let since = *self.pressed_since.get_or_insert_with(Instant::now);
        if self.owner.is_some() && since.elapsed() < PRESS_LIMIT {
            Enqueued::Pressing
        } else {
            Enqueued::Queued
        }
    }

    /// Ends the pressed state once the queue is back under half its press mark; returns
    /// whether it ended (the publishers waiting for [`Session::room`] are to be woken).
    pub fn relieved(&mut self) -> bool {
        let (count, bytes) = self.press_at();
        if self.pressed_since.is_some()
            && self.queue.len() <= count / 2
            && self.queued_bytes <= bytes / 2
        {
            self.pressed_since = None;
            return true;
        }
        false
    }

    /// The next free packet identifier, or `None` when all 65,535 are in flight.
    pub fn next_packet_id(&mut self) -> Option<PacketId> {
        for _ in 0..u16::MAX {
            self.last_packet_id = self.last_packet_id.wrapping_add(1);
            if self.last_packet_id == 0 {
                self.last_packet_id = 1;
            }
            if !self.inflight.contains_key(&self.last_packet_id) {
                return PacketId::new(self.last_packet_id);
            }
        }
        None
    }

    /// The packet identifier of the message queued as `seq`, for a session in the durable
    /// store: 1 to 65,535 in turn, so that after a crash a message restored from the store goes
    /// out under the identifier it may already have had (a receiver holding it in its QoS 2
    /// state then knows it [MQTT-4.3.3-10]). `None` while that identifier is still in flight
    /// (the message waits).
    pub fn packet_id_for(&mut self, seq: u64) -> Option<PacketId> {
        let id = (seq % u64::from(u16::MAX)) as u16 + 1;
        if self.inflight.contains_key(&id) {
            return None;
        }
        self.last_packet_id = id;
        PacketId::new(id)
    }

    /// Puts a message in flight under `packet_id`, last in the send order.
    pub fn put_inflight(&mut self, packet_id: u16, out: Outgoing) {
        let seq = out.seq;
        let state = InflightState::Publish(out);
        self.inflight.insert(packet_id, Inflight { seq, state });
    }

    /// The packet identifiers in flight, in the order their messages were first sent.
    pub fn inflight_in_order(&self) -> Vec<u16> {
        let mut ids: Vec<(u64, u16)> = self.inflight.iter().map(|(id, f)| (f.seq, *id)).collect();
        ids.sort_unstable();
        ids.into_iter().map(|(_, id)| id).collect()
    }

    /// Whether the session outlives its connection (and is kept in the durable store).
    pub fn persistent(&self) -> bool {
        self.expiry_interval > 0
    }

    /// Whether the session has ended by expiry at `now`.
    pub fn expired(&self, now: Instant) -> bool {
        match self.offline_since {
            Some(since) if self.expiry_interval != u32::MAX => {
                now.duration_since(since).as_secs() >= u64::from(self.expiry_interval)
            }
            _ => false,
        }
    }
}

/// A session as the router's key: equal and hashed by [`Session::id`].
#[derive(Debug, Clone)]
pub struct SessionRef(pub Arc<Session>);

impl PartialEq for SessionRef {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id
    }
}

impl Eq for SessionRef {}

impl Hash for SessionRef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.id.hash(state);
    }
}
