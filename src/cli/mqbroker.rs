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
    /// A subcommand instead of running the broker.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Port to listen on; repeatable; 0 picks a free port (printed when ready).
    #[arg(short = 'p', long = "port", value_name = "PORT", action = ArgAction::Append)]
    pub ports: Vec<u16>,

    /// Address to listen on; repeatable [default: 127.0.0.1 and ::1].
    #[arg(long = "bind", value_name = "ADDR", action = ArgAction::Append)]
    pub bind: Vec<IpAddr>,

    /// Read this mosquitto.conf-style file, see mqbroker.conf(5) (its `listener` lines replace
    /// -p and --bind).
    #[arg(short = 'c', long = "config-file", value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,

    /// Check the configuration file and exit (0 when it is valid).
    #[arg(long = "test-config", requires = "config")]
    pub test_config: bool,

    /// Print the man page or a shell completion script and exit.
    #[arg(long, value_name = "KIND")]
    pub generate: Option<crate::cli::generate::Generate>,

    /// Log every connection and packet, like `mosquitto -v` (log_type all; RUST_LOG overrides).
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,

    /// Print help.
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,

    /// Print version.
    #[arg(long, action = ArgAction::Version)]
    pub version: Option<bool>,
}

/// What `mqbroker` can do besides serving.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Add, update or delete a user of a password file, as mosquitto_passwd does (the file
    /// works with mosquitto too).
    Passwd(PasswdArgs),
}

/// `mqbroker passwd`'s flags (mosquitto_passwd's).
#[derive(Debug, clap::Args)]
#[command(disable_help_flag = true)]
pub struct PasswdArgs {
    /// Create the file, replacing it if it exists.
    #[arg(short = 'c', conflicts_with = "delete")]
    pub create: bool,

    /// Take the password from the command line instead of prompting for it.
    #[arg(short = 'b')]
    pub batch: bool,

    /// Delete the user.
    #[arg(short = 'D', conflicts_with = "batch")]
    pub delete: bool,

    /// PBKDF2 iterations of the new hash.
    #[arg(short = 'I', value_name = "N", default_value_t = crate::broker::passwd::DEFAULT_ITERATIONS,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(crate::broker::passwd::MAX_ITERATIONS)))]
    pub iterations: u32,

    /// The password file.
    pub file: std::path::PathBuf,

    /// The user name.
    pub user: String,

    /// The password (with -b).
    pub password: Option<String>,

    /// Print help.
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        super::Args::command().debug_assert();
    }
}
