//! The broker engine: an MQTT 3.1 / 3.1.1 / 5.0 server that tests, `mqbench` and the `mqbroker`
//! binary embed.
//!
//! [`serve`] takes bound listeners, a [`Config`] and a shutdown future (the mini-redis shape):
//! one task per connection ([`connection`]), sessions shared between the router and their
//! connection ([`session`]), a read-mostly subscription index ([`router`]), the retained store
//! ([`retained`]), and two housekeeping tasks: session expiry with delayed wills, and `$SYS`
//! ([`sys`]). No lock is held across `.await`; every per-client queue is bounded.

pub mod acl;
pub mod conf;
pub mod config;
mod connection;
pub mod listener;
pub mod logging;
pub mod message;
pub mod passwd;
mod persist;
mod registry;
pub mod retained;
pub mod router;
pub mod session;
pub mod store;
mod sys;

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

pub use config::Config;
use listener::Listener;
use message::{Message, Outgoing};
use retained::RetainedStore;
use router::Router;
use session::{Enqueued, Session, SessionRef};

use crate::protocol::LastWill;
use crate::topic::TopicFilter;

/// Counters behind `$SYS/broker/...`.
#[derive(Debug, Default)]
pub struct Stats {
    /// Clients connected now.
    pub clients_connected: AtomicU64,
    /// PUBLISH packets received.
    pub messages_received: AtomicU64,
    /// PUBLISH packets sent.
    pub messages_sent: AtomicU64,
    /// Bytes received.
    pub bytes_received: AtomicU64,
    /// Bytes sent.
    pub bytes_sent: AtomicU64,
    /// Messages dropped because a client's queue was full.
    pub messages_dropped: AtomicU64,
}

