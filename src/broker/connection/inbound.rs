//! Packets from a connected client: one function per packet type.

use std::sync::Arc;

use tokio::time::Instant;

use super::{Action, Client, Close};
use crate::broker::logging::{SUBSCRIBE, UNSUBSCRIBE};
use crate::broker::message::{Message, Outgoing, Publisher};
use crate::broker::persist;
use crate::broker::router::Subscription as RouterSub;
use crate::broker::session::{InflightState, SessionRef, StoredSubscription};
use crate::broker::store::{Durable, Op};
use crate::broker::Routed;
use crate::protocol::{
    Ack, AckProperties, Disconnect, Packet, PayloadFormat, Publish, QoS, ReasonCode,
    RetainHandling, SubAck, Subscribe, UnsubAck, Unsubscribe,
};
use crate::topic::{TopicFilter, TopicName};

/// The acknowledgement of a QoS 1 (PUBACK) or QoS 2 (PUBREC) PUBLISH.
fn ack_packet(qos: QoS, packet_id: crate::protocol::PacketId, code: ReasonCode) -> Packet {
    let mut ack = Ack::new(packet_id);
    ack.reason_code = code;
    match qos {
        QoS::ExactlyOnce => Packet::PubRec(ack),
        _ => Packet::PubAck(ack),
    }
}

/// The code of an acknowledgement for a message queued for `queued` clients.
fn ack_code(queued: usize) -> ReasonCode {
    if queued == 0 {
        ReasonCode::NoMatchingSubscribers
    } else {
        ReasonCode::Success
    }
}

/// Levels a topic filter may have, as mosquitto's `TOPIC_HIERARCHY_LIMIT`.
const MAX_FILTER_LEVELS: usize = 200;

impl Client {
    /// Handles one packet from the client.
    pub(super) fn handle(&mut self, packet: Packet) -> Result<(), Close> {
        let id = Arc::clone(&self.client_id);
        match packet {
            Packet::Publish(p) => self.on_publish(p),
            Packet::PubAck(ack) => {
                tracing::debug!("Received PUBACK from {id} (Mid: {})", ack.packet_id);
                self.on_puback(ack);
                Ok(())
            }
            Packet::PubRec(ack) => {
                tracing::debug!("Received PUBREC from {id} (Mid: {})", ack.packet_id);
                self.on_pubrec(ack);
                Ok(())
            }
            Packet::PubRel(ack) => {
                tracing::debug!("Received PUBREL from {id} (Mid: {})", ack.packet_id);
                self.on_pubrel(ack);
                Ok(())
            }
            Packet::PubComp(ack) => {
                tracing::debug!("Received PUBCOMP from {id} (Mid: {})", ack.packet_id);
                let done = self.session.lock().inflight.remove(&ack.packet_id.get());
                if let Some(done) = done {
                    self.forget_delivered(done.seq);
                }
                Ok(())
            }
            Packet::Subscribe(s) => self.on_subscribe(s),
            Packet::Unsubscribe(u) => {
                self.on_unsubscribe(u);
                Ok(())
            }
            Packet::PingReq => {
                tracing::debug!("Received PINGREQ from {id}");
                tracing::debug!("Sending PINGRESP to {id}");
                self.send(&Packet::PingResp);
                Ok(())
            }
            Packet::Disconnect(d) => Err(self.on_disconnect(d)),
            // A second CONNECT is a Protocol Error [MQTT-3.1.0-2]; AUTH without an enhanced
            // authentication exchange, and server-to-client packets, likewise.
            other => {
                tracing::info!(
                    "Client {id} sent unexpected {}, disconnecting.",
                    other.packet_type()
                );
                Err(Close::Error(ReasonCode::ProtocolError))
            }
        }
    }

