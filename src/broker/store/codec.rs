//! Keys and values of the store's tables, and the [`Record`]s a batch of [`Op`]s becomes.
//!
//! Every value starts with a format byte ([`FORMAT`]). A message is stored as the crate's own
//! MQTT 5.0 PUBLISH packet (topic, flags, properties, Subscription Identifiers, payload) after a
//! small header with what PUBLISH cannot say (expiry deadline, packet id, PUBREL sent), and
//! decoded back with [`protocol::decode`], which is tested against the specification. A will is
//! stored the same way, as the will of an MQTT 5.0 CONNECT.
//!
//! Keys of per-session tables start with the client id's length (u16 big-endian) and bytes, so
//! one client's records are one contiguous key range, and its messages follow in `seq` order
//! (u64 big-endian).

use std::num::NonZeroU32;

use bytes::{BufMut, BytesMut};

use super::{Op, StoredMessage, StoredQueued, StoredSession};
use crate::broker::session::StoredSubscription;
use crate::protocol::{
    self, Connect, MqttString, Packet, PacketId, ProtocolVersion, Publish, QoS, RetainHandling,
    SubscriptionOptions,
};

/// The format byte every value starts with.
pub(super) const FORMAT: u8 = 1;

/// The largest packet the decoder accepts from the store: any the encoder can write.
const MAX_PACKET: usize = usize::MAX;

/// A table of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Table {
    /// Topic → message.
    Retained,
    /// Client id → session.
    Sessions,
    /// Client key + seq → message of a session.
    Messages,
    /// Client key + packet id → nothing.
    IncomingQos2,
}

/// One change to one table, ready for the writer.
#[derive(Debug)]
pub(super) enum Record {
    /// Insert or replace.
    Put {
        table: Table,
        key: Vec<u8>,
        value: Vec<u8>,
    },
    /// Remove if present.
    Delete { table: Table, key: Vec<u8> },
    /// Remove a session and every record under its client key.
    DeleteSession {
        client_id: Vec<u8>,
        client_key: Vec<u8>,
    },
}

/// Why an op cannot be encoded: the record and the reason.
pub(super) type EncodeFault = (String, String);

/// The records of `ops`, or what keeps one of them from being stored.
pub(super) fn records(ops: &[Op]) -> Result<Vec<Record>, EncodeFault> {
    ops.iter().map(record).collect()
}

fn record(op: &Op) -> Result<Record, EncodeFault> {
    use Table as T;
    Ok(match op {
        Op::PutRetained(m) => Record::Put {
            table: T::Retained,
            key: m.topic.as_str().as_bytes().to_vec(),
            value: message_value(m, None, false).map_err(|e| retained(m.topic.as_str(), e))?,
        },
        Op::DeleteRetained { topic } => Record::Delete {
            table: T::Retained,
            key: topic.as_bytes().to_vec(),
        },
        Op::PutSession(s) => Record::Put {
            table: T::Sessions,
            key: s.client_id.as_bytes().to_vec(),
            value: session_value(s).map_err(|e| (format!("session '{}'", s.client_id), e))?,
        },
        Op::DeleteSession { client_id } => Record::DeleteSession {
            client_id: client_id.as_bytes().to_vec(),
            client_key: client_key(client_id)?,
        },
        Op::PutMessage {
            client_id,
            seq,
            message,
            packet_id,
            released,
        } => Record::Put {
            table: T::Messages,
            key: message_key(client_id, *seq)?,
            value: message_value(message, *packet_id, *released)
                .map_err(|e| (format!("message {seq} of '{client_id}'"), e))?,
        },
        Op::DeleteMessage { client_id, seq } => Record::Delete {
            table: T::Messages,
            key: message_key(client_id, *seq)?,
        },
        Op::PutIncomingQos2 {
            client_id,
            packet_id,
        } => Record::Put {
            table: T::IncomingQos2,
            key: qos2_key(client_id, *packet_id)?,
            value: Vec::new(),
        },
        Op::DeleteIncomingQos2 {
            client_id,
            packet_id,
        } => Record::Delete {
            table: T::IncomingQos2,
            key: qos2_key(client_id, *packet_id)?,
        },
    })
}

fn retained(topic: &str, reason: String) -> EncodeFault {
    (format!("retained message '{topic}'"), reason)
}

/// The key prefix of a client's messages and QoS 2 ids: length (u16 BE) and bytes.
pub(super) fn client_key(client_id: &str) -> Result<Vec<u8>, EncodeFault> {
    let len = u16::try_from(client_id.len()).map_err(|_| {
        let what = format!("client identifier of {} bytes", client_id.len());
        (what, "longer than 65,535 bytes".to_owned())
    })?;
    let mut key = Vec::with_capacity(2 + client_id.len() + 8);
    key.extend_from_slice(&len.to_be_bytes());
    key.extend_from_slice(client_id.as_bytes());
    Ok(key)
}

