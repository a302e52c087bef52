//! What can go wrong while reaching a server, each failure one line that names what failed:
//! the host, the port, the file, the certificate names, the HTTP status.
//!
//! Underlying errors are folded into the message instead of being exposed as `source()`, so a
//! caller that prints the whole chain (`anyhow`'s `{:#}`) does not repeat them.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use super::ClientError;

/// A connection that could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// DNS resolution failed.
    #[error("cannot resolve host {host}: {error}")]
    Resolve {
        /// The name looked up.
        host: String,
        /// The resolver's error.
        error: io::Error,
    },
    /// The name resolved to no usable address (none, or none of the `-A` address family).
    #[error("host {host} has no {family}address to connect to")]
    NoAddress {
        /// The name looked up.
        host: String,
        /// `"IPv4 "` or `"IPv6 "` when `-A` restricted the family, else empty.
        family: &'static str,
    },
    /// Binding the local address (mosquitto's `-A`) failed.
    #[error("cannot bind the local address {addr}: {error}")]
    Bind {
        /// The address asked for.
        addr: std::net::IpAddr,
        /// The OS error.
        error: io::Error,
    },
    /// Nothing listens on the port.
    #[error("connection refused by {addr} (is the server running and listening on that port?)")]
    Refused {
        /// `host:port` as given.
        addr: String,
    },
    /// Another TCP connect failure (unreachable network, reset, ...).
    #[error("cannot connect to {addr}: {error}")]
    Connect {
        /// `host:port` as given.
        addr: String,
        /// The OS error of the last address tried.
        error: io::Error,
    },
    /// Connecting to a Unix domain socket failed.
    #[error("cannot connect to the Unix socket {}: {error}", path.display())]
    Unix {
        /// The socket path.
        path: PathBuf,
        /// The OS error.
        error: io::Error,
    },
    /// Unix sockets do not exist on this platform.
    #[error("Unix sockets are not supported on this platform")]
    UnixUnsupported,
    /// The whole connection (TCP, TLS, WebSocket) took longer than allowed.
    #[error("timed out after {}s connecting to {target}", after.as_secs_f32())]
    Timeout {
        /// What was being reached.
        target: String,
        /// The limit.
        after: Duration,
    },
    /// A certificate, key or CA file or directory could not be read.
    #[error("cannot read the {what} {}: {error}", path.display())]
    ReadFile {
        /// "CA file", "client certificate", ...
        what: &'static str,
        /// The path given.
        path: PathBuf,
        /// The OS error.
        error: io::Error,
    },
    /// A file is not valid PEM, or holds no item of the expected kind.
    #[error("the {what} {} {problem}", path.display())]
    Pem {
        /// "CA file", "client certificate", ...
        what: &'static str,
        /// The path given.
        path: PathBuf,
        /// e.g. "contains no PEM certificate", "is not valid PEM: ...".
        problem: String,
    },
    /// `--cert` without `--key`.
    #[error("a client certificate (--cert) needs its private key (--key)")]
    CertWithoutKey,
    /// `--key` without `--cert`.
    #[error("a private key (--key) needs its client certificate (--cert)")]
    KeyWithoutCert,
    /// The private key is of a kind rustls cannot sign with, or does not match the certificate.
    #[error("the private key {} {problem}", path.display())]
    BadKey {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// `--capath` holds no `*.crt` / `*.pem` file.
    #[error("no CA certificates (*.crt or *.pem files) in {}", path.display())]
    EmptyCaPath {
        /// The directory.
        path: PathBuf,
    },
    /// A CA certificate cannot serve as a trust anchor.
    #[error("the CA certificate in {} cannot be used: {problem}", path.display())]
    BadCa {
        /// The file holding it.
        path: PathBuf,
        /// Why.
        problem: String,
    },
    /// The operating system's trust store gave no certificate.
    #[error("no trusted CA certificates in the operating system's store; give one with --cafile")]
    NoOsCerts,
    /// Another TLS setting rustls refused (protocol versions, server name).
    #[error("TLS configuration: {0}")]
    TlsConfig(String),
    /// The server's certificate was not accepted.
    #[error(transparent)]
    Certificate(#[from] CertProblem),
    /// The server asked for a client certificate we do not have, then gave up on us.
    #[error("the server requires a client certificate (--cert/--key)")]
    ClientCertRequired,
    /// The server did not accept the client certificate we sent.
    #[error("the server rejected our client certificate (TLS alert: {alert})")]
    ClientCertRejected {
        /// The alert the server sent.
        alert: String,
    },
    /// The peer closed the connection during the TLS handshake.
    #[error("{addr} closed the connection during the TLS handshake (is it a TLS port?)")]
    NotTls {
        /// `host:port`.
        addr: String,
    },
    /// The server supports none of the TLS versions we offer.
    #[error("{addr} supports none of the TLS versions we offer ({offered})")]
    TlsVersion {
        /// `host:port`.
        addr: String,
        /// "1.2 and 1.3" or "1.3 only".
        offered: &'static str,
    },
    /// Another TLS handshake failure.
    #[error("TLS handshake with {addr} failed: {error}")]
    Tls {
        /// `host:port`.
        addr: String,
        /// rustls' error.
        error: rustls::Error,
    },
    /// The server answered the WebSocket upgrade with another HTTP status than 101.
    #[error("{url} refused the WebSocket upgrade: HTTP {status}")]
    WsRefused {
        /// The WebSocket URL.
        url: String,
        /// Status code and reason, e.g. "404 Not Found".
        status: String,
    },
    /// The server did not agree to the `mqtt` subprotocol.
    #[error("{url} did not accept the WebSocket subprotocol \"mqtt\"")]
    WsSubprotocol {
        /// The WebSocket URL.
        url: String,
    },
    /// The peer closed the connection during the upgrade.
    #[error("{url} closed the connection during the WebSocket upgrade (is it a WebSocket port?)")]
    WsClosed {
        /// The WebSocket URL.
        url: String,
    },
    /// A `ws_headers` entry is not a valid HTTP header.
    #[error("invalid WebSocket header '{name}': {problem}")]
    WsHeader {
        /// The header name given.
        name: String,
        /// Why it is invalid.
        problem: String,
    },
    /// Another WebSocket handshake failure.
    #[error("WebSocket upgrade at {url} failed: {problem}")]
    Ws {
        /// The WebSocket URL.
        url: String,
        /// tungstenite's error.
        problem: String,
    },
}

/// Why the server's certificate was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertProblem {
    /// No trusted CA issued it.
    #[error("the server's certificate is not signed by a trusted CA (issuer: {issuer}); give the CA with --cafile or --capath")]
    UnknownIssuer {
        /// The issuer's distinguished name.
        issuer: String,
    },
    /// It is self-signed and not itself trusted.
    #[error("the server's certificate is self-signed ({subject}) and not trusted; give it with --cafile, or use --insecure")]
    SelfSigned {
        /// Its subject's distinguished name.
        subject: String,
    },
    /// Its validity period has ended.
    #[error("the server's certificate expired on {not_after} (it is now {now})")]
    Expired {
        /// End of validity, UTC.
        not_after: String,
        /// The time of the check, UTC.
        now: String,
    },
    /// Its validity period has not begun.
    #[error("the server's certificate is not valid before {not_before} (it is now {now}); check the clocks")]
    NotYetValid {
        /// Start of validity, UTC.
        not_before: String,
        /// The time of the check, UTC.
        now: String,
    },
    /// It does not name the host we connected to.
    #[error("the server's certificate is for {}, not {host}", names_or_none(names))]
    NameMismatch {
        /// The DNS names and IP addresses it is valid for (subjectAltName, else the CN).
        names: Vec<String>,
        /// The name we checked (the host, or `server_name`).
        host: String,
    },
    /// Anything else webpki rejected.
    #[error("the server's certificate was rejected: {0}")]
    Other(String),
}

