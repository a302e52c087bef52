//! Reaching the server for the client tools: the resolved CONNECT plus where to send it, and
//! one `connect` that the tools call again to reconnect.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

use crate::cli::connect::{ClientSetup, ConnectArgs};
use crate::client::{Client, ClientError, PacketLog};
use crate::protocol::{Disconnect, ReasonCode};

/// How long a connection attempt (TCP, TLS, WebSocket and CONNACK) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Any byte stream a client runs over.
pub trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

/// A connection to the server, over whichever transport was chosen.
pub type Connection = Client<Box<dyn Stream>>;

/// Everything needed to (re)connect.
pub struct Connector {
    /// The resolved flags.
    pub setup: ClientSetup,
    host: String,
    port: u16,
    nodelay: bool,
    debug: bool,
}

impl Connector {
    /// Builds the connector from the shared flags and their resolution.
    pub fn new(args: &ConnectArgs, setup: ClientSetup) -> Result<Self, String> {
        if args.url.is_some() || args.unix.is_some() || args.ws || args.tls.wanted() {
            return Err("-L, --unix, --ws and TLS are not available yet".into());
        }
        Ok(Connector {
            setup,
            host: args.host.clone(),
            port: args.port.unwrap_or(1883),
            nodelay: args.nodelay,
            debug: args.debug,
        })
    }

    /// Connects and performs the MQTT handshake within [`CONNECT_TIMEOUT`].
    pub async fn connect(&self) -> Result<Connection, ClientError> {
        let attempt = async {
            let stream = tokio::net::TcpStream::connect((self.host.as_str(), self.port)).await?;
            stream.set_nodelay(self.nodelay)?;
            let stream: Box<dyn Stream> = Box::new(stream);
            let log = self
                .debug
                .then(|| PacketLog::stdout(self.setup.connect.client_id.as_str()));
            Client::handshake_logged(stream, self.setup.connect.clone(), log).await
        };
        tokio::time::timeout(CONNECT_TIMEOUT, attempt)
            .await
            .map_err(|_| ClientError::Timeout("CONNACK"))?
    }

    /// The DISCONNECT to end with, carrying the `-D DISCONNECT` properties.
    pub fn disconnect_packet(&self, reason: ReasonCode) -> Disconnect {
        let mut d = Disconnect::new(reason);
        d.properties = self.setup.properties.disconnect.clone();
        d
    }
}
