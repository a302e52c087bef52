//! Harness for the transport tests: certificates made with rcgen in a temp directory
//! ([`Pki`]), Debian's `mosquitto` with the listeners a test needs ([`Mosquitto`]), and MQTT
//! helpers over [`Client::connect_to`].

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use mqkit::client::transport::{Endpoint, Scheme, Target, TlsOptions, TransportOptions};
use mqkit::client::{BoxStream, Client, ConnectError};
use mqkit::protocol::{
    Connect, MqttString, ProtocolVersion, Publish, QoS, SubscribeProperties, Subscription,
    SubscriptionOptions,
};
use mqkit::topic::TopicName;
use rcgen::{date_time_ymd, BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tempfile::TempDir;

/// Every wait in these tests.
pub const WAIT: Duration = Duration::from_secs(10);

/// A certificate and its key, as PEM files.
#[derive(Clone, Debug)]
pub struct CertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A test PKI in a temp directory: a CA and certificates it signed, plus strangers.
pub struct Pki {
    pub dir: TempDir,
    /// The CA the good certificates chain to.
    pub ca: PathBuf,
    /// Another CA, trusted by nobody here.
    pub other_ca: PathBuf,
    /// Server certificate for `localhost` and `127.0.0.1`.
    pub server: CertFiles,
    /// Server certificate for `example.invalid` only.
    pub wrong_name: CertFiles,
    /// Server certificate for `localhost` that expired on 2020-01-02.
    pub expired: CertFiles,
    /// Self-signed server certificate for `localhost`.
    pub self_signed: CertFiles,
    /// Client certificate signed by the CA.
    pub client: CertFiles,
    /// Client certificate signed by the other CA.
    pub stranger_client: CertFiles,
    /// Client certificate signed by the CA that expired on 2020-01-02.
    pub expired_client: CertFiles,
    /// Client certificate signed by the CA, and revoked by [`Pki::crl`].
    pub revoked_client: CertFiles,
    /// The CA's certificate revocation list (PEM), revoking `revoked_client`.
    pub crl: PathBuf,
}

impl Pki {
    pub fn new() -> Pki {
        let dir = tempfile::Builder::new()
            .prefix("mqkit-transport-")
            .tempdir()
            .unwrap();
        let (ca_params, ca_key) = new_ca("mqkit test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let (other_params, other_key) = new_ca("mqkit stranger CA");
        let other_cert = other_params.self_signed(&other_key).unwrap();
        let ca = write(dir.path(), "ca.pem", &ca_cert.pem());
        let other_ca = write(dir.path(), "other-ca.pem", &other_cert.pem());
        let issuer = Issuer::new(ca_params, ca_key);
        let stranger = Issuer::new(other_params, other_key);
        let leaf = |name: &str, sans: &[&str], issuer: Option<&Issuer<'_, KeyPair>>| {
            let (params, key) = leaf_params(sans);
            let cert = match issuer {
                Some(issuer) => params.signed_by(&key, issuer).unwrap(),
                None => params.self_signed(&key).unwrap(),
            };
            CertFiles {
                cert: write(dir.path(), &format!("{name}.pem"), &cert.pem()),
                key: write(dir.path(), &format!("{name}.key"), &key.serialize_pem()),
            }
        };
        let server = leaf("server", &["localhost", "127.0.0.1"], Some(&issuer));
        let wrong_name = leaf("wrong-name", &["example.invalid"], Some(&issuer));
        let self_signed = leaf("self-signed", &["localhost"], None);
        let client = leaf("client", &["mqkit-client"], Some(&issuer));
        let stranger_client = leaf("stranger-client", &["mqkit-stranger"], Some(&stranger));
        let expired_leaf = |name: &str, san: &str| {
            let (mut params, key) = leaf_params(&[san]);
            params.not_before = date_time_ymd(2019, 1, 1);
            params.not_after = date_time_ymd(2020, 1, 2);
            let cert = params.signed_by(&key, &issuer).unwrap();
            CertFiles {
                cert: write(dir.path(), &format!("{name}.pem"), &cert.pem()),
                key: write(dir.path(), &format!("{name}.key"), &key.serialize_pem()),
            }
        };
        let expired = expired_leaf("expired", "localhost");
        let (revoked_client, crl) = {
            let (mut params, key) = leaf_params(&["mqkit-revoked"]);
            let serial = rcgen::SerialNumber::from_slice(&[0x0b, 0xad]);
            params.serial_number = Some(serial.clone());
            let cert = params.signed_by(&key, &issuer).unwrap();
            let crl = rcgen::CertificateRevocationListParams {
                this_update: date_time_ymd(2020, 1, 1),
                next_update: date_time_ymd(2099, 1, 1),
                crl_number: rcgen::SerialNumber::from_slice(&[1]),
                issuing_distribution_point: None,
                revoked_certs: vec![rcgen::RevokedCertParams {
                    serial_number: serial,
                    revocation_time: date_time_ymd(2021, 1, 1),
                    reason_code: Some(rcgen::RevocationReason::KeyCompromise),
                    invalidity_date: None,
                }],
                key_identifier_method: rcgen::KeyIdMethod::Sha256,
            };
            let crl = crl.signed_by(&issuer).unwrap();
            let files = CertFiles {
                cert: write(dir.path(), "revoked.pem", &cert.pem()),
                key: write(dir.path(), "revoked.key", &key.serialize_pem()),
            };
            (files, write(dir.path(), "ca.crl.pem", &crl.pem().unwrap()))
        };
        let expired_client = expired_leaf("expired-client", "mqkit-client");
        Pki {
            dir,
            ca,
            other_ca,
            server,
            wrong_name,
            expired,
            self_signed,
            client,
            stranger_client,
            expired_client,
            revoked_client,
            crl,
        }
    }

    /// A path inside the PKI directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn new_ca(name: &str) -> (CertificateParams, KeyPair) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    (params, KeyPair::generate().unwrap())
}

fn leaf_params(sans: &[&str]) -> (CertificateParams, KeyPair) {
    let sans: Vec<String> = sans.iter().map(|s| s.to_string()).collect();
    let mut params = CertificateParams::new(sans.clone()).unwrap();
    params.distinguished_name.push(DnType::CommonName, &sans[0]);
    (params, KeyPair::generate().unwrap())
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

/// One mosquitto listener.
#[derive(Clone, Debug)]
pub enum Listener {
    /// Plain MQTT.
    Plain,
    /// MQTT over TLS with `server`; the CA file is the PKI's CA.
    Tls {
        server: CertFiles,
        require_certificate: bool,
    },
    /// MQTT over WebSocket.
    Ws,
    /// MQTT over WebSocket over TLS.
    Wss { server: CertFiles },
    /// A Unix domain socket at this path.
    Unix(PathBuf),
}

impl Listener {
    pub fn tls(server: &CertFiles) -> Listener {
        Listener::Tls {
            server: server.clone(),
            require_certificate: false,
        }
    }

    /// The mosquitto.conf lines of this listener (mqbroker reads the same).
    pub fn config(&self, port: u16, ca: &Path) -> String {
        let tls = |server: &CertFiles| {
            format!(
                "cafile {}\ncertfile {}\nkeyfile {}\n",
                ca.display(),
                server.cert.display(),
                server.key.display()
            )
        };
        match self {
            Listener::Plain => format!("listener {port} 127.0.0.1\n"),
            Listener::Tls {
                server,
                require_certificate,
            } => format!(
                "listener {port} 127.0.0.1\n{}require_certificate {require_certificate}\n",
                tls(server)
            ),
            Listener::Ws => format!("listener {port} 127.0.0.1\nprotocol websockets\n"),
            Listener::Wss { server } => format!(
                "listener {port} 127.0.0.1\nprotocol websockets\n{}",
                tls(server)
            ),
            Listener::Unix(path) => format!("listener 0 {}\n", path.display()),
        }
    }
}

/// Whether Debian's mosquitto is installed; missing fails under `CI=true`, else skips.
pub fn mosquitto_installed() -> bool {
    if find_mosquitto().is_some() {
        return true;
    }
    let message = "mosquitto is not installed (apt-get install mosquitto); .ci/run installs it";
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{message}");
    }
    let _ = writeln!(std::io::stderr(), "note: skipping this test: {message}");
    false
}

fn find_mosquitto() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join("mosquitto"))
        .find(|candidate| candidate.is_file())
}

