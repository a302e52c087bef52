//! Command-line definitions (clap derive) for every tool. Like mosquitto, `-h` is the host and
//! `-V` the protocol version where a tool has them, so clap's short help and version flags are
//! off and `--help` / `--version` are long only.

pub mod generate;
pub mod mqbroker;
