//! Command-line definitions (clap derive) for every tool. Like mosquitto, `-h` is the host and
//! `-V` the protocol version where a tool has them, so clap's short help and version flags are
//! off and `--help` / `--version` are long only. The groups the clients share (connection,
//! TLS, will, `-D` properties, the defaults file) are here once and flattened into each tool.

pub mod connect;
pub mod defaults;
pub mod encoding;
pub mod generate;
pub mod mqbench;
pub mod mqbroker;
pub mod mqpub;
pub mod mqsub;
pub mod password;
pub mod property;

use clap::error::ErrorKind;
use clap::Parser;

use crate::exit::Exit;

/// Parses the process arguments for the client tool `tool`, with its defaults file read first.
/// `--help` and `--version` print and give `Err(Exit::SUCCESS)`; a usage error prints one line
/// (`mqpub: error: ...`) and gives `Err(Exit::FAILURE)`: mosquitto's clients exit 1 for usage
/// errors, where clap would exit 2.
pub fn parse_client_args<T: Parser>(tool: &str) -> Result<T, Exit> {
    let argv = defaults::with_defaults(tool, std::env::args_os().collect()).map_err(|e| {
        eprintln!("{tool}: error: {e}");
        Exit::FAILURE
    })?;
    T::try_parse_from(argv).map_err(|e| match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            Exit::SUCCESS
        }
        _ => {
            eprintln!(
                "{tool}: {} (see {tool} --help)",
                first_line(&e.render().to_string())
            );
            Exit::FAILURE
        }
    })
}

/// The first non-empty line of clap's error text, which names the problem, with the lines
/// that line introduces (`...were not provided:` is followed by the arguments).
fn first_line(text: &str) -> String {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or_default().to_string();
    if !first.ends_with(':') {
        return first;
    }
    let rest: Vec<&str> = lines.take_while(|l| !l.starts_with("Usage:")).collect();
    format!("{first} {}", rest.join(", "))
}
