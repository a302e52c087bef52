//! Messages to the client: draining the session's queue into the write buffer within the send
//! window, and resending what was in flight when a session resumes [MQTT-4.4.0-1]. A PUBLISH
//! that is the same for every subscriber but for its first byte and packet identifier is copied
//! from the message's shared encoding (`message::put_publish`); the others are built per client.

use std::num::NonZeroU16;
use std::sync::atomic::Ordering;

use tokio::time::Instant;

use super::{Action, Client, Close};
use crate::broker::message::{encode_within, put_publish, Framing, Outgoing};
use crate::broker::persist::{delete_message, is_stored, put_message};
use crate::broker::session::{InflightState, SessionState};
use crate::protocol::{Ack, Packet, PacketId, Publish, QoS};
use crate::topic::TopicName;

/// Messages moved from the queue per lock of the session.
const BATCH: usize = 64;

impl Client {
    /// Moves queued messages into the write buffer while the send window and the buffer allow.
    pub(super) fn drain(&mut self) -> Result<(), Close> {
        let now = Instant::now();
        if !self.resend.is_empty() {
            self.resend_inflight(now);
            if !self.resend.is_empty() {
                // Older messages first: new ones wait until the resent ones are through.
                return Ok(());
            }
        }
        let mut batch: Vec<(Outgoing, Option<PacketId>)> = Vec::with_capacity(BATCH);
        while self.wbuf.len() < super::WRITE_HIGH_WATER {
            batch.clear();
            self.take_batch(now, &mut batch);
            if batch.is_empty() {
                return Ok(());
            }
            for (out, packet_id) in batch.drain(..) {
                self.write_publish(&out, packet_id, false, now);
            }
        }
        Ok(())
    }

    /// Takes up to [`BATCH`] sendable messages off the queue, giving QoS 1/2 ones a packet
    /// identifier and a place in flight (and their durable records the identifier).
    fn take_batch(&mut self, now: Instant, batch: &mut Vec<(Outgoing, Option<PacketId>)>) {
        let mut ops = Vec::new();
        let mut st = self.session.lock();
        // A connection whose session was taken over sends nothing more from it.
        if st.owner != Some(self.conn_no) {
            return;
        }
        let store = self.inner.store.is_some();
        self.waiting_store = false;
        while batch.len() < BATCH {
            let Some(front) = st.queue.front() else {
                break;
            };
            // Read access is checked at delivery, as mosquitto: a granted wildcard
            // subscription still receives nothing from topics the ACL denies.
            if front.message.expired(now) || !self.may(Action::Read, front.message.topic.as_str()) {
                if let Some(out) = st.pop_queued().filter(|o| store && is_stored(&st, o.qos)) {
                    ops.push(delete_message(&self.client_id, out.seq));
                }
                continue;
            }
            if front.qos == QoS::AtMostOnce {
                if let Some(out) = st.pop_queued() {
                    batch.push((out, None));
                }
                continue;
            }
            // Not before its record is durable (see `Outgoing::durable`), keeping the order.
            if front.durable.as_ref().is_some_and(|d| !d.is_set()) {
                self.waiting_store = true;
                break;
            }
            // Head of line waits for the window, keeping per-topic order [MQTT-4.6.0-6].
            if st.inflight.len() >= self.send_window
                || self.over_inflight_bytes(&st, front.message.payload.len())
            {
                break;
            }
            let seq = front.seq;
            let packet_id = match store && st.persistent() {
                true => st.packet_id_for(seq),
                false => st.next_packet_id(),
            };
            let Some(packet_id) = packet_id else {
                break;
            };
            if let Some(out) = st.pop_queued() {
                if store && is_stored(&st, out.qos) {
                    let id = Some(packet_id.get());
                    ops.push(put_message(&self.client_id, &out, id, false));
                }
                st.put_inflight(packet_id.get(), out.clone());
                batch.push((out, Some(packet_id)));
            }
        }
        let relieved = st.relieved();
        drop(st);
        if relieved {
            self.session.room.notify_waiters();
        }
        self.inner.persist(ops);
    }

    /// Whether `size` more payload bytes in flight would pass `max_inflight_bytes` (one message
    /// always may be in flight, however large).
    fn over_inflight_bytes(&self, st: &SessionState, size: usize) -> bool {
        let max = self.config.max_inflight_bytes;
        if max == 0 || st.inflight.is_empty() {
            return false;
        }
        let in_flight: usize = st
            .inflight
            .values()
            .map(|f| match &f.state {
                InflightState::Publish(out) => out.message.payload.len(),
                InflightState::Release => 0,
            })
            .sum();
        in_flight + size > max
    }

