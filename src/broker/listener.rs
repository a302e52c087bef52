//! Listeners: what a `listener` block of the configuration asks for (port and address, MQTT or
//! WebSockets, TLS with optional client certificates, a connection limit), bound to a socket,
//! and the step from an accepted TCP socket to the byte stream a connection reads: the TLS
//! handshake, then the WebSocket upgrade (subprotocol `mqtt`, MQTT 5.0 §6), each under the
//! CONNECT timeout and each failure logged in one line saying why.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateRevocationListDer;
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::client::transport::tls::{add_ca_dir, add_ca_file, load_certs, load_key};
use crate::client::transport::ws::{self, WsStream};
use crate::client::transport::{BoxStream, TlsVersion};

/// The protocol a listener speaks (mosquitto `protocol`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Protocol {
    /// MQTT over TCP (or TLS).
    #[default]
    Mqtt,
    /// MQTT over WebSockets (or secure WebSockets).
    WebSockets,
}

/// Which addresses a listener without an address binds (mosquitto `socket_domain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// IPv4 only (`0.0.0.0`).
    Ipv4,
    /// IPv6 only (`::`).
    Ipv6,
}

/// A listener's TLS options, mosquitto's names; TLS is on when `certfile` is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// CA certificates that sign client certificates (`cafile`).
    pub cafile: Option<PathBuf>,
    /// A directory of such CA certificates (`capath`).
    pub capath: Option<PathBuf>,
    /// The server certificate chain (`certfile`).
    pub certfile: Option<PathBuf>,
    /// Its private key (`keyfile`).
    pub keyfile: Option<PathBuf>,
    /// Revoked client certificates (`crlfile`).
    pub crlfile: Option<PathBuf>,
    /// Clients must present a certificate signed by the CA (`require_certificate`).
    pub require_certificate: bool,
    /// The client certificate's Common Name is the user name (`use_identity_as_username`).
    pub use_identity_as_username: bool,
    /// The client certificate's subject is the user name (`use_subject_as_username`).
    pub use_subject_as_username: bool,
    /// The lowest TLS version accepted (`tls_version`); TLS 1.2 by default.
    pub tls_version: Option<TlsVersion>,
}

/// One `listener` block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListenerSpec {
    /// The port; 0 picks a free one (printed when ready).
    pub port: u16,
    /// The address to bind; none means every interface of `socket_domain`.
    pub address: Option<IpAddr>,
    /// Bind only IPv4 or only IPv6 when no address is given.
    pub socket_domain: Option<Domain>,
    /// MQTT or WebSockets.
    pub protocol: Protocol,
    /// TLS options.
    pub tls: TlsSettings,
    /// Connections open at once beyond which new ones are closed (`max_connections`).
    pub max_connections: Option<usize>,
    /// Accept connections through this network interface only (`bind_interface`).
    pub bind_interface: Option<String>,
    /// A topic prefix that isolates this listener's clients (`mount_point`).
    pub mount_point: Option<String>,
}

impl ListenerSpec {
    /// Checks what can be checked without binding: the TLS files and options.
    pub fn check(&self) -> Result<(), String> {
        match &self.tls.certfile {
            Some(_) => server_config(&self.tls).map(drop),
            None if self.tls != TlsSettings::default() => {
                Err("TLS options without certfile (and keyfile)".to_owned())
            }
            None => Ok(()),
        }
    }
}

/// What a client certificate gives a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Identity {
    /// Nothing: the CONNECT user name and password count.
    None,
    /// The certificate's Common Name is the user name.
    CommonName,
    /// The certificate's subject is the user name.
    Subject,
}

/// A bound listener.
pub struct Listener {
    tcp: TcpListener,
    pub(crate) shared: Arc<Shared>,
}

/// What every connection of a listener needs to know.
pub(crate) struct Shared {
    tls: Option<TlsAcceptor>,
    websockets: bool,
    pub(crate) identity: Identity,
    /// The listener's `mount_point`.
    pub(crate) mount_point: Option<Arc<str>>,
    max_connections: Option<usize>,
    open: AtomicUsize,
}

