//! `mqbroker`: the MQTT broker. Parses flags, reads the configuration file, sets up logging
//! from it, runs `mqkit::tool::mqbroker`.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use mqkit::cli::mqbroker::Args;
use mqkit::tool::mqbroker;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    match start(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mqbroker: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn start(args: Args) -> anyhow::Result<()> {
    let conf = mqbroker::load(&args)?;
    // RUST_LOG wins over -v, which wins over the file's log_type.
    let env = EnvFilter::try_from_default_env().ok();
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let logging = conf.as_ref().map(|c| &c.logging);
    mqbroker::logging::subscriber(logging, args.verbose, env, color)?.init();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the runtime")?;
    runtime.block_on(async {
        // Watched from before the listeners are announced: a SIGTERM right after the ready line
        // must still stop the broker cleanly.
        let shutdown = mqkit::shutdown::signal();
        mqbroker::run(args, conf, &mut std::io::stdout(), shutdown).await
    })
}
