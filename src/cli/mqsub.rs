//! `mqsub`'s flags: mosquitto_sub's, plus `--json`, `--color`, `--no-local`.

use clap::{ArgAction, Parser, ValueEnum};

use super::connect::ConnectArgs;
use super::property::{Allowed, Command};

/// The man section of `mqsub` (user commands).
pub const MAN_SECTION: &str = "1";

/// The `-D` commands mqsub takes (mosquitto_sub's, but AUTH: see `property::Command::Auth`).
pub const PROPERTY_COMMANDS: Allowed = &[
    Command::Connect,
    Command::PubAck,
    Command::PubRec,
    Command::PubComp,
    Command::Subscribe,
    Command::Unsubscribe,
    Command::Disconnect,
    Command::Will,
];

/// Subscribe to MQTT topics and print the messages: the payload, `topic payload` (-v), a
/// format of your own (-F) or JSON Lines (--json). Reconnects and subscribes again when the
/// connection drops.
#[derive(Debug, Parser)]
#[command(
    name = "mqsub",
    version,
    disable_help_flag = true,
    disable_version_flag = true,
    args_override_self = true,
    after_long_help = FORMAT_HELP,
    after_help = "Exit status: 0 on success (also when stdout is closed, e.g. `| head -1`); 27 when -W expires; the CONNACK code when the server refuses the connection; 1 for usage errors, failures and when every subscription is denied.\nDefaults are read from $XDG_CONFIG_HOME/mqsub (or ~/.config/mqsub), one option per line, unless -o FILE names another."
)]
pub struct Args {
    /// The connection flags shared with mqpub.
    #[command(flatten)]
    pub connect: ConnectArgs,

    /// Topic filter to subscribe to; repeatable.
    #[arg(short = 't', long = "topic", value_name = "FILTER", action = ArgAction::Append, help_heading = "Subscription")]
    pub topics: Vec<String>,

    /// Do not print (or count) messages matching this filter; repeatable.
    #[arg(short = 'T', long = "filter-out", value_name = "FILTER", action = ArgAction::Append, help_heading = "Subscription")]
    pub filter_out: Vec<String>,

    /// Unsubscribe from this filter after subscribing (for persistent sessions); repeatable.
    #[arg(short = 'U', long = "unsubscribe", value_name = "FILTER", action = ArgAction::Append, help_heading = "Subscription")]
    pub unsubscribe: Vec<String>,

    /// Exit after printing this many messages.
    #[arg(short = 'C', value_name = "COUNT", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Subscription")]
    pub count: Option<u64>,

    /// Exit after this many seconds (status 27 when it expires).
    #[arg(short = 'W', value_name = "SECONDS", value_parser = clap::value_parser!(u32).range(1..), help_heading = "Subscription")]
    pub timeout: Option<u32>,

    /// Exit as soon as the subscription is acknowledged.
    #[arg(short = 'E', help_heading = "Subscription")]
    pub exit_after_subscribe: bool,

    /// Do not print retained ("stale") messages; MQTT 5: ask the server not to send them.
    #[arg(
        short = 'R',
        conflicts_with = "retained_only",
        help_heading = "Subscription"
    )]
    pub no_retained: bool,

    /// Print only retained messages; exit at the first message that is not retained.
    #[arg(long = "retained-only", help_heading = "Subscription")]
    pub retained_only: bool,

    /// Clear every retained message received (publish an empty retained message).
    #[arg(long = "remove-retained", help_heading = "Subscription")]
    pub remove_retained: bool,

    /// MQTT 5: keep the retain flag as published (Retain As Published).
    #[arg(long = "retain-as-published", help_heading = "Subscription")]
    pub retain_as_published: bool,

    /// MQTT 5: do not receive the messages this client publishes (No Local).
    #[arg(long = "no-local", help_heading = "Subscription")]
    pub no_local: bool,

    /// Print only this percentage (0.1 to 100) of the messages, picked at random.
    #[arg(
        long = "random-filter",
        value_name = "PERCENT",
        help_heading = "Subscription"
    )]
    pub random_filter: Option<f64>,

    /// Print the topic before the payload.
    #[arg(short = 'v', long = "verbose", help_heading = "Output")]
    pub verbose: bool,

    /// Do not end each message with a newline.
    #[arg(short = 'N', help_heading = "Output")]
    pub no_eol: bool,

    /// Output format, mosquitto_sub's -F language (%t topic, %p payload, %j JSON, @H time...).
    #[arg(
        short = 'F',
        value_name = "FORMAT",
        allow_hyphen_values = true,
        help_heading = "Output"
    )]
    pub format: Option<String>,

    /// Indent the JSON of %j and %J.
    #[arg(long = "pretty", help_heading = "Output")]
    pub pretty: bool,

    /// One JSON object per message (JSON Lines); binary payloads as base64.
    #[arg(long = "json", conflicts_with = "format", help_heading = "Output")]
    pub json: bool,

    /// Colour the topic of -v output: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long = "color", visible_alias = "colour", value_name = "WHEN", value_enum, default_value_t = ColorChoice::Auto, help_heading = "Output")]
    pub color: ColorChoice,

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

/// The -F language, for `--help` and the man page.
const FORMAT_HELP: &str = "\
Output format (-F), as mosquitto_sub 2.0's:
  %t topic  %p payload  %l payload length  %m message id (0 for QoS 0)  %q QoS  %r retain
  %x / %X payload in lower / upper case hex
  MQTT 5: %A topic alias  %C content type  %D correlation data  %E message expiry interval
          %F payload format indicator  %P user properties (key:value ...)  %R response topic
          %S subscription identifier
  %I ISO 8601 time  %U Unix time with nanoseconds  %j JSON  %J JSON with a JSON payload
  %% a per cent sign;  @X strftime's %X (e.g. @H:@M:@S), @N nanoseconds, @@ an at sign
  escapes: \\\\ \\0 \\a \\e \\n \\r \\t \\v
  flags, width and precision: %[0|-][width][.precision]X, e.g. %-20t %08l %.10p
A newline follows each message unless -N.

--json prints one JSON object per message: topic, qos, retain, mid (QoS > 0), received_at
(RFC 3339), payload (a string; base64 with \"payload_encoding\":\"base64\" when it is not
UTF-8), payload_length, and properties (MQTT 5).

Exit status: 0 on success (also when stdout is closed, e.g. `| head -1`); 27 when -W expires;
the CONNACK code when the server refuses the connection; 1 for usage errors, failures and when
every subscription is denied.
Defaults are read from $XDG_CONFIG_HOME/mqsub (or ~/.config/mqsub), one option per line,
unless -o FILE names another.";

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On when stdout is a terminal and NO_COLOR is not set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        super::Args::command().debug_assert();
    }
}
