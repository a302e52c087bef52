//! The `pubsub` scenario: publishers and subscribers in one run against one server. Every
//! message carries a [`Stamp`]; subscribers measure end-to-end latency and count loss,
//! duplicates and reordering per publisher ([`Tally`]); publishers measure publish→ack time at
//! QoS 1 and 2. Paced publishers send on a schedule and stamp the *intended* time, so a stall
//! shows in the percentiles (coordinated omission). Every subscriber is expected to receive
//! every message (its filter must match every publisher's topic; the default ones do).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use futures_util::FutureExt;
use hdrhistogram::Histogram;
use tokio::time::Instant;

use super::stamp::{Clock, Stamp, STAMP_LEN};
use super::tally::{new_histogram, Tally};
use crate::client::{BoxStream, Client, ClientError, Event};
use crate::protocol::{
    Publish, QoS, ReasonCode, SubscribeProperties, Subscription, SubscriptionOptions,
};
use crate::topic::TopicName;

/// A connection for client number `index` in `role` ("pub" or "sub").
pub type Connect = Arc<
    dyn Fn(
            usize,
            &'static str,
        ) -> Pin<Box<dyn Future<Output = Result<Client<BoxStream>, ClientError>> + Send>>
        + Send
        + Sync,
>;

/// Unpaced publishers write when this much is queued.
const BATCH_BYTES: usize = 64 * 1024;

/// What to run.
#[derive(Debug, Clone)]
pub struct PubSub {
    /// Publisher connections.
    pub publishers: usize,
    /// Subscriber connections.
    pub subscribers: usize,
    /// Publish topic; `%i` is the publisher's index.
    pub topic: String,
    /// The subscribers' filter (must match every publisher's topic).
    pub filter: String,
    /// QoS of publishes and subscriptions.
    pub qos: QoS,
    /// Payload size in bytes (at least [`STAMP_LEN`]).
    pub size: usize,
    /// Total messages per second over all publishers; `None` sends as fast as possible.
    pub rate: Option<f64>,
    /// How long publishers send (warm-up included).
    pub duration: Duration,
    /// The first part of `duration` whose latencies are not recorded.
    pub warmup: Duration,
    /// Messages per publisher at most.
    pub limit: Option<u64>,
    /// QoS 1/2 messages in flight per publisher.
    pub inflight: usize,
    /// How long subscribers wait for stragglers after the publishers stop.
    pub drain: Duration,
    /// Connections opened per second before the run (`None`: one after another at once).
    pub connect_rate: Option<f64>,
    /// Publish with the retain flag.
    pub retain: bool,
    /// What follows the stamp in each payload (`--payload-file`); else `size` filler bytes.
    pub body: Option<bytes::Bytes>,
    /// Client ids are this prefix + `pub-N` / `sub-N` (for `%c` in topics).
    pub id_prefix: String,
    /// The user name, if any (for `%u` in topics).
    pub username: Option<String>,
}

impl PubSub {
    /// Publisher `index`'s topic template with `%i` (index), `%c` (client id) and `%u` (user
    /// name) filled in; `%s` (the message's sequence number) is left for [`per_message`].
    pub fn publisher_topic(&self, index: u32) -> String {
        self.topic
            .replace("%i", &index.to_string())
            .replace("%c", &format!("{}pub-{index}", self.id_prefix))
            .replace("%u", self.username.as_deref().unwrap_or(""))
    }

    /// Whether each message needs its own topic (`%s` in the template).
    pub fn per_message(&self) -> bool {
        self.topic.contains("%s")
    }

    /// Whether the subscribers share one subscription (`$share/...`): then each message is
    /// delivered once to the group, not once per subscriber.
    pub fn shared(&self) -> bool {
        self.filter.starts_with("$share/")
    }
}

/// Live counters, read once a second for the progress line and the series.
#[derive(Debug, Default)]
pub struct Live {
    /// Messages published.
    pub sent: AtomicU64,
    /// Messages received (all subscribers).
    pub received: AtomicU64,
    /// Connections open.
    pub connections: AtomicU64,
    /// Errors seen (refused publishes, lost connections).
    pub errors: AtomicU64,
    /// Set to stop early (Ctrl-C): publishers stop, subscribers drain.
    pub stop: AtomicBool,
}

