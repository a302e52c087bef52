//! One client connection: the CONNECT handshake, then a single task that reads, handles and
//! writes until the connection ends.
//!
//! The loop selects over: bytes from the socket (only while the write buffer is below its high
//! water mark, so a client that does not read stops being read: back-pressure instead of
//! memory growth), writing the buffer, the session's wake-up (messages queued by publishers), the
//! keep-alive deadline, a takeover and the broker's shutdown. Every packet produced in one pass
//! is appended to one buffer and written with as few syscalls as the socket allows.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{oneshot, watch};
use tokio::time::Instant;

use super::acl::{Action, ClientAcl};
use super::listener::Identity;
use super::logging::CONNECTIONS;
use super::session::Session;
use super::store::{Commit, Durable, Op, StoreError};
use super::{Config, Inner};
use crate::protocol::{
    decode, encode, DecodeError, Disconnect, LastWill, Packet, ProtocolVersion, ReasonCode,
};
use crate::topic::TopicName;

mod handshake;
mod inbound;
mod mount;
mod outbound;
mod read;

/// Stop reading from a client while this much is waiting to be written to it.
const WRITE_HIGH_WATER: usize = 256 * 1024;

/// Acknowledgements that may wait for the store before the client stops being read.
const MAX_PENDING_ACKS: usize = 1024;

/// Packets handled from one client before other connections get a turn.
const PACKETS_PER_TURN: usize = 64;

/// Why a connection ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Close {
    /// DISCONNECT received; the will is discarded [MQTT-3.14.4-3].
    Normal,
    /// 5.0 DISCONNECT 0x04: publish the will.
    WithWill,
    /// The socket closed or failed without DISCONNECT.
    Gone,
    /// The client broke the protocol; 5.0 clients are told why.
    Error(ReasonCode),
    /// Nothing received for 1.5 times the keep alive [MQTT-3.1.2-24].
    KeepAlive,
    /// Another connection took the session over [MQTT-3.1.4-3].
    TakenOver,
    /// The broker is shutting down.
    Shutdown,
}

/// A connection before CONNECT.
pub(crate) struct Connection {
    inner: Arc<Inner>,
    /// The settings when the connection arrived, and their generation.
    config: Arc<Config>,
    generation: u64,
    peer: SocketAddr,
    port: u16,
    /// Whether the client certificate names the user (`use_identity_as_username`).
    identity: Identity,
    /// The user name from the client certificate, if it sent one.
    cert_username: Option<String>,
    /// The listener's topic prefix for its clients.
    mount_point: Option<Arc<str>>,
    /// Which listener (its place in the configuration).
    listener: usize,
}

/// A connection after a successful CONNECT.
pub(crate) struct Client {
    inner: Arc<Inner>,
    /// The settings in force, refreshed when the broker reloads them ([`Client::refresh`]).
    config: Arc<Config>,
    /// The [`Inner::generation`] `config` and `acl` belong to.
    generation: u64,
    /// The user name the client authenticated with.
    username: Option<Arc<str>>,
    /// The ACL rules that apply to this client, when the broker has an ACL file.
    acl: Option<ClientAcl>,
    /// The listener's `mount_point`: prefixed to every topic and filter the client names,
    /// removed from every topic it is sent.
    mount_point: Option<Arc<str>>,
    /// Which listener the client came through (for `per_listener_settings`).
    listener: usize,
    version: ProtocolVersion,
    client_id: Arc<str>,
    session: Arc<Session>,
    conn_no: u64,
    keep_alive: Option<Duration>,
    will: Option<Box<LastWill>>,
    will_delay: u32,
    /// Session Expiry Interval was 0 at CONNECT: DISCONNECT may not raise it (5.0 §3.14.2.2.2).
    expiry_was_zero: bool,
    /// The client's Maximum Packet Size: larger messages are not sent to it [MQTT-3.1.2-25].
    max_packet_out: usize,
    /// How many QoS 1/2 messages may be in flight to the client.
    send_window: usize,
    /// Topic aliases the client set up, by alias.
    aliases: HashMap<u16, TopicName>,
    /// Topic aliases the broker set up towards the client, by topic (5.0 §3.3.2.3.4).
    aliases_out: HashMap<TopicName, std::num::NonZeroU16>,
    /// The client's Topic Alias Maximum: how many `aliases_out` it accepts.
    alias_out_max: u16,
    /// Packet identifiers in flight from an earlier connection, still to be resent, in order.
    resend: std::collections::VecDeque<u16>,
    /// Outgoing bytes not yet written.
    wbuf: BytesMut,
    /// PUBACK / PUBREC waiting for their message's records to be durable, in the order the
    /// PUBLISH packets arrived [MQTT-4.6.0-2, MQTT-4.6.0-3].
    pending_acks: VecDeque<(Option<Commit>, Packet)>,
    /// The store's commit counter, and whether the queue's head waits for a commit.
    commits: Option<tokio::sync::watch::Receiver<u64>>,
    waiting_store: bool,
    /// Subscribers whose queues this client's messages filled past their press mark: the
    /// client is not read until they have room (flow control, see [`Session`]).
    pressing: Vec<Arc<Session>>,
}