    fn on_publish(&mut self, publish: Publish) -> Result<(), Close> {
        let stats = &self.inner.stats;
        stats
            .messages_received
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if publish.qos > self.config.max_qos {
            return Err(Close::Error(ReasonCode::QoSNotSupported));
        }
        if publish.retain && !self.config.retain_available {
            return Err(Close::Error(ReasonCode::RetainNotSupported));
        }
        let topic = self.resolve_alias(&publish)?;
        let topic = self.mount_topic(topic)?;
        tracing::debug!(
            "Received PUBLISH from {} {}",
            self.client_id,
            publish.log_summary(topic.as_str())
        );
        let (qos, packet_id) = (publish.qos, publish.packet_id);
        if let Some(code) = self.publish_refusal(&publish, &topic) {
            if let Some(id) = packet_id {
                self.ack_after(Vec::new(), ack_packet(qos, id, code));
            }
            return Ok(());
        }
        let bad_payload = publish.properties.payload_format_indicator == Some(PayloadFormat::Utf8)
            && std::str::from_utf8(&publish.payload).is_err();
        let message = (!bad_payload).then(|| self.message(publish, topic));
        let (mut ops, mut mark) = (Vec::new(), None);
        let Some(packet_id) = packet_id else {
            if let Some(message) = message {
                let routed = self.inner.route(message, &mut ops, &mut mark);
                self.note_pressing(routed);
                self.inner.persist_marked(ops, mark);
            }
            return Ok(());
        };
        let code = match (qos, message) {
            (QoS::ExactlyOnce, message) => {
                self.accept_qos2(packet_id, message, &mut ops, &mut mark)?
            }
            (_, Some(message)) => {
                let routed = self.inner.route(message, &mut ops, &mut mark);
                self.note_pressing(routed)
            }
            (_, None) => ReasonCode::PayloadFormatInvalid,
        };
        // Durable before acknowledged: PUBACK / PUBREC wait for the commit of `ops`.
        self.ack_after_marked(ops, mark, ack_packet(qos, packet_id, code));
        Ok(())
    }

    /// Remembers the subscribers whose queues `routed` filled past their press mark (this
    /// client stops being read until they drain); returns the acknowledgement code.
    fn note_pressing(&mut self, routed: Routed) -> ReasonCode {
        for session in routed.pressing {
            if !self.pressing.iter().any(|s| s.id == session.id) {
                self.pressing.push(session);
            }
        }
        ack_code(routed.queued)
    }

    /// Why this client may not publish `publish` to `topic`, if it may not: `$SYS` is the
    /// broker's (as mosquitto), the ACL, `message_size_limit`.
    fn publish_refusal(&self, publish: &Publish, topic: &TopicName) -> Option<ReasonCode> {
        let denied = topic.as_str().starts_with("$SYS") || !self.may(Action::Write, topic.as_str());
        let limit = self.config.message_size_limit as usize;
        let too_large = limit > 0 && publish.payload.len() > limit;
        let (why, code) = match (too_large, denied) {
            // mosquitto acknowledges with 0x95, which a PUBACK may not carry (5.0 §3.4.2.1):
            // 0x97, an implementation-imposed limit, is the allowed code.
            (true, _) => ("payload over message_size_limit", ReasonCode::QuotaExceeded),
            (false, true) => ("not authorised", ReasonCode::NotAuthorized),
            (false, false) => return None,
        };
        tracing::info!("Denied PUBLISH from {} to '{topic}': {why}", self.client_id);
        Some(code)
    }

    /// The message a PUBLISH from this client carries (its topic resolved).
    fn message(&self, publish: Publish, topic: TopicName) -> Arc<Message> {
        let publisher = publish.retain.then(|| Publisher {
            client_id: Arc::clone(&self.client_id),
            username: self.username.clone(),
        });
        let mut message = Message::from_publish(publish, topic, self.session.id, Instant::now());
        message.publisher = publisher;
        Arc::new(message)
    }

