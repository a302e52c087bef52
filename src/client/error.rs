//! What can go wrong on a client connection.

use crate::protocol::{DecodeError, EncodeError, Packet, ReasonCode};

/// A client connection's failure.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The socket failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The server could not be reached (TCP, TLS, WebSocket).
    #[error(transparent)]
    Transport(#[from] super::transport::TransportError),
    /// The server sent bytes that are not a valid packet.
    #[error("malformed packet from the server: {0}")]
    Decode(#[from] DecodeError),
    /// A packet could not be encoded.
    #[error("{0}")]
    Encode(#[from] EncodeError),
    /// CONNACK refused the connection; `code` is the byte on the wire (3.1.1 return code or
    /// 5.0 reason code).
    #[error("{}", refusal(*code, *reason))]
    Refused {
        /// The CONNACK code as sent.
        code: u8,
        /// The same as a 5.0 reason code.
        reason: ReasonCode,
    },
    /// The server did not answer in time.
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    /// The server closed the connection.
    #[error("the server closed the connection")]
    Closed,
    /// The server sent DISCONNECT.
    #[error("the server disconnected: {0}")]
    Disconnected(ReasonCode),
    /// The server sent a packet that does not fit the exchange.
    #[error("expected {expected} from the server, got {got}")]
    Unexpected {
        /// What was awaited.
        expected: &'static str,
        /// What came.
        got: &'static str,
    },
}

impl ClientError {
    pub(crate) fn unexpected(expected: &'static str, got: &Packet) -> Self {
        ClientError::Unexpected {
            expected,
            got: got.packet_type().name(),
        }
    }
}

/// The 3.1.1 return code's wording (`connection refused: not authorised (return code 5)`), or
/// the 5.0 reason code's.
fn refusal(code: u8, reason: ReasonCode) -> String {
    match crate::protocol::ConnectReturnCode::from_u8(code) {
        Some(rc) if code < 0x80 => {
            let why = rc.description().trim_start_matches("Connection Refused: ");
            format!("connection refused: {why} (return code {code})")
        }
        _ => format!("connection refused: {reason}"),
    }
}
