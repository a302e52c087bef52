//! TLS with rustls (ring provider): mosquitto's `--cafile`, `--capath`, `--cert`/`--key`,
//! `--insecure`, `--tls-use-os-certs`, `--tls-version`, `--tls-alpn`, and failures that say
//! what went wrong.
//!
//! Trust: the CA file, every `*.crt` / `*.pem` file of the CA directory (no `openssl rehash`
//! needed), and the operating system's store (rustls-native-certs, which honours
//! `SSL_CERT_FILE` / `SSL_CERT_DIR`) when asked or when no CA is given, as mosquitto does for
//! `mqtts://` URLs. PEM is read with rustls-pki-types.
//!
//! A server that requires a client certificate we lack fails the handshake under TLS 1.2, but
//! under TLS 1.3 it sends its alert (or just closes) after our handshake has completed, so
//! [`TlsStream`] also translates errors on the established stream: it reports
//! [`TransportError::ClientCertRequired`] when the server asked for a certificate, got none,
//! and then failed or closed the connection before sending a byte.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::sign::CertifiedKey;
use rustls::{AlertDescription, CertificateError, ClientConfig, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tracing::{debug, warn};

use super::verify::{AcceptAny, Explaining};
use super::{BoxStream, CertProblem, TransportError};

/// TLS settings, mosquitto's TLS options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM file of trusted CA certificates (`--cafile`).
    pub cafile: Option<PathBuf>,
    /// Directory whose `*.crt` and `*.pem` files are trusted CA certificates (`--capath`).
    pub capath: Option<PathBuf>,
    /// PEM client certificate chain (`--cert`); needs `key`.
    pub cert: Option<PathBuf>,
    /// PEM private key of `cert` (`--key`): PKCS#8, PKCS#1 (RSA) or SEC1 (EC).
    pub key: Option<PathBuf>,
    /// Skip certificate verification entirely (`--insecure`); handshake signatures are still
    /// checked.
    pub insecure: bool,
    /// Also trust the operating system's CA store (`--tls-use-os-certs`). It is used anyway
    /// when neither `cafile` nor `capath` is given.
    pub use_os_certs: bool,
    /// Lowest protocol version (`--tls-version`, a minimum as in mosquitto); `None` = 1.2.
    pub version: Option<TlsVersion>,
    /// ALPN protocol names to offer (`--tls-alpn`).
    pub alpn: Vec<String>,
    /// Name to send as SNI and to verify the certificate against, instead of the host.
    pub server_name: Option<String>,
}

/// The lowest TLS version to accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsVersion {
    /// TLS 1.2 or 1.3 (`tlsv1.2`).
    Tls12,
    /// TLS 1.3 only (`tlsv1.3`).
    Tls13,
}

impl FromStr for TlsVersion {
    type Err = String;

    /// Accepts mosquitto's `tlsv1.2` / `tlsv1.3` (and `1.2` / `1.3`).
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "tlsv1.2" | "1.2" => Ok(TlsVersion::Tls12),
            "tlsv1.3" | "1.3" => Ok(TlsVersion::Tls13),
            "tlsv1.1" | "tlsv1" | "tlsv1.0" | "1.1" | "1.0" | "sslv3" => Err(format!(
                "{s} is not supported (rustls supports TLS 1.2 and 1.3)"
            )),
            _ => Err(format!(
                "unknown TLS version '{s}' (expected tlsv1.2 or tlsv1.3)"
            )),
        }
    }
}

/// The protocol versions `--tls-version` / `tls_version` allows: it names the lowest.
pub(crate) fn protocol_versions(
    lowest: Option<TlsVersion>,
) -> &'static [&'static rustls::SupportedProtocolVersion] {
    static TLS13_ONLY: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
    static TLS12_UP: [&rustls::SupportedProtocolVersion; 2] =
        [&rustls::version::TLS12, &rustls::version::TLS13];
    match lowest {
        Some(TlsVersion::Tls13) => &TLS13_ONLY,
        _ => &TLS12_UP,
    }
}

/// A ready TLS client configuration for one server.
pub(super) struct Connector {
    config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
    auth: ClientAuth,
}

