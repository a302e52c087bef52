//! `mqbench`'s flags: a scenario subcommand (today `pubsub`), the server to load (none: the
//! embedded broker), the load's shape, the report and its thresholds.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args as ClapArgs, Parser, Subcommand};

use super::connect::{parse_qos, parse_version, TlsArgs};
use crate::protocol::{ProtocolVersion, QoS};

/// The man section of `mqbench` (user commands).
pub const MAN_SECTION: &str = "1";

/// Load-test an MQTT server and report throughput, end-to-end latency percentiles, loss,
/// duplicates and reordering. With no server (-h), it starts an embedded broker and runs a
/// short publish/subscribe self-test.
#[derive(Debug, Parser)]
#[command(
    name = "mqbench",
    version,
    disable_help_flag = true,
    disable_version_flag = true,
    args_override_self = true,
    after_help = "Exit status: 0 when the run worked and every threshold (--max-p99, --min-rate, --max-loss) was met; 1 otherwise."
)]
pub struct Args {
    /// The scenario [default: a pubsub self-test against the embedded broker].
    #[command(subcommand)]
    pub command: Option<Scenario>,

    /// Print the man page or a shell completion script and exit.
    #[arg(long, value_name = "KIND")]
    pub generate: Option<super::generate::Generate>,

    /// Print help.
    #[arg(long, action = ArgAction::Help, global = true)]
    pub help: Option<bool>,

    /// Print version.
    #[arg(long, action = ArgAction::Version)]
    pub version: Option<bool>,
}

/// What to run.
#[derive(Debug, Subcommand)]
pub enum Scenario {
    /// Publishers and subscribers in one run: throughput in and out, end-to-end latency,
    /// loss, duplicates and reordering.
    Pubsub(PubSubArgs),
    /// Publishers only (--subs is ignored): publish rate and publish-to-ack latency.
    Pub(PubSubArgs),
    /// Subscribers only (--pubs, --rate and --limit are ignored) for --duration: what arrives,
    /// its latency when mqbench publishers on this machine stamped it, and gaps in their
    /// sequences.
    Sub(PubSubArgs),
    /// Open connections at a rate and hold them, or churn (connect/disconnect cycles): connects
    /// per second, CONNACK latency percentiles, failures by reason.
    Conn(ConnArgs),
}

/// `mqbench conn`.
#[derive(Debug, Clone, ClapArgs)]
pub struct ConnArgs {
    /// The server.
    #[command(flatten)]
    pub server: ServerArgs,

    /// Connections to open and hold.
    #[arg(
        short = 'c',
        long = "count",
        value_name = "N",
        default_value_t = 100,
        help_heading = "Load"
    )]
    pub count: usize,

    /// Connection attempts per second [default: as fast as possible].
    #[arg(
        short = 'R',
        long = "rate",
        value_name = "PER_SECOND",
        help_heading = "Load"
    )]
    pub rate: Option<f64>,

    /// How long to hold the connections once all are open.
    #[arg(long = "hold", value_name = "TIME", value_parser = humantime::parse_duration, default_value = "1s", help_heading = "Load")]
    pub hold: Duration,

    /// Connect and disconnect at --rate for --duration instead of holding.
    #[arg(long = "churn", requires = "rate", help_heading = "Load")]
    pub churn: bool,

    /// How long to churn.
    #[arg(short = 'd', long = "duration", value_name = "TIME", value_parser = humantime::parse_duration, default_value = "10s", help_heading = "Load")]
    pub duration: Duration,

    /// The report and thresholds.
    #[command(flatten)]
    pub report: ReportArgs,
}

/// How the report is given and judged.
#[derive(Debug, Clone, ClapArgs)]
pub struct ReportArgs {
    /// Print the report as one JSON document instead of a table.
    #[arg(long = "json", help_heading = "Report")]
    pub json: bool,

    /// Also write the JSON report to this file.
    #[arg(long = "json-out", value_name = "FILE", help_heading = "Report")]
    pub json_out: Option<PathBuf>,

