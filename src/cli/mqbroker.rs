//! `mqbroker`'s flags.

use std::net::IpAddr;

use clap::{ArgAction, Parser};

/// The man section of `mqbroker` (system daemons, as mosquitto's).
pub const MAN_SECTION: &str = "8";

/// An MQTT 3.1 / 3.1.1 / 5.0 broker. With no arguments it listens on localhost port 1883 (IPv4 and
/// IPv6 loopback) and allows anonymous clients.
#[derive(Debug, Parser)]
#[command(
    name = "mqbroker",
    version,
    disable_help_flag = true,
    disable_version_flag = true,
    after_help = "On start it prints one line per listener to stdout, e.g.\n  listening on mqtt://127.0.0.1:1883\nLogs go to stderr; RUST_LOG overrides -v."
)]
pub struct Args {
    /// Port to listen on; repeatable; 0 picks a free port (printed when ready).
    #[arg(short = 'p', long = "port", value_name = "PORT", action = ArgAction::Append)]
    pub ports: Vec<u16>,

    /// Address to listen on; repeatable [default: 127.0.0.1 and ::1].
    #[arg(long = "bind", value_name = "ADDR", action = ArgAction::Append)]
    pub bind: Vec<IpAddr>,

    /// Read this mosquitto.conf-style file (its `listener` lines replace -p and --bind).
    #[arg(short = 'c', long = "config-file", value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,

    /// Check the configuration file and exit (0 when it is valid).
    #[arg(long = "test-config", requires = "config")]
    pub test_config: bool,

    /// Print the man page or a shell completion script and exit.
    #[arg(long, value_name = "KIND")]
    pub generate: Option<crate::cli::generate::Generate>,

    /// Log every connection and packet, like `mosquitto -v`.
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,

    /// Print help.
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,

    /// Print version.
    #[arg(long, action = ArgAction::Version)]
    pub version: Option<bool>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        super::Args::command().debug_assert();
    }
}