impl Stats {
    pub(crate) fn add_received_bytes(&self, n: usize) {
        self.bytes_received.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn add_sent_bytes(&self, n: usize) {
        self.bytes_sent.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn client_connected(&self) {
        self.clients_connected.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn client_disconnected(&self) {
        self.clients_connected.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Where [`Inner::route`] put a message.
#[derive(Debug, Default)]
pub(crate) struct Routed {
    /// How many clients it was queued for.
    pub queued: usize,
    /// The online sessions whose queues now press their publishers
    /// ([`session::Enqueued::Pressing`]).
    pub pressing: Vec<Arc<Session>>,
}

/// A running broker's shared state; cheap to clone.
#[derive(Debug, Clone)]
pub struct Broker {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    /// The settings in force; replaced as a whole by [`Broker::reload`].
    config: RwLock<Arc<Config>>,
    /// Increases with every reload, so connections know to pick up the new settings.
    generation: AtomicU64,
    router: RwLock<Router<SessionRef>>,
    retained: Mutex<RetainedStore>,
    sessions: Mutex<HashMap<Arc<str>, Arc<Session>>>,
    next_id: AtomicU64,
    pub(crate) stats: Stats,
    started: Instant,
    /// The durable store (`persistence true`).
    pub(crate) store: Option<store::Store>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Broker {
    /// A broker with `config` and no listeners yet.
    pub fn new(config: Config) -> Self {
        Self::build(config, None)
    }

    /// A broker that keeps retained messages and persistent sessions in `store`, starting from
    /// what `snapshot` holds (see [`store::Store::open`]).
    pub fn with_store(config: Config, store: store::Store, snapshot: store::Snapshot) -> Self {
        let broker = Self::build(config, Some(store));
        broker.inner.restore(snapshot);
        broker
    }

    fn build(config: Config, store: Option<store::Store>) -> Self {
        Broker {
            inner: Arc::new(Inner {
                config: RwLock::new(Arc::new(config)),
                generation: AtomicU64::new(0),
                router: RwLock::new(Router::new()),
                retained: Mutex::new(RetainedStore::default()),
                sessions: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
                stats: Stats::default(),
                started: Instant::now(),
                store,
            }),
        }
    }

    /// The settings in force.
    pub fn config(&self) -> Arc<Config> {
        self.inner.config()
    }

    /// Replaces the settings (SIGHUP): new connections use them at once, connected clients at
    /// their next packet (password file and ACL decisions, limits checked per packet); what a
    /// connection agreed at CONNECT (keep alive, Receive Maximum, listeners) stays.
    pub fn reload(&self, config: Config) {
        let mut current = self.inner.config.write().unwrap_or_else(|e| e.into_inner());
        *current = Arc::new(config);
        // Under the lock: whoever reads the new settings also sees the new generation.
        self.inner.generation.fetch_add(1, Ordering::Release);
    }

    /// The broker's counters.
    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    /// How many sessions (online and offline) exist.
    pub fn session_count(&self) -> usize {
        lock(&self.inner.sessions).len()
    }

    /// Accepts connections on every listener until `shutdown` completes, then tells every client
    /// the server is shutting down (5.0: DISCONNECT 0x8B), and returns once their tasks ended
    /// (or after two seconds).
    pub async fn serve(
        &self,
        listeners: Vec<TcpListener>,
        shutdown: impl Future<Output = ()>,
    ) -> io::Result<()> {
        let listeners = listeners.into_iter().map(Listener::plain).collect();
        self.serve_listeners(listeners, shutdown).await
    }

    /// [`Broker::serve`] with listeners of any kind (TLS, WebSockets, limits).
    pub async fn serve_listeners(
        &self,
        listeners: Vec<Listener>,
        shutdown: impl Future<Output = ()>,
    ) -> io::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
        for (index, listener) in listeners.into_iter().enumerate() {
            let inner = Arc::clone(&self.inner);
            let (stop, done) = (stop_rx.clone(), done_tx.clone());
            tokio::spawn(accept_loop(inner, (index, listener), stop, done));
        }
        tokio::spawn(housekeeping(Arc::clone(&self.inner), stop_rx.clone()));
        if let Some(interval) = self.inner.config().sys_interval {
            tokio::spawn(sys::run(Arc::clone(&self.inner), interval, stop_rx.clone()));
        }
        shutdown.await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
        drop(done_tx);
        let _ = tokio::time::timeout(Duration::from_secs(2), done_rx.recv()).await;
        if let Some(store) = self.inner.store.clone() {
            // Everything submitted so far (sessions going offline included) is written.
            match tokio::task::spawn_blocking(move || store.close()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!("{e}"),
                Err(e) => tracing::error!("closing the persistence store: {e}"),
            }
        }
        Ok(())
    }
}

/// Serves `listeners` with a new broker configured by `config` until `shutdown` completes.
pub async fn serve(
    listeners: Vec<TcpListener>,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    Broker::new(config).serve(listeners, shutdown).await
}

/// Accepts connections on listener number `index` (its place in the configuration, which
/// `per_listener_settings` security is indexed by) until the broker stops.
async fn accept_loop(
    inner: Arc<Inner>,
    (index, listener): (usize, Listener),
    mut stop: watch::Receiver<bool>,
    done: mpsc::Sender<()>,
) {
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let Some(slot) = listener.shared.slot() else {
                        tracing::info!("Refusing connection from {peer}: max_connections reached");
                        continue;
                    };
                    if inner.config().set_tcp_nodelay {
                        let _ = stream.set_nodelay(true);
                    }
                    let shared = Arc::clone(&listener.shared);
                    let inner = Arc::clone(&inner);
                    let (stop, done) = (stop.clone(), done.clone());
                    tokio::spawn(async move {
                        let timeout = inner.config().connect_timeout;
                        // Boxed: the TLS handshake's state is large, and would otherwise stay
                        // part of every connection's task for its whole life.
                        let establish = Box::pin(shared.establish(stream, peer, slot, timeout));
                        if let Some(accepted) = establish.await {
                            let conn = connection::Connection::new(inner, peer, (port, index))
                                .with_identity(shared.identity, accepted.cert_username)
                                .with_mount_point(shared.mount_point.clone());
                            conn.run(accepted.stream, stop).await;
                            drop(accepted._slot);
                        }
                        drop(done);
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = stop.changed() => return,
        }
    }
}

/// Once a second: publish delayed wills that are due and end expired sessions.
async fn housekeeping(inner: Arc<Inner>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tick.tick() => inner.expire_sessions(Instant::now()),
            _ = stop.changed() => return,
        }
    }
}

impl Inner {
    /// The settings in force now.
    pub(crate) fn config(&self) -> Arc<Config> {
        Arc::clone(&self.config.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// How many times the settings were reloaded.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Routes `message` to every matching subscription and stores it if retained. Returns how
    /// many clients it was queued for. Its durable records are written without waiting.
    pub(crate) fn publish(&self, message: Arc<Message>) -> usize {
        let (mut ops, mut mark) = (Vec::new(), None);
        let routed = self.route(message, &mut ops, &mut mark);
        self.persist_marked(ops, mark);
        routed.queued
    }

    /// [`Inner::publish`], adding to `ops` the durable records it needs (with a store): the
    /// retained change and a copy for each persistent session it was queued to.
    /// A QoS 2 copy for a persistent session carries `mark` (made here), to be submitted with
    /// `ops`: it is not sent before they are durable.
    pub(crate) fn route(
        &self,
        message: Arc<Message>,
        ops: &mut Vec<store::Op>,
        mark: &mut Option<store::Durable>,
    ) -> Routed {
        let persistent = self.store.is_some();
        let config = self.config();
        // The message in memory of its own, for the offline sessions it is queued to (see
        // `Message::detached`): the retained store's copy, or one made for the first of them.
        let mut kept: Option<Arc<Message>> = None;
        if message.retain && config.retain_available {
            kept = lock(&self.retained).store(&message);
            ops.extend(persistent.then(|| persist::retained(&message)).flatten());
        }
        let deliveries = self
            .router
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .deliveries(&message.topic, &|s: &SessionRef| {
                s.0.online.load(Ordering::Relaxed)
            });
        let mut routed = Routed::default();
        for d in deliveries {
            if d.no_local && d.client.0.id == message.origin {
                continue;
            }
            let out = Outgoing {
                qos: config.delivery_qos(message.qos, d.qos),
                // [MQTT-3.3.1-9]: forwarded messages have RETAIN 0 unless Retain As Published.
                retain: message.retain && d.retain_as_published,
                subscription_ids: d.subscription_ids,
                message: Arc::clone(&message),
                seq: 0,
                durable: None,
            };
            let session = &d.client.0;
            let record = |st: &session::SessionState, out: &mut Outgoing| {
                // An offline session may keep the message for as long as its expiry allows:
                // slices of the read buffer would keep the whole chunk they came in alive.
                if st.owner.is_none() {
                    let kept = kept.get_or_insert_with(|| Arc::new(out.message.detached()));
                    out.message = Arc::clone(kept);
                }
                if persistent && persist::is_stored(st, out.qos) {
                    ops.push(persist::put_message(&session.client_id, out, None, false));
                    persist::hold_until_durable(out, mark);
                }
            };
            match session.enqueue_with(out, record) {
                Enqueued::Dropped => {
                    self.stats.messages_dropped.fetch_add(1, Ordering::Relaxed);
                }
                Enqueued::Queued => routed.queued += 1,
                Enqueued::Pressing => {
                    routed.queued += 1;
                    routed.pressing.push(Arc::clone(session));
                }
            }
        }
        routed
    }

    /// Publishes a will message on behalf of `origin`.
    pub(crate) fn publish_will(&self, will: LastWill, origin: u64) {
        let now = Instant::now();
        let properties = crate::protocol::PublishProperties {
            payload_format_indicator: will.properties.payload_format_indicator,
            message_expiry_interval: None,
            content_type: will.properties.content_type,
            response_topic: will.properties.response_topic,
            correlation_data: will.properties.correlation_data,
            user_properties: will.properties.user_properties,
            ..Default::default()
        };
        let expires_at = will
            .properties
            .message_expiry_interval
            .map(|secs| now + Duration::from_secs(u64::from(secs)));
        tracing::debug!("Sending will for client {origin} on '{}'", will.topic);
        self.publish(Arc::new(Message {
            topic: will.topic,
            payload: will.payload,
            qos: will.qos,
            retain: will.retain,
            properties,
            expires_at,
            origin,
            publisher: None,
            heads: Default::default(),
        }));
    }

    /// Adds or replaces a subscription; returns whether it is new.
    pub(crate) fn subscribe(
        &self,
        filter: &TopicFilter,
        sub: router::Subscription<SessionRef>,
    ) -> bool {
        let mut router = self.router.write().unwrap_or_else(|e| e.into_inner());
        router.subscribe(filter, sub)
    }

    /// Removes a subscription; returns whether it existed.
    pub(crate) fn unsubscribe(&self, session: &Arc<Session>, filter: &TopicFilter) -> bool {
        let mut router = self.router.write().unwrap_or_else(|e| e.into_inner());
        router.unsubscribe(filter, &SessionRef(Arc::clone(session)))
    }

    /// The retained messages matching `filter` that may be delivered (`check_retain_source`).
    pub(crate) fn retained_for(&self, filter: &TopicFilter) -> Vec<Arc<Message>> {
        let mut found = lock(&self.retained).matching(filter, Instant::now());
        let config = self.config();
        found.retain(|m| config.retained_deliverable(m));
        found
    }

    /// Removes every subscription of `session` from the router.
    pub(crate) fn drop_subscriptions(&self, session: &Arc<Session>) {
        let filters: Vec<String> = session.lock().subscriptions.keys().cloned().collect();
        let key = SessionRef(Arc::clone(session));
        let mut router = self.router.write().unwrap_or_else(|e| e.into_inner());
        for filter in filters {
            if let Ok(filter) = TopicFilter::new(&filter) {
                router.unsubscribe(&filter, &key);
            }
        }
    }

    /// Ends sessions whose expiry passed and publishes delayed wills that are due.
    pub(crate) fn expire_sessions(&self, now: Instant) {
        let mut wills = Vec::new();
        let mut ended = Vec::new();
        {
            let mut sessions = lock(&self.sessions);
            sessions.retain(|_, session| {
                let mut st = session.lock();
                if st.owner.is_some() {
                    return true;
                }
                if st.pending_will.as_ref().is_some_and(|(_, due)| *due <= now) {
                    if let Some((will, _)) = st.pending_will.take() {
                        wills.push((will, session.id));
                    }
                }
                if st.expired(now) {
                    if let Some((will, _)) = st.pending_will.take() {
                        wills.push((will, session.id));
                    }
                    ended.push(Arc::clone(session));
                    return false;
                }
                true
            });
        }
        for session in ended {
            tracing::debug!("Expiring client {}", session.client_id);
            self.drop_subscriptions(&session);
            self.forget_session(&session);
        }
        for (will, origin) in wills {
            self.publish_will(will, origin);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ProtocolVersion, QoS, SubscriptionOptions};

    /// A session subscribed to `#` at QoS 1, online or not.
    fn subscriber(broker: &Broker, id: u64, online: bool) -> Arc<Session> {
        let session = Arc::new(Session::new(
            id,
            format!("client-{id}").into(),
            ProtocolVersion::V5,
            10,
        ));
        if online {
            session.lock().owner = Some(id);
            session.online.store(true, Ordering::Relaxed);
        }
        let options = SubscriptionOptions {
            qos: QoS::AtLeastOnce,
            ..SubscriptionOptions::default()
        };
        let sub = router::Subscription {
            client: SessionRef(Arc::clone(&session)),
            options,
            id: None,
        };
        broker.inner.subscribe(&TopicFilter::new("#").unwrap(), sub);
        session
    }

    fn queued(session: &Session) -> Arc<Message> {
        Arc::clone(&session.lock().queue[0].message)
    }

    #[test]
    fn a_message_queued_for_offline_sessions_is_one_copy_of_its_own_not_the_read_buffer() {
        let broker = Broker::new(Config::default());
        let online = subscriber(&broker, 1, true);
        let offline = [2, 3].map(|id| subscriber(&broker, id, false));
        let chunk = bytes::Bytes::from(vec![b'a'; 64 * 1024]);
        let message = Message::sliced_from(&chunk);
        assert_eq!(broker.inner.publish(Arc::clone(&message)), 3);

        // A connected subscriber takes the message soon: it shares the one that arrived.
        assert!(Arc::ptr_eq(&queued(&online), &message));
        // Offline ones may keep it for long: one copy, shared by all of them.
        let kept = queued(&offline[0]);
        assert!(Arc::ptr_eq(&kept, &queued(&offline[1])));
        assert!(
            !kept.points_into(&chunk),
            "a field still points into the read buffer"
        );
        assert_eq!(
            (&kept.topic, &kept.payload),
            (&message.topic, &message.payload)
        );
        assert_eq!(kept.properties, message.properties);
    }

    #[test]
    fn a_session_going_offline_keeps_copies_of_the_messages_it_alone_holds() {
        let broker = Broker::new(Config::default());
        let leaving = subscriber(&broker, 1, true);
        leaving.lock().expiry_interval = 3600;
        let chunk = bytes::Bytes::from(vec![b'a'; 64 * 1024]);
        let message = Message::sliced_from(&chunk);
        broker.inner.publish(Arc::clone(&message));
        // A second message, in flight, that a session staying online holds too.
        let staying = subscriber(&broker, 2, true);
        let shared = Message::sliced_from(&chunk);
        broker.inner.publish(Arc::clone(&shared));
        drop((message, shared));
        {
            let mut st = leaving.lock();
            let out = st.queue.pop_back().unwrap();
            let state = session::InflightState::Publish(out);
            st.inflight.insert(1, session::Inflight { seq: 1, state });
        }

        broker.inner.close_session(&leaving, 1, None, 0);
        let st = leaving.lock();
        assert!(st.owner.is_none() && st.queue.len() == 1);
        assert!(
            !st.queue[0].message.points_into(&chunk),
            "a message only the offline session holds still points into the read buffer"
        );
        let session::InflightState::Publish(inflight) = &st.inflight[&1].state else {
            panic!("the in-flight PUBLISH is gone");
        };
        assert!(Arc::ptr_eq(&inflight.message, &queued(&staying)));
    }
}