impl Connector {
    /// Reads every file and builds the configuration, before any network traffic.
    pub(super) fn new(opts: &TlsOptions, host: &str) -> Result<Self, TransportError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let name = opts.server_name.as_deref().unwrap_or(host);
        let server_name = ServerName::try_from(name.to_string()).map_err(|_| {
            TransportError::TlsConfig(format!("'{name}' is not a valid server name"))
        })?;
        let versions = protocol_versions(opts.version);
        let verifier = verifier(opts, &provider)?;
        let key = client_key(opts, &provider)?;
        let auth = ClientAuth {
            asked: Arc::new(AtomicBool::new(false)),
            sends_cert: key.is_some(),
            offered: match opts.version {
                Some(TlsVersion::Tls13) => "1.3 only",
                _ => "1.2 and 1.3",
            },
        };
        let resolver = Recording {
            key,
            asked: auth.asked.clone(),
        };
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .map_err(|e| TransportError::TlsConfig(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_client_cert_resolver(Arc::new(resolver));
        config.alpn_protocols = opts.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        Ok(Connector {
            config: Arc::new(config),
            server_name,
            auth,
        })
    }

    /// Performs the TLS handshake on `stream`; `addr` (host:port) is for messages.
    pub(super) async fn connect(
        self,
        stream: BoxStream,
        addr: &str,
    ) -> Result<TlsStream, TransportError> {
        let connector = tokio_rustls::TlsConnector::from(self.config);
        match connector.connect(self.server_name, stream).await {
            Ok(inner) => {
                let (_, session) = inner.get_ref();
                debug!(version = ?session.protocol_version(), alpn = ?session.alpn_protocol().map(String::from_utf8_lossy), "TLS established");
                Ok(TlsStream {
                    inner,
                    auth: self.auth,
                    seen_data: false,
                })
            }
            Err(e) => Err(self.auth.handshake_error(e, addr)),
        }
    }
}

fn verifier(
    opts: &TlsOptions,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn rustls::client::danger::ServerCertVerifier>, TransportError> {
    if opts.insecure {
        warn!("--insecure: the server's certificate is not verified");
        return Ok(Arc::new(AcceptAny {
            algorithms: provider.signature_verification_algorithms,
        }));
    }
    let roots = Arc::new(root_store(opts)?);
    let inner = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
        .build()
        .map_err(|e| TransportError::TlsConfig(e.to_string()))?;
    Ok(Arc::new(Explaining { inner }))
}

fn root_store(opts: &TlsOptions) -> Result<RootCertStore, TransportError> {
    let mut roots = RootCertStore::empty();
    if let Some(file) = &opts.cafile {
        add_ca_file(&mut roots, file, "CA file")?;
    }
    if let Some(dir) = &opts.capath {
        add_ca_dir(&mut roots, dir)?;
    }
    if opts.use_os_certs || (opts.cafile.is_none() && opts.capath.is_none()) {
        add_os_certs(&mut roots)?;
    }
    Ok(roots)
}

pub(crate) fn add_ca_file(
    roots: &mut RootCertStore,
    path: &Path,
    what: &'static str,
) -> Result<(), TransportError> {
    for cert in load_certs(path, what)? {
        roots.add(cert).map_err(|e| TransportError::BadCa {
            path: path.to_path_buf(),
            problem: e.to_string(),
        })?;
    }
    Ok(())
}

pub(crate) fn add_ca_dir(roots: &mut RootCertStore, dir: &Path) -> Result<(), TransportError> {
    let read_error = |error| TransportError::ReadFile {
        what: "CA directory",
        path: dir.to_path_buf(),
        error,
    };
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if matches!(ext, "crt" | "pem") && path.is_file() {
            files.push(path);
        }
    }
    if files.is_empty() {
        return Err(TransportError::EmptyCaPath {
            path: dir.to_path_buf(),
        });
    }
    files.sort();
    for file in &files {
        add_ca_file(roots, file, "CA file")?;
    }
    Ok(())
}

fn add_os_certs(roots: &mut RootCertStore) -> Result<(), TransportError> {
    let found = rustls_native_certs::load_native_certs();
    for error in &found.errors {
        warn!(%error, "reading the operating system's CA store");
    }
    let (added, ignored) = roots.add_parsable_certificates(found.certs);
    debug!(added, ignored, "operating system CA certificates");
    if added == 0 {
        return Err(TransportError::NoOsCerts);
    }
    Ok(())
}

fn read_file(path: &Path, what: &'static str) -> Result<Vec<u8>, TransportError> {
    fs::read(path).map_err(|error| TransportError::ReadFile {
        what,
        path: path.to_path_buf(),
        error,
    })
}

fn pem_error(path: &Path, what: &'static str, problem: String) -> TransportError {
    TransportError::Pem {
        what,
        path: path.to_path_buf(),
        problem,
    }
}

pub(crate) fn load_certs(
    path: &Path,
    what: &'static str,
) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let data = read_file(path, what)?;
    let certs = CertificateDer::pem_slice_iter(&data)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(path, what, format!("is not valid PEM: {e}")))?;
    if certs.is_empty() {
        let problem = "contains no PEM certificate (-----BEGIN CERTIFICATE-----)";
        return Err(pem_error(path, what, problem.to_string()));
    }
    Ok(certs)
}