    /// Encodes one PUBLISH into the write buffer, unless it is larger than the client accepts
    /// [MQTT-3.1.2-25], in which case it is dropped (and its packet identifier freed).
    fn write_publish(
        &mut self,
        out: &Outgoing,
        packet_id: Option<PacketId>,
        dup: bool,
        now: Instant,
    ) {
        let framing = Framing {
            version: self.version,
            qos: out.qos,
            retain: out.retain,
            dup,
            packet_id,
        };
        let written = match self.shares_encoding(out) {
            true => self.put_shared(out, framing, now),
            false => self.encode_publish(out, framing, now),
        };
        if !written {
            self.drop_publish(packet_id);
            return;
        }
        self.inner
            .stats
            .messages_sent
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Whether `out` is the same PUBLISH for this client as for any other with the same
    /// [`Framing`]: the topic is not unmounted or replaced by an alias, and the message's
    /// encoding does not depend on the delivery (`Message::shares_encoding`).
    fn shares_encoding(&self, out: &Outgoing) -> bool {
        self.mount_point.is_none()
            && self.alias_out_max == 0
            && out
                .message
                .shares_encoding(self.version, &out.subscription_ids)
    }

    /// Writes `out` from the message's shared encoding ([`put_publish`]).
    fn put_shared(&mut self, out: &Outgoing, framing: Framing, now: Instant) -> bool {
        let max = self.max_packet_out;
        let written = put_publish(&out.message, framing, max, now, &mut self.wbuf);
        if written {
            tracing::debug!(
                "Sending PUBLISH to {} {}",
                self.client_id,
                framing.log_summary(&out.message)
            );
        }
        written
    }

    /// Builds and encodes this client's own PUBLISH for `out`: with Subscription Identifiers,
    /// the Message Expiry Interval left, the unmounted topic or a topic alias.
    fn encode_publish(&mut self, out: &Outgoing, framing: Framing, now: Instant) -> bool {
        let mut publish = out.message.to_publish(
            out.qos,
            out.retain,
            framing.packet_id,
            &out.subscription_ids,
            now,
        );
        publish.dup = framing.dup;
        if self.mount_point.is_some() {
            publish.topic = self.unmount_topic(&publish.topic);
        }
        let new_alias = self.use_alias(&mut publish);
        let packet = Packet::Publish(publish);
        if !encode_within(&packet, self.version, self.max_packet_out, &mut self.wbuf) {
            return false;
        }
        if let Some((topic, alias)) = new_alias {
            self.aliases_out.insert(topic, alias);
        }
        if let Packet::Publish(p) = &packet {
            tracing::debug!(
                "Sending PUBLISH to {} {}",
                self.client_id,
                p.log_summary(p.topic.as_str())
            );
        }
        true
    }

    /// Drops a PUBLISH larger than the client accepts, freeing its packet identifier.
    fn drop_publish(&mut self, packet_id: Option<PacketId>) {
        if let Some(id) = packet_id {
            let dropped = self.session.lock().inflight.remove(&id.get());
            if let Some(dropped) = dropped {
                self.forget_delivered(dropped.seq);
            }
        }
        tracing::debug!(
            "Dropping PUBLISH to {}: larger than its maximum packet size",
            self.client_id
        );
    }

    /// Sends a topic the client already knows by its alias (empty topic name), or gives a new
    /// topic the next free alias while the client's Topic Alias Maximum allows. Returns the new
    /// mapping, to be kept only if the packet is really sent.
    fn use_alias(&self, publish: &mut Publish) -> Option<(TopicName, NonZeroU16)> {
        if self.alias_out_max == 0 {
            return None;
        }
        if let Some(&alias) = self.aliases_out.get(&publish.topic) {
            publish.properties.topic_alias = Some(alias);
            publish.topic = TopicName::empty();
            return None;
        }
        let next = u16::try_from(self.aliases_out.len() + 1).ok()?;
        let alias = NonZeroU16::new(next).filter(|a| a.get() <= self.alias_out_max)?;
        publish.properties.topic_alias = Some(alias);
        Some((publish.topic.clone(), alias))
    }

    /// Resends, in their original order and within the send window [MQTT-3.3.4-9], the QoS 1/2
    /// messages the session had in flight: PUBLISH with DUP set, or PUBREL for those already
    /// received [MQTT-4.4.0-1, MQTT-4.6.0-1].
    fn resend_inflight(&mut self, now: Instant) {
        while let Some(&id) = self.resend.front() {
            let state = {
                let st = self.session.lock();
                let sent = st.inflight.len().saturating_sub(self.resend.len());
                if sent >= self.send_window {
                    return;
                }
                st.inflight.get(&id).map(|f| f.state.clone())
            };
            self.resend.pop_front();
            let (Some(state), Some(packet_id)) = (state, PacketId::new(id)) else {
                continue;
            };
            match state {
                // The session may have a new owner, or the ACL changed: read access is checked
                // again, and a message the client may no longer read is abandoned.
                InflightState::Publish(out)
                    if !self.may(Action::Read, out.message.topic.as_str()) =>
                {
                    let abandoned = self.session.lock().inflight.remove(&id);
                    if let Some(abandoned) = abandoned {
                        self.forget_delivered(abandoned.seq);
                    }
                }
                InflightState::Publish(out) => self.write_publish(&out, Some(packet_id), true, now),
                InflightState::Release => self.send(&Packet::PubRel(Ack::new(packet_id))),
            }
        }
    }
}