/// What one publisher did.
#[derive(Debug)]
struct Sent {
    index: u32,
    count: u64,
    ack_latency: Histogram<u64>,
    refused: HashMap<u8, u64>,
}

/// Everything measured.
#[derive(Debug)]
pub struct Outcome {
    /// Messages sent per publisher, by index.
    pub sent: Vec<u64>,
    /// All subscribers' receipts, merged.
    pub tally: Tally,
    /// Expected deliveries not received (summed over subscribers).
    pub lost: u64,
    /// Publish→ack latency, microseconds (QoS 1 and 2).
    pub ack_latency: Histogram<u64>,
    /// Publishes the server refused, by reason code.
    pub refused: HashMap<u8, u64>,
    /// From the first publish to the last one's end.
    pub elapsed: Duration,
    /// The measured window (after warm-up), for rates.
    pub measured: Duration,
    /// Messages received inside the measured window.
    pub received_measured: u64,
    /// Messages sent inside the measured window.
    pub sent_measured: u64,
}

/// Runs the scenario: connects subscribers, then publishers, publishes, drains, tallies.
pub async fn run(plan: &PubSub, connect: Connect, live: Arc<Live>) -> Result<Outcome, ClientError> {
    let clock = Clock::start();
    let mut subs = Vec::new();
    let mut pace = Pace::new(plan.connect_rate);
    for i in 0..plan.subscribers {
        pace.next().await;
        let mut client = connect(i, "sub").await?;
        let options = SubscriptionOptions {
            qos: plan.qos,
            ..SubscriptionOptions::default()
        };
        let filter = crate::protocol::MqttString::new(&plan.filter)
            .map_err(|e| ClientError::Io(std::io::Error::other(e.to_string())))?;
        let sub = vec![Subscription { filter, options }];
        client
            .subscribe(sub, SubscribeProperties::default())
            .await?;
        live.connections.fetch_add(1, Ordering::Relaxed);
        subs.push(client);
    }
    let mut pubs = Vec::new();
    for i in 0..plan.publishers {
        pace.next().await;
        pubs.push(connect(i, "pub").await?);
        live.connections.fetch_add(1, Ordering::Relaxed);
    }
    let start = Instant::now();
    let warm_end = start + plan.warmup;
    let pub_end = start + plan.duration;
    let done = Arc::new(Done::default());
    let mut sub_tasks = Vec::new();
    for client in subs {
        let (live, done) = (live.clone(), done.clone());
        let (drain, publishers) = (plan.drain, plan.publishers as u64);
        sub_tasks.push(tokio::spawn(async move {
            let end = (publishers == 0).then_some(pub_end);
            let until = Until {
                warm_end,
                done,
                publishers,
                drain,
                end,
            };
            subscribe_loop(client, clock, until, live).await
        }));
    }
    let mut pub_tasks = Vec::new();
    for (i, client) in pubs.into_iter().enumerate() {
        let plan = plan.clone();
        let live = live.clone();
        let done = done.clone();
        pub_tasks.push(tokio::spawn(async move {
            let sent = publish_loop(client, i as u32, &plan, clock, pub_end, &live).await;
            done.messages.fetch_add(sent.count, Ordering::Release);
            done.publishers.fetch_add(1, Ordering::Release);
            sent
        }));
    }
    let mut sent = Vec::new();
    for t in pub_tasks {
        sent.push(
            t.await
                .map_err(|e| ClientError::Io(std::io::Error::other(e)))?,
        );
    }
    let mut elapsed = start.elapsed();
    let mut tallies = Vec::new();
    for t in sub_tasks {
        tallies.push(
            t.await
                .map_err(|e| ClientError::Io(std::io::Error::other(e)))?,
        );
    }
    if plan.publishers == 0 {
        // `mqbench sub`: the run is the subscribers' time.
        elapsed = start.elapsed();
    }
    Ok(outcome(plan, sent, tallies, elapsed))
}

