//! Reaching the server for the client tools: the resolved CONNECT plus where to send it, and
//! one `connect` that the tools call again to reconnect.

use std::time::Duration;

use crate::cli::connect::ClientSetup;
use crate::client::transport::{self, BoxStream, Target, TransportOptions};
use crate::client::{Client, ClientError, PacketLog};
use crate::protocol::{Connect, Disconnect, ReasonCode};

/// How long a connection attempt (TCP, TLS, WebSocket and CONNACK) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection to the server, over whichever transport was chosen.
pub type Connection = Client<BoxStream>;

/// Reaches `target` and performs the MQTT handshake, all within [`CONNECT_TIMEOUT`].
pub async fn connect_to(
    target: &Target,
    transport: &TransportOptions,
    connect: Connect,
    log: Option<PacketLog>,
) -> Result<Connection, ClientError> {
    let attempt = async {
        let stream = transport::connect(target, transport).await?;
        Client::handshake_logged(stream, connect, log).await
    };
    tokio::time::timeout(CONNECT_TIMEOUT, attempt)
        .await
        .map_err(|_| ClientError::Timeout("CONNACK"))?
}

/// Everything needed to (re)connect.
pub struct Connector {
    /// The resolved flags.
    pub setup: ClientSetup,
}

impl Connector {
    /// A connector for the resolved flags.
    pub fn new(setup: ClientSetup) -> Self {
        Connector { setup }
    }

    /// Connects and performs the MQTT handshake within [`CONNECT_TIMEOUT`].
    pub async fn connect(&self) -> Result<Connection, ClientError> {
        let setup = &self.setup;
        let log = setup
            .debug
            .then(|| PacketLog::stdout(setup.connect.client_id.as_str()));
        let connect = setup.connect.clone();
        let mut client = connect_to(&setup.target, &setup.transport, connect, log).await?;
        client.set_ack_properties(setup.properties.acks.clone());
        Ok(client)
    }

    /// The DISCONNECT to end with, carrying the `-D DISCONNECT` properties.
    pub fn disconnect_packet(&self, reason: ReasonCode) -> Disconnect {
        let mut d = Disconnect::new(reason);
        d.properties = self.setup.properties.disconnect.clone();
        d
    }
}