impl Listener {
    /// A plain MQTT listener on an already bound socket.
    pub fn plain(tcp: TcpListener) -> Listener {
        Listener {
            tcp,
            shared: Arc::new(Shared {
                tls: None,
                websockets: false,
                identity: Identity::None,
                mount_point: None,
                max_connections: None,
                open: AtomicUsize::new(0),
            }),
        }
    }

    /// Checks `spec` (reading its certificate files) and binds it.
    pub async fn bind(spec: &ListenerSpec) -> Result<Listener, String> {
        spec.check()?;
        let tls = match &spec.tls.certfile {
            Some(_) => Some(TlsAcceptor::from(Arc::new(server_config(&spec.tls)?))),
            None => None,
        };
        let ip = spec.address.unwrap_or(match spec.socket_domain {
            Some(Domain::Ipv6) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        });
        let addr = SocketAddr::new(ip, spec.port);
        let tcp = listen(addr, spec.bind_interface.as_deref())
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let identity = match (&tls, &spec.tls) {
            (Some(_), t) if t.use_identity_as_username => Identity::CommonName,
            (Some(_), t) if t.use_subject_as_username => Identity::Subject,
            _ => Identity::None,
        };
        let shared = Shared {
            tls,
            websockets: spec.protocol == Protocol::WebSockets,
            identity,
            mount_point: spec.mount_point.as_deref().map(Arc::from),
            max_connections: spec.max_connections,
            open: AtomicUsize::new(0),
        };
        Ok(Listener {
            tcp,
            shared: Arc::new(shared),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }

    /// `mqtt://`, `mqtts://`, `ws://` or `wss://` and the address.
    pub fn url(&self) -> io::Result<String> {
        let scheme = match (self.shared.websockets, self.shared.tls.is_some()) {
            (false, false) => "mqtt",
            (false, true) => "mqtts",
            (true, false) => "ws",
            (true, true) => "wss",
        };
        Ok(format!("{scheme}://{}", self.local_addr()?))
    }

    pub(crate) async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        self.tcp.accept().await
    }
}

/// A connection counted against its listener's `max_connections` until dropped.
pub(crate) struct Slot(Arc<Shared>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// An accepted connection, ready for MQTT.
pub(crate) struct Accepted {
    pub(crate) stream: BoxStream,
    /// The user name its client certificate gives, when the listener uses it.
    pub(crate) cert_username: Option<String>,
    pub(crate) _slot: Slot,
}

impl Shared {
    /// Takes a connection slot, or `None` when `max_connections` are open.
    pub(crate) fn slot(self: &Arc<Self>) -> Option<Slot> {
        let open = self.open.fetch_add(1, Ordering::Relaxed);
        let slot = Slot(Arc::clone(self));
        match self.max_connections {
            Some(max) if open >= max => None,
            _ => Some(slot),
        }
    }

    /// The TLS handshake and WebSocket upgrade this listener needs, within `timeout`; `None`
    /// (logged) when one fails.
    pub(crate) async fn establish(
        &self,
        tcp: TcpStream,
        peer: SocketAddr,
        slot: Slot,
        timeout: Duration,
    ) -> Option<Accepted> {
        let work = async {
            let (stream, cert_username) = match &self.tls {
                Some(acceptor) => {
                    let tls = acceptor.accept(tcp).await.map_err(|e| {
                        format!("TLS handshake with {peer} failed: {}", explain(&e))
                    })?;
                    let name = cert_username(tls.get_ref().1.peer_certificates(), self.identity);
                    (Box::new(tls) as BoxStream, name)
                }
                None => (Box::new(tcp) as BoxStream, None),
            };
            let stream = match self.websockets {
                true => upgrade(stream)
                    .await
                    .map_err(|e| format!("WebSocket upgrade from {peer} failed: {e}"))?,
                false => stream,
            };
            Ok::<_, String>((stream, cert_username))
        };
        match tokio::time::timeout(timeout, work).await {
            Ok(Ok((stream, cert_username))) => Some(Accepted {
                stream,
                cert_username,
                _slot: slot,
            }),
            Ok(Err(why)) => {
                tracing::info!("{why}");
                None
            }
            Err(_) => {
                tracing::info!(
                    "Client {peer} did not complete the TLS/WebSocket handshake in time"
                );
                None
            }
        }
    }
}

/// A listening socket on `addr`, tied to `interface` if given (SO_BINDTODEVICE).
fn listen(addr: SocketAddr, interface: Option<&str>) -> io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    if let Some(name) = interface {
        socket
            .bind_device(Some(name.as_bytes()))
            .map_err(|e| io::Error::new(e.kind(), format!("bind_interface {name}: {e}")))?;
    }
    socket.bind(addr)?;
    socket.listen(1024)
}

/// The rustls server configuration of a TLS listener.
fn server_config(t: &TlsSettings) -> Result<ServerConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(crate::client::transport::tls::protocol_versions(
            t.tls_version,
        ))
        .map_err(|e| e.to_string())?;
    let builder = if t.cafile.is_some() || t.capath.is_some() {
        let mut roots = RootCertStore::empty();
        if let Some(file) = &t.cafile {
            add_ca_file(&mut roots, file, "CA file").map_err(|e| e.to_string())?;
        }
        if let Some(dir) = &t.capath {
            add_ca_dir(&mut roots, dir).map_err(|e| e.to_string())?;
        }
        let mut verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
        if let Some(crl) = &t.crlfile {
            verifier = verifier.with_crls(load_crls(crl)?);
        }
        if !t.require_certificate {
            verifier = verifier.allow_unauthenticated();
        }
        let verifier = verifier.build().map_err(|e| e.to_string())?;
        builder.with_client_cert_verifier(verifier)
    } else if t.require_certificate {
        return Err("require_certificate needs cafile or capath".to_owned());
    } else {
        builder.with_no_client_auth()
    };
    let certfile = t.certfile.as_deref().ok_or("TLS needs certfile")?;
    let keyfile = t.keyfile.as_deref().ok_or("certfile needs keyfile")?;
    let certs = load_certs(certfile, "certificate").map_err(|e| e.to_string())?;
    let key = load_key(keyfile).map_err(|e| e.to_string())?;
    builder
        .with_single_cert(certs, key)
        .map_err(|e| format!("{}: {e}", keyfile.display()))
}

