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
    /// when the payload is empty. Returns the copy it keeps, if any.
    pub fn store(&mut self, message: &Arc<Message>) -> Option<Arc<Message>> {
        if message.payload.is_empty() {
            self.messages.remove(&message.topic);
            None
        } else {
            // A copy of its own: kept until replaced, it must not pin the read buffer it came in.
            let kept = Arc::new(message.detached());
            self.messages.insert(kept.topic.clone(), Arc::clone(&kept));
            Some(kept)
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

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn a_retained_message_keeps_a_copy_of_its_own_not_the_read_buffer() {
        let chunk = Bytes::from(vec![b'a'; 64 * 1024]);
        let message = Message::sliced_from(&chunk);
        assert!(message.points_into(&chunk));
        let mut store = RetainedStore::default();
        store.store(&message);
        let filter = TopicFilter::new("#").unwrap();
        let kept = store.matching(&filter, Instant::now()).pop().unwrap();
        assert!(
            !kept.points_into(&chunk),
            "a field still points into the read buffer"
        );
        let p = &kept.properties;
        let original = &message.properties;
        assert_eq!(
            (&kept.topic, &kept.payload),
            (&message.topic, &message.payload)
        );
        assert_eq!(p, original);
    }
}
