//! mosquitto's logging options (`log_dest`, `log_type`, `log_timestamp`, `log_timestamp_format`,
//! `connection_messages`) as settings, and how they select `tracing` events. The binary builds
//! its subscriber from them (`tool::mqbroker::logging`); `-v` and `RUST_LOG` still win over the
//! file's `log_type`.
//!
//! mosquitto tags each log line with one type; `tracing` has levels and targets. The mapping:
//!
//! | `log_type`            | `tracing` events                                                 |
//! |-----------------------|------------------------------------------------------------------|
//! | `error`               | level ERROR                                                      |
//! | `warning`             | level WARN                                                       |
//! | `notice`, `information` | level INFO (mqbroker does not tell them apart: either shows it) |
//! | `debug`               | level DEBUG (TRACE only through `RUST_LOG`)                      |
//! | `subscribe`           | target [`SUBSCRIBE`]: `CLIENT QOS FILTER`, as mosquitto          |
//! | `unsubscribe`         | target [`UNSUBSCRIBE`]: `CLIENT FILTER`                          |
//! | `websockets`          | the WebSocket library's own events (`tungstenite`)               |
//! | `all` / `none`        | every type above / nothing                                       |
//!
//! `connection_messages false` hides the events of target [`CONNECTIONS`] (a client connecting,
//! connected, disconnecting), whatever `log_type` says, also with `-v`, as mosquitto.

use std::path::PathBuf;

/// The target of the "New connection from…", "New client connected…" and "Client …
/// disconnected" lines (`connection_messages`).
pub const CONNECTIONS: &str = "mqkit::broker::connections";
/// The target of the one line per granted subscription (`log_type subscribe`).
pub const SUBSCRIBE: &str = "mqkit::broker::subscribe";
/// The target of the one line per removed subscription (`log_type unsubscribe`).
pub const UNSUBSCRIBE: &str = "mqkit::broker::unsubscribe";

/// A set of mosquitto log types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogTypes(u16);

impl LogTypes {
    /// `error`.
    pub const ERROR: LogTypes = LogTypes(1);
    /// `warning`.
    pub const WARNING: LogTypes = LogTypes(1 << 1);
    /// `notice`.
    pub const NOTICE: LogTypes = LogTypes(1 << 2);
    /// `information`.
    pub const INFORMATION: LogTypes = LogTypes(1 << 3);
    /// `debug`.
    pub const DEBUG: LogTypes = LogTypes(1 << 4);
    /// `subscribe`.
    pub const SUBSCRIBE: LogTypes = LogTypes(1 << 5);
    /// `unsubscribe`.
    pub const UNSUBSCRIBE: LogTypes = LogTypes(1 << 6);
    /// `websockets`.
    pub const WEBSOCKETS: LogTypes = LogTypes(1 << 7);
    /// `none`.
    pub const NONE: LogTypes = LogTypes(0);
    /// `all` (what `-v` selects).
    pub const ALL: LogTypes = LogTypes(0xff);
    /// mosquitto's default: error, warning, notice and information.
    pub const DEFAULT: LogTypes = LogTypes(0b1111);

    const NAMES: [(&'static str, LogTypes); 10] = [
        ("error", Self::ERROR),
        ("warning", Self::WARNING),
        ("notice", Self::NOTICE),
        ("information", Self::INFORMATION),
        ("debug", Self::DEBUG),
        ("subscribe", Self::SUBSCRIBE),
        ("unsubscribe", Self::UNSUBSCRIBE),
        ("websockets", Self::WEBSOCKETS),
        ("all", Self::ALL),
        ("none", Self::NONE),
    ];

    /// The type `log_type NAME` names.
    pub fn named(name: &str) -> Option<LogTypes> {
        Self::NAMES
            .iter()
            .find_map(|&(n, types)| (n == name).then_some(types))
    }

    /// Whether any type of `other` is in the set.
    pub fn any(self, other: LogTypes) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether an event (or span) of `level` and `target` is of a type in the set.
    pub fn enabled(self, level: tracing::Level, target: &str) -> bool {
        if target == SUBSCRIBE {
            return self.any(Self::SUBSCRIBE);
        }
        if target == UNSUBSCRIBE {
            return self.any(Self::UNSUBSCRIBE);
        }
        if target.starts_with("tungstenite") || target.starts_with("tokio_tungstenite") {
            return self.any(Self::WEBSOCKETS);
        }
        let wanted = match level {
            tracing::Level::ERROR => Self::ERROR,
            tracing::Level::WARN => Self::WARNING,
            tracing::Level::INFO => LogTypes(Self::NOTICE.0 | Self::INFORMATION.0),
            tracing::Level::DEBUG => Self::DEBUG,
            tracing::Level::TRACE => Self::NONE,
        };
        self.any(wanted)
    }
}

/// Where log lines go (`log_dest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogDest {
    /// `stderr` (the default).
    Stderr,
    /// `stdout`, after the `listening on` lines.
    Stdout,
    /// `file PATH`, appended to.
    File(PathBuf),
}

