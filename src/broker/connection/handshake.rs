//! The CONNECT → CONNACK exchange: protocol checks, client identifier rules, session takeover and
//! the CONNACK properties that tell a 5.0 client the broker's limits.

use std::collections::HashMap;
use std::num::{NonZeroU16, NonZeroU32};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::oneshot;

use super::{Client, Connection};
use crate::broker::listener::Identity;
use crate::protocol::{
    decode, encode, ConnAck, ConnAckProperties, Connect, DecodeError, MqttString, Packet,
    PacketType, ProtocolVersion, QoS, ReasonCode,
};

/// A refusal: the reason code (sent as the nearest return code before 5.0).
type Refusal = ReasonCode;

impl Connection {
    /// Reads CONNECT and answers it. `None` when the connection must close.
    pub(super) async fn handshake<R, W>(
        &self,
        rd: &mut R,
        wr: &mut W,
        rbuf: &mut BytesMut,
    ) -> Option<(Box<Client>, oneshot::Receiver<ReasonCode>)>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let connect = self.read_connect(rd, wr, rbuf).await?;
        let version = connect.version;
        let mut out = BytesMut::new();
        match self.accept(*connect, &mut out) {
            Ok(accepted) => {
                let (mut client, takeover) = accepted;
                out.unsplit(std::mem::take(&mut client.wbuf));
                client.wbuf = out;
                // Boxed: the connection's task keeps only a pointer to it across its awaits.
                Some((Box::new(client), takeover))
            }
            Err(code) => {
                let connack = ConnAck::new(code, false);
                tracing::info!(
                    "Sending CONNACK to {} (0, {})",
                    self.peer,
                    connack.code_for(version)
                );
                let _ = encode(&Packet::ConnAck(connack), version, &mut out);
                let _ = wr.write_all(&out).await;
                let _ = wr.shutdown().await;
                None
            }
        }
    }

    /// Reads until a whole first packet is there; it must be CONNECT [MQTT-3.1.0-1].
    async fn read_connect<R, W>(
        &self,
        rd: &mut R,
        wr: &mut W,
        rbuf: &mut BytesMut,
    ) -> Option<Box<Connect>>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let max = self.config.max_packet_size as usize;
        loop {
            let level = connect_level(rbuf);
            match decode(rbuf, ProtocolVersion::V5, max) {
                Ok(Some(Packet::Connect(connect))) => return Some(connect),
                Ok(Some(other)) => {
                    tracing::info!(
                        "Client {} sent {} before CONNECT, closing [MQTT-3.1.0-1].",
                        self.peer,
                        other.packet_type()
                    );
                    return None;
                }
                Ok(None) => {}
                Err(e) => {
                    self.refuse_malformed(wr, &e, level).await;
                    return None;
                }
            }
            match super::read::read_some(rd, rbuf).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.inner.stats.add_received_bytes(n),
            }
        }
    }

    /// Answers a CONNECT that could not be decoded: an unsupported protocol level gets
    /// CONNACK 0x01 [MQTT-3.1.2-2]; a 5.0 CONNECT gets the reason code when CONNACK can carry
    /// it; anything else is just closed.
    async fn refuse_malformed<W: AsyncWrite + Unpin>(
        &self,
        wr: &mut W,
        e: &DecodeError,
        level: Option<u8>,
    ) {
        tracing::info!("Bad CONNECT from {}: {e}", self.peer);
        let code = e.reason_code();
        let version = match (e, level) {
            (DecodeError::UnsupportedProtocolVersion(_), _) => ProtocolVersion::V311,
            (_, Some(5)) if code.allowed_in(PacketType::ConnAck) => ProtocolVersion::V5,
            _ => return,
        };
        let mut out = BytesMut::new();
        let _ = encode(
            &Packet::ConnAck(ConnAck::new(code, false)),
            version,
            &mut out,
        );
        let _ = wr.write_all(&out).await;
        let _ = wr.shutdown().await;
    }

    /// Checks CONNECT, opens the session and writes CONNACK into `out`.
    fn accept(
        &self,
        mut connect: Connect,
        out: &mut BytesMut,
    ) -> Result<(Client, oneshot::Receiver<ReasonCode>), Refusal> {
        let config = &self.config;
        let version = connect.version;
        let v5 = version.is_v5();
        if v5 && connect.properties.authentication_method.is_some() {
            // Enhanced authentication is not supported (5.0 §4.12).
            return Err(ReasonCode::BadAuthenticationMethod);
        }
        if self.identity != Identity::None {
            // use_identity_as_username: the certificate is the credential (as mosquitto, a
            // client without one is refused).
            let name = self
                .cert_username
                .clone()
                .ok_or(ReasonCode::NotAuthorized)?;
            connect.username =
                Some(MqttString::try_from(name).map_err(|_| ReasonCode::NotAuthorized)?);
            connect.password = None;
        } else if !self.authenticated(&connect) {
            // mosquitto answers 5 / 0x87 for a wrong password as for a refused anonymous client.
            return Err(ReasonCode::NotAuthorized);
        }
        let assigned = self.client_id(&connect)?;
        if connect.keep_alive > config.max_keepalive && !v5 {
            return Err(ReasonCode::ClientIdentifierNotValid);
        }
        if let Some(will) = &connect.will {
            if will.qos > config.max_qos {
                return Err(ReasonCode::QoSNotSupported);
            }
            if will.retain && !config.retain_available {
                return Err(ReasonCode::RetainNotSupported);
            }
        }
        if let (Some(mount), Some(will)) = (&self.mount_point, connect.will.as_mut()) {
            will.topic = crate::topic::TopicName::new(&format!("{mount}{}", will.topic))
                .map_err(|_| ReasonCode::TopicNameInvalid)?;
        }
        let client_id: Arc<str> = match &assigned {
            Some(id) => Arc::from(id.as_str()),
            None => Arc::from(connect.client_id.as_str()),
        };
        if !config
            .clientid_prefixes
            .as_ref()
            .is_none_or(|prefix| client_id.starts_with(prefix.as_str()))
        {
            // mosquitto: 5 / 0x87, for assigned identifiers too.
            return Err(ReasonCode::NotAuthorized);
        }
        let expiry = self.session_expiry(&connect);
        let opened =
            self.inner
                .open_session(Arc::clone(&client_id), connect.clean_start, version, expiry);
        let server_keep_alive =
            (v5 && connect.keep_alive > config.max_keepalive).then_some(config.max_keepalive);
        let keep_alive = server_keep_alive.unwrap_or(connect.keep_alive);
        let mut connack = ConnAck::new(ReasonCode::Success, opened.present);
        if v5 {
            connack.properties = self.connack_properties(&connect, assigned, server_keep_alive);
            // Response Information only when asked for [MQTT-3.1.2-28]: a topic prefix under
            // which this client may put its response topics.
            if connect.properties.request_response_information == Some(true) {
                connack.properties.response_information =
                    MqttString::try_from(format!("response/{client_id}")).ok();
            }
            fit_connack(&mut connack, &connect)?;
        }
        tracing::info!(
            target: crate::broker::logging::CONNECTIONS,
            "New client connected from {} as {} (p{}, c{}, k{}{}).",
            self.peer,
            client_id,
            version.level(),
            u8::from(connect.clean_start),
            keep_alive,
            connect
                .username
                .as_ref()
                .map(|u| format!(", u'{u}'"))
                .unwrap_or_default()
        );
        tracing::debug!(
            "Sending CONNACK to {} ({}, 0)",
            client_id,
            u8::from(opened.present)
        );
        let _ = encode(&Packet::ConnAck(connack), version, out);
        self.inner.stats.client_connected();
        let props = &connect.properties;
        let username: Option<Arc<str>> = connect.username.as_ref().map(|u| Arc::from(u.as_str()));
        let client = Client {
            inner: Arc::clone(&self.inner),
            config: Arc::clone(&self.config),
            generation: self.generation,
            acl: super::client_acl(&self.config, username.as_deref(), &client_id),
            username,
            mount_point: self.mount_point.clone(),
            listener: self.listener,
            version,
            client_id,
            session: opened.session,
            conn_no: opened.conn_no,
            keep_alive: (keep_alive > 0).then(|| Duration::from_secs(u64::from(keep_alive))),
            will_delay: connect
                .will
                .as_ref()
                .and_then(|w| w.properties.will_delay_interval)
                .unwrap_or(0),
            will: connect.will.take().map(Box::new),
            expiry_was_zero: v5 && expiry == 0,
            max_packet_out: props
                .maximum_packet_size
                .map_or(usize::MAX, |m| m.get() as usize),
            send_window: props
                .receive_maximum
                .map_or(65_535, |r| r.get())
                .min(config.max_inflight_messages.max(1)) as usize,
            aliases: HashMap::new(),
            aliases_out: HashMap::new(),
            alias_out_max: if v5 {
                props.topic_alias_maximum.unwrap_or(0)
            } else {
                0
            },
            resend: Default::default(),
            wbuf: BytesMut::new(),
            pending_acks: Default::default(),
            commits: self.inner.store.as_ref().map(|s| s.commits()),
            waiting_store: false,
            pressing: Vec::new(),
        };
        let mut client = client;
        if opened.present {
            client.resend = client.session.lock().inflight_in_order().into();
        }
        Ok((client, opened.takeover))
    }

    /// The identifier to assign, if the client sent none (or refusal).
    /// `allow_anonymous` for clients without a user name; with a `password_file`, a user name
    /// and password that match an entry; without one, user names are let in as anonymous
    /// clients are.
    fn authenticated(&self, connect: &Connect) -> bool {
        let config = &self.config;
        match (&connect.username, &config.password_file) {
            (None, _) => config.allow_anonymous,
            (Some(user), Some(file)) => {
                let password = connect.password.as_deref().unwrap_or_default();
                file.check(user.as_str(), password)
            }
            (Some(_), None) => config.allow_anonymous,
        }
    }

    fn client_id(&self, connect: &Connect) -> Result<Option<MqttString>, Refusal> {
        let config = &self.config;
        let id = &connect.client_id;
        if connect.version == ProtocolVersion::V31 && (id.is_empty() || id.len() > 23) {
            // MQTT 3.1 §3.1: 1 to 23 characters.
            return Err(ReasonCode::ClientIdentifierNotValid);
        }
        if !id.is_empty() {
            return Ok(None);
        }
        // 3.1.1: an empty id needs Clean Session 1 [MQTT-3.1.3-8].
        if !config.allow_zero_length_clientid
            || (connect.version == ProtocolVersion::V311 && !connect.clean_start)
        {
            return Err(ReasonCode::ClientIdentifierNotValid);
        }
        let n = self.inner.next_id();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let assigned = format!("{}{:08x}{:08x}", config.auto_id_prefix, n, nanos);
        MqttString::try_from(assigned)
            .map(Some)
            .map_err(|_| ReasonCode::ClientIdentifierNotValid)
    }

    /// The Session Expiry Interval in force: 5.0 from CONNECT, 3.1.1 from Clean Session;
    /// `u32::MAX` never expires. Capped by `persistent_client_expiration`.
    fn session_expiry(&self, connect: &Connect) -> u32 {
        let asked = if connect.version.is_v5() {
            connect.properties.session_expiry_interval.unwrap_or(0)
        } else if connect.clean_start {
            0
        } else {
            u32::MAX
        };
        match self.config.persistent_client_expiration {
            Some(cap) => asked.min(cap.as_secs().min(u64::from(u32::MAX - 1)) as u32),
            None => asked,
        }
    }

    fn connack_properties(
        &self,
        connect: &Connect,
        assigned: Option<MqttString>,
        server_keep_alive: Option<u16>,
    ) -> ConnAckProperties {
        let config = &self.config;
        let asked = connect.properties.session_expiry_interval.unwrap_or(0);
        let granted = self.session_expiry(connect);
        ConnAckProperties {
            session_expiry_interval: (granted != asked).then_some(granted),
            receive_maximum: NonZeroU16::new(config.receive_maximum).filter(|r| r.get() < u16::MAX),
            maximum_qos: (config.max_qos < QoS::ExactlyOnce).then_some(config.max_qos),
            retain_available: (!config.retain_available).then_some(false),
            maximum_packet_size: NonZeroU32::new(config.max_packet_size)
                .filter(|&m| (m.get() as usize) < crate::protocol::MAX_REMAINING_LENGTH),
            assigned_client_identifier: assigned,
            topic_alias_maximum: (config.max_topic_alias > 0).then_some(config.max_topic_alias),
            server_keep_alive,
            ..ConnAckProperties::default()
        }
    }
}

