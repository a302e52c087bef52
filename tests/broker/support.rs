//! The harness: a [`TestBroker`] per test on `127.0.0.1:0`, served on the test's own runtime and
//! stopped through a oneshot, and a [`RawClient`] that speaks `Packet`s or raw bytes over TCP and
//! never waits without a timeout.
//!
//! Negative checks ("nothing else arrives") do not sleep: [`RawClient::expect_nothing`] makes two
//! PINGREQ round trips. The broker handles a connection's packets in order and moves queued
//! messages into the write buffer after every packet it handles, so anything queued for the
//! client before the first PINGREQ is written before the second PINGRESP.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use mqkit::broker::{Broker, Config};
use mqkit::protocol::{
    decode, encode, Ack, ConnAck, Connect, Disconnect, LastWill, MqttString, Packet, PacketId,
    ProtocolVersion, Publish, QoS, ReasonCode, SubAck, Subscribe, SubscribeProperties,
    Subscription, SubscriptionOptions, UnsubAck, Unsubscribe, WillProperties, MAX_REMAINING_LENGTH,
};
use mqkit::topic::TopicName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{timeout, timeout_at, Instant};

/// The longest any test waits for one event.
pub const WAIT: Duration = Duration::from_secs(5);

/// The configuration most tests use: the defaults without `$SYS` traffic.
pub fn config() -> Config {
    Config {
        sys_interval: None,
        ..Config::default()
    }
}

/// A broker serving one listener on 127.0.0.1, stopped when dropped.
pub struct TestBroker {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The broker itself, for its counters.
    pub broker: Broker,
    shutdown: Option<oneshot::Sender<()>>,
    served: Option<JoinHandle<io::Result<()>>>,
}

impl TestBroker {
    /// A broker with [`config`].
    pub async fn start() -> Self {
        Self::with_config(config()).await
    }