fn message_key(client_id: &str, seq: u64) -> Result<Vec<u8>, EncodeFault> {
    let mut key = client_key(client_id)?;
    key.extend_from_slice(&seq.to_be_bytes());
    Ok(key)
}

fn qos2_key(client_id: &str, packet_id: u16) -> Result<Vec<u8>, EncodeFault> {
    let mut key = client_key(client_id)?;
    key.extend_from_slice(&packet_id.to_be_bytes());
    Ok(key)
}

/// Splits a per-session key into client id and the rest (seq or packet id bytes).
pub(super) fn split_client_key(key: &[u8]) -> Result<(String, &[u8]), String> {
    let mut r = Reader(key);
    let len = usize::from(r.u16()?);
    let id = r.take(len)?;
    let id = String::from_utf8(id.to_vec()).map_err(|_| "client id is not UTF-8".to_owned())?;
    Ok((id, r.0))
}

const HAS_PACKET_ID: u8 = 0x01;
const RELEASED: u8 = 0x02;
const HAS_EXPIRY: u8 = 0x04;

/// `[FORMAT][flags][packet id u16]?[expires_at u64]?[MQTT 5.0 PUBLISH]`.
fn message_value(
    m: &StoredMessage,
    packet_id: Option<u16>,
    released: bool,
) -> Result<Vec<u8>, String> {
    let mut flags = 0;
    if packet_id.is_some() {
        flags |= HAS_PACKET_ID;
    }
    if released {
        flags |= RELEASED;
    }
    if m.expires_at_unix_ms.is_some() {
        flags |= HAS_EXPIRY;
    }
    let mut out = BytesMut::with_capacity(32 + m.topic.len() + m.payload.len());
    out.put_u8(FORMAT);
    out.put_u8(flags);
    if let Some(id) = packet_id {
        out.put_u16(id);
    }
    if let Some(at) = m.expires_at_unix_ms {
        out.put_u64(at);
    }
    protocol::encode(
        &Packet::Publish(to_publish(m)),
        ProtocolVersion::V5,
        &mut out,
    )
    .map_err(|e| e.to_string())?;
    Ok(out.to_vec())
}

fn to_publish(m: &StoredMessage) -> Publish {
    let mut properties = m.properties.clone();
    properties.topic_alias = None;
    properties.subscription_identifiers = m.subscription_ids.clone();
    Publish {
        dup: false,
        qos: m.qos,
        retain: m.retain,
        topic: m.topic.clone(),
        // PUBLISH needs one with QoS > 0; the real one (if any) is in the header.
        packet_id: (m.qos != QoS::AtMostOnce).then_some(PacketId::MIN),
        payload: m.payload.clone(),
        properties,
    }
}

/// Decodes a value written by `message_value`.
pub(super) fn decode_message(value: &[u8]) -> Result<StoredQueued, String> {
    let mut r = Reader(value);
    format(&mut r)?;
    let flags = r.u8()?;
    if flags & !(HAS_PACKET_ID | RELEASED | HAS_EXPIRY) != 0 {
        return Err(format!("unknown flags {flags:#04x}"));
    }
    let packet_id = (flags & HAS_PACKET_ID != 0).then(|| r.u16()).transpose()?;
    let expires_at_unix_ms = (flags & HAS_EXPIRY != 0).then(|| r.u64()).transpose()?;
    let mut buf = BytesMut::from(r.0);
    let packet = protocol::decode(&mut buf, ProtocolVersion::V5, MAX_PACKET);
    let publish = match packet {
        Ok(Some(Packet::Publish(p))) if buf.is_empty() => p,
        Ok(_) => return Err("not one whole PUBLISH packet".to_owned()),
        Err(e) => return Err(format!("bad PUBLISH packet: {e}")),
    };
    let mut properties = publish.properties;
    let subscription_ids = std::mem::take(&mut properties.subscription_identifiers);
    let message = StoredMessage {
        topic: publish.topic,
        payload: publish.payload,
        qos: publish.qos,
        retain: publish.retain,
        properties,
        subscription_ids,
        expires_at_unix_ms,
    };
    Ok(StoredQueued {
        message,
        packet_id,
        released: flags & RELEASED != 0,
    })
}

const OFFLINE: u8 = 0x01;
const HAS_WILL: u8 = 0x02;