/// Leaves optional CONNACK properties out until it fits the client's Maximum Packet Size
/// [MQTT-3.1.2-24]; a client whose limit is too small even then is refused.
fn fit_connack(connack: &mut ConnAck, connect: &Connect) -> Result<(), Refusal> {
    let Some(max) = connect.properties.maximum_packet_size else {
        return Ok(());
    };
    let fits = |c: &ConnAck| {
        let packet = Packet::ConnAck(c.clone());
        crate::protocol::encoded_len(&packet, ProtocolVersion::V5)
            .is_ok_and(|len| len <= max.get() as usize)
    };
    let droppable: [&mut dyn FnMut(&mut ConnAckProperties); 4] = [
        &mut |p| p.response_information = None,
        &mut |p| p.topic_alias_maximum = None,
        &mut |p| p.receive_maximum = None,
        &mut |p| p.maximum_packet_size = None,
    ];
    for drop_one in droppable {
        if fits(connack) {
            return Ok(());
        }
        drop_one(&mut connack.properties);
    }
    if fits(connack) {
        Ok(())
    } else {
        Err(ReasonCode::PacketTooLarge)
    }
}

/// The protocol level of the CONNECT at the front of `buf`, when enough of it is there.
fn connect_level(buf: &[u8]) -> Option<u8> {
    if buf.first()? >> 4 != PacketType::Connect as u8 {
        return None;
    }
    let header = 1 + buf[1..].iter().position(|b| b & 0x80 == 0)? + 1;
    let name_len = u16::from_be_bytes([*buf.get(header)?, *buf.get(header + 1)?]) as usize;
    buf.get(header + 2 + name_len).copied()
}
