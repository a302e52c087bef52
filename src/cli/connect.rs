//! The connection flags `mqpub` and `mqsub` share, spelled as mosquitto_pub / mosquitto_sub
//! spell them (`-h` host, `-V` protocol version, `-D` properties, `--will-*`, TLS), and their
//! resolution into what the client needs: every cross-flag rule lives in [`ConnectArgs::resolve`].

use std::num::NonZeroU16;
use std::path::PathBuf;

use bytes::Bytes;
use clap::{ArgAction, Args};

use crate::client::transport::{
    parse_url, Endpoint, ParsedUrl, Scheme, Target, TlsOptions, TlsVersion, TransportOptions,
};
use crate::protocol::{Connect, LastWill, MqttString, ProtocolVersion, QoS};
use crate::topic::TopicName;

use super::encoding::Encoding;
use super::password;
use super::property::{Allowed, Properties};

/// Connection, session, authentication, will, property and TLS flags.
#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// MQTT host to connect to.
    #[arg(
        short = 'h',
        long = "host",
        value_name = "HOST",
        default_value = "localhost",
        help_heading = "Connection"
    )]
    pub host: String,

    /// Network port [default: 1883, or 8883 with TLS].
    #[arg(
        short = 'p',
        long = "port",
        value_name = "PORT",
        help_heading = "Connection"
    )]
    pub port: Option<u16>,

    /// mqtt(s)://[user[:pass]@]host[:port]/topic or ws(s)://[user[:pass]@]host[:port]/path.
    #[arg(
        short = 'L',
        long = "url",
        value_name = "URL",
        help_heading = "Connection"
    )]
    pub url: Option<String>,

    /// Connect through a Unix domain socket instead of TCP.
    #[arg(long = "unix", value_name = "PATH", help_heading = "Connection")]
    pub unix: Option<PathBuf>,

    /// Use MQTT over WebSockets (path /mqtt unless a ws:// URL gives one).
    #[arg(long = "ws", help_heading = "Connection")]
    pub ws: bool,

    /// Bind the outgoing socket to this local address.
    #[arg(short = 'A', value_name = "ADDRESS", help_heading = "Connection")]
    pub bind_address: Option<String>,

    /// Disable Nagle's algorithm (TCP_NODELAY).
    #[arg(long = "nodelay", help_heading = "Connection")]
    pub nodelay: bool,

    /// MQTT version: 31, 311 or 5 (also mqttv31, mqttv311, mqttv5) [default: 311, or 5 with -D].
    #[arg(short = 'V', long = "protocol-version", value_name = "VERSION", value_parser = parse_version, help_heading = "Connection")]
    pub protocol_version: Option<ProtocolVersion>,

    /// Client id [default: random for MQTT 3, empty (assigned by the server) for MQTT 5].
    #[arg(short = 'i', long = "id", value_name = "ID", help_heading = "Session")]
    pub id: Option<String>,

    /// Client id = this prefix followed by the process id.
    #[arg(
        short = 'I',
        long = "id-prefix",
        value_name = "PREFIX",
        conflicts_with = "id",
        help_heading = "Session"
    )]
    pub id_prefix: Option<String>,

    /// Keep alive in seconds (0 = off).
    #[arg(
        short = 'k',
        long = "keepalive",
        value_name = "SECONDS",
        default_value_t = 60,
        help_heading = "Session"
    )]
    pub keepalive: u16,

    /// Keep the session when disconnected (needs -i); MQTT 5: it never expires unless -x.
    #[arg(short = 'c', long = "disable-clean-session", help_heading = "Session")]
    pub disable_clean_session: bool,

    /// MQTT 5 session expiry interval in seconds; -1, 4294967295 or ∞ = never.
    #[arg(short = 'x', long = "session-expiry-interval", value_name = "SECONDS", value_parser = parse_expiry, allow_hyphen_values = true, help_heading = "Session")]
    pub session_expiry: Option<u32>,

    /// Maximum QoS 1 and 2 messages in flight at once.
    #[arg(short = 'M', value_name = "COUNT", default_value_t = NonZeroU16::new(20).unwrap_or(NonZeroU16::MIN), help_heading = "Session")]
    pub max_inflight: NonZeroU16,

    /// Quality of service: 0, 1 or 2.
    #[arg(short = 'q', long = "qos", value_name = "QOS", value_parser = parse_qos, default_value = "0", help_heading = "Session")]
    pub qos: QoS,

    /// User name.
    #[arg(
        short = 'u',
        long = "username",
        value_name = "USER",
        help_heading = "Authentication"
    )]
    pub username: Option<String>,

    /// Password; with no value, asked for on the terminal (see also --pw-file, MQKIT_PASSWORD).
    #[arg(short = 'P', long = "pw", value_name = "PASSWORD", num_args = 0..=1, help_heading = "Authentication")]
    pub password: Option<Option<String>>,

    /// Read the password from the first line of this file.
    #[arg(
        long = "pw-file",
        value_name = "FILE",
        conflicts_with = "password",
        help_heading = "Authentication"
    )]
    pub password_file: Option<PathBuf>,

    /// MQTT 5 property: -D CMD NAME VALUE, or -D CMD user-property KEY VALUE; repeatable.
    // 3 values, or 4 for user-property: a value starting with '-' ends the option (else a
    // 3-value -D would swallow the next flag).
    #[arg(short = 'D', long = "property", num_args = 3..=4, value_names = ["CMD", "NAME", "VALUE"], action = ArgAction::Append, help_heading = "MQTT 5")]
    pub properties: Vec<String>,

    /// How -m, -f, -s, -l payloads and binary -D values are given.
    #[arg(long = "encoding", value_name = "ENCODING", value_enum, default_value_t = Encoding::Utf8, help_heading = "MQTT 5")]
    pub encoding: Encoding,

    /// Topic of the will message.
    #[arg(long = "will-topic", value_name = "TOPIC", help_heading = "Will")]
    pub will_topic: Option<String>,

    /// Payload of the will message [default: empty].
    #[arg(long = "will-payload", value_name = "PAYLOAD", help_heading = "Will")]
    pub will_payload: Option<String>,

    /// QoS of the will message.
    #[arg(long = "will-qos", value_name = "QOS", value_parser = parse_qos, help_heading = "Will")]
    pub will_qos: Option<QoS>,

    /// Retain the will message.
    #[arg(long = "will-retain", help_heading = "Will")]
    pub will_retain: bool,

    /// TLS flags.
    #[command(flatten)]
    pub tls: TlsArgs,

    /// Print every packet sent and received (to stderr).
    #[arg(short = 'd', long = "debug", help_heading = "Output")]
    pub debug: bool,

    /// Print no error messages at run time (argument errors are still printed).
    #[arg(long = "quiet", help_heading = "Output")]
    pub quiet: bool,

    /// Read default options from this file instead of ~/.config/<tool>.
    #[arg(
        short = 'o',
        long = "options-file",
        value_name = "FILE",
        help_heading = "Output"
    )]
    pub options_file: Option<PathBuf>,
}