impl Connection {
    /// A connection from `peer` on listener number `listener` (bound to `port`).
    pub(crate) fn new(inner: Arc<Inner>, peer: SocketAddr, (port, listener): (u16, usize)) -> Self {
        let generation = inner.generation();
        let config = inner.config().for_listener(Some(listener));
        Connection {
            inner,
            config,
            generation,
            listener,
            peer,
            port,
            identity: Identity::None,
            cert_username: None,
            mount_point: None,
        }
    }

    /// Puts the client's topics under the listener's `mount_point`.
    pub(crate) fn with_mount_point(mut self, mount_point: Option<Arc<str>>) -> Self {
        self.mount_point = mount_point;
        self
    }

    /// Takes the user name from the client certificate, as the listener says.
    pub(crate) fn with_identity(
        mut self,
        identity: Identity,
        cert_username: Option<String>,
    ) -> Self {
        self.identity = identity;
        self.cert_username = cert_username;
        self
    }

    /// Serves the connection until it ends.
    pub(crate) async fn run<S>(self, stream: S, mut stop: watch::Receiver<bool>)
    where
        S: AsyncRead + AsyncWrite + Send + Unpin,
    {
        tracing::info!(target: CONNECTIONS, "New connection from {} on port {}.", self.peer, self.port);
        let (mut rd, mut wr) = tokio::io::split(stream);
        let mut rbuf = BytesMut::new();
        let timeout = self.config.connect_timeout;
        let accepted = tokio::select! {
            r = tokio::time::timeout(timeout, Box::pin(self.handshake(&mut rd, &mut wr, &mut rbuf))) => r,
            _ = stop.changed() => return,
        };
        let (mut client, takeover) = match accepted {
            Ok(Some(accepted)) => accepted,
            Ok(None) => return,
            Err(_) => {
                tracing::info!(
                    "Client {} did not send CONNECT in time, closing.",
                    self.peer
                );
                return;
            }
        };
        let close = client
            .serve(&mut rd, &mut wr, &mut rbuf, takeover, &mut stop)
            .await;
        client.finish(&mut wr, close).await;
    }
}