fn load_crls(path: &std::path::Path) -> Result<Vec<CertificateRevocationListDer<'static>>, String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    CertificateRevocationListDer::pem_slice_iter(&data)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the CRL file {} is not valid PEM: {e}", path.display()))
}

/// Why a TLS handshake failed, in the words a log reader needs.
fn explain(error: &io::Error) -> String {
    match error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::NoCertificatesPresented) => {
            "the client sent no certificate and require_certificate is true".to_owned()
        }
        Some(rustls::Error::InvalidCertificate(why)) => {
            format!("the client certificate is not accepted: {why:?}")
        }
        Some(other) => other.to_string(),
        None if error.kind() == io::ErrorKind::UnexpectedEof => {
            "the client closed the connection (does it trust our certificate?)".to_owned()
        }
        None => error.to_string(),
    }
}

/// The user name a client certificate gives under `identity`.
fn cert_username(
    certs: Option<&[rustls::pki_types::CertificateDer<'_>]>,
    identity: Identity,
) -> Option<String> {
    let der = certs?.first()?;
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    match identity {
        Identity::None => None,
        Identity::CommonName => cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_owned),
        Identity::Subject => Some(cert.subject().to_string()),
    }
}

/// Accepts the WebSocket upgrade, agreeing to the `mqtt` subprotocol when offered.
async fn upgrade(stream: BoxStream) -> Result<BoxStream, String> {
    let ws = tokio_tungstenite::accept_hdr_async_with_config(stream, agree, Some(ws::config()))
        .await
        .map_err(|e| e.to_string())?;
    Ok(Box::new(WsStream::new(ws)))
}

/// The upgrade callback: answers `Sec-WebSocket-Protocol: mqtt` when the client offers it.
// The error type is tungstenite's callback contract.
#[allow(clippy::result_large_err)]
fn agree(request: &Request, mut response: Response) -> Result<Response, ErrorResponse> {
    let offers_mqtt = request
        .headers()
        .get_all("Sec-WebSocket-Protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case("mqtt"));
    if offers_mqtt {
        let headers = response.headers_mut();
        headers.insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
    }
    Ok(response)
}