/// TLS flags (rustls). OpenSSL-only options are accepted by name and refused with a reason.
#[derive(Debug, Clone, Default, Args)]
pub struct TlsArgs {
    /// Trusted CA certificates (PEM); turns on TLS.
    #[arg(long = "cafile", value_name = "FILE", help_heading = "TLS")]
    pub cafile: Option<PathBuf>,

    /// Directory of trusted CA certificates (*.crt, *.pem); turns on TLS.
    #[arg(long = "capath", value_name = "DIR", help_heading = "TLS")]
    pub capath: Option<PathBuf>,

    /// Client certificate (PEM), with --key.
    #[arg(
        long = "cert",
        value_name = "FILE",
        requires = "key",
        help_heading = "TLS"
    )]
    pub cert: Option<PathBuf>,

    /// Client private key (PEM), with --cert.
    #[arg(
        long = "key",
        value_name = "FILE",
        requires = "cert",
        help_heading = "TLS"
    )]
    pub key: Option<PathBuf>,

    /// Do not verify the server certificate (testing only).
    #[arg(long = "insecure", help_heading = "TLS")]
    pub insecure: bool,

    /// Trust the operating system's CA certificates (automatic for -p 8883 and mqtts://).
    #[arg(long = "tls-use-os-certs", help_heading = "TLS")]
    pub use_os_certs: bool,

    /// Lowest TLS version: tlsv1.2 or tlsv1.3.
    #[arg(long = "tls-version", value_name = "VERSION", help_heading = "TLS")]
    pub tls_version: Option<String>,

    /// ALPN protocol to offer; repeatable.
    #[arg(long = "tls-alpn", value_name = "PROTOCOL", action = ArgAction::Append, help_heading = "TLS")]
    pub alpn: Vec<String>,

    /// OpenSSL options mqkit cannot honour; given, they are refused with the reason.
    #[arg(long = "ciphers", value_name = "LIST", hide = true)]
    pub ciphers: Option<String>,
    #[arg(long = "psk", value_name = "HEX", hide = true)]
    #[allow(missing_docs)]
    pub psk: Option<String>,
    #[arg(long = "psk-identity", value_name = "ID", hide = true)]
    #[allow(missing_docs)]
    pub psk_identity: Option<String>,
    #[arg(long = "keyform", value_name = "FORM", hide = true)]
    #[allow(missing_docs)]
    pub keyform: Option<String>,
    #[arg(long = "tls-engine", value_name = "ENGINE", hide = true)]
    #[allow(missing_docs)]
    pub tls_engine: Option<String>,
    #[arg(long = "tls-engine-kpass-sha1", value_name = "HEX", hide = true)]
    #[allow(missing_docs)]
    pub tls_engine_kpass_sha1: Option<String>,
    #[arg(long = "proxy", value_name = "URL", hide = true)]
    #[allow(missing_docs)]
    pub proxy: Option<String>,
}

