//! mosquitto's `-L` / `--url` argument: `mqtt(s)://[user[:pass]@]host[:port]/topic` and
//! `ws(s)://[user[:pass]@]host[:port]/path`.
//!
//! For `mqtt` and `mqtts` the path is the topic, taken verbatim as mosquitto does (no
//! percent-decoding, so `+` and `#` need no escaping). For `ws` and `wss` the path (with any
//! query) is the WebSocket path, `/mqtt` when the URL has none. Default ports are 1883, 8883,
//! 80 and 443. User name and password are percent-decoded; a host may be an IPv6 literal in
//! brackets.
//!
//! mosquitto 2.1's own `-L ws://` handling differs: it defaults to ports 1883/8883 and reads the
//! path as a topic, which leaves no way to give a WebSocket path. We follow the web convention
//! (MQTTX, browsers, paho) instead, because a WebSocket URL copied from a broker's docs must work.

use std::fmt;
use std::str::FromStr;

/// The WebSocket path used when a `ws(s)://` URL gives none, as MQTTX and most brokers'
/// examples do; mosquitto's broker accepts any path.
pub const DEFAULT_WS_PATH: &str = "/mqtt";

/// How the client reaches the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// MQTT over plain TCP (`mqtt://`).
    Mqtt,
    /// MQTT over TLS (`mqtts://`).
    Mqtts,
    /// MQTT over WebSocket (`ws://`).
    Ws,
    /// MQTT over WebSocket over TLS (`wss://`).
    Wss,
}

impl Scheme {
    /// The port used when a URL gives none: 1883, 8883, 80 or 443.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Mqtt => 1883,
            Scheme::Mqtts => 8883,
            Scheme::Ws => 80,
            Scheme::Wss => 443,
        }
    }

    /// Whether the connection is wrapped in TLS.
    pub fn is_tls(self) -> bool {
        matches!(self, Scheme::Mqtts | Scheme::Wss)
    }

    /// Whether MQTT is carried in WebSocket frames.
    pub fn is_websocket(self) -> bool {
        matches!(self, Scheme::Ws | Scheme::Wss)
    }

    /// The URL scheme, as written before `://`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Mqtt => "mqtt",
            Scheme::Mqtts => "mqtts",
            Scheme::Ws => "ws",
            Scheme::Wss => "wss",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scheme {
    type Err = UrlError;

    /// Case-insensitive, as mosquitto's `strncasecmp`.
    fn from_str(s: &str) -> Result<Self, UrlError> {
        match s.to_ascii_lowercase().as_str() {
            "mqtt" => Ok(Scheme::Mqtt),
            "mqtts" => Ok(Scheme::Mqtts),
            "ws" => Ok(Scheme::Ws),
            "wss" => Ok(Scheme::Wss),
            _ => Err(UrlError::UnknownScheme(s.to_string())),
        }
    }
}

/// A network server: scheme, host, port and (for WebSocket) path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Transport stack to use.
    pub scheme: Scheme,
    /// Host name or IP address literal (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// HTTP path of the WebSocket upgrade request; unused for `mqtt`/`mqtts`.
    pub path: String,
}

impl Endpoint {
    /// An endpoint with the default WebSocket path.
    pub fn new(scheme: Scheme, host: impl Into<String>, port: u16) -> Self {
        Endpoint {
            scheme,
            host: host.into(),
            port,
            path: DEFAULT_WS_PATH.to_string(),
        }
    }

    /// `host:port`, with brackets around an IPv6 literal.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.authority())?;
        if self.scheme.is_websocket() {
            f.write_str(&self.path)?;
        }
        Ok(())
    }
}

/// What a `-L` URL says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedUrl {
    /// Where to connect.
    pub endpoint: Endpoint,
    /// Percent-decoded user name, when the URL has one.
    pub username: Option<String>,
    /// Percent-decoded password, when the URL has one.
    pub password: Option<String>,
    /// For `mqtt(s)`: the text after the first `/`, verbatim; `None` when absent or empty
    /// (mosquitto requires a topic; the caller decides). Always `None` for `ws(s)`.
    pub topic: Option<String>,
}

