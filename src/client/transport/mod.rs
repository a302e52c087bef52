//! How `mqpub`, `mqsub` and `mqbench` reach a server: TCP, TLS, WebSocket, WebSocket over
//! TLS, or a Unix domain socket, each ending as one [`BoxStream`] for
//! [`Client::handshake`](super::Client::handshake).
//!
//! A [`Target`] says where (from `-h`/`-p`, `--unix`, or a `-L` URL through [`parse_url`]);
//! [`TransportOptions`] says how (TLS settings, `-A` bind address, `--nodelay`, WebSocket
//! headers, a time limit). [`connect`] stacks the layers: resolve and dial (`tcp.rs`), TLS
//! ([`TlsOptions`]; rustls with the ring provider), then the WebSocket upgrade. Files are read
//! and TLS is configured before the first packet is sent, so a missing key file fails fast.
//!
//! Every failure is a [`TransportError`] whose message names what failed; TLS certificate
//! failures say why ([`CertProblem`]). Options rustls cannot honour (OpenSSL engines, PSK,
//! cipher strings, TLS 1.1) are for the CLI layer to reject.
//!
//! Files: `url.rs` (`-L`), `tcp.rs` (sockets), `tls.rs` (configuration and the TLS stream),
//! `verify.rs` (certificate verdicts), `ws.rs` (WebSocket), `error.rs`.

mod error;
mod tcp;
pub(crate) mod tls;
mod url;
mod verify;
pub(crate) mod ws;

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tracing::debug;

use super::ClientError;

pub use error::{transport_in_io, CertProblem, ConnectError, TransportError};
pub use tls::{TlsOptions, TlsVersion};
pub use url::{parse_url, Endpoint, ParsedUrl, Scheme, UrlError, DEFAULT_WS_PATH};

/// A byte stream in both directions: what every transport produces.
pub trait AsyncReadWrite: AsyncRead + AsyncWrite {}

impl<T: AsyncRead + AsyncWrite + ?Sized> AsyncReadWrite for T {}

/// The connected stream, whatever the transport.
pub type BoxStream = Box<dyn AsyncReadWrite + Send + Unpin>;

/// Where the server is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A network endpoint: `mqtt`, `mqtts`, `ws` or `wss`.
    Tcp(Endpoint),
    /// A Unix domain socket path (mosquitto's `--unix`).
    Unix(PathBuf),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tcp(endpoint) => endpoint.fmt(f),
            Target::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// How to connect.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransportOptions {
    /// TLS settings, read for `mqtts` and `wss` targets only (the caller picks the scheme, e.g.
    /// `mqtts` when `--cafile` is given); `None` means the defaults: the OS trust store.
    pub tls: Option<TlsOptions>,
    /// Local address to bind before connecting (mosquitto's `-A`); only server addresses of
    /// the same family are tried.
    pub bind: Option<IpAddr>,
    /// Disable Nagle's algorithm (`--nodelay`).
    pub nodelay: bool,
    /// Extra HTTP headers for the WebSocket upgrade request, e.g. `Authorization`.
    pub ws_headers: Vec<(String, String)>,
    /// Limit for the whole connection (DNS, TCP, TLS, WebSocket); `None` leaves it to the OS.
    pub connect_timeout: Option<Duration>,
}

/// Connects to `target` and returns the stream, ready for MQTT.
pub async fn connect(
    target: &Target,
    opts: &TransportOptions,
) -> Result<BoxStream, TransportError> {
    let attempt = connect_layers(target, opts);
    match opts.connect_timeout {
        Some(after) => {
            tokio::time::timeout(after, attempt)
                .await
                .map_err(|_| TransportError::Timeout {
                    target: target.to_string(),
                    after,
                })?
        }
        None => attempt.await,
    }
}

async fn connect_layers(
    target: &Target,
    opts: &TransportOptions,
) -> Result<BoxStream, TransportError> {
    let endpoint = match target {
        Target::Unix(path) => return tcp::unix(path).await,
        Target::Tcp(endpoint) => endpoint,
    };
    let tls = match endpoint.scheme.is_tls() {
        true => {
            let defaults = TlsOptions::default();
            let tls_opts = opts.tls.as_ref().unwrap_or(&defaults);
            Some(tls::Connector::new(tls_opts, &endpoint.host)?)
        }
        false => None,
    };
    let tcp = tcp::dial(&endpoint.host, endpoint.port, opts.bind, opts.nodelay).await?;
    let mut stream: BoxStream = Box::new(tcp);
    if let Some(connector) = tls {
        stream = Box::new(connector.connect(stream, &endpoint.authority()).await?);
    }
    if endpoint.scheme.is_websocket() {
        stream = Box::new(ws::upgrade(stream, endpoint, &opts.ws_headers).await?);
    }
    debug!(%target, "transport ready");
    Ok(stream)
}