fn names_or_none(names: &[String]) -> String {
    match names.is_empty() {
        true => "no host name".to_string(),
        false => names.join(", "),
    }
}

/// [`Client::connect_to`](crate::client::Client::connect_to)'s failure: either the transport or the
/// MQTT handshake.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The server could not be reached.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The MQTT handshake failed (including CONNACK refusals, with their code).
    #[error(transparent)]
    Client(#[from] ClientError),
}

impl ConnectError {
    /// The transport failure, also when it surfaced as an I/O error during the MQTT handshake
    /// (with TLS 1.3 a server's rejection of our certificate arrives after the TLS handshake).
    pub fn transport(&self) -> Option<&TransportError> {
        match self {
            ConnectError::Transport(e) => Some(e),
            ConnectError::Client(ClientError::Io(e)) => transport_in_io(e),
            ConnectError::Client(_) => None,
        }
    }
}

/// The [`TransportError`] an I/O error of a transport stream carries, if any.
pub fn transport_in_io(error: &io::Error) -> Option<&TransportError> {
    error.get_ref()?.downcast_ref::<TransportError>()
}

impl From<TransportError> for io::Error {
    fn from(e: TransportError) -> io::Error {
        let kind = match &e {
            TransportError::ClientCertRequired | TransportError::ClientCertRejected { .. } => {
                io::ErrorKind::PermissionDenied
            }
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, e)
    }
}

/// Takes a [`TransportError`] back out of an I/O error that carries one.
pub(super) fn unwrap_io(error: io::Error) -> Result<TransportError, io::Error> {
    if transport_in_io(&error).is_none() {
        return Err(error);
    }
    let kind = error.kind();
    match error
        .into_inner()
        .map(|inner| inner.downcast::<TransportError>())
    {
        Some(Ok(e)) => Ok(*e),
        Some(Err(inner)) => Err(io::Error::new(kind, inner)),
        None => Err(io::Error::from(kind)),
    }
}
