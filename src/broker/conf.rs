//! `mqbroker -c FILE`: mosquitto.conf syntax (`option value` per line, `#` comments,
//! `include_dir`) read into a [`Config`] and a list of listeners. Options mqbroker implements
//! take mosquitto's names and meanings; an option mosquitto has that mqbroker does not support
//! yet is an error that says so, and a name nobody knows is an error too: nothing is silently
//! ignored. Every error names the file, the line and the option.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::logging::Logging;
use super::Config;
use crate::protocol::QoS;

pub use super::listener::ListenerSpec as Listener;
use super::listener::{Domain, Protocol};

/// A configuration file, read.
#[derive(Debug, Clone)]
pub struct ConfFile {
    /// The broker's settings.
    pub config: Config,
    /// The `listener` lines, in order.
    pub listeners: Vec<Listener>,
    /// Where and what to log (`log_*`, `connection_messages`).
    pub logging: Logging,
    /// Where to write the process id once the listeners are bound (`pid_file`).
    pub pid_file: Option<PathBuf>,
    /// `per_listener_settings true`: security options belong to the listener above them.
    per_listener: bool,
}

/// A problem in a configuration file.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}: {message}", path.display())]
pub struct ConfError {
    /// The file.
    pub path: PathBuf,
    /// The line (1-based; 0 when the file itself could not be read).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Every option mqbroker implements (`etc/mqbroker.conf` documents each; a test checks).
pub const SUPPORTED: &[&str] = &[
    "listener",
    // The listener's own options (`LISTENER_OPTIONS`), from here to tls_version.
    "protocol",
    "socket_domain",
    "max_connections",
    "bind_interface",
    "mount_point",
    "cafile",
    "capath",
    "certfile",
    "keyfile",
    "crlfile",
    "require_certificate",
    "use_identity_as_username",
    "use_subject_as_username",
    "tls_version",
    "allow_anonymous",
    "password_file",
    "acl_file",
    "allow_zero_length_clientid",
    "auto_id_prefix",
    "max_inflight_messages",
    "max_queued_messages",
    "max_queued_bytes",
    "max_inflight_bytes",
    "queue_qos0_messages",
    "max_packet_size",
    "message_size_limit",
    "max_keepalive",
    "max_qos",
    "max_topic_alias",
    "retain_available",
    "persistent_client_expiration",
    "sys_interval",
    "include_dir",
    "log_dest",
    "log_type",
    "log_timestamp",
    "log_timestamp_format",
    "connection_messages",
    "pid_file",
    "clientid_prefixes",
    "set_tcp_nodelay",
    "upgrade_outgoing_qos",
    "check_retain_source",
    "persistence",
    "persistence_location",
    "persistence_file",
    "autosave_interval",
    "autosave_on_changes",
    "per_listener_settings",
];

/// Options mosquitto has that mqbroker does not implement yet (issue: production broker); each
/// is refused by name (`man/mqbroker.conf.5` lists them; a test checks).
pub const NOT_YET: &[&str] = &[
    "psk_file",
    "psk_hint",
    "ciphers",
    "ciphers_tls1.3",
    "dhparamfile",
    "tls_engine",
    "tls_keyform",
    "http_dir",
    "plugin",
    "auth_plugin",
    "connection",
    "address",
    "addresses",
    "topic",
    "bridge_protocol_version",
    "user",
    "memory_limit",
    "websockets_log_level",
    "use_username_as_clientid",
    "allow_duplicate_messages",
    "retry_interval",
    "store_clean_interval",
    "bind_address",
    "port",
    "accept_protocol_versions",
];

impl ConfFile {
    /// Reads `path` (and any `include_dir`).
    pub fn read(path: &Path) -> Result<ConfFile, ConfError> {
        let mut conf = ConfFile::empty();
        conf.read_file(path)?;
        Ok(conf.finish())
    }

    /// Reads configuration `text` as if it were the file `path` (which names it in errors;
    /// `include_dir` lines are still read from disk).
    pub fn parse(text: &str, path: &Path) -> Result<ConfFile, ConfError> {
        let mut conf = ConfFile::empty();
        conf.parse_text(text, path)?;
        Ok(conf.finish())
    }