impl Client {
    async fn serve<R, W>(
        &mut self,
        rd: &mut R,
        wr: &mut W,
        rbuf: &mut BytesMut,
        mut takeover: oneshot::Receiver<ReasonCode>,
        stop: &mut watch::Receiver<bool>,
    ) -> Close
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let session = Arc::clone(&self.session);
        let mut deadline = self.keep_alive_deadline();
        // One timer for the connection's life, moved only when it fires early: resetting a
        // timer for every packet would cost more than the packet.
        let keep_alive = sleep_until(deadline);
        tokio::pin!(keep_alive);
        if let Err(close) = self.drain() {
            return close;
        }
        // Packets already read but not yet handled (a client may pipeline many).
        let mut more = !rbuf.is_empty();
        loop {
            // A client whose answers are not read, whose messages wait for the disk, or whose
            // subscribers are behind, stops being read: back-pressure.
            let can_send = self.wbuf.len() < WRITE_HIGH_WATER;
            let can_read =
                can_send && self.pending_acks.len() < MAX_PENDING_ACKS && self.pressing.is_empty();
            tokio::select! {
                read = read::read_some(rd, rbuf), if can_read && !more => match read {
                    Ok(0) | Err(_) => return Close::Gone,
                    Ok(n) => {
                        self.inner.stats.add_received_bytes(n);
                        match self.handle_input(rbuf, &mut deadline) {
                            Ok(left) => more = left,
                            Err(close) => return close,
                        }
                    }
                },
                // Let other connections run between batches of one client's packets.
                _ = tokio::task::yield_now(), if can_read && more => {
                    match self.handle_input(rbuf, &mut deadline) {
                        Ok(left) => more = left,
                        Err(close) => return close,
                    }
                },
                _ = next_commit(&mut self.commits), if self.waiting_store => {}
                _ = room(&self.pressing), if !self.pressing.is_empty() => {
                    self.pressing.retain(|s| s.pressing());
                },
                committed = first_commit(&mut self.pending_acks), if !self.pending_acks.is_empty() => {
                    if let Err(close) = self.release_acks(committed) {
                        return close;
                    }
                },
                written = wr.write_buf(&mut self.wbuf), if !self.wbuf.is_empty() => match written {
                    Ok(0) | Err(_) => return Close::Gone,
                    Ok(n) => self.inner.stats.add_sent_bytes(n),
                },
                _ = session.wake.notified(), if can_send => {}
                _ = &mut keep_alive => match deadline {
                    Some(at) if at > Instant::now() => keep_alive.set(sleep_until(deadline)),
                    _ => return Close::KeepAlive,
                },
                _ = &mut takeover => return Close::TakenOver,
                _ = stop.changed() => return Close::Shutdown,
            }
            self.refresh();
            if let Err(close) = self.drain() {
                return close;
            }
            if self.wbuf.capacity() > 4 * WRITE_HIGH_WATER && self.wbuf.is_empty() {
                // Give a burst's memory back once it is written.
                self.wbuf = BytesMut::new();
            }
        }
    }

    /// Picks up reloaded settings and ACL rules (SIGHUP).
    fn refresh(&mut self) {
        let generation = self.inner.generation();
        if generation != self.generation {
            self.generation = generation;
            self.config = self.inner.config().for_listener(Some(self.listener));
            self.acl = client_acl(&self.config, self.username.as_deref(), &self.client_id);
        }
    }

    /// Whether the ACL file (if any) lets this client read or write `topic`.
    fn may(&self, action: Action, topic: &str) -> bool {
        self.acl
            .as_ref()
            .is_none_or(|acl| acl.allows(topic, action))
    }

    fn keep_alive_deadline(&self) -> Option<Instant> {
        // 1.5 times the keep alive [MQTT-3.1.2-24].
        self.keep_alive.map(|ka| Instant::now() + ka + ka / 2)
    }

    /// Decodes and handles up to [`PACKETS_PER_TURN`] complete packets in `rbuf`; returns
    /// whether a complete packet may be left.
    fn handle_input(
        &mut self,
        rbuf: &mut BytesMut,
        deadline: &mut Option<Instant>,
    ) -> Result<bool, Close> {
        // Settings reloaded since the last packet apply to this one.
        self.refresh();
        let max = self.config.max_packet_size as usize;
        for n in 0..PACKETS_PER_TURN {
            match decode(rbuf, self.version, max) {
                Ok(Some(packet)) => {
                    if n == 0 {
                        // Packets of one batch arrived together.
                        *deadline = self.keep_alive_deadline();
                    }
                    self.handle(packet)?;
                    if !self.pressing.is_empty() {
                        break;
                    }
                }
                Ok(None) => {
                    read::release(rbuf);
                    return Ok(false);
                }
                Err(e) => return Err(self.malformed(&e)),
            }
            if self.wbuf.len() >= WRITE_HIGH_WATER {
                break;
            }
        }
        read::release(rbuf);
        Ok(!rbuf.is_empty())
    }

    fn malformed(&self, e: &DecodeError) -> Close {
        tracing::info!(
            target: CONNECTIONS,
            "Client {} disconnected due to malformed packet: {e}.",
            self.client_id
        );
        Close::Error(e.reason_code())
    }

    /// Sends the closing DISCONNECT (5.0), flushes, and hands the session back.
    async fn finish<W: AsyncWrite + Unpin>(&mut self, wr: &mut W, close: Close) {
        let reason = match close {
            Close::Error(code) => Some(code),
            Close::KeepAlive => Some(ReasonCode::KeepAliveTimeout),
            Close::TakenOver => Some(ReasonCode::SessionTakenOver),
            Close::Shutdown => Some(ReasonCode::ServerShuttingDown),
            Close::Normal | Close::WithWill | Close::Gone => None,
        };
        match close {
            Close::Normal | Close::WithWill => {
                tracing::info!(target: CONNECTIONS, "Client {} disconnected.", self.client_id)
            }
            Close::Gone => tracing::info!(
                target: CONNECTIONS,
                "Client {} closed its connection.",
                self.client_id
            ),
            Close::KeepAlive => tracing::info!(
                target: CONNECTIONS,
                "Client {} has exceeded timeout, disconnecting.",
                self.client_id
            ),
            _ => {}
        }
        if let Some(code) = reason.filter(|_| self.version.is_v5() && close != Close::Gone) {
            let code = if code.allowed_in(crate::protocol::PacketType::Disconnect) {
                code
            } else {
                ReasonCode::UnspecifiedError
            };
            let _ = encode(
                &Packet::Disconnect(Disconnect::new(code)),
                self.version,
                &mut self.wbuf,
            );
        }
        if close != Close::Gone && !self.wbuf.is_empty() {
            let flush = async {
                let _ = wr.write_all_buf(&mut self.wbuf).await;
                let _ = wr.shutdown().await;
            };
            let _ = tokio::time::timeout(Duration::from_secs(1), flush).await;
        }
        self.inner.stats.client_disconnected();
        self.refresh();
        let will = match close {
            Close::Normal | Close::Shutdown => None,
            _ => self.will.take().map(|w| *w),
        };
        let will = will.filter(|w| {
            // As a PUBLISH: `$SYS` is the broker's, and the ACL applies.
            let topic = w.topic.as_str();
            let allowed = !topic.starts_with("$SYS") && self.may(Action::Write, topic);
            if !allowed {
                tracing::info!("Denied will of {} on '{}'", self.client_id, w.topic);
            }
            allowed
        });
        self.inner
            .close_session(&self.session, self.conn_no, will, self.will_delay);
    }

    /// Sends `ack` once the records in `ops` are durable (at once without a store), keeping
    /// acknowledgements in the order their PUBLISH packets arrived.
    fn ack_after(&mut self, ops: Vec<Op>, ack: Packet) {
        self.ack_after_marked(ops, None, ack);
    }

    /// [`Client::ack_after`], setting `mark` once `ops` are written.
    fn ack_after_marked(&mut self, ops: Vec<Op>, mark: Option<Durable>, ack: Packet) {
        let commit = match &self.inner.store {
            Some(store) if !ops.is_empty() => Some(store.submit_marked(ops, mark)),
            _ => None,
        };
        if commit.is_none() && self.pending_acks.is_empty() {
            self.send(&ack);
        } else {
            self.pending_acks.push_back((commit, ack));
        }
    }

    /// Sends the first waiting acknowledgement, whose commit ended with `committed`, and those
    /// after it that wait for nothing. A failed commit closes the connection without it: the
    /// client resends what was not acknowledged.
    fn release_acks(&mut self, committed: Result<(), StoreError>) -> Result<(), Close> {
        if let Err(e) = committed {
            tracing::error!("Not acknowledging a message of {}: {e}", self.client_id);
            return Err(Close::Error(ReasonCode::UnspecifiedError));
        }
        if let Some((_, ack)) = self.pending_acks.pop_front() {
            self.send(&ack);
        }
        while let Some((None, _)) = self.pending_acks.front() {
            if let Some((_, ack)) = self.pending_acks.pop_front() {
                self.send(&ack);
            }
        }
        Ok(())
    }

    /// Appends `packet` to the write buffer.
    fn send(&mut self, packet: &Packet) {
        if let Err(e) = encode(packet, self.version, &mut self.wbuf) {
            tracing::warn!(
                "not sending {} to {}: {e}",
                packet.packet_type(),
                self.client_id
            );
        }
    }
}