/// A `-L` URL that cannot be used. Each message is one line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// No `scheme://` prefix.
    #[error("URL '{0}' has no scheme (expected mqtt://, mqtts://, ws:// or wss://)")]
    MissingScheme(String),
    /// A scheme other than mqtt, mqtts, ws and wss.
    #[error("unsupported URL scheme '{0}' (expected mqtt, mqtts, ws or wss)")]
    UnknownScheme(String),
    /// Nothing between `://` (or `@`) and the port or path.
    #[error("URL '{0}' has no host")]
    MissingHost(String),
    /// The port is not a number from 1 to 65535.
    #[error("invalid port '{0}' in URL (expected 1 to 65535)")]
    BadPort(String),
    /// `[` without `]`, or junk after `]`.
    #[error("invalid IPv6 address '{0}' in URL (write it as [addr]:port)")]
    BadIpv6(String),
    /// A `%` not followed by two hex digits, or bytes that are not UTF-8.
    #[error("invalid percent-encoding in the {0} of the URL")]
    BadEscape(&'static str),
}

/// Parses a `-L` URL (see the module docs).
pub fn parse_url(url: &str) -> Result<ParsedUrl, UrlError> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| UrlError::MissingScheme(url.to_string()))?;
    let scheme: Scheme = scheme.parse()?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    let (username, password) = match userinfo {
        Some(info) => split_userinfo(info)?,
        None => (None, None),
    };
    let (host, port) = split_host_port(hostport, url)?;
    let mut endpoint = Endpoint::new(scheme, host, port.unwrap_or(scheme.default_port()));
    let mut topic = None;
    match path {
        Some(p) if scheme.is_websocket() => endpoint.path = p.to_string(),
        Some(p) if p.len() > 1 => topic = Some(p[1..].to_string()),
        _ => {}
    }
    Ok(ParsedUrl {
        endpoint,
        username,
        password,
        topic,
    })
}

type Credentials = (Option<String>, Option<String>);

fn split_userinfo(info: &str) -> Result<Credentials, UrlError> {
    let (user, pass) = match info.split_once(':') {
        Some((u, p)) => (u, Some(p)),
        None => (info, None),
    };
    let user = percent_decode(user).ok_or(UrlError::BadEscape("user name"))?;
    let pass = pass
        .map(|p| percent_decode(p).ok_or(UrlError::BadEscape("password")))
        .transpose()?;
    Ok((Some(user), pass))
}

/// Splits `host[:port]` or `[v6]` / `[v6]:port`.
fn split_host_port<'a>(hostport: &'a str, url: &str) -> Result<(&'a str, Option<u16>), UrlError> {
    let (host, port) = if let Some(inner) = hostport.strip_prefix('[') {
        let (v6, after) = inner
            .split_once(']')
            .ok_or_else(|| UrlError::BadIpv6(hostport.to_string()))?;
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| UrlError::BadIpv6(hostport.to_string()))?,
            ),
        };
        (v6, port)
    } else {
        if hostport.matches(':').count() > 1 {
            return Err(UrlError::BadIpv6(hostport.to_string()));
        }
        match hostport.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err(UrlError::MissingHost(url.to_string()));
    }
    let port = port.map(parse_port).transpose()?;
    Ok((host, port))
}

fn parse_port(s: &str) -> Result<u16, UrlError> {
    match s.parse::<u16>() {
        Ok(p) if p > 0 && s.bytes().all(|b| b.is_ascii_digit()) => Ok(p),
        _ => Err(UrlError::BadPort(s.to_string())),
    }
}