impl TlsArgs {
    /// The rustls settings these flags give (used for mqtts:// and wss:// targets).
    pub fn options(&self) -> Result<TlsOptions, String> {
        let version = self
            .tls_version
            .as_deref()
            .map(str::parse::<TlsVersion>)
            .transpose()?;
        Ok(TlsOptions {
            cafile: self.cafile.clone(),
            capath: self.capath.clone(),
            cert: self.cert.clone(),
            key: self.key.clone(),
            insecure: self.insecure,
            use_os_certs: self.use_os_certs,
            version,
            alpn: self.alpn.clone(),
            server_name: None,
        })
    }

    /// Whether a TLS option was given.
    pub fn wanted(&self) -> bool {
        self.cafile.is_some() || self.capath.is_some() || self.insecure || self.use_os_certs
    }

    /// Refuses the options rustls has no equivalent for, naming the reason.
    pub fn check_supported(&self) -> Result<(), String> {
        let openssl = "mqkit uses rustls, which has no";
        if self.ciphers.is_some() {
            return Err(format!("--ciphers is not supported: {openssl} OpenSSL cipher strings (rustls picks safe suites)"));
        }
        if self.psk.is_some() || self.psk_identity.is_some() {
            return Err(format!("--psk is not supported: {openssl} TLS-PSK"));
        }
        if self.keyform.as_deref().is_some_and(|k| k != "pem")
            || self.tls_engine.is_some()
            || self.tls_engine_kpass_sha1.is_some()
        {
            return Err(format!(
                "--keyform engine / --tls-engine are not supported: {openssl} OpenSSL engines"
            ));
        }
        if self.proxy.is_some() {
            return Err("--proxy (SOCKS5) is not supported".into());
        }
        match self.tls_version.as_deref() {
            None | Some("tlsv1.2" | "tlsv1.3") => Ok(()),
            Some("tlsv1.1" | "tlsv1" | "tlsv1.0") => Err(format!(
                "--tls-version {}: not supported (rustls speaks TLS 1.2 and 1.3)",
                self.tls_version.as_deref().unwrap_or_default()
            )),
            Some(v) => Err(format!("invalid --tls-version '{v}': tlsv1.2 or tlsv1.3")),
        }
    }
}

/// What the flags resolve to, with every cross-flag rule applied.
#[derive(Debug, Clone)]
pub struct ClientSetup {
    /// Where to connect.
    pub target: Target,
    /// How: TLS, bind address, TCP_NODELAY.
    pub transport: TransportOptions,
    /// `-d`: log every packet.
    pub debug: bool,
    /// The CONNECT to send (version, id, session, credentials, will, properties).
    pub connect: Connect,
    /// The `-D` properties for the other packets.
    pub properties: Properties,
    /// The topic from a `-L mqtt://host/topic` URL, if any.
    pub url_topic: Option<String>,
    /// QoS of the tool's messages or subscriptions.
    pub qos: QoS,
    /// `-M`.
    pub max_inflight: NonZeroU16,
}