    /// Print one progress line per second on stderr even when it is not a terminal.
    #[arg(short = 'v', long = "verbose", help_heading = "Report")]
    pub verbose: bool,

    /// Fail (exit 1) when the p99 latency is above this (e.g. 2ms).
    #[arg(long = "max-p99", value_name = "TIME", value_parser = humantime::parse_duration, help_heading = "Thresholds")]
    pub max_p99: Option<Duration>,

    /// Fail when the rate (deliveries, or connections, per second) is lower.
    #[arg(
        long = "min-rate",
        value_name = "PER_SECOND",
        help_heading = "Thresholds"
    )]
    pub min_rate: Option<f64>,

    /// Fail when more deliveries are lost (or connections fail) than this.
    #[arg(long = "max-loss", value_name = "COUNT", help_heading = "Thresholds")]
    pub max_loss: Option<u64>,

    /// Worker threads [default: one per core].
    #[arg(long = "threads", value_name = "N", help_heading = "Report")]
    pub threads: Option<usize>,
}

/// Where the load goes and how clients connect.
#[derive(Debug, Clone, ClapArgs)]
pub struct ServerArgs {
    /// Server host(s), comma-separated: connections are spread over them round-robin (for
    /// clusters). None: start the embedded broker on a free loopback port.
    #[arg(
        short = 'h',
        long = "host",
        value_name = "HOSTS",
        value_delimiter = ',',
        help_heading = "Server"
    )]
    pub hosts: Vec<String>,

    /// Server URL(s), comma-separated, instead of -h/-p (-L is --limit, as in emqtt-bench): mqtt://, mqtts://, ws://host:port/path,
    /// wss://...; connections are spread over them round-robin.
    #[arg(
        long = "url",
        value_name = "URLS",
        value_delimiter = ',',
        conflicts_with = "hosts",
        help_heading = "Server"
    )]
    pub urls: Vec<String>,

    /// Port [default: 1883, or 8883 with TLS].
    #[arg(
        short = 'p',
        long = "port",
        value_name = "PORT",
        help_heading = "Server"
    )]
    pub port: Option<u16>,

    /// MQTT version: 31, 311 or 5.
    #[arg(short = 'V', long = "protocol-version", value_name = "VERSION", value_parser = parse_version, default_value = "5", help_heading = "Server")]
    pub protocol_version: ProtocolVersion,

    /// Use MQTT over WebSockets (path /mqtt).
    #[arg(long = "ws", help_heading = "Server")]
    pub ws: bool,

    /// User name.
    #[arg(
        short = 'u',
        long = "username",
        value_name = "USER",
        help_heading = "Server"
    )]
    pub username: Option<String>,

    /// Password (see also MQKIT_PASSWORD).
    #[arg(
        short = 'P',
        long = "pw",
        value_name = "PASSWORD",
        help_heading = "Server"
    )]
    pub password: Option<String>,

    /// Client id prefix; ids are PREFIX + pub-N / sub-N.
    #[arg(
        short = 'I',
        long = "id-prefix",
        value_name = "PREFIX",
        default_value = "mqbench-",
        help_heading = "Server"
    )]
    pub id_prefix: String,

    /// Keep alive in seconds.
    #[arg(
        short = 'k',
        long = "keepalive",
        value_name = "SECONDS",
        default_value_t = 60,
        help_heading = "Server"
    )]
    pub keepalive: u16,

    /// Keep sessions (Clean Start 0); with MQTT 5 they then expire after --session-expiry.
    #[arg(long = "persistent", help_heading = "Server")]
    pub persistent: bool,

    /// MQTT 5 session expiry interval, seconds.
    #[arg(
        short = 'x',
        long = "session-expiry",
        value_name = "SECONDS",
        help_heading = "Server"
    )]
    pub session_expiry: Option<u32>,

    /// TLS flags, as mqpub's.
    #[command(flatten)]
    pub tls: TlsArgs,
}

