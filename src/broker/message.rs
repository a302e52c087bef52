//! An application message as the broker holds it: received once, shared by every subscriber and
//! the retained store through an `Arc`, payload and strings as `Bytes` from the read buffer.

use std::num::NonZeroU32;
use std::sync::Arc;

use tokio::time::Instant;

use crate::protocol::{PacketId, Publish, PublishProperties, QoS};
use crate::topic::TopicName;

/// A message on its way through the broker.
#[derive(Debug, Clone)]
pub struct Message {
    /// The topic (never empty: aliases are resolved on receipt).
    pub topic: TopicName,
    /// The payload.
    pub payload: bytes::Bytes,
    /// The QoS it was published with.
    pub qos: QoS,
    /// The RETAIN flag it was published with.
    pub retain: bool,
    /// Properties to forward: without Topic Alias and Subscription Identifiers, which are per
    /// connection, and with the expiry kept as a deadline instead.
    pub properties: PublishProperties,
    /// When the Message Expiry Interval runs out.
    pub expires_at: Option<Instant>,
    /// The publishing session, for No Local; 0 for the broker itself (`$SYS`, wills of gone
    /// sessions are still their session's).
    pub origin: u64,
    /// Who published it, for `check_retain_source`; kept for retained messages only, `None`
    /// for the broker's own messages and wills.
    pub publisher: Option<Publisher>,
}

/// The client that published a message.
#[derive(Debug, Clone)]
pub struct Publisher {
    /// Its client identifier.
    pub client_id: Arc<str>,
    /// The user name it authenticated with.
    pub username: Option<Arc<str>>,
}

impl Message {
    /// Takes a received PUBLISH apart (its topic already resolved from any alias).
    pub fn from_publish(publish: Publish, topic: TopicName, origin: u64, now: Instant) -> Self {
        let mut properties = publish.properties;
        properties.topic_alias = None;
        properties.subscription_identifiers.clear();
        let expires_at = properties
            .message_expiry_interval
            .take()
            .map(|secs| now + std::time::Duration::from_secs(u64::from(secs)));
        Message {
            topic,
            payload: publish.payload,
            qos: publish.qos,
            retain: publish.retain,
            properties,
            expires_at,
            origin,
            publisher: None,
        }
    }

    /// Whether the message expired at `now` (5.0 §3.3.2.3.3).
    pub fn expired(&self, now: Instant) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// The PUBLISH that carries this message to one subscriber. The Message Expiry Interval is
    /// what is left of it [MQTT-3.3.2-6].
    pub fn to_publish(
        &self,
        qos: QoS,
        retain: bool,
        packet_id: Option<PacketId>,
        subscription_ids: &[NonZeroU32],
        now: Instant,
    ) -> Publish {
        let mut properties = self.properties.clone();
        properties.subscription_identifiers = subscription_ids.to_vec();
        properties.message_expiry_interval = self
            .expires_at
            .map(|at| at.saturating_duration_since(now).as_secs().max(1) as u32);
        Publish {
            dup: false,
            qos,
            retain,
            topic: self.topic.clone(),
            packet_id,
            payload: self.payload.clone(),
            properties,
        }
    }
}

/// A message queued for one subscriber, with what its subscription decided.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The shared message.
    pub message: Arc<Message>,
    /// The QoS to deliver with ([`crate::broker::Config::delivery_qos`]).
    pub qos: QoS,
    /// The RETAIN flag to send.
    pub retain: bool,
    /// The matching subscriptions' identifiers.
    pub subscription_ids: Vec<NonZeroU32>,
    /// Its place in the session's send order, given when it is queued (also its key in the
    /// durable store).
    pub seq: u64,
    /// For a QoS 2 message to a persistent session: set once its record is durable. It is not
    /// sent before, so that after a crash the receiver's QoS 2 state never names a message the
    /// broker does not have (and would then take a new one for a duplicate).
    pub durable: Option<crate::broker::store::Durable>,
}
