//! `mqbroker`: the MQTT broker. Parses flags, sets up logging, runs `mqkit::tool::mqbroker`.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use mqkit::cli::mqbroker::Args;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let args = Args::parse();
    let default = if args.verbose { "debug" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_target(false)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mqbroker: error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(mqkit::tool::mqbroker::run(
        args,
        &mut std::io::stdout(),
        mqkit::shutdown::signal(),
    ));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mqbroker: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
