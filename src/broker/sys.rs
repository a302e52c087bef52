//! `$SYS/broker/...`: the broker's own statistics, published as retained messages every
//! `sys_interval`, under the topic names mosquitto uses.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::message::Message;
use super::{lock, Inner};
use crate::protocol::{PublishProperties, QoS};
use crate::topic::TopicName;

/// Publishes the statistics every `interval` until `stop` changes.
pub(crate) async fn run(inner: Arc<Inner>, interval: Duration, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(interval);
    loop {
        tokio::select! {
            _ = tick.tick() => publish_all(&inner),
            _ = stop.changed() => return,
        }
    }
}

fn publish_all(inner: &Inner) {
    let s = &inner.stats;
    let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed).to_string();
    let uptime = inner.started.elapsed().as_secs();
    let sessions = lock(&inner.sessions).len();
    let subscriptions = inner.router.read().map_or(0, |r| r.len());
    let retained = lock(&inner.retained).len();
    let values = [
        (
            "version",
            format!("mqkit mqbroker version {}", env!("CARGO_PKG_VERSION")),
        ),
        ("uptime", format!("{uptime} seconds")),
        ("clients/connected", get(&s.clients_connected)),
        ("clients/total", sessions.to_string()),
        ("messages/received", get(&s.messages_received)),
        ("messages/sent", get(&s.messages_sent)),
        ("publish/messages/dropped", get(&s.messages_dropped)),
        ("load/bytes/received", get(&s.bytes_received)),
        ("load/bytes/sent", get(&s.bytes_sent)),
        ("subscriptions/count", subscriptions.to_string()),
        ("retained messages/count", retained.to_string()),
    ];
    for (name, value) in values {
        let Ok(topic) = TopicName::new(&format!("$SYS/broker/{name}")) else {
            continue;
        };
        inner.publish(Arc::new(Message {
            topic,
            payload: value.into(),
            qos: QoS::AtMostOnce,
            retain: true,
            properties: PublishProperties::default(),
            expires_at: None::<Instant>,
            origin: 0,
            publisher: None,
            heads: Default::default(),
        }));
    }
}