impl ConnectArgs {
    /// Applies mosquitto's rules and builds the CONNECT. `tool` names the id prefix
    /// (`mqpub`), `allowed` the `-D` commands the tool takes.
    pub fn resolve(&self, tool: &str, allowed: Allowed) -> Result<ClientSetup, String> {
        self.tls.check_supported()?;
        let properties = Properties::parse(&self.properties, allowed, self.encoding)?;
        let version = match (self.protocol_version, properties.count) {
            (None, 0) => ProtocolVersion::V311,
            (None, _) | (Some(ProtocolVersion::V5), _) => ProtocolVersion::V5,
            (Some(v), 0) => v,
            (Some(_), _) => return Err("-D/--property needs MQTT 5 (-V 5)".into()),
        };
        if self.disable_clean_session && self.id.is_none() {
            return Err("you must provide a client id (-i) if you are using the -c option".into());
        }
        let url = self
            .url
            .as_deref()
            .map(parse_url)
            .transpose()
            .map_err(|e| format!("invalid -L URL: {e}"))?;
        let mut connect = Connect::new(version, self.client_id(tool, version)?);
        connect.clean_start = !self.disable_clean_session;
        connect.keep_alive = self.keepalive;
        connect.properties = properties.connect.clone();
        self.session_expiry(&mut connect)?;
        self.credentials(&mut connect, url.as_ref())?;
        connect.will = self.will(&properties)?;
        let (target, transport) = self.target(url.as_ref())?;
        Ok(ClientSetup {
            target,
            transport,
            debug: self.debug,
            connect,
            properties,
            url_topic: url.and_then(|u| u.topic),
            qos: self.qos,
            max_inflight: self.max_inflight,
        })
    }

    fn client_id(&self, tool: &str, version: ProtocolVersion) -> Result<MqttString, String> {
        let id = match (&self.id, &self.id_prefix) {
            (Some(id), _) => id.clone(),
            (None, Some(prefix)) => format!("{prefix}{}", std::process::id()),
            // As mosquitto's clients: an empty id (the server assigns one), except for MQTT 3.1,
            // which requires 1 to 23 characters.
            (None, None) if version != ProtocolVersion::V31 => String::new(),
            (None, None) => random_id(tool),
        };
        if version == ProtocolVersion::V31 && id.len() > 23 {
            return Err(format!(
                "client id '{id}' is too long for MQTT 3.1 (23 characters at most)"
            ));
        }
        MqttString::new(&id).map_err(|e| format!("invalid client id '{id}': {e}"))
    }

    fn session_expiry(&self, connect: &mut Connect) -> Result<(), String> {
        let expiry = match (self.session_expiry, self.disable_clean_session) {
            (Some(x), _) => Some(x),
            (None, true) => Some(u32::MAX),
            (None, false) => None,
        };
        if connect.version != ProtocolVersion::V5 {
            if self.session_expiry.is_some() {
                return Err("-x (session expiry) needs MQTT 5 (-V 5)".into());
            }
            return Ok(());
        }
        if expiry.is_some() && connect.properties.session_expiry_interval.is_none() {
            connect.properties.session_expiry_interval = expiry.filter(|&x| x > 0);
        }
        Ok(())
    }

    /// Where and how to connect: `--unix`, else `-L`, else `-h`/`-p` with TLS when a TLS
    /// option is given or the port is 8883 (as mosquitto), over WebSockets with `--ws`.
    fn target(&self, url: Option<&ParsedUrl>) -> Result<(Target, TransportOptions), String> {
        let bind = self
            .bind_address
            .as_deref()
            .map(|a| {
                a.parse()
                    .map_err(|_| format!("-A {a}: give a local IP address"))
            })
            .transpose()?;
        let target = if let Some(path) = &self.unix {
            Target::Unix(path.clone())
        } else if let Some(url) = url {
            let mut endpoint = url.endpoint.clone();
            if let Some(port) = self.port {
                endpoint.port = port;
            }
            Target::Tcp(endpoint)
        } else {
            let tls = self.tls.wanted() || self.tls.cert.is_some() || self.port == Some(8883);
            let scheme = scheme_for(tls, self.ws);
            let port = self.port.unwrap_or(scheme.default_port());
            Target::Tcp(Endpoint::new(scheme, self.host.clone(), port))
        };
        let transport = TransportOptions {
            tls: Some(self.tls.options()?),
            bind,
            nodelay: self.nodelay,
            ..TransportOptions::default()
        };
        Ok((target, transport))
    }