/// The ACL rules for a client, when `config` has an ACL file.
pub(super) fn client_acl(
    config: &Config,
    username: Option<&str>,
    client_id: &str,
) -> Option<ClientAcl> {
    let file = config.acl_file.as_ref()?;
    Some(file.for_client(username, client_id))
}

/// Waits for the store's next commit (forever without a store).
async fn next_commit(commits: &mut Option<tokio::sync::watch::Receiver<u64>>) {
    if let Some(rx) = commits {
        if rx.changed().await.is_ok() {
            return;
        }
    }
    std::future::pending().await
}

/// Waits until the first of the `pressing` sessions has drained its queue (or stopped
/// pressing: gone offline, or pressed for longer than its limit).
async fn room(pressing: &[Arc<Session>]) {
    let Some(session) = pressing.first() else {
        return std::future::pending().await;
    };
    let notified = session.room.notified();
    tokio::pin!(notified);
    // Registered before the check, so a wake-up between the two is not lost.
    notified.as_mut().enable();
    let Some(deadline) = session.pressing_until() else {
        return;
    };
    tokio::select! {
        _ = notified => {}
        _ = tokio::time::sleep_until(deadline) => {}
    }
}

/// Waits for the commit of the first waiting acknowledgement (none: at once).
async fn first_commit(pending: &mut VecDeque<(Option<Commit>, Packet)>) -> Result<(), StoreError> {
    match pending.front_mut() {
        Some((Some(commit), _)) => commit.await,
        _ => Ok(()),
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
