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
            // A copy of its own: kept until replaced, it must not pin the read buffer it came in.
            let kept = Arc::new(message.detached());
            self.messages.insert(kept.topic.clone(), kept);
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
    use crate::protocol::{MqttString, PublishProperties, QoS};
    use bytes::Bytes;

    /// A message whose topic, payload and properties are slices of one 64 KiB read buffer.
    fn decoded_from(chunk: &Bytes) -> Arc<Message> {
        let s = |range: std::ops::Range<usize>| MqttString::from_bytes(chunk.slice(range)).unwrap();
        Arc::new(Message {
            topic: TopicName::from_mqtt_string(s(0..5)).unwrap(),
            payload: chunk.slice(5..10),
            qos: QoS::AtLeastOnce,
            retain: true,
            properties: PublishProperties {
                content_type: Some(s(10..12)),
                correlation_data: Some(chunk.slice(12..14)),
                user_properties: vec![(s(14..16), s(16..18))],
                response_topic: Some(TopicName::from_mqtt_string(s(18..20)).unwrap()),
                ..PublishProperties::default()
            },
            expires_at: None,
            origin: 1,
            publisher: None,
            heads: Default::default(),
        })
    }

    #[test]
    fn a_retained_message_keeps_a_copy_of_its_own_not_the_read_buffer() {
        let chunk = Bytes::from(vec![b'a'; 64 * 1024]);
        let message = decoded_from(&chunk);
        let mut store = RetainedStore::default();
        store.store(&message);
        let filter = TopicFilter::new("#").unwrap();
        let kept = store.matching(&filter, Instant::now()).pop().unwrap();
        let range = chunk.as_ptr_range();
        let inside = |b: &[u8]| range.contains(&b.as_ptr());
        let p = &kept.properties;
        let fields: [&[u8]; 7] = [
            kept.topic.as_str().as_bytes(),
            &kept.payload,
            p.content_type.as_ref().unwrap().as_str().as_bytes(),
            p.correlation_data.as_ref().unwrap(),
            p.user_properties[0].0.as_str().as_bytes(),
            p.user_properties[0].1.as_str().as_bytes(),
            p.response_topic.as_ref().unwrap().as_str().as_bytes(),
        ];
        assert!(
            fields.iter().all(|f| !inside(f)),
            "a field still points into the read buffer"
        );
        let original = &message.properties;
        assert_eq!(
            (&kept.topic, &kept.payload),
            (&message.topic, &message.payload)
        );
        assert_eq!(p, original);
    }
}