    fn credentials(&self, connect: &mut Connect, url: Option<&ParsedUrl>) -> Result<(), String> {
        let mut password =
            password::resolve(self.password.as_ref(), self.password_file.as_deref())?;
        let username = self
            .username
            .clone()
            .or_else(|| url.and_then(|u| u.username.clone()));
        if password.is_none() {
            password = url.and_then(|u| u.password.clone());
        }
        if password.is_some() && username.is_none() && connect.version != ProtocolVersion::V5 {
            return Err("a password (-P) needs a username (-u) before MQTT 5".into());
        }
        connect.username = username
            .as_deref()
            .map(MqttString::new)
            .transpose()
            .map_err(|e| format!("invalid username: {e}"))?;
        connect.password = password.map(Bytes::from);
        Ok(())
    }

    fn will(&self, properties: &Properties) -> Result<Option<LastWill>, String> {
        let Some(topic) = &self.will_topic else {
            if self.will_payload.is_some() || self.will_retain || self.will_qos.is_some() {
                return Err(
                    "--will-payload, --will-qos and --will-retain need --will-topic".into(),
                );
            }
            return Ok(None);
        };
        let topic =
            TopicName::new(topic).map_err(|e| format!("invalid will topic '{topic}': {e}"))?;
        let payload = match &self.will_payload {
            Some(p) => self.encoding.decode(p)?,
            None => Bytes::new(),
        };
        Ok(Some(LastWill {
            topic,
            payload,
            qos: self.will_qos.unwrap_or_default(),
            retain: self.will_retain,
            properties: properties.will.clone(),
        }))
    }
}

/// `mqpub-` and 12 random letters and digits, short enough for MQTT 3.1's 23-character limit.
fn random_id(tool: &str) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let suffix: String = (0..12)
        .map(|_| CHARS[fastrand::usize(..CHARS.len())] as char)
        .collect();
    format!("{tool}-{suffix}")
}

/// The scheme for `-h`/`-p` connections: TLS or not, WebSockets or not.
pub fn scheme_for(tls: bool, ws: bool) -> Scheme {
    match (tls, ws) {
        (false, false) => Scheme::Mqtt,
        (true, false) => Scheme::Mqtts,
        (false, true) => Scheme::Ws,
        (true, true) => Scheme::Wss,
    }
}

/// Parses `-V`: 31, 311, 5 and mosquitto's mqttv31, mqttv311, mqttv5.
pub fn parse_version(s: &str) -> Result<ProtocolVersion, String> {
    match s.to_ascii_lowercase().as_str() {
        "31" | "mqttv31" | "3.1" => Ok(ProtocolVersion::V31),
        "311" | "mqttv311" | "3.1.1" => Ok(ProtocolVersion::V311),
        "5" | "mqttv5" | "5.0" => Ok(ProtocolVersion::V5),
        _ => Err(format!("invalid protocol version '{s}': 31, 311 or 5")),
    }
}

/// Parses a QoS: 0, 1 or 2.
pub fn parse_qos(s: &str) -> Result<QoS, String> {
    s.parse::<u8>()
        .ok()
        .and_then(QoS::from_u8)
        .ok_or_else(|| format!("invalid QoS '{s}': 0, 1 or 2"))
}

/// Parses `-x`: seconds, or -1 / 4294967295 / ∞ for never.
pub fn parse_expiry(s: &str) -> Result<u32, String> {
    match s {
        "-1" | "∞" => Ok(u32::MAX),
        _ => s
            .parse()
            .map_err(|_| format!("invalid session expiry '{s}': 0 to 4294967295, -1 or ∞")),
    }
}