    /// A broker with `config`.
    pub async fn with_config(config: Config) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local address");
        let broker = Broker::new(config);
        let (shutdown, stop) = oneshot::channel::<()>();
        let serving = broker.clone();
        let served = tokio::spawn(async move {
            let stop = async {
                let _ = stop.await;
            };
            serving.serve(vec![listener], stop).await
        });
        TestBroker {
            addr,
            broker,
            shutdown: Some(shutdown),
            served: Some(served),
        }
    }

    /// Triggers shutdown and waits for `serve` to return.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(served) = self.served.take() {
            let result = timeout(WAIT, served).await;
            let result = result
                .expect("serve returns after shutdown")
                .expect("serve task");
            result.expect("serve succeeds");
        }
    }

    /// A TCP connection that has sent nothing yet.
    pub async fn open(&self, version: ProtocolVersion) -> RawClient {
        RawClient::open(self.addr, version).await
    }

    /// A client connected with Clean Start and client identifier `id`.
    pub async fn connect(&self, version: ProtocolVersion, id: &str) -> RawClient {
        let (client, connack) = self.connect_with(connect_packet(version, id)).await;
        assert_eq!(connack.reason_code, ReasonCode::Success, "{connack:?}");
        assert!(!connack.session_present, "clean start: {connack:?}");
        client
    }

    /// Sends `connect` on a new connection and returns the CONNACK, whatever it says.
    pub async fn connect_with(&self, connect: Connect) -> (RawClient, ConnAck) {
        let mut client = self.open(connect.version).await;
        client.send(Packet::Connect(Box::new(connect))).await;
        let connack = match client.recv().await {
            Packet::ConnAck(c) => c,
            other => panic!("expected CONNACK, got {other:?}"),
        };
        (client, connack)
    }

    /// A client resuming (or starting) the persistent session of `id`: Clean Start 0, and in
    /// 5.0 a Session Expiry Interval of five minutes. Returns it with Session Present.
    pub async fn connect_persistent(
        &self,
        version: ProtocolVersion,
        id: &str,
    ) -> (RawClient, bool) {
        let (client, connack) = self.connect_with(persistent(version, id, 300)).await;
        assert_eq!(connack.reason_code, ReasonCode::Success, "{connack:?}");
        (client, connack.session_present)
    }

    /// Checks the broker still serves: a fresh subscriber and publisher (one of each version)
    /// complete a QoS 1 round trip. Every error test ends with it.
    pub async fn assert_still_works(&self) {
        let mut sub = self.connect(ProtocolVersion::V5, "still-works-sub").await;
        sub.subscribe("still/works", QoS::AtLeastOnce).await;
        let mut publisher = self.connect(ProtocolVersion::V311, "still-works-pub").await;
        publisher
            .publish(message("still/works", "ok", QoS::AtLeastOnce))
            .await;
        let got = sub.recv_message().await;
        assert_eq!(got.topic.as_str(), "still/works");
        assert_eq!(&got.payload[..], b"ok");
        sub.disconnect().await;
        publisher.disconnect().await;
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A CONNECT with Clean Start, keep alive 60 and nothing else.
pub fn connect_packet(version: ProtocolVersion, id: &str) -> Connect {
    Connect::new(version, mqtt_string(id))
}

/// A CONNECT that resumes a session: Clean Start 0 and, in 5.0, Session Expiry `expiry`
/// seconds (3.1.1 sessions without Clean Session never expire).
pub fn persistent(version: ProtocolVersion, id: &str, expiry: u32) -> Connect {
    let mut connect = connect_packet(version, id);
    connect.clean_start = false;
    if version.is_v5() {
        connect.properties.session_expiry_interval = Some(expiry);
    }
    connect
}

/// A will on `topic`.
pub fn will(topic: &str, payload: &'static str, qos: QoS, retain: bool) -> LastWill {
    LastWill {
        topic: topic_name(topic),
        payload: Bytes::from_static(payload.as_bytes()),
        qos,
        retain,
        properties: WillProperties::default(),
    }
}

/// A PUBLISH without packet identifier (the client assigns one when it sends it).
pub fn message(topic: &str, payload: &str, qos: QoS) -> Publish {
    let mut publish = Publish::new(
        topic_name(topic),
        Bytes::copy_from_slice(payload.as_bytes()),
    );
    publish.qos = qos;
    publish
}

/// A retained PUBLISH.
pub fn retained(topic: &str, payload: &str, qos: QoS) -> Publish {
    let mut publish = message(topic, payload, qos);
    publish.retain = true;
    publish
}

/// Subscription options with this maximum QoS and the 5.0 defaults.
pub fn qos_options(qos: QoS) -> SubscriptionOptions {
    SubscriptionOptions {
        qos,
        ..SubscriptionOptions::default()
    }
}

/// A checked string.
pub fn mqtt_string(s: &str) -> MqttString {
    MqttString::new(s).expect("valid MQTT string")
}

/// A checked topic name.
pub fn topic_name(s: &str) -> TopicName {
    TopicName::new(s).expect("valid topic name")
}

/// A packet identifier; `n` must not be zero.
pub fn packet_id(n: u16) -> PacketId {
    PacketId::new(n).expect("non-zero packet identifier")
}

/// A Subscription Identifier; `n` must not be zero.
pub fn sub_id(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).expect("non-zero subscription identifier")
}

/// What a read ended with.
enum Read {
    Packet(Box<Packet>),
    Closed,
    TimedOut,
}

/// One TCP connection to the broker, speaking one protocol version.
pub struct RawClient {
    /// The version used to encode and decode.
    pub version: ProtocolVersion,
    stream: TcpStream,
    rbuf: BytesMut,
    /// Packets read while looking for another one (an acknowledgement), oldest first.
    pending: VecDeque<Packet>,
    last_id: u16,
}

impl RawClient {
    /// Opens a TCP connection to `addr`.
    pub async fn open(addr: SocketAddr, version: ProtocolVersion) -> Self {
        let stream = timeout(WAIT, TcpStream::connect(addr))
            .await
            .expect("TCP connect in time")
            .expect("TCP connect");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        RawClient {
            version,
            stream,
            rbuf: BytesMut::with_capacity(4096),
            pending: VecDeque::new(),
            last_id: 0,
        }
    }