pub(crate) fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TransportError> {
    let what = "private key";
    let data = read_file(path, what)?;
    PrivateKeyDer::from_pem_slice(&data).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => pem_error(
            path,
            what,
            "contains no PEM private key (-----BEGIN PRIVATE KEY-----)".to_string(),
        ),
        e => pem_error(path, what, format!("is not valid PEM: {e}")),
    })
}

fn client_key(
    opts: &TlsOptions,
    provider: &CryptoProvider,
) -> Result<Option<Arc<CertifiedKey>>, TransportError> {
    let (cert_path, key_path) = match (&opts.cert, &opts.key) {
        (None, None) => return Ok(None),
        (Some(_), None) => return Err(TransportError::CertWithoutKey),
        (None, Some(_)) => return Err(TransportError::KeyWithoutCert),
        (Some(c), Some(k)) => (c, k),
    };
    let chain = load_certs(cert_path, "client certificate")?;
    let bad_key = |problem: String| TransportError::BadKey {
        path: key_path.to_path_buf(),
        problem,
    };
    let key = provider
        .key_provider
        .load_private_key(load_key(key_path)?)
        .map_err(|e| bad_key(format!("cannot be used: {e}")))?;
    let certified = CertifiedKey::new(chain, key);
    match certified.keys_match() {
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            Err(bad_key(format!(
                "does not belong to the certificate {}",
                cert_path.display()
            )))
        }
        _ => Ok(Some(Arc::new(certified))),
    }
}

/// Offers the client certificate (if any) and records whether the server asked for one.
#[derive(Debug)]
struct Recording {
    key: Option<Arc<CertifiedKey>>,
    asked: Arc<AtomicBool>,
}

impl ResolvesClientCert for Recording {
    fn resolve(&self, _hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        self.asked.store(true, Ordering::Relaxed);
        debug!(
            have = self.key.is_some(),
            "the server asks for a client certificate"
        );
        self.key.clone()
    }

    fn has_certs(&self) -> bool {
        self.key.is_some()
    }
}

/// What we know about client authentication (and the versions offered) on one connection.
#[derive(Clone)]
struct ClientAuth {
    asked: Arc<AtomicBool>,
    sends_cert: bool,
    offered: &'static str,
}

impl ClientAuth {
    fn asked_without_cert(&self) -> bool {
        self.asked.load(Ordering::Relaxed) && !self.sends_cert
    }

    fn handshake_error(&self, error: io::Error, addr: &str) -> TransportError {
        let kind = error.kind();
        let rustls_error = error
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>())
            .cloned();
        match rustls_error {
            Some(rustls::Error::AlertReceived(AlertDescription::ProtocolVersion)) => {
                TransportError::TlsVersion {
                    addr: addr.to_string(),
                    offered: self.offered,
                }
            }
            Some(e) => self
                .explain_alert(&e)
                .or_else(|| certificate_problem(&e).map(TransportError::from))
                .unwrap_or_else(|| TransportError::Tls {
                    addr: addr.to_string(),
                    error: e,
                }),
            None if self.asked_without_cert() => TransportError::ClientCertRequired,
            None if is_closed(kind) => TransportError::NotTls {
                addr: addr.to_string(),
            },
            None => TransportError::Connect {
                addr: addr.to_string(),
                error,
            },
        }
    }

    /// Alerts that are about client authentication.
    fn explain_alert(&self, error: &rustls::Error) -> Option<TransportError> {
        use AlertDescription as A;
        let rustls::Error::AlertReceived(alert) = error else {
            return None;
        };
        match alert {
            A::CertificateRequired => Some(TransportError::ClientCertRequired),
            A::HandshakeFailure if self.asked_without_cert() => {
                Some(TransportError::ClientCertRequired)
            }
            A::BadCertificate
            | A::UnsupportedCertificate
            | A::CertificateRevoked
            | A::CertificateExpired
            | A::CertificateUnknown
            | A::UnknownCA
            | A::AccessDenied
                if self.sends_cert =>
            {
                Some(TransportError::ClientCertRejected {
                    alert: format!("{alert:?}"),
                })
            }
            _ => None,
        }
    }
}

