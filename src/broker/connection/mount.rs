//! `mount_point`: a listener's clients live under a topic prefix. Every topic and filter they
//! name (PUBLISH, SUBSCRIBE, UNSUBSCRIBE, will) gets the prefix, and it is removed from every
//! topic they are sent, so they see only the tree below it (as mosquitto).

use super::{Client, Close};
use crate::protocol::{MqttString, ReasonCode};
use crate::topic::{TopicFilter, TopicName};

impl Client {
    /// The broker's name for a topic the client named.
    pub(super) fn mount_topic(&self, topic: TopicName) -> Result<TopicName, Close> {
        match &self.mount_point {
            None => Ok(topic),
            Some(mount) => TopicName::new(&format!("{mount}{topic}"))
                .map_err(|_| Close::Error(ReasonCode::TopicNameInvalid)),
        }
    }

    /// The broker's filter for a filter the client named (a shared subscription keeps its
    /// `$share/{group}/` in front); `None` when the result is not a valid filter.
    pub(super) fn mount_filter(&self, filter: TopicFilter) -> Option<TopicFilter> {
        let Some(mount) = &self.mount_point else {
            return Some(filter);
        };
        let mounted = match filter.shared() {
            Some(shared) => format!("$share/{}/{mount}{}", shared.group, shared.filter),
            None => format!("{mount}{filter}"),
        };
        TopicFilter::new(&mounted).ok()
    }

    /// The client's name for a topic of the broker's: without the mount point.
    pub(super) fn unmount_topic(&self, topic: &TopicName) -> TopicName {
        let Some(mount) = &self.mount_point else {
            return topic.clone();
        };
        let inner = topic
            .as_str()
            .strip_prefix(&**mount)
            .unwrap_or(topic.as_str());
        MqttString::new(inner)
            .ok()
            .and_then(|s| TopicName::from_mqtt_string(s).ok())
            .unwrap_or_else(|| topic.clone())
    }
}