    /// Receives a QoS 2 message by method B of 5.0 §4.3.3: delivered on receipt, its packet
    /// identifier kept until PUBREL, so a resent PUBLISH is not routed again; returns the PUBREC
    /// code. `message` is none for an invalid payload.
    fn accept_qos2(
        &mut self,
        packet_id: crate::protocol::PacketId,
        message: Option<Arc<Message>>,
        ops: &mut Vec<Op>,
        mark: &mut Option<Durable>,
    ) -> Result<ReasonCode, Close> {
        let id = packet_id.get();
        let fresh = {
            let mut st = self.session.lock();
            let receive_max = usize::from(self.config.receive_maximum);
            if !st.incoming_qos2.contains(&id) && st.incoming_qos2.len() >= receive_max {
                return Err(Close::Error(ReasonCode::ReceiveMaximumExceeded));
            }
            st.incoming_qos2.insert(id)
        };
        let Some(message) = message else {
            self.session.lock().incoming_qos2.remove(&id);
            return Ok(ReasonCode::PayloadFormatInvalid);
        };
        if !fresh {
            return Ok(ReasonCode::Success);
        }
        let routed = self.inner.route(message, ops, mark);
        let code = self.note_pressing(routed);
        if self.inner.store.is_some() && self.session.lock().persistent() {
            let client_id = self.client_id.to_string();
            ops.push(Op::PutIncomingQos2 {
                client_id,
                packet_id: id,
            });
        }
        Ok(code)
    }

    /// The topic of a PUBLISH, through its Topic Alias if it has one (5.0 §3.3.2.3.4).
    fn resolve_alias(&mut self, publish: &Publish) -> Result<TopicName, Close> {
        let Some(alias) = publish.properties.topic_alias else {
            return Ok(publish.topic.clone());
        };
        if alias.get() > self.config.max_topic_alias {
            return Err(Close::Error(ReasonCode::TopicAliasInvalid));
        }
        if publish.topic.is_empty() {
            self.aliases
                .get(&alias.get())
                .cloned()
                .ok_or(Close::Error(ReasonCode::ProtocolError))
        } else {
            self.aliases.insert(alias.get(), publish.topic.clone());
            Ok(publish.topic.clone())
        }
    }

    fn on_puback(&mut self, ack: Ack) {
        let done = {
            let mut st = self.session.lock();
            match st.inflight.get(&ack.packet_id.get()).map(|f| &f.state) {
                Some(InflightState::Publish(out)) if out.qos == QoS::AtLeastOnce => {
                    st.inflight.remove(&ack.packet_id.get())
                }
                _ => None,
            }
        };
        if let Some(done) = done {
            self.forget_delivered(done.seq);
        }
    }

    /// Removes a delivered (or abandoned) message from the durable store.
    pub(super) fn forget_delivered(&self, seq: u64) {
        if self.inner.store.is_some() && self.session.lock().persistent() {
            self.inner
                .persist(vec![persist::delete_message(&self.client_id, seq)]);
        }
    }

    fn on_pubrec(&mut self, ack: Ack) {
        let id = ack.packet_id.get();
        let mut response = Ack::new(ack.packet_id);
        let (mut st, store) = (self.session.lock(), self.inner.store.is_some());
        let stored = store && st.persistent();
        match st.inflight.get_mut(&id) {
            Some(f) if matches!(&f.state, InflightState::Publish(o) if o.qos == QoS::ExactlyOnce) =>
            {
                if ack.reason_code.is_error() {
                    // A failed PUBREC ends the exchange (5.0 §4.3.3).
                    let seq = f.seq;
                    st.inflight.remove(&id);
                    drop(st);
                    return self.forget_delivered(seq);
                }
                let released = std::mem::replace(&mut f.state, InflightState::Release);
                drop(st);
                if let (InflightState::Publish(out), true) = (released, stored) {
                    // PUBREL only once the release is durable: after a crash the broker must
                    // resend PUBREL, not the PUBLISH the receiver already let go of.
                    let op = persist::put_message(&self.client_id, &out, Some(id), true);
                    self.ack_after(vec![op], Packet::PubRel(response));
                    return;
                }
            }
            Some(_) => drop(st),
            _ => {
                drop(st);
                response.reason_code = ReasonCode::PacketIdentifierNotFound;
            }
        }
        self.send(&Packet::PubRel(response));
    }