/// `[FORMAT][level][expiry u32][flags][offline_since u64]?[last_packet_id u16][n u32]`, then per
/// subscription `[filter len u16][filter][options byte][id u32, 0 = none]`, then when there is a
/// will `[delay u32][MQTT 5.0 CONNECT carrying it]`.
fn session_value(s: &StoredSession) -> Result<Vec<u8>, String> {
    let mut out = BytesMut::with_capacity(64);
    out.put_u8(FORMAT);
    out.put_u8(s.version.level());
    out.put_u32(s.expiry_interval);
    let mut flags = 0;
    if s.offline_since_unix_ms.is_some() {
        flags |= OFFLINE;
    }
    if s.will.is_some() {
        flags |= HAS_WILL;
    }
    out.put_u8(flags);
    if let Some(since) = s.offline_since_unix_ms {
        out.put_u64(since);
    }
    out.put_u16(s.last_packet_id);
    let n = u32::try_from(s.subscriptions.len()).map_err(|_| "too many subscriptions")?;
    out.put_u32(n);
    for (filter, sub) in &s.subscriptions {
        let len = u16::try_from(filter.len()).map_err(|_| "topic filter too long")?;
        out.put_u16(len);
        out.put_slice(filter.as_bytes());
        out.put_u8(sub.options.to_byte(ProtocolVersion::V5));
        out.put_u32(sub.id.map_or(0, NonZeroU32::get));
    }
    if let Some((will, delay)) = &s.will {
        out.put_u32(*delay);
        let mut connect = Connect::new(ProtocolVersion::V5, MqttString::default());
        connect.will = Some(will.clone());
        protocol::encode(
            &Packet::Connect(Box::new(connect)),
            ProtocolVersion::V5,
            &mut out,
        )
        .map_err(|e| format!("will: {e}"))?;
    }
    Ok(out.to_vec())
}

/// Decodes a value written by `session_value` for `client_id`.
pub(super) fn decode_session(client_id: String, value: &[u8]) -> Result<StoredSession, String> {
    let mut r = Reader(value);
    format(&mut r)?;
    let level = r.u8()?;
    let version = ProtocolVersion::from_level(level)
        .ok_or_else(|| format!("unknown protocol level {level}"))?;
    let expiry_interval = r.u32()?;
    let flags = r.u8()?;
    if flags & !(OFFLINE | HAS_WILL) != 0 {
        return Err(format!("unknown flags {flags:#04x}"));
    }
    let offline_since_unix_ms = (flags & OFFLINE != 0).then(|| r.u64()).transpose()?;
    let last_packet_id = r.u16()?;
    let n = r.u32()?;
    // Each subscription takes at least 7 bytes: a count beyond that is damage, not a reason
    // to reserve memory.
    let mut subscriptions = Vec::with_capacity((n as usize).min(r.0.len() / 7));
    for _ in 0..n {
        subscriptions.push(subscription(&mut r)?);
    }
    let will = if flags & HAS_WILL != 0 {
        let delay = r.u32()?;
        Some((decode_will(r.0)?, delay))
    } else if r.0.is_empty() {
        None
    } else {
        return Err(format!("{} trailing bytes", r.0.len()));
    };
    Ok(StoredSession {
        client_id,
        version,
        expiry_interval,
        offline_since_unix_ms,
        subscriptions,
        will,
        last_packet_id,
    })
}

fn subscription(r: &mut Reader) -> Result<(String, StoredSubscription), String> {
    let len = usize::from(r.u16()?);
    let filter = String::from_utf8(r.take(len)?.to_vec())
        .map_err(|_| "topic filter is not UTF-8".to_owned())?;
    let options = options_from_byte(r.u8()?)?;
    let id = NonZeroU32::new(r.u32()?);
    Ok((filter, StoredSubscription { options, id }))
}

/// The inverse of [`SubscriptionOptions::to_byte`] for 5.0.
fn options_from_byte(byte: u8) -> Result<SubscriptionOptions, String> {
    let bad = || format!("bad subscription options {byte:#04x}");
    let retain_handling = match (byte >> 4) & 3 {
        0 => RetainHandling::SendAtSubscribe,
        1 => RetainHandling::SendIfNew,
        2 => RetainHandling::DoNotSend,
        _ => return Err(bad()),
    };
    if byte & 0xC0 != 0 {
        return Err(bad());
    }
    Ok(SubscriptionOptions {
        qos: QoS::from_u8(byte & 3).ok_or_else(bad)?,
        no_local: byte & 0x04 != 0,
        retain_as_published: byte & 0x08 != 0,
        retain_handling,
    })
}

fn decode_will(bytes: &[u8]) -> Result<protocol::LastWill, String> {
    let mut buf = BytesMut::from(bytes);
    match protocol::decode(&mut buf, ProtocolVersion::V5, MAX_PACKET) {
        Ok(Some(Packet::Connect(c))) if buf.is_empty() => {
            c.will.ok_or_else(|| "CONNECT without a will".to_owned())
        }
        Ok(_) => Err("will is not one whole CONNECT packet".to_owned()),
        Err(e) => Err(format!("bad will: {e}")),
    }
}

fn format(r: &mut Reader) -> Result<(), String> {
    match r.u8()? {
        FORMAT => Ok(()),
        other => Err(format!("unknown record format {other}")),
    }
}

/// Checked big-endian reads over a value: running out is an error, never a panic.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err(format!(
                "truncated: {} bytes left, {n} needed",
                self.0.len()
            ));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, String> {
        self.array().map(u16::from_be_bytes)
    }

    fn u32(&mut self) -> Result<u32, String> {
        self.array().map(u32::from_be_bytes)
    }

    fn u64(&mut self) -> Result<u64, String> {
        self.array().map(u64::from_be_bytes)
    }
}
