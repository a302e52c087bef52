//! Retained messages (MQTT 5.0 §3.3.1.3): the last retained message per topic, replaced by the
//! next one and deleted by one with an empty payload [MQTT-3.3.1-6, MQTT-3.3.1-10].

use std::collections::HashMap;
use std::sync::Arc;

use tokio::time::Instant;

use super::message::Message;
use crate::topic::{TopicFilter, TopicName};

/// The retained messages, by topic.
#[derive(Debug, Default)]
pub struct RetainedStore {
    messages: HashMap<TopicName, Arc<Message>>,
}

impl RetainedStore {
    /// Stores `message` as the topic's retained message, or deletes the topic's retained message
    /// when the payload is empty.
    pub fn store(&mut self, message: &Arc<Message>) {
        if message.payload.is_empty() {
            self.messages.remove(&message.topic);
        } else {
            self.messages
                .insert(message.topic.clone(), Arc::clone(message));
        }
    }

    /// The unexpired retained messages matching `filter`, dropping expired ones as it goes.
    pub fn matching(&mut self, filter: &TopicFilter, now: Instant) -> Vec<Arc<Message>> {
        self.messages.retain(|_, m| !m.expired(now));
        let mut found: Vec<Arc<Message>> = self
            .messages
            .values()
            .filter(|m| filter.matches(&m.topic))
            .cloned()
            .collect();
        found.sort_by(|a, b| a.topic.as_str().cmp(b.topic.as_str()));
        found
    }

    /// How many retained messages are stored.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// Whether none is stored.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }
}