/// The [`CertProblem`] our verifier attached to a rustls error.
fn certificate_problem(error: &rustls::Error) -> Option<CertProblem> {
    match error {
        rustls::Error::InvalidCertificate(CertificateError::Other(other)) => {
            other.0.downcast_ref::<CertProblem>().cloned()
        }
        rustls::Error::InvalidCertificate(c) => Some(CertProblem::Other(c.to_string())),
        _ => None,
    }
}

fn is_closed(kind: io::ErrorKind) -> bool {
    matches!(
        kind,
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

/// An established TLS connection whose errors name client-authentication failures.
pub(super) struct TlsStream {
    inner: tokio_rustls::client::TlsStream<BoxStream>,
    auth: ClientAuth,
    /// Whether the server has sent any application data yet.
    seen_data: bool,
}

impl TlsStream {
    fn map_error(&self, error: io::Error) -> io::Error {
        let alert = error
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>())
            .and_then(|e| self.auth.explain_alert(e));
        match alert {
            Some(e) => e.into(),
            None if !self.seen_data
                && self.auth.asked_without_cert()
                && is_closed(error.kind()) =>
            {
                TransportError::ClientCertRequired.into()
            }
            None => error,
        }
    }
}

impl AsyncRead for TlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let wanted = buf.remaining() > 0;
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let eof = wanted && buf.filled().len() == before;
                if eof && !self.seen_data && self.auth.asked_without_cert() {
                    return Poll::Ready(Err(TransportError::ClientCertRequired.into()));
                }
                self.seen_data |= !eof;
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(self.map_error(e))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for TlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(self.map_error(e))),
            other => other,
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.inner).poll_flush(cx) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(self.map_error(e))),
            other => other,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(asked: bool, sends_cert: bool) -> ClientAuth {
        ClientAuth {
            asked: Arc::new(AtomicBool::new(asked)),
            sends_cert,
            offered: "1.2 and 1.3",
        }
    }

    fn explained(auth: &ClientAuth, alert: AlertDescription) -> Option<String> {
        let error = rustls::Error::AlertReceived(alert);
        auth.explain_alert(&error).map(|e| e.to_string())
    }

    /// OpenSSL servers (mosquitto with `require_certificate true`) answer a missing client
    /// certificate with certificate_required under TLS 1.3 and handshake_failure under 1.2.
    #[test]
    fn alerts_about_client_certificates() {
        let required = Some("the server requires a client certificate (--cert/--key)".into());
        assert_eq!(
            explained(&auth(true, false), AlertDescription::CertificateRequired),
            required
        );
        assert_eq!(
            explained(&auth(true, false), AlertDescription::HandshakeFailure),
            required
        );
        // A handshake failure without a certificate request is about something else.
        assert_eq!(
            explained(&auth(false, false), AlertDescription::HandshakeFailure),
            None
        );
        assert_eq!(
            explained(&auth(true, true), AlertDescription::UnknownCA),
            Some("the server rejected our client certificate (TLS alert: UnknownCA)".into())
        );
        assert_eq!(
            explained(&auth(true, false), AlertDescription::UnknownCA),
            None
        );
    }

    /// Under TLS 1.2 the alert ends the handshake itself.
    #[test]
    fn handshake_failure_after_a_certificate_request() {
        let error = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::AlertReceived(AlertDescription::HandshakeFailure),
        );
        let e = auth(true, false).handshake_error(error, "h:8883");
        assert!(matches!(e, TransportError::ClientCertRequired), "{e}");
        let eof = io::Error::from(io::ErrorKind::UnexpectedEof);
        let e = auth(false, false).handshake_error(eof, "h:8883");
        assert_eq!(
            e.to_string(),
            "h:8883 closed the connection during the TLS handshake (is it a TLS port?)"
        );
    }

    #[test]
    fn tls_versions() {
        assert_eq!("tlsv1.2".parse(), Ok(TlsVersion::Tls12));
        assert_eq!("TLSv1.3".parse(), Ok(TlsVersion::Tls13));
        assert_eq!(
            "tlsv1.1".parse::<TlsVersion>().unwrap_err(),
            "tlsv1.1 is not supported (rustls supports TLS 1.2 and 1.3)"
        );
        assert_eq!(
            "tls2".parse::<TlsVersion>().unwrap_err(),
            "unknown TLS version 'tls2' (expected tlsv1.2 or tlsv1.3)"
        );
    }
}
