//! What can be wrong with bytes on the wire, and what the encoder refuses to write.
//!
//! Each [`DecodeError`] variant maps to exactly one MQTT 5.0 reason code
//! ([`DecodeError::reason_code`]): 0x81 Malformed Packet when the bytes cannot be parsed as the
//! specification lays them out, 0x82 Protocol Error when they parse but break a rule, and a more
//! specific code where 5.0 has one (0x95, 0x84, 0x90, 0x94).

use super::{PacketType, ReasonCode, StringError};

/// Why a buffer does not hold a valid packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The remaining length uses more than four bytes, or more than its value needs
    /// [MQTT-1.5.5-1].
    #[error("remaining length is longer than 4 bytes or not minimally encoded")]
    MalformedRemainingLength,
    /// A variable byte integer inside the packet (property length, subscription identifier) uses
    /// more than four bytes, or more than its value needs [MQTT-1.5.5-1].
    #[error("variable byte integer is longer than 4 bytes or not minimally encoded")]
    MalformedVariableInteger,
    /// The packet is larger than the maximum packet size; detected from the fixed header before
    /// the body is read.
    #[error("packet of {size} bytes exceeds the maximum packet size of {max} bytes")]
    PacketTooLarge {
        /// The whole packet's size, fixed header included.
        size: usize,
        /// The limit in force.
        max: usize,
    },
    /// Packet type 0, or 15 (AUTH) before MQTT 5.0.
    #[error("invalid packet type {0}")]
    InvalidPacketType(u8),
    /// Fixed-header flag bits differ from what the packet type requires [MQTT-2.1.3-1].
    #[error("{packet} has reserved fixed-header flags 0x{flags:X} [MQTT-2.1.3-1]")]
    InvalidFixedHeaderFlags {
        /// The packet type.
        packet: PacketType,
        /// The flags found.
        flags: u8,
    },
    /// A QoS field holds 3 [MQTT-3.3.1-4].
    #[error("QoS 3 is not a quality of service [MQTT-3.3.1-4]")]
    InvalidQoS,
    /// A QoS 0 PUBLISH has the DUP flag set [MQTT-3.3.1-2].
    #[error("DUP flag set on a QoS 0 PUBLISH [MQTT-3.3.1-2]")]
    DupOnQoS0,
    /// A packet identifier that must be non-zero is zero [MQTT-2.2.1-3].
    #[error("packet identifier 0 in {0} [MQTT-2.2.1-3]")]
    ZeroPacketId(PacketType),
    /// The packet ends before a field does, or a length overruns the packet.
    #[error("{0} is shorter than its fields")]
    Truncated(PacketType),
    /// Bytes are left after the last field of a packet.
    #[error("{0} has {1} unexpected bytes after its last field")]
    TrailingBytes(PacketType, usize),
    /// A UTF-8 string field is not a valid MQTT string [MQTT-1.5.4-1, MQTT-1.5.4-2].
    #[error("invalid string: {0}")]
    InvalidString(#[from] StringError),
    /// The CONNECT protocol name is neither `MQTT` nor `MQIsdp` [MQTT-3.1.2-1].
    #[error("unknown protocol name {0:?} [MQTT-3.1.2-1]")]
    InvalidProtocolName(String),
    /// The CONNECT protocol level is not 3, 4 or 5, or does not fit the protocol name
    /// [MQTT-3.1.2-2].
    #[error("unsupported protocol level {0} [MQTT-3.1.2-2]")]
    UnsupportedProtocolVersion(u8),
    /// The reserved bit of the CONNECT flags is set [MQTT-3.1.2-3].
    #[error("CONNECT reserved flag is set [MQTT-3.1.2-3]")]
    ConnectReservedFlag,
    /// Will QoS or Will Retain is set without the Will Flag [MQTT-3.1.2-11, MQTT-3.1.2-13].
    #[error("will QoS or retain set without the will flag [MQTT-3.1.2-11]")]
    WillFlagsWithoutWill,
    /// In 3.1 / 3.1.1 the password flag is set without the user name flag [MQTT-3.1.2-22].
    #[error("password flag set without user name flag [MQTT-3.1.2-22]")]
    PasswordWithoutUsername,
    /// A reason code or return code that the packet may not carry.
    #[error("reason code 0x{code:02X} is not valid in {packet}")]
    InvalidReasonCode {
        /// The packet type.
        packet: PacketType,
        /// The code found.
        code: u8,
    },
    /// CONNACK flags other than Session Present are set [MQTT-3.2.2-1].
    #[error("CONNACK reserved flags are set [MQTT-3.2.2-1]")]
    ConnAckReservedFlags,
    /// A property identifier that does not exist, or that this packet may not carry (5.0 §2.2.2.2).
    #[error("property 0x{id:02X} is not allowed in {packet}")]
    PropertyNotAllowed {
        /// The packet type (CONNECT also for will properties).
        packet: PacketType,
        /// The property identifier.
        id: u8,
    },
    /// A property that may appear once appears twice.
    #[error("property 0x{0:02X} appears more than once")]
    DuplicateProperty(u8),
    /// A property has a value the specification forbids (e.g. Receive Maximum 0).
    #[error("property 0x{0:02X} has an invalid value")]
    InvalidPropertyValue(u8),
    /// A Topic Alias of 0 [MQTT-3.3.2-8].
    #[error("topic alias 0 [MQTT-3.3.2-8]")]
    TopicAliasZero,
    /// A PUBLISH topic name contains `+` or `#` [MQTT-3.3.2-2].
    #[error("topic name {0:?} contains a wildcard [MQTT-3.3.2-2]")]
    WildcardInTopicName(String),
    /// A zero-length topic name without a topic alias [MQTT-3.3.2-1, MQTT-4.7.3-1].
    #[error("PUBLISH has an empty topic name and no topic alias [MQTT-4.7.3-1]")]
    EmptyTopicName,
    /// SUBSCRIBE carries no topic filter [MQTT-3.8.3-3].
    #[error("SUBSCRIBE has no topic filter [MQTT-3.8.3-3]")]
    NoSubscriptions,
    /// UNSUBSCRIBE carries no topic filter [MQTT-3.10.3-2].
    #[error("UNSUBSCRIBE has no topic filter [MQTT-3.10.3-2]")]
    NoUnsubscriptions,
    /// Reserved bits of the subscription options are set [MQTT-3.8.3-4, MQTT-3-8.3-5].
    #[error("subscription options 0x{0:02X} have reserved bits set [MQTT-3.8.3-5]")]
    SubscriptionOptionsReserved(u8),
    /// Retain Handling is 3 (5.0 §3.8.3.1).
    #[error("retain handling 3 is not allowed")]
    InvalidRetainHandling,
}