/// A mosquitto process with some listeners, killed when dropped.
pub struct Mosquitto {
    child: Child,
    ports: Vec<u16>,
    log: Arc<Mutex<Vec<String>>>,
}

impl Mosquitto {
    /// Starts mosquitto with `listeners` (ports picked by binding 127.0.0.1:0) and waits for
    /// its "running" log line.
    pub fn start(pki: &Pki, listeners: &[Listener]) -> Mosquitto {
        let ports: Vec<u16> = listeners.iter().map(|_| free_port()).collect();
        // As root, mosquitto would switch to the `mosquitto` user, who cannot read the
        // temp directory; `user root` keeps it (and is ignored when not started as root).
        let mut config = "user root\nallow_anonymous true\npersistence false\n\
                          log_dest stderr\nlog_type all\n"
            .to_string();
        for (listener, port) in listeners.iter().zip(&ports) {
            config += &listener.config(*port, &pki.ca);
        }
        // mosquitto 2.0.11 exits with "Unable to start any listening sockets" when all its
        // listeners are websockets ones: they are not counted.
        config += &Listener::Plain.config(free_port(), &pki.ca);
        let conf = pki.path(&format!("mosquitto-{}.conf", ports[0]));
        fs::write(&conf, &config).unwrap();
        let mut child = Command::new(find_mosquitto().unwrap())
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = read_lines(child.stderr.take().unwrap(), log.clone());
        let mosquitto = Mosquitto { child, ports, log };
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) if line.contains(" running") => return mosquitto,
                Ok(_) => continue,
                Err(_) => {
                    let log = mosquitto.log_text();
                    panic!("mosquitto did not start with\n{config}\nlog:\n{log}")
                }
            }
        }
    }

    fn log_text(&self) -> String {
        let lines = self.log.lock().unwrap_or_else(|e| e.into_inner());
        lines.join("\n")
    }

    /// The port of the `i`th listener.
    pub fn port(&self, i: usize) -> u16 {
        self.ports[i]
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if thread::panicking() {
            eprintln!("mosquitto log:\n{}", self.log_text());
        }
    }
}