    /// With `per_listener_settings true`, a listener without security lines of its own gets
    /// mosquitto's defaults (no anonymous clients, no password file, no ACL).
    fn finish(mut self) -> ConfFile {
        if self.per_listener {
            let n = self.listeners.len();
            self.config
                .listener_security
                .resize_with(n, Default::default);
        }
        self
    }

    fn empty() -> ConfFile {
        // As mosquitto 2.0: with a configuration file, anonymous clients are refused unless
        // `allow_anonymous true` says otherwise.
        let config = Config {
            allow_anonymous: false,
            ..Config::default()
        };
        ConfFile {
            config,
            listeners: Vec::new(),
            logging: Logging::default(),
            pid_file: None,
            per_listener: false,
        }
    }

    fn read_file(&mut self, path: &Path) -> Result<(), ConfError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfError {
            path: path.to_owned(),
            line: 0,
            message: format!("cannot read: {e}"),
        })?;
        self.parse_text(&text, path)
    }

    fn parse_text(&mut self, text: &str, path: &Path) -> Result<(), ConfError> {
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) = line
                .split_once(char::is_whitespace)
                .map_or((line, ""), |(k, v)| (k, v.trim()));
            let err = |message: String| ConfError {
                path: path.to_owned(),
                line: i + 1,
                message,
            };
            if key == "include_dir" {
                self.include_dir(Path::new(value))
                    .map_err(|e| match e.line {
                        0 => err(e.to_string()),
                        _ => e,
                    })?;
                continue;
            }
            self.set(key, value).map_err(err)?;
        }
        Ok(())
    }

    /// Reads every `*.conf` in `dir`, in name order (as mosquitto).
    fn include_dir(&mut self, dir: &Path) -> Result<(), ConfError> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| ConfError {
                path: dir.to_owned(),
                line: 0,
                message: format!("include_dir: cannot read the directory: {e}"),
            })?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "conf"))
            .collect();
        files.sort();
        for file in files {
            self.read_file(&file)?;
        }
        Ok(())
    }

    /// Applies one option.
    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key {
            "listener" => self.listeners.push(listener(value)?),
            _ if LISTENER_OPTIONS.contains(&key) => {
                let Some(listener) = self.listeners.last_mut() else {
                    return Err(format!(
                        "{key} applies to a listener: put it after a listener line"
                    ));
                };
                listener_option(listener, key, value)?;
            }
            "pid_file" => self.pid_file = Some(once(key, value, self.pid_file.is_some())?.into()),
            "per_listener_settings" => {
                if !self.listeners.is_empty() {
                    return Err(format!("{key} must come before the first listener line"));
                }
                self.per_listener = flag(key, value)?;
            }
            "allow_anonymous" | "password_file" | "acl_file" if self.per_listener => {
                let index = self.listeners.len().checked_sub(1).ok_or(format!(
                    "with per_listener_settings true, {key} belongs after a listener line"
                ))?;
                let list = &mut self.config.listener_security;
                list.resize_with(index + 1, Default::default);
                security_option(&mut list[index], key, value)?;
            }
            _ => {
                if !self.set_logging(key, value)? {
                    broker_option(&mut self.config, key, value)?;
                }
            }
        }
        Ok(())
    }

    /// Applies a logging option; `false` when `key` is not one.
    fn set_logging(&mut self, key: &str, value: &str) -> Result<bool, String> {
        let log = &mut self.logging;
        match key {
            "log_dest" => log.add_dest(value)?,
            "log_type" => log.add_type(value)?,
            "log_timestamp" => log.timestamp = flag(key, value)?,
            "log_timestamp_format" => {
                let value = once(key, value, log.timestamp_format.is_some())?;
                log.set_timestamp_format(value)?;
            }
            "connection_messages" => log.connection_messages = flag(key, value)?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// A security option of one listener (`per_listener_settings true`).
fn security_option(s: &mut super::config::Security, key: &str, value: &str) -> Result<(), String> {
    match key {
        "allow_anonymous" => s.allow_anonymous = flag(key, value)?,
        "password_file" => {
            let file = super::passwd::PasswordFile::read(Path::new(value))?;
            s.password_file = Some(std::sync::Arc::new(file));
        }
        _ => {
            let file = super::acl::AclFile::read(Path::new(value))?;
            s.acl_file = Some(std::sync::Arc::new(file));
        }
    }
    Ok(())
}

/// The options that apply to the listener above them: in [`SUPPORTED`], the fourteen after
/// `listener`.
const LISTENER_OPTIONS: &[&str] = SUPPORTED.split_at(1).1.split_at(14).0;

/// Applies an option of the broker's [`Config`]; refuses the rest by name.
fn broker_option(c: &mut Config, key: &str, value: &str) -> Result<(), String> {
    match key {
        "allow_anonymous" => c.allow_anonymous = flag(key, value)?,
        "password_file" => {
            let file = super::passwd::PasswordFile::read(Path::new(value))?;
            c.password_file = Some(std::sync::Arc::new(file));
        }
        "acl_file" => {
            let file = super::acl::AclFile::read(Path::new(value))?;
            c.acl_file = Some(std::sync::Arc::new(file));
        }
        "max_inflight_messages" => {
            // As mosquitto: also the Receive Maximum announced to 5.0 clients; 0 is no maximum.
            c.max_inflight_messages = match number(key, value)? {
                0 => u16::MAX,
                n => n,
            };
            c.receive_maximum = c.max_inflight_messages;
        }
        "max_queued_messages" => {
            // 0 is no maximum, as mosquitto (back-pressure still holds publishers up).
            c.max_queued_messages = match number(key, value)? {
                0 => usize::MAX,
                n => n,
            }
        }
        "max_queued_bytes" => c.max_queued_bytes = number(key, value)?,
        "max_inflight_bytes" => c.max_inflight_bytes = number(key, value)?,
        "persistence" => c.persistence = flag(key, value)?,
        "persistence_location" => c.persistence_location = Some(value.into()),
        "persistence_file" => c.persistence_file = value.to_owned(),
        "autosave_interval" | "autosave_on_changes" => {
            // mosquitto saves its state now and then; mqbroker writes every change as it
            // happens (and before acknowledging a message), so there is nothing to tune.
            let _: i64 = number(key, value).or_else(|e| match value {
                "true" | "false" => Ok(0),
                _ => Err(e),
            })?;
            tracing::info!("{key} has no effect: every change is written as it happens");
        }
        "queue_qos0_messages" => c.queue_qos0_messages = flag(key, value)?,
        "message_size_limit" => c.message_size_limit = number(key, value)?,
        "max_packet_size" => {
            let size: u32 = number(key, value)?;
            c.max_packet_size = if size == 0 {
                Config::default().max_packet_size
            } else {
                size
            };
        }
        "max_keepalive" => c.max_keepalive = number(key, value)?,
        "max_qos" => {
            let q: u8 = number(key, value)?;
            c.max_qos = QoS::from_u8(q).ok_or(format!("max_qos {value}: 0, 1 or 2"))?;
        }
        "max_topic_alias" => c.max_topic_alias = number(key, value)?,
        "retain_available" => c.retain_available = flag(key, value)?,
        "sys_interval" => {
            let s: u64 = number(key, value)?;
            c.sys_interval = (s > 0).then(|| Duration::from_secs(s));
        }
        "persistent_client_expiration" => c.persistent_client_expiration = Some(period(value)?),
        "allow_zero_length_clientid" => c.allow_zero_length_clientid = flag(key, value)?,
        "auto_id_prefix" => c.auto_id_prefix = value.to_owned(),
        "clientid_prefixes" => {
            let given = c.clientid_prefixes.is_some();
            c.clientid_prefixes = Some(once(key, value, given)?.to_owned());
        }
        "set_tcp_nodelay" => c.set_tcp_nodelay = flag(key, value)?,
        "upgrade_outgoing_qos" => c.upgrade_outgoing_qos = flag(key, value)?,
        "check_retain_source" => c.check_retain_source = flag(key, value)?,
        _ if NOT_YET.contains(&key) => {
            return Err(format!("option '{key}' is not supported by mqbroker yet"))
        }
        _ => return Err(format!("unknown option '{key}'")),
    }
    Ok(())
}

/// The value of an option mosquitto takes at most once (`pid_file`, `clientid_prefixes`,
/// `log_timestamp_format`): like mosquitto, empty or repeated is an error.
fn once<'a>(key: &str, value: &'a str, given: bool) -> Result<&'a str, String> {
    if value.is_empty() {
        return Err(format!("{key} needs a value"));
    }
    if given {
        return Err(format!("{key} {value}: {key} is given twice"));
    }
    Ok(value)
}

