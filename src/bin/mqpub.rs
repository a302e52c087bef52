//! `mqpub`: publish MQTT messages, as `mosquitto_pub` does and more. Parses flags (with the
//! defaults file), starts the runtime, runs `mqkit::tool::mqpub`.

use std::process::ExitCode;

use mqkit::cli::mqpub::Args;

fn main() -> ExitCode {
    let args: Args = match mqkit::cli::parse_client_args("mqpub") {
        Ok(args) => args,
        Err(exit) => return exit.into(),
    };
    mqkit::tool::run_client("mqpub", mqkit::tool::mqpub::run(args)).into()
}