    fn on_pubrel(&mut self, ack: Ack) {
        let (known, stored) = {
            let mut st = self.session.lock();
            (
                st.incoming_qos2.remove(&ack.packet_id.get()),
                st.persistent(),
            )
        };
        if known && stored && self.inner.store.is_some() {
            let op = Op::DeleteIncomingQos2 {
                client_id: self.client_id.to_string(),
                packet_id: ack.packet_id.get(),
            };
            self.inner.persist(vec![op]);
        }
        let mut response = Ack::new(ack.packet_id);
        if !known {
            response.reason_code = ReasonCode::PacketIdentifierNotFound;
        }
        self.send(&Packet::PubComp(response));
    }

    fn on_subscribe(&mut self, subscribe: Subscribe) -> Result<(), Close> {
        tracing::debug!("Received SUBSCRIBE from {}", self.client_id);
        let sub_id = subscribe.properties.subscription_identifier;
        let mut codes = Vec::with_capacity(subscribe.subscriptions.len());
        let mut retained = Vec::new();
        for sub in subscribe.subscriptions {
            let filter = TopicFilter::from_mqtt_string(sub.filter.clone()).ok();
            let Some(filter) = filter.and_then(|f| self.mount_filter(f)) else {
                tracing::debug!("\t{} (invalid filter)", sub.filter);
                codes.push(ReasonCode::TopicFilterInvalid);
                continue;
            };
            if filter.as_str().split('/').count() > MAX_FILTER_LEVELS {
                // The subscription index is a tree with a node per level (mosquitto: 200).
                tracing::info!("Refused a filter of more than {MAX_FILTER_LEVELS} levels");
                codes.push(self.refusal(ReasonCode::QuotaExceeded));
                continue;
            }
            if !self.may_subscribe(&filter) {
                tracing::info!("Denied subscription of {} to '{filter}'", self.client_id);
                codes.push(self.refusal(ReasonCode::NotAuthorized));
                continue;
            }
            let shared = filter.shared().is_some();
            if shared && sub.options.no_local && self.version.is_v5() {
                // No Local on a shared subscription is a Protocol Error [MQTT-3.8.3-4].
                return Err(Close::Error(ReasonCode::ProtocolError));
            }
            let mut options = sub.options;
            options.qos = options.qos.min(self.config.max_qos);
            tracing::debug!("\t{} (QoS {})", filter, options.qos.as_u8());
            tracing::debug!(target: SUBSCRIBE, "{} {} {filter}", self.client_id, options.qos.as_u8());
            let entry = RouterSub {
                client: SessionRef(Arc::clone(&self.session)),
                options,
                id: sub_id,
            };
            let new = self.inner.subscribe(&filter, entry);
            let stored = StoredSubscription {
                options,
                id: sub_id,
            };
            self.session
                .lock()
                .subscriptions
                .insert(filter.as_str().to_owned(), stored);
            let send_retained = match options.retain_handling {
                RetainHandling::SendAtSubscribe => true,
                RetainHandling::SendIfNew => new,
                RetainHandling::DoNotSend => false,
            };
            // No retained messages for a shared subscription (5.0 §4.8.2).
            if send_retained && !shared {
                retained.push((filter, options.qos));
            }
            codes.push(match options.qos {
                QoS::AtMostOnce => ReasonCode::GRANTED_QOS_0,
                QoS::AtLeastOnce => ReasonCode::GrantedQoS1,
                QoS::ExactlyOnce => ReasonCode::GrantedQoS2,
            });
        }
        tracing::debug!("Sending SUBACK to {}", self.client_id);
        // A persistent session's subscriptions are durable before SUBACK.
        let ops = self.inner.session_op(&self.session).into_iter().collect();
        self.ack_after(
            ops,
            Packet::SubAck(SubAck {
                packet_id: subscribe.packet_id,
                reason_codes: codes,
                properties: AckProperties::default(),
            }),
        );
        let (mut ops, mut mark) = (Vec::new(), None);
        for (filter, qos) in retained {
            self.queue_retained(&filter, qos, sub_id, (&mut ops, &mut mark));
        }
        self.inner.persist_marked(ops, mark);
        Ok(())
    }