impl DecodeError {
    /// The MQTT 5.0 reason code a receiver sends (in CONNACK or DISCONNECT) for this error.
    pub fn reason_code(&self) -> ReasonCode {
        use DecodeError as E;
        match self {
            E::PacketTooLarge { .. } => ReasonCode::PacketTooLarge,
            E::UnsupportedProtocolVersion(_) => ReasonCode::UnsupportedProtocolVersion,
            E::WildcardInTopicName(_) => ReasonCode::TopicNameInvalid,
            E::TopicAliasZero => ReasonCode::TopicAliasInvalid,
            E::ZeroPacketId(_)
            | E::InvalidProtocolName(_)
            | E::DuplicateProperty(_)
            | E::InvalidPropertyValue(_)
            | E::EmptyTopicName
            | E::NoSubscriptions
            | E::NoUnsubscriptions
            | E::InvalidRetainHandling => ReasonCode::ProtocolError,
            E::MalformedRemainingLength
            | E::MalformedVariableInteger
            | E::InvalidPacketType(_)
            | E::InvalidFixedHeaderFlags { .. }
            | E::InvalidQoS
            | E::DupOnQoS0
            | E::Truncated(_)
            | E::TrailingBytes(..)
            | E::InvalidString(_)
            | E::ConnectReservedFlag
            | E::WillFlagsWithoutWill
            | E::PasswordWithoutUsername
            | E::InvalidReasonCode { .. }
            | E::ConnAckReservedFlags
            | E::PropertyNotAllowed { .. }
            | E::SubscriptionOptionsReserved(_) => ReasonCode::MalformedPacket,
        }
    }
}

/// Why a packet cannot be encoded: the encoder never writes what the decoder would reject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A string or binary field is longer than 65,535 bytes.
    #[error("{field} is {len} bytes long, more than the 65,535 MQTT allows")]
    FieldTooLong {
        /// Which field.
        field: &'static str,
        /// Its length.
        len: usize,
    },
    /// The remaining length would exceed 268,435,455 bytes.
    #[error("packet body of {0} bytes exceeds the 268,435,455 bytes MQTT can frame")]
    PacketTooLarge(usize),
    /// QoS 0 with a packet identifier, or QoS 1/2 without one [MQTT-2.2.1-2].
    #[error("packet identifier must be present exactly when QoS > 0 [MQTT-2.2.1-2]")]
    PacketIdMismatch,
    /// DUP set on QoS 0 [MQTT-3.3.1-2].
    #[error("DUP flag set on a QoS 0 PUBLISH [MQTT-3.3.1-2]")]
    DupOnQoS0,
    /// The packet or a field does not exist in this protocol version (e.g. AUTH before 5.0).
    #[error("{0} cannot be sent with MQTT {1}")]
    NotInVersion(&'static str, super::ProtocolVersion),
    /// The reason code may not appear in this packet type.
    #[error("reason code {code} is not valid in {packet}")]
    InvalidReasonCode {
        /// The packet type.
        packet: PacketType,
        /// The code.
        code: ReasonCode,
    },
    /// A PUBLISH with an empty topic name and no topic alias [MQTT-4.7.3-1].
    #[error("PUBLISH needs a topic name or a topic alias [MQTT-4.7.3-1]")]
    EmptyTopicName,
    /// SUBSCRIBE or UNSUBSCRIBE with no topic filter [MQTT-3.8.3-3, MQTT-3.10.3-2].
    #[error("{0} needs at least one topic filter")]
    NoFilters(PacketType),
    /// A property has a value the specification forbids (e.g. Receive Maximum 0).
    #[error("property {0} has a value MQTT forbids")]
    InvalidPropertyValue(&'static str),
    /// 3.1 / 3.1.1 CONNECT with a password but no user name [MQTT-3.1.2-22].
    #[error("MQTT 3.1.1 cannot send a password without a user name [MQTT-3.1.2-22]")]
    PasswordWithoutUsername,
}