/// The logging settings of a configuration file, with mosquitto's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logging {
    /// Where lines go; empty is `log_dest none`.
    pub dests: Vec<LogDest>,
    /// Which lines (`log_type`).
    pub types: LogTypes,
    /// Whether lines start with the time (`log_timestamp`).
    pub timestamp: bool,
    /// A strftime format for the time (`log_timestamp_format`); `None`: RFC 3339 in UTC.
    pub timestamp_format: Option<String>,
    /// Whether clients connecting and disconnecting are logged (`connection_messages`).
    pub connection_messages: bool,
    /// Whether a `log_dest` / `log_type` line was read: the first replaces the default.
    dest_given: bool,
    types_given: bool,
}

impl Default for Logging {
    fn default() -> Self {
        Logging {
            dests: vec![LogDest::Stderr],
            types: LogTypes::DEFAULT,
            timestamp: true,
            timestamp_format: None,
            connection_messages: true,
            dest_given: false,
            types_given: false,
        }
    }
}

impl Logging {
    /// Whether an event (or span) with `metadata` is logged.
    pub fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        if metadata.target() == CONNECTIONS && !self.connection_messages {
            return false;
        }
        self.types.enabled(*metadata.level(), metadata.target())
    }

    /// One `log_dest` line: `stderr`, `stdout`, `file PATH` or `none`; lines add up.
    pub fn add_dest(&mut self, value: &str) -> Result<(), String> {
        if !std::mem::replace(&mut self.dest_given, true) {
            self.dests.clear();
        }
        let (word, rest) = value
            .split_once(char::is_whitespace)
            .map_or((value, ""), |(w, r)| (w, r.trim()));
        let dest = match word {
            "stderr" => LogDest::Stderr,
            "stdout" => LogDest::Stdout,
            "none" => {
                self.dests.clear();
                return Ok(());
            }
            "file" if rest.is_empty() => return Err("log_dest file needs a path".to_owned()),
            "file" if self.dests.iter().any(|d| matches!(d, LogDest::File(_))) => {
                return Err("log_dest file given twice: mqbroker logs to one file".to_owned())
            }
            "file" => LogDest::File(PathBuf::from(rest)),
            "syslog" | "topic" | "dlt" => {
                return Err(format!(
                    "log_dest {word} is not supported by mqbroker: use stderr, stdout, file PATH or none"
                ))
            }
            _ => return Err(format!("log_dest {value}: stderr, stdout, file PATH or none")),
        };
        if !self.dests.contains(&dest) {
            self.dests.push(dest);
        }
        Ok(())
    }

    /// One `log_type` line; lines add up.
    pub fn add_type(&mut self, value: &str) -> Result<(), String> {
        let types = LogTypes::named(value).ok_or_else(|| {
            let names: Vec<&str> = LogTypes::NAMES.iter().map(|(n, _)| *n).collect();
            format!("log_type {value}: one of {}", names.join(", "))
        })?;
        if !std::mem::replace(&mut self.types_given, true) {
            self.types = LogTypes::NONE;
        }
        self.types = if types == LogTypes::NONE {
            types
        } else {
            LogTypes(self.types.0 | types.0)
        };
        Ok(())
    }

    /// `log_timestamp_format`: a strftime format, checked now so that logging cannot fail.
    pub fn set_timestamp_format(&mut self, value: &str) -> Result<(), String> {
        use chrono::format::{Item, StrftimeItems};
        if value.is_empty() || StrftimeItems::new(value).any(|i| matches!(i, Item::Error)) {
            return Err(format!(
                "log_timestamp_format {value}: not a strftime format (e.g. %Y-%m-%dT%H:%M:%S)"
            ));
        }
        self.timestamp_format = Some(value.to_owned());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_types_map_onto_levels_and_targets() {
        use tracing::Level;
        let error_and_debug = LogTypes(LogTypes::ERROR.0 | LogTypes::DEBUG.0);
        let other = "mqkit::broker";
        assert!(error_and_debug.enabled(Level::ERROR, other));
        assert!(!error_and_debug.enabled(Level::WARN, other));
        assert!(error_and_debug.enabled(Level::DEBUG, other));
        assert!(!LogTypes::ALL.enabled(Level::TRACE, other));
        assert!(LogTypes::NOTICE.enabled(Level::INFO, other));
        assert!(!LogTypes::DEBUG.enabled(Level::DEBUG, SUBSCRIBE));
        assert!(LogTypes::SUBSCRIBE.enabled(Level::DEBUG, SUBSCRIBE));
        assert!(!LogTypes::SUBSCRIBE.enabled(Level::DEBUG, UNSUBSCRIBE));
        assert!(LogTypes::WEBSOCKETS.enabled(Level::DEBUG, "tungstenite::handshake"));
        assert!(!LogTypes::DEBUG.enabled(Level::DEBUG, "tungstenite::handshake"));
    }
}