    /// A SUBACK refusal: `code` for 5.0, 0x80 Failure for 3.1.1.
    fn refusal(&self, code: ReasonCode) -> ReasonCode {
        if self.version.is_v5() {
            code
        } else {
            ReasonCode::UnspecifiedError
        }
    }

    /// Whether the ACL file (if any) lets this client subscribe to `filter`.
    fn may_subscribe(&self, filter: &TopicFilter) -> bool {
        let inner = filter.shared().map_or(filter.as_str(), |s| s.filter);
        self.acl.as_ref().is_none_or(|acl| acl.may_subscribe(inner))
    }

    /// Queues the retained messages matching `filter`, with RETAIN set [MQTT-3.3.1-8], adding
    /// their durable records to `ops`.
    fn queue_retained(
        &mut self,
        filter: &TopicFilter,
        qos: QoS,
        sub_id: Option<std::num::NonZeroU32>,
        (ops, mark): (&mut Vec<Op>, &mut Option<Durable>),
    ) {
        let persistent = self.inner.store.is_some();
        for message in self.inner.retained_for(filter) {
            let out = Outgoing {
                qos: self.config.delivery_qos(message.qos, qos),
                retain: true,
                subscription_ids: sub_id.into_iter().collect(),
                seq: 0,
                durable: None,
                message,
            };
            self.session.enqueue_with(out, |st, out| {
                if persistent && persist::is_stored(st, out.qos) {
                    ops.push(persist::put_message(&self.client_id, out, None, false));
                    persist::hold_until_durable(out, mark);
                }
            });
        }
    }

    fn on_unsubscribe(&mut self, unsubscribe: Unsubscribe) {
        tracing::debug!("Received UNSUBSCRIBE from {}", self.client_id);
        let mut codes = Vec::with_capacity(unsubscribe.filters.len());
        for raw in unsubscribe.filters {
            let filter = TopicFilter::from_mqtt_string(raw).ok();
            let code = match filter.and_then(|f| self.mount_filter(f)) {
                Some(filter) => {
                    tracing::debug!(target: UNSUBSCRIBE, "{} {filter}", self.client_id);
                    let existed = self.inner.unsubscribe(&self.session, &filter);
                    self.session.lock().subscriptions.remove(filter.as_str());
                    if existed {
                        ReasonCode::Success
                    } else {
                        ReasonCode::NoSubscriptionExisted
                    }
                }
                None => ReasonCode::TopicFilterInvalid,
            };
            codes.push(code);
        }
        tracing::debug!("Sending UNSUBACK to {}", self.client_id);
        let ops = self.inner.session_op(&self.session).into_iter().collect();
        self.ack_after(
            ops,
            Packet::UnsubAck(UnsubAck {
                packet_id: unsubscribe.packet_id,
                reason_codes: codes,
                properties: AckProperties::default(),
            }),
        );
    }

    fn on_disconnect(&mut self, disconnect: Disconnect) -> Close {
        tracing::debug!("Received DISCONNECT from {}", self.client_id);
        if let Some(expiry) = disconnect.properties.session_expiry_interval {
            // Raising the expiry from 0 at DISCONNECT is a Protocol Error (5.0 §3.14.2.2.2).
            if self.expiry_was_zero && expiry != 0 {
                return Close::Error(ReasonCode::ProtocolError);
            }
            self.session.lock().expiry_interval = expiry;
        }
        // Only Normal disconnection (0x00) discards the will [MQTT-3.14.4-3]; 0x04 and every
        // error code publish it (5.0 §3.1.2.5).
        if disconnect.reason_code == ReasonCode::NORMAL_DISCONNECTION {
            Close::Normal
        } else {
            Close::WithWill
        }
    }
}
