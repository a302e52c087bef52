//! The MQTT wire format, sans-IO: one packet model for MQTT 3.1, 3.1.1 and 5.0.
//!
//! [`decode`] turns bytes from a read buffer into a [`Packet`] and [`encode`] does the reverse;
//! neither touches a socket. Both directions are covered for every packet, so a client decodes what
//! a server encodes and vice versa. Version differences are handled field by field inside each
//! packet's module (`connect.rs`, `publish.rs`, ...), never by copying a module per version.
//!
//! Payloads, topics, strings and binary fields are [`bytes::Bytes`] slices of the read buffer, so
//! decoding a PUBLISH copies nothing. Every way input can be malformed is a [`DecodeError`] that
//! maps to exactly one v5 [`ReasonCode`] (see [`DecodeError::reason_code`]).

mod ack;
mod auth;
mod codec;
mod connack;
mod connect;
mod disconnect;
mod error;
mod properties;
mod publish;
mod reason;
mod string;
mod subscribe;
mod wire;

use std::fmt;
use std::num::NonZeroU16;

pub use ack::{Ack, AckProperties};
pub use auth::{Auth, AuthProperties};
pub use codec::{decode, encode, encoded_len, FixedHeader};
pub use connack::{ConnAck, ConnAckProperties};
pub use connect::{Connect, ConnectProperties, LastWill, WillProperties};
pub use disconnect::{Disconnect, DisconnectProperties};
pub use error::{DecodeError, EncodeError};
pub use properties::{PayloadFormat, UserProperties};
pub use publish::{Publish, PublishProperties};
pub use reason::{ConnectReturnCode, ReasonCode};
pub(crate) use string::contains_any;
pub use string::{MqttString, StringError, MAX_STRING_LEN};
pub use subscribe::{
    RetainHandling, SubAck, Subscribe, SubscribeProperties, Subscription, SubscriptionOptions,
    UnsubAck, Unsubscribe,
};
pub use wire::MAX_REMAINING_LENGTH;

/// The protocol level a connection speaks, as carried in CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProtocolVersion {
    /// MQTT 3.1: protocol name `MQIsdp`, level 3.
    V31,
    /// MQTT 3.1.1: protocol name `MQTT`, level 4.
    V311,
    /// MQTT 5.0: protocol name `MQTT`, level 5.
    V5,
}

impl ProtocolVersion {
    /// The protocol level byte of CONNECT.
    pub fn level(self) -> u8 {
        match self {
            ProtocolVersion::V31 => 3,
            ProtocolVersion::V311 => 4,
            ProtocolVersion::V5 => 5,
        }
    }

    /// The version with this protocol level.
    pub fn from_level(level: u8) -> Option<Self> {
        match level {
            3 => Some(ProtocolVersion::V31),
            4 => Some(ProtocolVersion::V311),
            5 => Some(ProtocolVersion::V5),
            _ => None,
        }
    }

    /// The protocol name CONNECT carries for this version.
    pub fn protocol_name(self) -> &'static str {
        match self {
            ProtocolVersion::V31 => "MQIsdp",
            _ => "MQTT",
        }
    }

    /// Whether this is MQTT 5.0 (properties, reason codes, AUTH).
    pub fn is_v5(self) -> bool {
        self == ProtocolVersion::V5
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProtocolVersion::V31 => "3.1",
            ProtocolVersion::V311 => "3.1.1",
            ProtocolVersion::V5 => "5.0",
        })
    }
}

/// Quality of service of a message or subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[repr(u8)]
pub enum QoS {
    /// 0: at most once.
    #[default]
    AtMostOnce = 0,
    /// 1: at least once.
    AtLeastOnce = 1,
    /// 2: exactly once.
    ExactlyOnce = 2,
}

impl QoS {
    /// The QoS with this value (0, 1 or 2); 3 and above are not QoS levels [MQTT-3.3.1-4].
    pub fn from_u8(value: u8) -> Option<Self> {
        match value {
            0 => Some(QoS::AtMostOnce),
            1 => Some(QoS::AtLeastOnce),
            2 => Some(QoS::ExactlyOnce),
            _ => None,
        }
    }

    /// The numeric value.
    pub fn as_u8(self) -> u8 {
        self as u8
    }
}

/// A packet identifier: never zero [MQTT-2.2.1-3].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PacketId(NonZeroU16);

impl PacketId {
    /// Identifier 1, the first one a sender hands out.
    pub const MIN: PacketId = PacketId(NonZeroU16::MIN);

    /// The identifier with this value; `None` for zero.
    pub fn new(value: u16) -> Option<Self> {
        NonZeroU16::new(value).map(PacketId)
    }

    /// The numeric value.
    pub fn get(self) -> u16 {
        self.0.get()
    }
}

