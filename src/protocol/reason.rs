//! Reason codes: the MQTT 5.0 list (§2.4), which packets may carry each, and the MQTT 3.1.1
//! CONNACK return codes (§3.2.2.3) mapped onto them.

use std::fmt;

use super::PacketType;

macro_rules! reason_codes {
    ($( $(#[$doc:meta])* $name:ident = $value:literal, $text:literal, [$($pt:ident),*]; )*) => {
        /// An MQTT 5.0 reason code (§2.4). Codes that share a value (0x00 is Success, Normal
        /// disconnection and Granted QoS 0) share one variant; see the associated constants.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum ReasonCode {
            $( $(#[$doc])* $name = $value, )*
        }

        impl ReasonCode {
            /// The reason code with this value, if MQTT 5.0 defines one.
            pub fn from_u8(value: u8) -> Option<Self> {
                match value {
                    $( $value => Some(Self::$name), )*
                    _ => None,
                }
            }

            /// The name the specification gives this code.
            pub fn description(self) -> &'static str {
                match self {
                    $( Self::$name => $text, )*
                }
            }

            /// Whether the specification lets a packet of this type carry this code.
            pub fn allowed_in(self, packet: PacketType) -> bool {
                match self {
                    $( Self::$name => matches!(packet, $(PacketType::$pt)|*), )*
                }
            }
        }
    };
}

reason_codes! {
    /// 0x00: Success, Normal disconnection, Granted QoS 0.
    Success = 0x00, "Success", [ConnAck, PubAck, PubRec, PubRel, PubComp, SubAck, UnsubAck, Disconnect, Auth];
    /// 0x01: Granted QoS 1.
    GrantedQoS1 = 0x01, "Granted QoS 1", [SubAck];
    /// 0x02: Granted QoS 2.
    GrantedQoS2 = 0x02, "Granted QoS 2", [SubAck];
    /// 0x04: Disconnect with Will Message.
    DisconnectWithWillMessage = 0x04, "Disconnect with Will Message", [Disconnect];
    /// 0x10: No matching subscribers.
    NoMatchingSubscribers = 0x10, "No matching subscribers", [PubAck, PubRec];
    /// 0x11: No subscription existed.
    NoSubscriptionExisted = 0x11, "No subscription existed", [UnsubAck];
    /// 0x18: Continue authentication.
    ContinueAuthentication = 0x18, "Continue authentication", [Auth];
    /// 0x19: Re-authenticate.
    ReAuthenticate = 0x19, "Re-authenticate", [Auth];
    /// 0x80: Unspecified error.
    UnspecifiedError = 0x80, "Unspecified error", [ConnAck, PubAck, PubRec, SubAck, UnsubAck, Disconnect];
    /// 0x81: Malformed Packet.
    MalformedPacket = 0x81, "Malformed Packet", [ConnAck, Disconnect];
    /// 0x82: Protocol Error.
    ProtocolError = 0x82, "Protocol Error", [ConnAck, Disconnect];
    /// 0x83: Implementation specific error.
    ImplementationSpecificError = 0x83, "Implementation specific error", [ConnAck, PubAck, PubRec, SubAck, UnsubAck, Disconnect];
    /// 0x84: Unsupported Protocol Version.
    UnsupportedProtocolVersion = 0x84, "Unsupported Protocol Version", [ConnAck];
    /// 0x85: Client Identifier not valid.
    ClientIdentifierNotValid = 0x85, "Client Identifier not valid", [ConnAck];
    /// 0x86: Bad User Name or Password.
    BadUserNameOrPassword = 0x86, "Bad User Name or Password", [ConnAck];
    /// 0x87: Not authorized.
    NotAuthorized = 0x87, "Not authorized", [ConnAck, PubAck, PubRec, SubAck, UnsubAck, Disconnect];
    /// 0x88: Server unavailable.
    ServerUnavailable = 0x88, "Server unavailable", [ConnAck];
    /// 0x89: Server busy.
    ServerBusy = 0x89, "Server busy", [ConnAck, Disconnect];
    /// 0x8A: Banned.
    Banned = 0x8A, "Banned", [ConnAck];
    /// 0x8B: Server shutting down.
    ServerShuttingDown = 0x8B, "Server shutting down", [Disconnect];
    /// 0x8C: Bad authentication method.
    BadAuthenticationMethod = 0x8C, "Bad authentication method", [ConnAck, Disconnect];
    /// 0x8D: Keep Alive timeout.
    KeepAliveTimeout = 0x8D, "Keep Alive timeout", [Disconnect];
    /// 0x8E: Session taken over.
    SessionTakenOver = 0x8E, "Session taken over", [Disconnect];
    /// 0x8F: Topic Filter invalid.
    TopicFilterInvalid = 0x8F, "Topic Filter invalid", [SubAck, UnsubAck, Disconnect];
    /// 0x90: Topic Name invalid.
    TopicNameInvalid = 0x90, "Topic Name invalid", [ConnAck, PubAck, PubRec, Disconnect];
    /// 0x91: Packet Identifier in use.
    PacketIdentifierInUse = 0x91, "Packet Identifier in use", [PubAck, PubRec, SubAck, UnsubAck];
    /// 0x92: Packet Identifier not found.
    PacketIdentifierNotFound = 0x92, "Packet Identifier not found", [PubRel, PubComp];
    /// 0x93: Receive Maximum exceeded.
    ReceiveMaximumExceeded = 0x93, "Receive Maximum exceeded", [Disconnect];
    /// 0x94: Topic Alias invalid.
    TopicAliasInvalid = 0x94, "Topic Alias invalid", [Disconnect];
    /// 0x95: Packet too large.
    PacketTooLarge = 0x95, "Packet too large", [ConnAck, Disconnect];
    /// 0x96: Message rate too high.
    MessageRateTooHigh = 0x96, "Message rate too high", [Disconnect];
    /// 0x97: Quota exceeded.
    QuotaExceeded = 0x97, "Quota exceeded", [ConnAck, PubAck, PubRec, SubAck, Disconnect];
    /// 0x98: Administrative action.
    AdministrativeAction = 0x98, "Administrative action", [Disconnect];
    /// 0x99: Payload format invalid.
    PayloadFormatInvalid = 0x99, "Payload format invalid", [ConnAck, PubAck, PubRec, Disconnect];
    /// 0x9A: Retain not supported.
    RetainNotSupported = 0x9A, "Retain not supported", [ConnAck, Disconnect];
    /// 0x9B: QoS not supported.
    QoSNotSupported = 0x9B, "QoS not supported", [ConnAck, Disconnect];
    /// 0x9C: Use another server.
    UseAnotherServer = 0x9C, "Use another server", [ConnAck, Disconnect];
    /// 0x9D: Server moved.
    ServerMoved = 0x9D, "Server moved", [ConnAck, Disconnect];
    /// 0x9E: Shared Subscriptions not supported.
    SharedSubscriptionsNotSupported = 0x9E, "Shared Subscriptions not supported", [SubAck, Disconnect];
    /// 0x9F: Connection rate exceeded.
    ConnectionRateExceeded = 0x9F, "Connection rate exceeded", [ConnAck, Disconnect];
    /// 0xA0: Maximum connect time.
    MaximumConnectTime = 0xA0, "Maximum connect time", [Disconnect];
    /// 0xA1: Subscription Identifiers not supported.
    SubscriptionIdentifiersNotSupported = 0xA1, "Subscription Identifiers not supported", [SubAck, Disconnect];
    /// 0xA2: Wildcard Subscriptions not supported.
    WildcardSubscriptionsNotSupported = 0xA2, "Wildcard Subscriptions not supported", [SubAck, Disconnect];
}

impl ReasonCode {
    /// 0x00 in DISCONNECT.
    pub const NORMAL_DISCONNECTION: ReasonCode = ReasonCode::Success;
    /// 0x00 in SUBACK.
    pub const GRANTED_QOS_0: ReasonCode = ReasonCode::Success;

    /// The code's numeric value.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// Whether this code reports a failure (values 0x80 and above, §2.4).
    pub fn is_error(self) -> bool {
        self.as_u8() >= 0x80
    }

    /// The MQTT 3.1 / 3.1.1 CONNACK return code that says the same (§3.2.2.3). Codes with no
    /// exact 3.1.1 counterpart map to the nearest one, as mosquitto does.
    pub fn to_connect_return_code(self) -> ConnectReturnCode {
        use ReasonCode as R;
        match self {
            R::Success => ConnectReturnCode::Accepted,
            R::UnsupportedProtocolVersion => ConnectReturnCode::UnacceptableProtocolVersion,
            R::ClientIdentifierNotValid => ConnectReturnCode::IdentifierRejected,
            R::BadUserNameOrPassword | R::BadAuthenticationMethod => {
                ConnectReturnCode::BadUserNameOrPassword
            }
            R::NotAuthorized | R::Banned => ConnectReturnCode::NotAuthorized,
            _ => ConnectReturnCode::ServerUnavailable,
        }
    }
}

/// Success, Normal disconnection, Granted QoS 0.
impl Default for ReasonCode {
    fn default() -> Self {
        ReasonCode::Success
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (0x{:02X})", self.description(), self.as_u8())
    }
}

/// The MQTT 3.1 / 3.1.1 CONNACK return codes (3.1.1 §3.2.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ConnectReturnCode {
    /// 0: Connection accepted.
    Accepted = 0,
    /// 1: unacceptable protocol version.
    UnacceptableProtocolVersion = 1,
    /// 2: identifier rejected.
    IdentifierRejected = 2,
    /// 3: server unavailable.
    ServerUnavailable = 3,
    /// 4: bad user name or password.
    BadUserNameOrPassword = 4,
    /// 5: not authorized.
    NotAuthorized = 5,
}

impl ConnectReturnCode {
    /// The return code with this value (0–5).
    pub fn from_u8(value: u8) -> Option<Self> {
        use ConnectReturnCode as C;
        Some(match value {
            0 => C::Accepted,
            1 => C::UnacceptableProtocolVersion,
            2 => C::IdentifierRejected,
            3 => C::ServerUnavailable,
            4 => C::BadUserNameOrPassword,
            5 => C::NotAuthorized,
            _ => return None,
        })
    }

    /// The MQTT 5.0 reason code that says the same.
    pub fn to_reason_code(self) -> ReasonCode {
        use ConnectReturnCode as C;
        match self {
            C::Accepted => ReasonCode::Success,
            C::UnacceptableProtocolVersion => ReasonCode::UnsupportedProtocolVersion,
            C::IdentifierRejected => ReasonCode::ClientIdentifierNotValid,
            C::ServerUnavailable => ReasonCode::ServerUnavailable,
            C::BadUserNameOrPassword => ReasonCode::BadUserNameOrPassword,
            C::NotAuthorized => ReasonCode::NotAuthorized,
        }
    }

    /// The code's numeric value.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// The text the 3.1.1 specification gives this code.
    pub fn description(self) -> &'static str {
        use ConnectReturnCode as C;
        match self {
            C::Accepted => "Connection Accepted",
            C::UnacceptableProtocolVersion => "Connection Refused: unacceptable protocol version",
            C::IdentifierRejected => "Connection Refused: identifier rejected",
            C::ServerUnavailable => "Connection Refused: broker unavailable",
            C::BadUserNameOrPassword => "Connection Refused: bad user name or password",
            C::NotAuthorized => "Connection Refused: not authorised",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_round_trips_or_is_unknown() {
        let mut known = 0;
        for value in 0..=u8::MAX {
            if let Some(code) = ReasonCode::from_u8(value) {
                assert_eq!(code.as_u8(), value);
                known += 1;
            }
        }
        // §2.4 lists 43 distinct values.
        assert_eq!(known, 43);
        assert_eq!(ReasonCode::from_u8(0x03), None);
        assert_eq!(ReasonCode::from_u8(0xA3), None);
    }

    #[test]
    fn allow_lists_follow_the_table_in_section_2_4() {
        assert!(ReasonCode::Success.allowed_in(PacketType::Auth));
        assert!(!ReasonCode::Success.allowed_in(PacketType::Publish));
        assert!(ReasonCode::GrantedQoS2.allowed_in(PacketType::SubAck));
        assert!(!ReasonCode::GrantedQoS2.allowed_in(PacketType::PubAck));
        assert!(ReasonCode::PacketIdentifierNotFound.allowed_in(PacketType::PubRel));
        assert!(!ReasonCode::PacketIdentifierNotFound.allowed_in(PacketType::PubAck));
        assert!(ReasonCode::ServerShuttingDown.allowed_in(PacketType::Disconnect));
        assert!(!ReasonCode::ServerShuttingDown.allowed_in(PacketType::ConnAck));
    }

    #[test]
    fn connect_return_codes_map_both_ways() {
        for value in 0..=5 {
            let code = ConnectReturnCode::from_u8(value).unwrap();
            assert_eq!(code.to_reason_code().to_connect_return_code(), code);
        }
        assert_eq!(ConnectReturnCode::from_u8(6), None);
        assert_eq!(
            ReasonCode::Banned.to_connect_return_code(),
            ConnectReturnCode::NotAuthorized
        );
    }
}