fn read_lines(
    source: impl std::io::Read + Send + 'static,
    log: Arc<Mutex<Vec<String>>>,
) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(source).lines().map_while(Result::ok) {
            log.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(line.clone());
            let _ = tx.send(line);
        }
    });
    rx
}

/// A port that was free on 127.0.0.1 a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A network target.
pub fn target(scheme: Scheme, host: &str, port: u16) -> Target {
    Target::Tcp(Endpoint::new(scheme, host, port))
}

/// Options trusting `ca`.
pub fn trusting(ca: &Path) -> TransportOptions {
    with_tls(TlsOptions {
        cafile: Some(ca.to_path_buf()),
        ..TlsOptions::default()
    })
}

/// Options with these TLS settings and a time limit.
pub fn with_tls(tls: TlsOptions) -> TransportOptions {
    TransportOptions {
        tls: Some(tls),
        nodelay: true,
        connect_timeout: Some(WAIT),
        ..TransportOptions::default()
    }
}

/// Connects and performs the MQTT handshake.
pub async fn connect(
    target: &Target,
    opts: &TransportOptions,
    version: ProtocolVersion,
    id: &str,
) -> Result<Client<BoxStream>, ConnectError> {
    let connect = Connect::new(version, MqttString::new(id).unwrap());
    Client::connect_to(target, opts, connect, WAIT).await
}

/// The message of a failed connection, with a panic if it worked.
pub async fn failure(target: &Target, opts: &TransportOptions) -> String {
    match connect(target, opts, ProtocolVersion::V5, "failing").await {
        Ok(_) => panic!("connecting to {target} should fail"),
        Err(e) => e.to_string(),
    }
}

/// Subscribes, publishes a QoS 1 message on a second connection and receives it: the
/// transport carries MQTT both ways.
pub async fn round_trip(target: &Target, opts: &TransportOptions, version: ProtocolVersion) {
    let mut sub = connect(target, opts, version, "rt-sub").await.unwrap();
    let filter = Subscription {
        filter: MqttString::new("transport/test").unwrap(),
        options: SubscriptionOptions {
            qos: QoS::AtLeastOnce,
            ..SubscriptionOptions::default()
        },
    };
    let suback = tokio::time::timeout(
        WAIT,
        sub.subscribe(vec![filter], SubscribeProperties::default()),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(suback.reason_codes.len(), 1);
    let mut publisher = connect(target, opts, version, "rt-pub").await.unwrap();
    // Larger than one TLS record and one small WebSocket frame.
    let payload = "x".repeat(40_000);
    let mut message = Publish::new(TopicName::new("transport/test").unwrap(), payload.clone());
    message.qos = QoS::AtLeastOnce;
    tokio::time::timeout(WAIT, publisher.publish(message))
        .await
        .unwrap()
        .unwrap();
    let got = tokio::time::timeout(WAIT, sub.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&got.payload[..], payload.as_bytes());
    let reason = mqkit::protocol::ReasonCode::Success;
    tokio::time::timeout(WAIT, publisher.disconnect(reason))
        .await
        .unwrap()
        .unwrap();
}