/// Reads the file an option names (password file, ACL file) with its parser; an error names the
/// file and the line.
pub(crate) fn read_with<T>(
    path: &Path,
    parse: fn(&str) -> Result<T, (usize, String)>,
) -> Result<T, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    parse(&text).map_err(|(line, why)| format!("{}:{line}: {why}", path.display()))
}

/// A listener-scoped option, for the listener above it.
fn listener_option(l: &mut Listener, key: &str, value: &str) -> Result<(), String> {
    let path = || Some(std::path::PathBuf::from(value));
    let t = &mut l.tls;
    match key {
        "protocol" => {
            l.protocol = match value {
                "mqtt" => Protocol::Mqtt,
                "websockets" => Protocol::WebSockets,
                _ => return Err(format!("protocol {value}: mqtt or websockets")),
            }
        }
        "socket_domain" => {
            l.socket_domain = Some(match value {
                "ipv4" => Domain::Ipv4,
                "ipv6" => Domain::Ipv6,
                _ => return Err(format!("socket_domain {value}: ipv4 or ipv6")),
            })
        }
        "max_connections" => {
            let n: i64 = number(key, value)?;
            l.max_connections = usize::try_from(n).ok();
        }
        "bind_interface" => l.bind_interface = Some(value.to_owned()),
        "mount_point" => {
            crate::topic::TopicName::new(value).map_err(|e| format!("mount_point {value}: {e}"))?;
            l.mount_point = Some(value.to_owned());
        }
        "cafile" => t.cafile = path(),
        "capath" => t.capath = path(),
        "certfile" => t.certfile = path(),
        "keyfile" => t.keyfile = path(),
        "crlfile" => t.crlfile = path(),
        "require_certificate" => t.require_certificate = flag(key, value)?,
        "use_identity_as_username" => t.use_identity_as_username = flag(key, value)?,
        "use_subject_as_username" => t.use_subject_as_username = flag(key, value)?,
        "tls_version" => {
            t.tls_version = Some(value.parse().map_err(|e| format!("tls_version {e}"))?)
        }
        _ => return Err(format!("unknown option '{key}'")),
    }
    Ok(())
}