impl fmt::Display for PacketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The type of a control packet: the high four bits of its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PacketType {
    /// 1: client to server connection request.
    Connect = 1,
    /// 2: connection acknowledgement.
    ConnAck = 2,
    /// 3: application message.
    Publish = 3,
    /// 4: QoS 1 acknowledgement.
    PubAck = 4,
    /// 5: QoS 2 delivery, part 1.
    PubRec = 5,
    /// 6: QoS 2 delivery, part 2.
    PubRel = 6,
    /// 7: QoS 2 delivery, part 3.
    PubComp = 7,
    /// 8: subscribe request.
    Subscribe = 8,
    /// 9: subscribe acknowledgement.
    SubAck = 9,
    /// 10: unsubscribe request.
    Unsubscribe = 10,
    /// 11: unsubscribe acknowledgement.
    UnsubAck = 11,
    /// 12: ping request.
    PingReq = 12,
    /// 13: ping response.
    PingResp = 13,
    /// 14: disconnect notification.
    Disconnect = 14,
    /// 15: authentication exchange (MQTT 5.0 only).
    Auth = 15,
}

impl PacketType {
    /// The packet type with this value (1–15).
    pub fn from_u8(value: u8) -> Option<Self> {
        use PacketType as T;
        Some(match value {
            1 => T::Connect,
            2 => T::ConnAck,
            3 => T::Publish,
            4 => T::PubAck,
            5 => T::PubRec,
            6 => T::PubRel,
            7 => T::PubComp,
            8 => T::Subscribe,
            9 => T::SubAck,
            10 => T::Unsubscribe,
            11 => T::UnsubAck,
            12 => T::PingReq,
            13 => T::PingResp,
            14 => T::Disconnect,
            15 => T::Auth,
            _ => return None,
        })
    }

    /// The name the specification uses, e.g. `PUBLISH`.
    pub fn name(self) -> &'static str {
        use PacketType as T;
        match self {
            T::Connect => "CONNECT",
            T::ConnAck => "CONNACK",
            T::Publish => "PUBLISH",
            T::PubAck => "PUBACK",
            T::PubRec => "PUBREC",
            T::PubRel => "PUBREL",
            T::PubComp => "PUBCOMP",
            T::Subscribe => "SUBSCRIBE",
            T::SubAck => "SUBACK",
            T::Unsubscribe => "UNSUBSCRIBE",
            T::UnsubAck => "UNSUBACK",
            T::PingReq => "PINGREQ",
            T::PingResp => "PINGRESP",
            T::Disconnect => "DISCONNECT",
            T::Auth => "AUTH",
        }
    }

    /// The fixed-header flag bits the specification requires for this type, or `None` for
    /// PUBLISH, whose flags carry DUP, QoS and RETAIN [MQTT-2.1.3-1].
    pub fn required_flags(self) -> Option<u8> {
        match self {
            PacketType::Publish => None,
            PacketType::PubRel | PacketType::Subscribe | PacketType::Unsubscribe => Some(0b0010),
            _ => Some(0),
        }
    }
}

impl fmt::Display for PacketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One MQTT control packet of any type and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// CONNECT (client to server).
    Connect(Box<Connect>),
    /// CONNACK (server to client).
    ConnAck(ConnAck),
    /// PUBLISH (both directions).
    Publish(Publish),
    /// PUBACK (both directions).
    PubAck(Ack),
    /// PUBREC (both directions).
    PubRec(Ack),
    /// PUBREL (both directions).
    PubRel(Ack),
    /// PUBCOMP (both directions).
    PubComp(Ack),
    /// SUBSCRIBE (client to server).
    Subscribe(Subscribe),
    /// SUBACK (server to client).
    SubAck(SubAck),
    /// UNSUBSCRIBE (client to server).
    Unsubscribe(Unsubscribe),
    /// UNSUBACK (server to client).
    UnsubAck(UnsubAck),
    /// PINGREQ (client to server).
    PingReq,
    /// PINGRESP (server to client).
    PingResp,
    /// DISCONNECT (client to server; also server to client in 5.0).
    Disconnect(Disconnect),
    /// AUTH (both directions, 5.0 only).
    Auth(Auth),
}

impl Packet {
    /// The packet's type.
    pub fn packet_type(&self) -> PacketType {
        use PacketType as T;
        match self {
            Packet::Connect(_) => T::Connect,
            Packet::ConnAck(_) => T::ConnAck,
            Packet::Publish(_) => T::Publish,
            Packet::PubAck(_) => T::PubAck,
            Packet::PubRec(_) => T::PubRec,
            Packet::PubRel(_) => T::PubRel,
            Packet::PubComp(_) => T::PubComp,
            Packet::Subscribe(_) => T::Subscribe,
            Packet::SubAck(_) => T::SubAck,
            Packet::Unsubscribe(_) => T::Unsubscribe,
            Packet::UnsubAck(_) => T::UnsubAck,
            Packet::PingReq => T::PingReq,
            Packet::PingResp => T::PingResp,
            Packet::Disconnect(_) => T::Disconnect,
            Packet::Auth(_) => T::Auth,
        }
    }
}