fn outcome(
    plan: &PubSub,
    sent: Vec<Sent>,
    tallies: Vec<(Tally, u64)>,
    elapsed: Duration,
) -> Outcome {
    let mut tally = Tally::default();
    let mut lost = 0;
    let mut received_measured = 0;
    if plan.shared() {
        // One delivery per message to the whole group: what no member saw is lost.
        let total: u64 = sent.iter().map(|s| s.count).sum();
        let seen: u64 = tallies
            .iter()
            .map(|(t, _)| {
                sent.iter()
                    .map(|s| t.unique_from(s.index, s.count))
                    .sum::<u64>()
            })
            .sum();
        lost = total.saturating_sub(seen);
    }
    for (t, measured) in &tallies {
        if plan.shared() {
            tally.merge_counts(t);
            received_measured += measured;
            continue;
        }
        if sent.is_empty() {
            // Someone else's publishers: only the gaps in their sequences are known.
            lost += t.gaps();
        }
        for s in &sent {
            lost += s.count - t.unique_from(s.index, s.count);
        }
        tally.merge_counts(t);
        received_measured += measured;
    }
    let mut ack_latency = new_histogram();
    let mut refused = HashMap::new();
    for s in &sent {
        let _ = ack_latency.add(&s.ack_latency);
        for (code, n) in &s.refused {
            *refused.entry(*code).or_insert(0) += n;
        }
    }
    let measured = elapsed
        .saturating_sub(plan.warmup)
        .max(Duration::from_millis(1));
    let total: u64 = sent.iter().map(|s| s.count).sum();
    let sent_measured =
        (total as f64 * measured.as_secs_f64() / elapsed.as_secs_f64().max(1e-9)) as u64;
    Outcome {
        sent: sent.iter().map(|s| s.count).collect(),
        tally,
        lost,
        ack_latency,
        refused,
        elapsed,
        measured,
        received_measured,
        sent_measured,
    }
}

/// Spaces out connection attempts at a rate.
struct Pace {
    interval: Option<Duration>,
    next: Instant,
}

impl Pace {
    fn new(rate: Option<f64>) -> Pace {
        Pace {
            interval: rate
                .filter(|r| *r > 0.0)
                .map(|r| Duration::from_secs_f64(1.0 / r)),
            next: Instant::now(),
        }
    }

    async fn next(&mut self) {
        if let Some(iv) = self.interval {
            tokio::time::sleep_until(self.next).await;
            self.next += iv;
        }
    }
}