    /// A fresh packet identifier (wrapping, never zero).
    pub fn next_id(&mut self) -> PacketId {
        self.last_id = self.last_id.checked_add(1).unwrap_or(1);
        packet_id(self.last_id)
    }

    /// Encodes and sends `packet`.
    pub async fn send(&mut self, packet: Packet) {
        let mut out = BytesMut::new();
        self.encode(&packet, &mut out);
        self.send_raw(&out).await;
    }

    /// Appends `packet` in this client's version to `out`, to send many with one write.
    pub fn encode(&self, packet: &Packet, out: &mut BytesMut) {
        encode(packet, self.version, out).expect("the test's packet encodes");
    }

    /// Sends `bytes` as they are.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        timeout(WAIT, self.stream.write_all(bytes))
            .await
            .expect("write in time")
            .expect("write");
    }

    /// The next packet kept from earlier, or else read from the socket within `wait`.
    async fn read(&mut self, wait: Duration) -> Read {
        match self.pending.pop_front() {
            Some(packet) => Read::Packet(Box::new(packet)),
            None => self.read_socket(wait).await,
        }
    }

    /// Reads the next packet from the socket, waiting at most `wait`.
    async fn read_socket(&mut self, wait: Duration) -> Read {
        let deadline = Instant::now() + wait;
        loop {
            match decode(&mut self.rbuf, self.version, MAX_REMAINING_LENGTH + 5) {
                Ok(Some(packet)) => return Read::Packet(Box::new(packet)),
                Ok(None) => {}
                Err(e) => panic!("the broker sent a malformed packet: {e}"),
            }
            match timeout_at(deadline, self.stream.read_buf(&mut self.rbuf)).await {
                Err(_) => return Read::TimedOut,
                Ok(Ok(0)) => {
                    assert!(
                        self.rbuf.is_empty(),
                        "closed within a packet: {:?}",
                        self.rbuf
                    );
                    return Read::Closed;
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionReset => return Read::Closed,
                Ok(Err(e)) => panic!("read failed: {e}"),
            }
        }
    }

    /// The next packet; fails on close or after [`WAIT`].
    pub async fn recv(&mut self) -> Packet {
        match self.read(WAIT).await {
            Read::Packet(p) => *p,
            Read::Closed => panic!("connection closed while waiting for a packet"),
            Read::TimedOut => panic!("no packet within {WAIT:?}"),
        }
    }

    /// The first packet for which `want` holds; earlier ones are kept for later reads.
    async fn recv_where(&mut self, what: &str, want: impl Fn(&Packet) -> bool) -> Packet {
        if let Some(i) = self.pending.iter().position(&want) {
            return self.pending.remove(i).expect("index in range");
        }
        let mut skipped = Vec::new();
        let found = loop {
            match self.read_socket(WAIT).await {
                Read::Packet(p) if want(&p) => break *p,
                Read::Packet(p) => skipped.push(*p),
                Read::Closed => panic!("connection closed while waiting for {what}"),
                Read::TimedOut => panic!("no {what} within {WAIT:?}"),
            }
        };
        self.pending.extend(skipped);
        found
    }

    /// The next packet, which must be a PUBLISH.
    pub async fn recv_publish(&mut self) -> Publish {
        match self.recv().await {
            Packet::Publish(p) => p,
            other => panic!("expected PUBLISH, got {other:?}"),
        }
    }

    /// The next PUBLISH, acknowledged as its QoS requires (PUBACK, or PUBREC / PUBREL /
    /// PUBCOMP).
    pub async fn recv_message(&mut self) -> Publish {
        let publish = self.recv_publish().await;
        self.ack(&publish).await;
        publish
    }

    /// Completes the receiver's side of `publish`'s QoS flow.
    pub async fn ack(&mut self, publish: &Publish) {
        let Some(id) = publish.packet_id else {
            assert_eq!(publish.qos, QoS::AtMostOnce, "QoS > 0 needs a packet id");
            return;
        };
        match publish.qos {
            QoS::AtMostOnce => panic!("QoS 0 PUBLISH with a packet identifier"),
            QoS::AtLeastOnce => self.send(Packet::PubAck(Ack::new(id))).await,
            QoS::ExactlyOnce => {
                self.send(Packet::PubRec(Ack::new(id))).await;
                let rel = self.expect_ack("PUBREL", id).await;
                assert_eq!(rel.reason_code, ReasonCode::Success);
                self.send(Packet::PubComp(Ack::new(id))).await;
            }
        }
    }

    /// The acknowledgement of type `kind` ("PUBACK", "PUBREC", "PUBREL", "PUBCOMP") for `id`.
    pub async fn expect_ack(&mut self, kind: &str, id: PacketId) -> Ack {
        let packet = self
            .recv_where(&format!("{kind} {id}"), |p| match (kind, p) {
                ("PUBACK", Packet::PubAck(a))
                | ("PUBREC", Packet::PubRec(a))
                | ("PUBREL", Packet::PubRel(a))
                | ("PUBCOMP", Packet::PubComp(a)) => a.packet_id == id,
                _ => false,
            })
            .await;
        match packet {
            Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubRel(a) | Packet::PubComp(a) => a,
            _ => unreachable!("recv_where returned what the predicate accepted"),
        }
    }

    /// Publishes `publish` and completes its QoS flow. Returns the reason code of PUBACK or
    /// PUBREC (Success for QoS 0). A QoS 0 publish is followed by a PINGREQ round trip, so the
    /// broker has routed it when this returns.
    pub async fn publish(&mut self, mut publish: Publish) -> ReasonCode {
        if publish.qos == QoS::AtMostOnce {
            self.send(Packet::Publish(publish)).await;
            self.ping().await;
            return ReasonCode::Success;
        }
        let id = *publish.packet_id.get_or_insert_with(|| self.next_id());
        let qos = publish.qos;
        self.send(Packet::Publish(publish)).await;
        if qos == QoS::AtLeastOnce {
            return self.expect_ack("PUBACK", id).await.reason_code;
        }
        let rec = self.expect_ack("PUBREC", id).await;
        self.send(Packet::PubRel(Ack::new(id))).await;
        let comp = self.expect_ack("PUBCOMP", id).await;
        assert_eq!(comp.reason_code, ReasonCode::Success);
        rec.reason_code
    }

    /// Sends PINGREQ and waits for PINGRESP; other packets are kept for later reads.
    pub async fn ping(&mut self) {
        self.send(Packet::PingReq).await;
        self.recv_where("PINGRESP", |p| matches!(p, Packet::PingResp))
            .await;
    }

    /// Subscribes to `filter` with maximum QoS `qos`; returns the SUBACK code.
    pub async fn subscribe(&mut self, filter: &str, qos: QoS) -> ReasonCode {
        let suback = self
            .subscribe_with(&[(filter, qos_options(qos))], None)
            .await;
        suback.reason_codes[0]
    }

    /// One SUBSCRIBE with these filters and options, and a Subscription Identifier (5.0).
    pub async fn subscribe_with(
        &mut self,
        filters: &[(&str, SubscriptionOptions)],
        id: Option<NonZeroU32>,
    ) -> SubAck {
        let packet_id = self.next_id();
        let subscriptions = filters
            .iter()
            .map(|(filter, options)| Subscription {
                filter: mqtt_string(filter),
                options: *options,
            })
            .collect();
        let subscribe = Subscribe {
            packet_id,
            subscriptions,
            properties: SubscribeProperties {
                subscription_identifier: id,
                ..SubscribeProperties::default()
            },
        };
        self.send(Packet::Subscribe(subscribe)).await;
        let packet = self
            .recv_where("SUBACK", |p| matches!(p, Packet::SubAck(_)))
            .await;
        let Packet::SubAck(suback) = packet else {
            unreachable!("recv_where returned a SUBACK")
        };
        // [MQTT-3.8.4-2]: SUBACK has the SUBSCRIBE's packet identifier.
        assert_eq!(suback.packet_id, packet_id);
        // [MQTT-3.9.3-1]: one code per filter, in order.
        assert_eq!(suback.reason_codes.len(), filters.len(), "{suback:?}");
        suback
    }

    /// Unsubscribes from `filters`; returns UNSUBACK.
    pub async fn unsubscribe(&mut self, filters: &[&str]) -> UnsubAck {
        let packet_id = self.next_id();
        let unsubscribe = Unsubscribe {
            packet_id,
            filters: filters.iter().map(|f| mqtt_string(f)).collect(),
            user_properties: Vec::new(),
        };
        self.send(Packet::Unsubscribe(unsubscribe)).await;
        let packet = self
            .recv_where("UNSUBACK", |p| matches!(p, Packet::UnsubAck(_)))
            .await;
        let Packet::UnsubAck(unsuback) = packet else {
            unreachable!("recv_where returned an UNSUBACK")
        };
        // [MQTT-3.10.4-4]: UNSUBACK has the UNSUBSCRIBE's packet identifier.
        assert_eq!(unsuback.packet_id, packet_id);
        unsuback
    }

    /// Asserts nothing is waiting for this client: two PINGREQ round trips, with nothing but
    /// PINGRESP arriving (see the module documentation).
    pub async fn expect_nothing(&mut self) {
        for _ in 0..2 {
            self.send(Packet::PingReq).await;
            match self.recv().await {
                Packet::PingResp => {}
                other => panic!("expected nothing more, got {other:?}"),
            }
        }
    }

    /// Every PUBLISH that reaches this client before a barrier (see the module documentation),
    /// in arrival order and not acknowledged.
    pub async fn collect(&mut self) -> Vec<Publish> {
        let mut got = Vec::new();
        for _ in 0..2 {
            self.send(Packet::PingReq).await;
            loop {
                match self.recv().await {
                    Packet::PingResp => break,
                    Packet::Publish(p) => got.push(p),
                    other => panic!("expected PUBLISH or PINGRESP, got {other:?}"),
                }
            }
        }
        got
    }

    /// Asserts the broker closes the connection without sending anything first.
    pub async fn expect_closed(&mut self) {
        match self.read(WAIT).await {
            Read::Closed => {}
            Read::Packet(p) => panic!("expected the connection to close, got {p:?}"),
            Read::TimedOut => panic!("connection still open after {WAIT:?}"),
        }
    }

    /// Asserts the broker ends the connection for `reason`: a 5.0 client gets DISCONNECT with
    /// that reason code (and no Session Expiry Interval) first, an earlier one just sees the
    /// connection close.
    pub async fn expect_disconnect(&mut self, reason: ReasonCode) {
        if self.version.is_v5() {
            match self.recv().await {
                Packet::Disconnect(d) => {
                    assert_eq!(d.reason_code, reason, "{d:?}");
                    // [MQTT-3.14.2-2]: never from the server.
                    assert_eq!(d.properties.session_expiry_interval, None, "{d:?}");
                }
                other => panic!("expected DISCONNECT {reason}, got {other:?}"),
            }
        }
        self.expect_closed().await;
    }

    /// Sends DISCONNECT (normal) and waits for the broker to close the connection, which it
    /// does after it has put the session away.
    pub async fn disconnect(mut self) {
        self.disconnect_with(Disconnect::new(ReasonCode::NORMAL_DISCONNECTION))
            .await;
    }

    /// Sends `disconnect` and waits for the connection to close.
    pub async fn disconnect_with(&mut self, disconnect: Disconnect) {
        self.send(Packet::Disconnect(disconnect)).await;
        self.expect_closed().await;
    }

    /// Reads exactly `n` raw bytes.
    pub async fn recv_raw(&mut self, n: usize) -> Vec<u8> {
        let mut buf = vec![0; n];
        timeout(WAIT, self.stream.read_exact(&mut buf))
            .await
            .expect("bytes in time")
            .expect("read");
        buf
    }
}