fn listener(value: &str) -> Result<Listener, String> {
    let mut words = value.split_whitespace();
    let port = words
        .next()
        .ok_or("listener needs a port")?
        .parse()
        .map_err(|_| format!("listener {value}: the port must be 0 to 65535"))?;
    let address = words
        .next()
        .map(|a| {
            a.parse()
                .map_err(|_| format!("listener {value}: '{a}' is not an IP address"))
        })
        .transpose()?;
    if words.next().is_some() {
        return Err(format!(
            "listener {value}: expected a port and at most an address"
        ));
    }
    Ok(Listener {
        port,
        address,
        ..Listener::default()
    })
}

fn flag(key: &str, value: &str) -> Result<bool, String> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("{key} {value}: true or false")),
    }
}

fn number<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{key} {value}: not a number in range"))
}

/// mosquitto's periods: a number and h, d, w, m (months of 30 days) or y.
fn period(value: &str) -> Result<Duration, String> {
    let bad =
        || format!("persistent_client_expiration {value}: a number followed by h, d, w, m or y");
    // The unit is the last character, which need not be one byte (fuzzing found `14€`).
    let unit = value.chars().last().ok_or_else(bad)?;
    let n: u64 = value[..value.len() - unit.len_utf8()]
        .parse()
        .map_err(|_| bad())?;
    let hours: u64 = match unit {
        'h' => 1,
        'd' => 24,
        'w' => 24 * 7,
        'm' => 24 * 30,
        'y' => 24 * 365,
        _ => return Err(bad()),
    };
    let secs = n
        .checked_mul(hours * 3600)
        .ok_or_else(|| format!("persistent_client_expiration {value}: too long"))?;
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<ConfFile, ConfError> {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("mqkit-conf-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("mosquitto.conf");
        std::fs::write(&path, text).unwrap();
        let result = ConfFile::read(&path);
        std::fs::remove_dir_all(&dir).unwrap();
        result
    }

    #[test]
    fn zero_queue_and_inflight_limits_mean_no_maximum_as_mosquitto() {
        let c = read("max_queued_messages 0\nmax_inflight_messages 0\n")
            .unwrap()
            .config;
        assert_eq!(c.max_queued_messages, usize::MAX);
        assert_eq!(
            (c.max_inflight_messages, c.receive_maximum),
            (u16::MAX, u16::MAX)
        );
    }

    #[test]
    fn reads_listeners_and_limits_with_mosquittos_names() {
        let conf = read(
            "# comment\nlistener 1883\nlistener 0 127.0.0.1\n\nmax_queued_messages 50\nmax_inflight_messages 5\n\
             queue_qos0_messages true\nmax_packet_size 1000\nmax_keepalive 120\nmax_qos 1\n\
             retain_available false\nsys_interval 0\npersistent_client_expiration 2d\n\
             allow_zero_length_clientid false\nauto_id_prefix x-\nallow_anonymous true\n",
        )
        .unwrap();
        assert_eq!(conf.listeners.len(), 2);
        assert_eq!(
            conf.listeners[1].address,
            Some("127.0.0.1".parse().unwrap())
        );
        let c = conf.config;
        assert_eq!((c.max_queued_messages, c.max_inflight_messages), (50, 5));
        assert!(c.queue_qos0_messages && !c.retain_available && !c.allow_zero_length_clientid);
        assert_eq!(
            (c.max_packet_size, c.max_keepalive, c.max_qos),
            (1000, 120, QoS::AtLeastOnce)
        );
        assert_eq!(c.sys_interval, None);
        assert_eq!(
            c.persistent_client_expiration,
            Some(Duration::from_secs(2 * 86_400))
        );
        assert_eq!(c.auto_id_prefix, "x-");
        assert_eq!(
            (LISTENER_OPTIONS[0], LISTENER_OPTIONS[13]),
            ("protocol", "tls_version")
        );
    }

    #[test]
    fn per_listener_settings_put_security_on_listeners() {
        let conf =
            read("per_listener_settings true\nlistener 1\nallow_anonymous true\nlistener 2\n")
                .unwrap();
        let security = &conf.config.listener_security;
        assert_eq!(security.len(), 2);
        assert!(security[0].allow_anonymous && !security[1].allow_anonymous);
        let e = read("listener 1\nper_listener_settings true\n").unwrap_err();
        assert!(
            e.to_string().contains("before the first listener line"),
            "{e}"
        );
        let e = read("per_listener_settings true\nallow_anonymous true\n").unwrap_err();
        assert!(
            e.to_string().contains("belongs after a listener line"),
            "{e}"
        );
    }

    #[test]
    fn errors_name_the_file_line_and_option() {
        let e = read("listener 1883\nlistner 1884\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(
            e.to_string()
                .ends_with("mosquitto.conf:2: unknown option 'listner'"),
            "{e}"
        );
        let e = read("psk_file /etc/mosquitto/psk\n").unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("option 'psk_file' is not supported by mqbroker yet"),
            "{e}"
        );
        let e = read("password_file /nonexistent/passwd\n").unwrap_err();
        assert!(
            e.to_string()
                .contains(":1: /nonexistent/passwd: cannot read"),
            "{e}"
        );
        let e = read("max_qos 3\n").unwrap_err();
        assert!(e.to_string().contains(":1: max_qos 3"), "{e}");
        let e = read("listener 70000\n").unwrap_err();
        assert!(e.to_string().contains("0 to 65535"), "{e}");
        let e = read("persistent_client_expiration 3x\n").unwrap_err();
        assert!(e.to_string().contains("h, d, w, m or y"), "{e}");
    }

    #[test]
    fn reads_logging_options_and_their_first_line_replaces_the_default() {
        use crate::broker::logging::{LogDest, LogTypes};
        let log = read("").unwrap().logging;
        assert_eq!(
            (log.dests, log.types, log.timestamp, log.connection_messages),
            (vec![LogDest::Stderr], LogTypes::DEFAULT, true, true)
        );
        let log = read(
            "log_dest stdout\nlog_dest file /var/log/mq b.log\nlog_type error\nlog_type subscribe\n\
             log_timestamp false\nlog_timestamp_format %Y-%m-%dT%H:%M:%S\nconnection_messages false\n",
        )
        .unwrap()
        .logging;
        let file = LogDest::File("/var/log/mq b.log".into());
        assert_eq!(log.dests, vec![LogDest::Stdout, file]);
        assert!(log.types.any(LogTypes::ERROR) && log.types.any(LogTypes::SUBSCRIBE));
        assert!(!log.types.any(LogTypes::INFORMATION) && !log.types.any(LogTypes::WARNING));
        assert!(!log.timestamp && !log.connection_messages);
        assert_eq!(log.timestamp_format.as_deref(), Some("%Y-%m-%dT%H:%M:%S"));
        let log = read("log_dest stderr\nlog_dest none\nlog_type all\nlog_type none\n").unwrap();
        assert!(log.logging.dests.is_empty());
        assert_eq!(log.logging.types, LogTypes::NONE);
    }

    #[test]
    fn reads_the_other_new_options() {
        let conf = read(
            "pid_file /run/mqbroker.pid\nclientid_prefixes sensor-\nset_tcp_nodelay false\n\
             upgrade_outgoing_qos true\ncheck_retain_source true\n",
        )
        .unwrap();
        assert_eq!(conf.pid_file, Some(PathBuf::from("/run/mqbroker.pid")));
        let c = conf.config;
        assert_eq!(c.clientid_prefixes.as_deref(), Some("sensor-"));
        assert!(!c.set_tcp_nodelay && c.upgrade_outgoing_qos && c.check_retain_source);
        let c = read("").unwrap().config;
        assert!(c.set_tcp_nodelay && !c.upgrade_outgoing_qos && !c.check_retain_source);
        assert_eq!(
            c.delivery_qos(QoS::AtMostOnce, QoS::ExactlyOnce),
            QoS::AtMostOnce
        );
        let upgrade = Config {
            upgrade_outgoing_qos: true,
            ..c
        };
        let qos = upgrade.delivery_qos(QoS::AtMostOnce, QoS::ExactlyOnce);
        assert_eq!(qos, QoS::ExactlyOnce);
    }

    #[test]
    fn bad_values_of_the_new_options_name_the_line_and_option() {
        let cases = [
            (
                "log_dest syslog",
                "log_dest syslog is not supported by mqbroker",
            ),
            (
                "log_dest topic",
                "log_dest topic is not supported by mqbroker",
            ),
            ("log_dest dlt", "log_dest dlt is not supported by mqbroker"),
            (
                "log_dest paper",
                "log_dest paper: stderr, stdout, file PATH or none",
            ),
            ("log_dest file", "log_dest file needs a path"),
            (
                "log_dest file a\nlog_dest file b",
                "log_dest file given twice",
            ),
            ("log_type chatty", "log_type chatty: one of error, warning,"),
            ("log_timestamp yes", "log_timestamp yes: true or false"),
            (
                "log_timestamp_format %Q",
                "log_timestamp_format %Q: not a strftime format",
            ),
            (
                "log_timestamp_format %Y\nlog_timestamp_format %s",
                "log_timestamp_format %s: log_timestamp_format is given twice",
            ),
            (
                "connection_messages 1",
                "connection_messages 1: true or false",
            ),
            ("pid_file", "pid_file needs a value"),
            (
                "pid_file a\npid_file b",
                "pid_file b: pid_file is given twice",
            ),
            ("clientid_prefixes", "clientid_prefixes needs a value"),
            ("set_tcp_nodelay on", "set_tcp_nodelay on: true or false"),
            (
                "upgrade_outgoing_qos 2",
                "upgrade_outgoing_qos 2: true or false",
            ),
            (
                "check_retain_source no",
                "check_retain_source no: true or false",
            ),
        ];
        for (text, wanted) in cases {
            let e = read(&format!("# line 1\n{text}\n"))
                .unwrap_err()
                .to_string();
            let line = text.lines().count() + 1;
            assert!(
                e.contains(&format!("mosquitto.conf:{line}: {wanted}")),
                "{text}: {e}"
            );
        }
    }
}
