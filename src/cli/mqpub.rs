//! `mqpub`'s flags: mosquitto_pub's, plus `--line-format` and `--encoding`.

use std::path::PathBuf;

use clap::{ArgAction, Parser, ValueEnum};

use super::connect::ConnectArgs;
use super::property::{Allowed, Command};

/// The man section of `mqpub` (user commands).
pub const MAN_SECTION: &str = "1";

/// The `-D` commands mqpub takes (mosquitto_pub's, but AUTH: see `property::Command::Auth`).
pub const PROPERTY_COMMANDS: Allowed = &[
    Command::Connect,
    Command::Publish,
    Command::PubRel,
    Command::Disconnect,
    Command::Will,
];

/// Publish MQTT messages: one (-m, -f, -s, -n), repeated (--repeat), or one per line of
/// standard input (-l) over one connection that survives broker restarts.
#[derive(Debug, Parser)]
#[command(
    name = "mqpub",
    version,
    disable_help_flag = true,
    disable_version_flag = true,
    args_override_self = true,
    after_help = "Exit status: 0 when every message was delivered; the CONNACK code when the server refuses the connection; 1 for usage errors and failures.\nDefaults are read from $XDG_CONFIG_HOME/mqpub (or ~/.config/mqpub), one option per line, unless -o FILE names another."
)]
pub struct Args {
    /// The connection flags shared with mqsub.
    #[command(flatten)]
    pub connect: ConnectArgs,

    /// Topic to publish to.
    #[arg(
        short = 't',
        long = "topic",
        value_name = "TOPIC",
        help_heading = "Message"
    )]
    pub topic: Option<String>,

    /// Message payload.
    #[arg(
        short = 'm',
        long = "message",
        value_name = "MESSAGE",
        allow_hyphen_values = true,
        help_heading = "Message"
    )]
    pub message: Option<String>,

    /// Send the contents of a file as the message.
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        help_heading = "Message"
    )]
    pub file: Option<PathBuf>,

    /// Send all of standard input as one message.
    #[arg(short = 's', long = "stdin-file", help_heading = "Message")]
    pub stdin_file: bool,

    /// Send one message per line of standard input, over one connection.
    #[arg(short = 'l', long = "stdin-line", help_heading = "Message")]
    pub stdin_line: bool,

    /// Send a zero-length message.
    #[arg(short = 'n', long = "null-message", help_heading = "Message")]
    pub null_message: bool,

    /// Retain the message.
    #[arg(short = 'r', long = "retain", help_heading = "Message")]
    pub retain: bool,

    /// With -m, -f, -s or -n: publish the message this many times.
    #[arg(
        long = "repeat",
        value_name = "COUNT",
        default_value_t = 1,
        help_heading = "Message"
    )]
    pub repeat: u32,

    /// Seconds (fractions allowed) between the end of one publish and the next with --repeat.
    #[arg(
        long = "repeat-delay",
        value_name = "SECONDS",
        default_value_t = 0.0,
        help_heading = "Message"
    )]
    pub repeat_delay: f64,

    /// With -l: what each line is; `topic` = TOPIC<TAB>PAYLOAD, `json` = {"topic","payload",
    /// "qos","retain","properties"} per line.
    #[arg(long = "line-format", value_name = "FORMAT", value_enum, default_value_t = LineFormat::Payload, help_heading = "Message")]
    pub line_format: LineFormat,

    /// With -l: give up on the broker after this many failed reconnections in a row
    /// (0 = keep trying).
    #[arg(
        long = "reconnect-attempts",
        value_name = "COUNT",
        default_value_t = 0,
        help_heading = "Message"
    )]
    pub reconnect_attempts: u32,

    /// With -l: how many QoS 1/2 messages to keep while the broker is away.
    #[arg(
        long = "queue",
        value_name = "COUNT",
        default_value_t = 10_000,
        help_heading = "Message"
    )]
    pub queue: usize,

    /// Print the man page or a shell completion script and exit.
    #[arg(long, value_name = "KIND")]
    pub generate: Option<super::generate::Generate>,

    /// Print help.
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,

    /// Print version.
    #[arg(long, action = ArgAction::Version)]
    pub version: Option<bool>,
}

/// What one line of `-l` input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LineFormat {
    /// The payload; the topic is -t.
    Payload,
    /// TOPIC, a tab, then the payload.
    Topic,
    /// A JSON object: topic, payload, optional qos, retain, payload_encoding, properties.
    Json,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        super::Args::command().debug_assert();
    }
}