/// Decodes `%XX` escapes; `None` when an escape is malformed or the result is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> ParsedUrl {
        parse_url(url).unwrap()
    }

    #[test]
    fn mqtt_url_with_everything() {
        let u = parse("mqtt://alice:s%40cret@broker.example:1884/sensors/+/temp");
        assert_eq!(
            u.endpoint,
            Endpoint::new(Scheme::Mqtt, "broker.example", 1884)
        );
        assert_eq!(u.username.as_deref(), Some("alice"));
        assert_eq!(u.password.as_deref(), Some("s@cret"));
        assert_eq!(u.topic.as_deref(), Some("sensors/+/temp"));
    }

    #[test]
    fn default_ports_per_scheme() {
        for (url, port) in [
            ("mqtt://h/t", 1883),
            ("mqtts://h/t", 8883),
            ("ws://h", 80),
            ("wss://h", 443),
            ("MQTTS://h/t", 8883),
        ] {
            assert_eq!(parse(url).endpoint.port, port, "{url}");
        }
    }

    #[test]
    fn mqtt_topic_is_verbatim_and_keeps_the_hash() {
        let u = parse("mqtts://h/a%20b/#");
        assert_eq!(u.topic.as_deref(), Some("a%20b/#"));
        assert_eq!(parse("mqtt://h").topic, None);
        assert_eq!(parse("mqtt://h/").topic, None);
    }

    #[test]
    fn websocket_path_defaults_to_mqtt_and_keeps_the_query() {
        assert_eq!(parse("ws://h:9001").endpoint.path, "/mqtt");
        let u = parse("wss://h/ws/v1?token=x");
        assert_eq!(u.endpoint.path, "/ws/v1?token=x");
        assert_eq!(u.topic, None);
        assert_eq!(parse("ws://h/").endpoint.path, "/");
    }

    #[test]
    fn ipv6_literals_in_brackets() {
        let u = parse("mqtt://[::1]:1884/t");
        assert_eq!((u.endpoint.host.as_str(), u.endpoint.port), ("::1", 1884));
        assert_eq!(u.endpoint.authority(), "[::1]:1884");
        let u = parse("wss://u@[fe80::1]/mqtt");
        assert_eq!(
            (u.endpoint.host.as_str(), u.endpoint.port),
            ("fe80::1", 443)
        );
        assert_eq!(u.username.as_deref(), Some("u"));
        assert_eq!(u.password, None);
        assert_eq!(u.endpoint.to_string(), "wss://[fe80::1]:443/mqtt");
    }

    #[test]
    fn password_may_contain_at_and_colon() {
        let u = parse("mqtt://bob:p@ss:w0rd@h/t");
        assert_eq!(u.username.as_deref(), Some("bob"));
        assert_eq!(u.password.as_deref(), Some("p@ss:w0rd"));
        assert_eq!(u.endpoint.host, "h");
    }

    #[test]
    fn errors_are_one_clear_line() {
        let cases = [
            (
                "http://h/t",
                "unsupported URL scheme 'http' (expected mqtt, mqtts, ws or wss)",
            ),
            (
                "h:1883/t",
                "URL 'h:1883/t' has no scheme (expected mqtt://, mqtts://, ws:// or wss://)",
            ),
            (
                "mqtt://h:abc/t",
                "invalid port 'abc' in URL (expected 1 to 65535)",
            ),
            (
                "mqtt://h:70000/t",
                "invalid port '70000' in URL (expected 1 to 65535)",
            ),
            (
                "mqtt://h:0/t",
                "invalid port '0' in URL (expected 1 to 65535)",
            ),
            (
                "mqtt://h:/t",
                "invalid port '' in URL (expected 1 to 65535)",
            ),
            ("mqtt:///t", "URL 'mqtt:///t' has no host"),
            ("mqtt://u:p@:1883/t", "URL 'mqtt://u:p@:1883/t' has no host"),
            (
                "mqtt://[::1/t",
                "invalid IPv6 address '[::1' in URL (write it as [addr]:port)",
            ),
            (
                "mqtt://::1:1883/t",
                "invalid IPv6 address '::1:1883' in URL (write it as [addr]:port)",
            ),
            (
                "mqtt://a%zz@h/t",
                "invalid percent-encoding in the user name of the URL",
            ),
            (
                "mqtt://a:%ff@h/t",
                "invalid percent-encoding in the password of the URL",
            ),
        ];
        for (url, message) in cases {
            assert_eq!(parse_url(url).unwrap_err().to_string(), message, "{url}");
        }
    }
}
