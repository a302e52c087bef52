//! The client engine `mqpub`, `mqsub` and `mqbench` share: one MQTT connection over any byte
//! stream, with the QoS 1/2 handshakes and keep-alive pings done for the caller.
//!
//! [`Client::handshake`] sends CONNECT and waits for CONNACK (a refusal is
//! [`ClientError::Refused`] with the code on the wire, which the tools use as exit status, as
//! mosquitto's do). [`Client::publish`] returns once the flow of the message's QoS is complete;
//! [`Client::recv`] returns the next message (or other packet) from the server, acknowledging
//! QoS 1 and 2 deliveries itself. While waiting, it sends PINGREQ when nothing was sent for the
//! keep-alive period and gives up when the server stays silent for 1.5 times that.

mod debug;
mod error;
pub mod transport;

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio::time::Instant;

pub use debug::PacketLog;

pub use error::ClientError;
pub use transport::{BoxStream, ConnectError, Target, TransportOptions};

use crate::protocol::{
    decode, encode, Ack, AckProperties, ConnAck, Connect, Disconnect, MqttString, Packet, PacketId,
    ProtocolVersion, Publish, QoS, ReasonCode, SubAck, Subscribe, SubscribeProperties,
    Subscription, UnsubAck, Unsubscribe, UserProperties,
};

/// The largest packet accepted from the server when CONNECT sets no Maximum Packet Size.
const DEFAULT_MAX_PACKET: usize = 268_435_460;

/// One connection to an MQTT server.
pub struct Client<S> {
    stream: S,
    version: ProtocolVersion,
    rbuf: BytesMut,
    wbuf: BytesMut,
    connack: ConnAck,
    keep_alive: Option<Duration>,
    last_sent: Instant,
    last_received: Instant,
    last_packet_id: u16,
    max_packet_in: usize,
    /// Messages that arrived while waiting for something else, in order.
    pending: VecDeque<Publish>,
    /// Incoming QoS 2 packet identifiers awaiting PUBREL (delivered once).
    incoming_qos2: HashSet<u16>,
    /// Outgoing QoS 1 and 2 messages not yet acknowledged, by packet identifier.
    inflight: HashMap<u16, QoS>,
    /// Acknowledgements that arrived while waiting for something else.
    acked: VecDeque<Event>,
    /// `-d`: every packet logged as mosquitto's clients log them.
    log: Option<PacketLog>,
    /// 5.0 properties for the acknowledgements we send, by [`AckKind`].
    ack_properties: [AckProperties; 4],
}

/// The acknowledgements a client sends, to give them properties ([`Client::set_ack_properties`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckKind {
    /// PUBACK, for a QoS 1 message received.
    PubAck = 0,
    /// PUBREC, for a QoS 2 message received.
    PubRec = 1,
    /// PUBREL, for our QoS 2 message.
    PubRel = 2,
    /// PUBCOMP, for a QoS 2 message received.
    PubComp = 3,
}

/// What the server sent that the caller needs to know about.
// Messages are the common case: boxing them would cost an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An application message (already acknowledged at its QoS).
    Message(Publish),
    /// The QoS flow of an outgoing message ended: PUBACK (QoS 1), PUBCOMP (QoS 2), or a PUBREC
    /// with an error reason code. `reason` is the server's verdict (Success before 5.0).
    Acked {
        /// The message's packet identifier.
        id: PacketId,
        /// PUBACK's, or PUBREC's, reason code.
        reason: ReasonCode,
    },
}

impl Client<TcpStream> {
    /// Connects over TCP (with TCP_NODELAY) and performs the MQTT handshake, all within
    /// `timeout`.
    pub async fn connect(
        addr: impl ToSocketAddrs,
        connect: Connect,
        timeout: Duration,
    ) -> Result<Self, ClientError> {
        let attempt = async {
            let stream = TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            Client::handshake(stream, connect).await
        };
        tokio::time::timeout(timeout, attempt)
            .await
            .map_err(|_| ClientError::Timeout("CONNACK"))?
    }
}

