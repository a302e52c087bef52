//! `mqsub`: subscribe and print MQTT messages, as `mosquitto_sub` does and more. Parses flags (with the
//! defaults file), starts the runtime, runs `mqkit::tool::mqsub`.

use std::process::ExitCode;

use mqkit::cli::mqsub::Args;

fn main() -> ExitCode {
    let args: Args = match mqkit::cli::parse_client_args("mqsub") {
        Ok(args) => args,
        Err(exit) => return exit.into(),
    };
    mqkit::tool::run_client("mqsub", mqkit::tool::mqsub::run(args)).into()
}
