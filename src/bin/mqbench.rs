//! `mqbench`: load-test an MQTT server (or, with no server, self-test against the embedded
//! broker). Parses flags and runs `mqkit::tool::mqbench`, which owns its multi-thread runtime.

use std::process::ExitCode;

use mqkit::cli::mqbench::Args;

fn main() -> ExitCode {
    let args: Args = match mqkit::cli::parse_client_args("mqbench") {
        Ok(args) => args,
        Err(exit) => return exit.into(),
    };
    mqkit::tool::mqbench::main(args).into()
}