/// Sends until the end time, the limit or a stop; returns what was sent.
async fn publish_loop(
    mut client: Client<BoxStream>,
    index: u32,
    plan: &PubSub,
    clock: Clock,
    end: Instant,
    live: &Live,
) -> Sent {
    let mut sent = Sent {
        index,
        count: 0,
        ack_latency: new_histogram(),
        refused: HashMap::new(),
    };
    let template = plan.publisher_topic(index);
    let topic = match TopicName::new(&template.replace("%s", "0")) {
        Ok(t) => t,
        Err(_) => return sent,
    };
    let interval = plan
        .rate
        .filter(|r| *r > 0.0)
        .map(|r| Duration::from_secs_f64(plan.publishers as f64 / r));
    // Never more in flight than the server's Receive Maximum [MQTT-3.3.4-9]: mosquitto
    // refuses the excess with 0x97 (Quota exceeded).
    let receive_max = client
        .connack()
        .properties
        .receive_maximum
        .map_or(u16::MAX, |r| r.get());
    let window = plan.inflight.clamp(1, usize::from(receive_max));
    let first = Instant::now();
    let mut pending: HashMap<u16, u64> = HashMap::new();
    let mut payload = BytesMut::with_capacity(plan.size.max(STAMP_LEN));
    while !live.stop.load(Ordering::Relaxed) && plan.limit.is_none_or(|l| sent.count < l) {
        let intended = match interval {
            Some(iv) => first + iv.mul_f64(sent.count as f64),
            None => Instant::now(),
        };
        if intended >= end {
            break;
        }
        // Take in the acknowledgements that are already here, so their times are true.
        while let Some(event) = client.poll().now_or_never() {
            if !on_event(event, clock, &mut pending, &mut sent, live) {
                return sent;
            }
        }
        while pending.len() >= window && plan.qos != QoS::AtMostOnce {
            if !ack(&mut client, clock, &mut pending, &mut sent, live).await {
                return sent;
            }
        }
        if interval.is_some()
            && !wait_until(&mut client, intended, clock, &mut pending, &mut sent, live).await
        {
            return sent;
        }
        let stamp = Stamp {
            sent_ns: clock.ns(intended),
            publisher: index,
            seq: sent.count,
        };
        match &plan.body {
            Some(body) => {
                payload.resize(STAMP_LEN, 0);
                payload.extend_from_slice(body);
            }
            None => payload.resize(plan.size.max(STAMP_LEN), b'x'),
        }
        stamp.write(&mut payload);
        let topic = match plan.per_message() {
            false => topic.clone(),
            true => match TopicName::new(&template.replace("%s", &sent.count.to_string())) {
                Ok(t) => t,
                Err(_) => return sent,
            },
        };
        let mut publish = Publish::new(topic, payload.split().freeze());
        publish.qos = plan.qos;
        publish.retain = plan.retain;
        // Unpaced, messages leave in batches of up to 64 KiB: one write each, not one per
        // message. Paced, each leaves at its time.
        let queued = client.queue_publish(publish);
        let flush = interval.is_some() || client.queued_bytes() >= BATCH_BYTES;
        let queued = match (queued, flush) {
            (Ok(id), true) => client.flush().await.map(|()| id),
            (result, _) => result,
        };
        match queued {
            Ok(Some(id)) => {
                pending.insert(id.get(), clock.ns(Instant::now()));
            }
            Ok(None) => {}
            Err(_) => {
                live.errors.fetch_add(1, Ordering::Relaxed);
                return sent;
            }
        }
        sent.count += 1;
        live.sent.fetch_add(1, Ordering::Relaxed);
    }
    if client.flush().await.is_err() {
        live.errors.fetch_add(1, Ordering::Relaxed);
        return sent;
    }
    while !pending.is_empty() {
        if !ack(&mut client, clock, &mut pending, &mut sent, live).await {
            return sent;
        }
    }
    let _ = client.disconnect(ReasonCode::Success).await;
    sent
}

/// Waits until `at`, taking in acknowledgements meanwhile; false when the connection failed.
/// tokio's timer fires on whole milliseconds, late by up to one: the wait sleeps until a
/// millisecond before `at` and yields from there, so messages leave on their schedule (to the
/// microsecond) and mqbench's own lateness does not show as broker latency.
async fn wait_until(
    client: &mut Client<BoxStream>,
    at: Instant,
    clock: Clock,
    pending: &mut HashMap<u16, u64>,
    sent: &mut Sent,
    live: &Live,
) -> bool {
    const SPIN: Duration = Duration::from_millis(1);
    loop {
        let now = Instant::now();
        if now >= at {
            return true;
        }
        if at - now > SPIN {
            tokio::select! {
                _ = tokio::time::sleep_until(at - SPIN) => {}
                event = client.poll() => {
                    if !on_event(event, clock, pending, sent, live) {
                        return false;
                    }
                }
            }
            continue;
        }
        while let Some(event) = client.poll().now_or_never() {
            if !on_event(event, clock, pending, sent, live) {
                return false;
            }
        }
        tokio::task::yield_now().await;
    }
}

/// Waits for one acknowledgement (10 s at most); false when the connection failed.
async fn ack(
    client: &mut Client<BoxStream>,
    clock: Clock,
    pending: &mut HashMap<u16, u64>,
    sent: &mut Sent,
    live: &Live,
) -> bool {
    match tokio::time::timeout(Duration::from_secs(10), client.poll()).await {
        Ok(event) => on_event(event, clock, pending, sent, live),
        Err(_) => {
            live.errors.fetch_add(1, Ordering::Relaxed);
            false
        }
    }
}