/// `mqbench pubsub`.
#[derive(Debug, Clone, ClapArgs)]
pub struct PubSubArgs {
    /// The server.
    #[command(flatten)]
    pub server: ServerArgs,

    /// Publisher connections.
    #[arg(
        long = "pubs",
        value_name = "N",
        default_value_t = 1,
        help_heading = "Load"
    )]
    pub publishers: usize,

    /// Subscriber connections (each receives every message).
    #[arg(
        long = "subs",
        value_name = "N",
        default_value_t = 1,
        help_heading = "Load"
    )]
    pub subscribers: usize,

    /// Publish topic; %i is the publisher's index, %c its client id, %u the user name, %s the
    /// message's sequence number.
    #[arg(
        short = 't',
        long = "topic",
        value_name = "TEMPLATE",
        default_value = "mqbench/%i",
        help_heading = "Load"
    )]
    pub topic: String,

    /// The subscribers' filter; it must match every publisher's topic. With $share/GROUP/...
    /// each message is expected once for the whole group.
    #[arg(
        long = "filter",
        value_name = "FILTER",
        default_value = "mqbench/#",
        help_heading = "Load"
    )]
    pub filter: String,

    /// QoS of publishes and subscriptions.
    #[arg(short = 'q', long = "qos", value_name = "QOS", value_parser = parse_qos, default_value = "0", help_heading = "Load")]
    pub qos: QoS,

    /// Payload size in bytes (at least 20: the stamp).
    #[arg(
        short = 's',
        long = "size",
        value_name = "BYTES",
        default_value_t = 64,
        help_heading = "Load"
    )]
    pub size: usize,

    /// Payload: mqbench's 20-byte stamp followed by this file's contents (instead of --size).
    #[arg(long = "payload-file", value_name = "FILE", help_heading = "Load")]
    pub payload_file: Option<PathBuf>,

    /// Total publish rate in msg/s over all publishers [default: as fast as possible].
    #[arg(
        short = 'r',
        long = "rate",
        value_name = "MSG/S",
        help_heading = "Load"
    )]
    pub rate: Option<f64>,

    /// Rate per publisher in msg/s (the total is this times --pubs); instead of --rate.
    #[arg(
        long = "rate-per-client",
        value_name = "MSG/S",
        conflicts_with = "rate",
        help_heading = "Load"
    )]
    pub rate_per_client: Option<f64>,

    /// Publish with the retain flag.
    #[arg(long = "retain", help_heading = "Load")]
    pub retain: bool,

    /// Open the publishers' and subscribers' connections at this rate (per second) before the
    /// run [default: one after another].
    #[arg(
        short = 'R',
        long = "connect-rate",
        value_name = "PER_SECOND",
        help_heading = "Load"
    )]
    pub connect_rate: Option<f64>,

    /// How long to publish (e.g. 30s, 2m), warm-up included.
    #[arg(short = 'd', long = "duration", value_name = "TIME", value_parser = humantime::parse_duration, default_value = "10s", help_heading = "Load")]
    pub duration: Duration,

    /// The first part of the run whose latencies are not recorded.
    #[arg(long = "warmup", value_name = "TIME", value_parser = humantime::parse_duration, default_value = "1s", help_heading = "Load")]
    pub warmup: Duration,

    /// Messages per publisher at most.
    #[arg(
        short = 'L',
        long = "limit",
        value_name = "COUNT",
        help_heading = "Load"
    )]
    pub limit: Option<u64>,

    /// QoS 1/2 messages in flight per publisher.
    #[arg(
        short = 'F',
        long = "inflight",
        value_name = "COUNT",
        default_value_t = 64,
        help_heading = "Load"
    )]
    pub inflight: usize,

    /// How long subscribers wait for missing messages after the publishers stop.
    #[arg(long = "drain", value_name = "TIME", value_parser = humantime::parse_duration, default_value = "2s", help_heading = "Load")]
    pub drain: Duration,

    /// The report and thresholds.
    #[command(flatten)]
    pub report: ReportArgs,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        super::Args::command().debug_assert();
    }
}
