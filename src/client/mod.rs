//! The client engine `mqpub`, `mqsub` and `mqbench` share: one MQTT connection over any byte
//! stream, with the QoS 1/2 handshakes and keep-alive pings done for the caller.
//!
//! [`Client::handshake`] sends CONNECT and waits for CONNACK (a refusal is
//! [`ClientError::Refused`] with the code on the wire, which the tools use as exit status, as
//! mosquitto's do). [`Client::publish`] returns once the flow of the message's QoS is complete;
//! [`Client::recv`] returns the next message (or other packet) from the server, acknowledging
//! QoS 1 and 2 deliveries itself. While waiting, it sends PINGREQ when nothing was sent for the
//! keep-alive period and gives up when the server stays silent for 1.5 times that.

mod error;
pub mod transport;

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio::time::Instant;

pub use error::ClientError;
pub use transport::{BoxStream, ConnectError, Target, TransportOptions};

use crate::protocol::{
    decode, encode, Ack, ConnAck, Connect, Disconnect, Packet, PacketId, ProtocolVersion, Publish,
    QoS, ReasonCode, SubAck, Subscribe, SubscribeProperties, Subscription,
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

    /// The protocol version in use.
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// Sends one packet.
    pub async fn send(&mut self, packet: &Packet) -> Result<(), ClientError> {
        encode(packet, self.version, &mut self.wbuf)?;
        self.stream.write_all_buf(&mut self.wbuf).await?;
        self.last_sent = Instant::now();
        Ok(())
    }

    fn next_packet_id(&mut self) -> PacketId {
        self.last_packet_id = self.last_packet_id.checked_add(1).unwrap_or(1);
        PacketId::new(self.last_packet_id).unwrap_or(PacketId::MIN)
    }

    /// Publishes `publish` (a packet identifier is assigned for QoS 1 and 2) and waits until
    /// its QoS flow is complete. Returns the server's reason code (5.0; Success before).
    pub async fn publish(&mut self, mut publish: Publish) -> Result<ReasonCode, ClientError> {
        if publish.qos == QoS::AtMostOnce {
            publish.packet_id = None;
            self.send(&Packet::Publish(publish)).await?;
            return Ok(ReasonCode::Success);
        }
        let id = self.next_packet_id();
        publish.packet_id = Some(id);
        let qos = publish.qos;
        self.send(&Packet::Publish(publish)).await?;
        if qos == QoS::AtLeastOnce {
            return Ok(self.await_ack("PUBACK", id).await?.reason_code);
        }
        let rec = self.await_ack("PUBREC", id).await?;
        if rec.reason_code.is_error() {
            return Ok(rec.reason_code);
        }
        self.send(&Packet::PubRel(Ack::new(id))).await?;
        self.await_ack("PUBCOMP", id).await?;
        Ok(rec.reason_code)
    }

    /// Waits for the acknowledgement `kind` of `id`, keeping messages that arrive meanwhile.
    async fn await_ack(&mut self, kind: &'static str, id: PacketId) -> Result<Ack, ClientError> {
        loop {
            match self.next_packet().await? {
                Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubComp(a) if a.packet_id == id => {
                    return Ok(a)
                }
                Packet::Publish(p) => self.pending.push_back(p),
                Packet::PingResp => {}
                other => return Err(ClientError::unexpected(kind, &other)),
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
        loop {
            match self.next_packet().await? {
                Packet::SubAck(s) if s.packet_id == packet_id => return Ok(s),
                Packet::Publish(p) => self.pending.push_back(p),
                Packet::PingResp => {}
                other => return Err(ClientError::unexpected("SUBACK", &other)),
            }
        }
    }

    /// The next application message from the server.
    pub async fn recv(&mut self) -> Result<Publish, ClientError> {
        if let Some(p) = self.pending.pop_front() {
            return Ok(p);
        }
        loop {
            match self.next_packet().await? {
                Packet::Publish(p) => return Ok(p),
                Packet::PingResp => {}
                other => return Err(ClientError::unexpected("PUBLISH", &other)),
            }
        }
    }

    /// Sends DISCONNECT with `reason` (5.0; plain DISCONNECT before) and closes.
    pub async fn disconnect(mut self, reason: ReasonCode) -> Result<(), ClientError> {
        self.send(&Packet::Disconnect(Disconnect::new(reason)))
            .await?;
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
                    let mut comp = Ack::new(a.packet_id);
                    if !self.incoming_qos2.remove(&a.packet_id.get()) {
                        comp.reason_code = ReasonCode::PacketIdentifierNotFound;
                    }
                    self.send(&Packet::PubComp(comp)).await?;
                }
                Packet::Disconnect(d) => return Err(ClientError::Disconnected(d.reason_code)),
                other => return Ok(other),
            }
        }
    }

    async fn acknowledge(&mut self, p: Publish) -> Result<Option<Publish>, ClientError> {
        match (p.qos, p.packet_id) {
            (QoS::AtLeastOnce, Some(id)) => {
                self.send(&Packet::PubAck(Ack::new(id))).await?;
                Ok(Some(p))
            }
            (QoS::ExactlyOnce, Some(id)) => {
                let fresh = self.incoming_qos2.insert(id.get());
                self.send(&Packet::PubRec(Ack::new(id))).await?;
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
                return Ok(packet);
            }
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