/// Records an acknowledgement's time and verdict; false when the connection failed.
fn on_event(
    event: Result<Event, ClientError>,
    clock: Clock,
    pending: &mut HashMap<u16, u64>,
    sent: &mut Sent,
    live: &Live,
) -> bool {
    match event {
        Ok(Event::Acked { id, reason }) => {
            if let Some(at) = pending.remove(&id.get()) {
                let us = clock.ns(Instant::now()).saturating_sub(at) / 1_000;
                let _ = sent.ack_latency.record(us.max(1));
            }
            if reason.is_error() {
                *sent.refused.entry(reason.as_u8()).or_insert(0) += 1;
                live.errors.fetch_add(1, Ordering::Relaxed);
            }
            true
        }
        Ok(Event::Message(_)) => true,
        Err(_) => {
            live.errors.fetch_add(1, Ordering::Relaxed);
            false
        }
    }
}

/// How far the publishers are: finished ones and what they sent in all.
#[derive(Debug, Default)]
struct Done {
    publishers: AtomicU64,
    messages: AtomicU64,
}

/// When a subscriber stops: after every publisher finished, once it has every message or
/// nothing arrived for `drain`.
struct Until {
    warm_end: Instant,
    done: Arc<Done>,
    publishers: u64,
    drain: Duration,
    /// With no publishers of ours (`mqbench sub`): the end of the run.
    end: Option<Instant>,
}

impl Until {
    /// The number of messages a subscriber should get, once every publisher has finished.
    fn expected(&self) -> Option<u64> {
        (self.done.publishers.load(Ordering::Acquire) >= self.publishers)
            .then(|| self.done.messages.load(Ordering::Acquire))
    }
}

/// Receives until [`Until`] says stop; returns the tally and how many arrived after warm-up.
async fn subscribe_loop(
    mut client: Client<BoxStream>,
    clock: Clock,
    until: Until,
    live: Arc<Live>,
) -> (Tally, u64) {
    let mut tally = Tally::default();
    let mut measured = 0u64;
    let mut quiet_since: Option<Instant> = None;
    // One interval for the whole loop: a timeout per message would cost a timer each.
    let mut check = tokio::time::interval(Duration::from_millis(50));
    loop {
        let received = tokio::select! {
            r = client.recv() => Some(r),
            _ = check.tick() => None,
        };
        match received {
            Some(Ok(p)) => {
                let now = Instant::now();
                let in_window = now >= until.warm_end;
                tally.record(&p.payload, clock.ns(now), in_window);
                measured += u64::from(in_window);
                live.received.fetch_add(1, Ordering::Relaxed);
                quiet_since = None;
                continue;
            }
            Some(Err(_)) => {
                live.errors.fetch_add(1, Ordering::Relaxed);
                break;
            }
            None => {}
        }
        if let Some(end) = until.end {
            if Instant::now() >= end || live.stop.load(Ordering::Relaxed) {
                break;
            }
        }
        let expected = until.expected().filter(|_| until.end.is_none());
        let unique = tally.received - tally.duplicates;
        if expected.is_some_and(|e| unique >= e) {
            break;
        }
        match quiet_since {
            Some(q) if q.elapsed() >= until.drain => break,
            None if expected.is_some() => quiet_since = Some(Instant::now()),
            _ => {}
        }
    }
    let _ = client.disconnect(ReasonCode::Success).await;
    (tally, measured)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(topic: &str, filter: &str) -> PubSub {
        PubSub {
            publishers: 1,
            subscribers: 2,
            topic: topic.into(),
            filter: filter.into(),
            qos: QoS::AtMostOnce,
            size: 64,
            rate: None,
            duration: Duration::from_secs(1),
            warmup: Duration::ZERO,
            limit: None,
            inflight: 1,
            drain: Duration::from_secs(1),
            connect_rate: None,
            retain: false,
            body: None,
            id_prefix: "b-".into(),
            username: Some("ann".into()),
        }
    }

    #[test]
    fn topic_templates_fill_index_client_id_and_user() {
        let p = plan("t/%i/%c/%u/%s", "t/#");
        assert_eq!(p.publisher_topic(7), "t/7/b-pub-7/ann/%s");
        assert!(p.per_message());
        assert!(!p.shared());
        assert!(plan("t/%i", "$share/g/t/#").shared());
    }
}