impl Client<BoxStream> {
    /// Reaches `target` over any transport ([`transport::connect`]) and performs the MQTT
    /// handshake, all within `timeout` (`opts.connect_timeout` may limit the transport part
    /// further).
    pub async fn connect_to(
        target: &Target,
        opts: &TransportOptions,
        connect: Connect,
        timeout: Duration,
    ) -> Result<Self, ConnectError> {
        let deadline = Instant::now() + timeout;
        let stream = tokio::time::timeout_at(deadline, transport::connect(target, opts))
            .await
            .map_err(|_| transport::TransportError::Timeout {
                target: target.to_string(),
                after: timeout,
            })??;
        let client = tokio::time::timeout_at(deadline, Client::handshake(stream, connect))
            .await
            .map_err(|_| ClientError::Timeout("CONNACK"))??;
        Ok(client)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    /// Sends `connect` on `stream` and waits for CONNACK.
    pub async fn handshake(stream: S, connect: Connect) -> Result<Self, ClientError> {
        Self::handshake_logged(stream, connect, None).await
    }

    /// [`Client::handshake`], logging every packet to `log` (`-d`).
    pub async fn handshake_logged(
        stream: S,
        connect: Connect,
        log: Option<PacketLog>,
    ) -> Result<Self, ClientError> {
        let now = Instant::now();
        let mut client = Client {
            stream,
            version: connect.version,
            rbuf: BytesMut::with_capacity(4096),
            wbuf: BytesMut::new(),
            connack: ConnAck::new(ReasonCode::Success, false),
            keep_alive: (connect.keep_alive > 0)
                .then(|| Duration::from_secs(u64::from(connect.keep_alive))),
            last_sent: now,
            last_received: now,
            last_packet_id: 0,
            max_packet_in: connect
                .properties
                .maximum_packet_size
                .map_or(DEFAULT_MAX_PACKET, |m| m.get() as usize),
            pending: VecDeque::new(),
            incoming_qos2: HashSet::new(),
            inflight: HashMap::new(),
            acked: VecDeque::new(),
            log,
            ack_properties: Default::default(),
        };
        client.send(&Packet::Connect(Box::new(connect))).await?;
        let connack = match client.read_packet().await? {
            Packet::ConnAck(connack) => connack,
            other => return Err(ClientError::unexpected("CONNACK", &other)),
        };
        if connack.reason_code.is_error() {
            return Err(ClientError::Refused {
                code: connack.code_for(client.version),
                reason: connack.reason_code,
            });
        }
        if let Some(ka) = connack.properties.server_keep_alive {
            client.keep_alive = (ka > 0).then(|| Duration::from_secs(u64::from(ka)));
        }
        client.connack = connack;
        Ok(client)
    }

    /// The server's CONNACK.
    pub fn connack(&self) -> &ConnAck {
        &self.connack
    }

    /// Sets the 5.0 properties (reason string, user properties) of the PUBACK, PUBREC, PUBREL
    /// and PUBCOMP packets this client sends, in [`AckKind`] order (`-D PUBACK ...`).
    pub fn set_ack_properties(&mut self, properties: [AckProperties; 4]) {
        self.ack_properties = properties;
    }

    fn ack(&self, kind: AckKind, id: PacketId) -> Ack {
        let mut ack = Ack::new(id);
        if self.version == ProtocolVersion::V5 {
            ack.properties = self.ack_properties[kind as usize].clone();
        }
        ack
    }

    /// Writes a line of the tool's own to the `-d` log, if there is one.
    pub fn log_note(&mut self, text: &str) {
        if let Some(log) = &mut self.log {
            log.note(text);
        }
    }

    /// The protocol version in use.
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// Sends one packet.
    pub async fn send(&mut self, packet: &Packet) -> Result<(), ClientError> {
        self.queue(packet)?;
        self.flush().await
    }

    /// Encodes `packet` behind whatever is waiting to be written, without writing: the
    /// acknowledgements of a burst of messages leave together, in one write, when the client
    /// next waits for input ([`Client::flush`]).
    fn queue(&mut self, packet: &Packet) -> Result<(), ClientError> {
        encode(packet, self.version, &mut self.wbuf)?;
        if let Some(log) = &mut self.log {
            log.sent(packet, self.version);
        }
        Ok(())
    }

    /// Writes everything queued. Cancel-safe: what is not written yet stays queued.
    pub async fn flush(&mut self) -> Result<(), ClientError> {
        if !self.wbuf.is_empty() {
            self.stream.write_all_buf(&mut self.wbuf).await?;
            self.last_sent = Instant::now();
        }
        Ok(())
    }

    fn next_packet_id(&mut self) -> PacketId {
        self.last_packet_id = self.last_packet_id.checked_add(1).unwrap_or(1);
        PacketId::new(self.last_packet_id).unwrap_or(PacketId::MIN)
    }

    /// Sends `publish` without waiting (a packet identifier is assigned for QoS 1 and 2 and
    /// returned); its end comes later as [`Event::Acked`] from [`Client::poll`]. The caller
    /// keeps the number in flight within its window.
    pub async fn start_publish(
        &mut self,
        publish: Publish,
    ) -> Result<Option<PacketId>, ClientError> {
        let id = self.queue_publish(publish)?;
        self.flush().await?;
        Ok(id)
    }

    /// [`Client::start_publish`] without writing: the message waits in the write buffer until
    /// [`Client::flush`] (or the next send, or the next wait for input), so a burst of
    /// messages leaves in one write.
    pub fn queue_publish(&mut self, mut publish: Publish) -> Result<Option<PacketId>, ClientError> {
        publish.packet_id = match publish.qos {
            QoS::AtMostOnce => None,
            qos => {
                let id = self.next_packet_id();
                self.inflight.insert(id.get(), qos);
                Some(id)
            }
        };
        let id = publish.packet_id;
        self.queue(&Packet::Publish(publish))?;
        Ok(id)
    }

    /// Bytes waiting to be written.
    pub fn queued_bytes(&self) -> usize {
        self.wbuf.len()
    }

    /// How many outgoing QoS 1 and 2 messages await their acknowledgement.
    pub fn in_flight(&self) -> usize {
        self.inflight.len()
    }

    /// Publishes `publish` and waits until its QoS flow is complete. Returns the server's
    /// reason code (5.0; Success before).
    pub async fn publish(&mut self, publish: Publish) -> Result<ReasonCode, ClientError> {
        let Some(id) = self.start_publish(publish).await? else {
            return Ok(ReasonCode::Success);
        };
        if let Some(i) = self
            .acked
            .iter()
            .position(|e| matches!(e, Event::Acked { id: a, .. } if *a == id))
        {
            if let Some(Event::Acked { reason, .. }) = self.acked.remove(i) {
                return Ok(reason);
            }
        }
        loop {
            match self.next_event().await? {
                Event::Acked { id: acked, reason } if acked == id => return Ok(reason),
                Event::Message(p) => self.pending.push_back(p),
                other => self.acked.push_back(other),
            }
        }
    }

    /// The next event: a message kept from earlier, an acknowledgement kept from earlier, or
    /// whatever the server sends next. Cancel-safe between packets: bytes read stay buffered
    /// and a half-written packet is finished by the next send.
    pub async fn poll(&mut self) -> Result<Event, ClientError> {
        if let Some(p) = self.pending.pop_front() {
            return Ok(Event::Message(p));
        }
        if let Some(e) = self.acked.pop_front() {
            return Ok(e);
        }
        self.next_event().await
    }

    /// Reads packets until one is an [`Event`], completing QoS 2 outgoing flows (PUBREL).
    async fn next_event(&mut self) -> Result<Event, ClientError> {
        loop {
            match self.next_packet().await? {
                Packet::Publish(p) => return Ok(Event::Message(p)),
                Packet::PubAck(a) | Packet::PubComp(a) => {
                    if self.inflight.remove(&a.packet_id.get()).is_some() {
                        let reason = a.reason_code;
                        return Ok(Event::Acked {
                            id: a.packet_id,
                            reason,
                        });
                    }
                }
                Packet::PubRec(a) => {
                    if a.reason_code.is_error() {
                        if self.inflight.remove(&a.packet_id.get()).is_some() {
                            let reason = a.reason_code;
                            return Ok(Event::Acked {
                                id: a.packet_id,
                                reason,
                            });
                        }
                    } else {
                        self.queue(&Packet::PubRel(self.ack(AckKind::PubRel, a.packet_id)))?;
                    }
                }
                Packet::PingResp => {}
                other => {
                    return Err(ClientError::unexpected(
                        "PUBLISH or an acknowledgement",
                        &other,
                    ))
                }
            }
        }
    }

    /// Subscribes and returns the SUBACK (one reason code per filter).
    pub async fn subscribe(
        &mut self,
        subscriptions: Vec<Subscription>,
        properties: SubscribeProperties,
    ) -> Result<SubAck, ClientError> {
        let packet_id = self.next_packet_id();
        let subscribe = Subscribe {
            packet_id,
            subscriptions,
            properties,
        };
        self.send(&Packet::Subscribe(subscribe)).await?;
        match self.await_reply("SUBACK").await? {
            Packet::SubAck(s) if s.packet_id == packet_id => Ok(s),
            other => Err(ClientError::unexpected("SUBACK", &other)),
        }
    }

    /// Unsubscribes from `filters` and returns the UNSUBACK.
    pub async fn unsubscribe(
        &mut self,
        filters: Vec<MqttString>,
        user_properties: UserProperties,
    ) -> Result<UnsubAck, ClientError> {
        let packet_id = self.next_packet_id();
        let unsubscribe = Unsubscribe {
            packet_id,
            filters,
            user_properties,
        };
        self.send(&Packet::Unsubscribe(unsubscribe)).await?;
        match self.await_reply("UNSUBACK").await? {
            Packet::UnsubAck(u) if u.packet_id == packet_id => Ok(u),
            other => Err(ClientError::unexpected("UNSUBACK", &other)),
        }
    }

    /// Waits for the next packet that is not a message or an acknowledgement of ours (those
    /// are kept for [`Client::poll`]).
    async fn await_reply(&mut self, kind: &'static str) -> Result<Packet, ClientError> {
        loop {
            match self.next_packet().await? {
                Packet::Publish(p) => self.pending.push_back(p),
                Packet::PingResp => {}
                Packet::PubAck(a) | Packet::PubComp(a)
                    if self.inflight.remove(&a.packet_id.get()).is_some() =>
                {
                    let reason = a.reason_code;
                    self.acked.push_back(Event::Acked {
                        id: a.packet_id,
                        reason,
                    });
                }
                Packet::PubRec(a) if !a.reason_code.is_error() => {
                    self.queue(&Packet::PubRel(self.ack(AckKind::PubRel, a.packet_id)))?;
                }
                Packet::PubRec(a) if self.inflight.remove(&a.packet_id.get()).is_some() => {
                    let reason = a.reason_code;
                    self.acked.push_back(Event::Acked {
                        id: a.packet_id,
                        reason,
                    });
                }
                packet @ (Packet::SubAck(_) | Packet::UnsubAck(_)) => return Ok(packet),
                other => return Err(ClientError::unexpected(kind, &other)),
            }
        }
    }

    /// The next application message from the server.
    pub async fn recv(&mut self) -> Result<Publish, ClientError> {
        loop {
            if let Event::Message(p) = self.poll().await? {
                return Ok(p);
            }
        }
    }

    /// Sends DISCONNECT with `reason` (5.0; plain DISCONNECT before) and closes.
    pub async fn disconnect(self, reason: ReasonCode) -> Result<(), ClientError> {
        self.disconnect_with(Disconnect::new(reason)).await
    }

    /// Sends `disconnect` (with its 5.0 properties) and closes.
    pub async fn disconnect_with(mut self, disconnect: Disconnect) -> Result<(), ClientError> {
        self.send(&Packet::Disconnect(disconnect)).await?;
        self.stream.shutdown().await?;
        Ok(())
    }

    /// The next packet that needs the caller, after acknowledging deliveries: a QoS 2 message
    /// resent before PUBREL is not returned twice. A server DISCONNECT is an error.
    async fn next_packet(&mut self) -> Result<Packet, ClientError> {
        loop {
            let packet = self.read_packet().await?;
            match packet {
                Packet::Publish(p) => {
                    if let Some(p) = self.acknowledge(p).await? {
                        return Ok(Packet::Publish(p));
                    }
                }
                Packet::PubRel(a) => {
                    let mut comp = self.ack(AckKind::PubComp, a.packet_id);
                    if !self.incoming_qos2.remove(&a.packet_id.get()) {
                        comp.reason_code = ReasonCode::PacketIdentifierNotFound;
                    }
                    self.queue(&Packet::PubComp(comp))?;
                }
                Packet::Disconnect(d) => return Err(ClientError::Disconnected(d.reason_code)),
                other => return Ok(other),
            }
        }
    }

    async fn acknowledge(&mut self, p: Publish) -> Result<Option<Publish>, ClientError> {
        match (p.qos, p.packet_id) {
            (QoS::AtLeastOnce, Some(id)) => {
                self.queue(&Packet::PubAck(self.ack(AckKind::PubAck, id)))?;
                Ok(Some(p))
            }
            (QoS::ExactlyOnce, Some(id)) => {
                let fresh = self.incoming_qos2.insert(id.get());
                self.queue(&Packet::PubRec(self.ack(AckKind::PubRec, id)))?;
                Ok(fresh.then_some(p))
            }
            _ => Ok(Some(p)),
        }
    }

    /// Reads one packet, sending PINGREQ when the keep alive is due and failing when the
    /// server has been silent for 1.5 keep-alive periods.
    async fn read_packet(&mut self) -> Result<Packet, ClientError> {
        loop {
            if let Some(packet) = decode(&mut self.rbuf, self.version, self.max_packet_in)? {
                self.last_received = Instant::now();
                if let Some(log) = &mut self.log {
                    log.received(&packet);
                }
                return Ok(packet);
            }
            // Nothing more buffered: the queued acknowledgements go out before we wait.
            self.flush().await?;
            let ping_at = self.keep_alive.map(|ka| self.last_sent + ka);
            let read = self.stream.read_buf(&mut self.rbuf);
            let n = match ping_at {
                Some(at) => tokio::select! {
                    n = read => n?,
                    _ = tokio::time::sleep_until(at) => {
                        self.check_server_alive()?;
                        self.send(&Packet::PingReq).await?;
                        continue;
                    }
                },
                None => read.await?,
            };
            if n == 0 {
                return Err(ClientError::Closed);
            }
        }
    }

    fn check_server_alive(&self) -> Result<(), ClientError> {
        match self.keep_alive {
            Some(ka) if self.last_received.elapsed() > ka + ka / 2 => {
                Err(ClientError::Timeout("PINGRESP"))
            }
            _ => Ok(()),
        }
    }
}
