//! One runner per binary: resolved flags in, exit status out. The binaries in `src/bin/` only
//! parse arguments, set up logging and the runtime, and call these.

pub mod connection;
pub mod mqbench;
pub mod mqbroker;
pub mod mqpub;
pub mod mqsub;
pub mod passwd;
pub mod report;

use std::future::Future;

use crate::exit::Exit;

/// Runs a client tool's future on a runtime of its own (one thread is plenty for one
/// connection and starts fastest) and returns its exit status.
pub fn run_client(tool: &str, future: impl Future<Output = Exit>) -> Exit {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(future),
        Err(e) => {
            eprintln!("{tool}: error: cannot start the runtime: {e}");
            Exit::FAILURE
        }
    }
}

/// `--generate KIND`: prints the man page (man `section`) or a completion script of tool `T`.
pub fn print_generated<T: clap::CommandFactory>(
    section: &str,
    kind: crate::cli::generate::Generate,
    report: &report::Report,
) -> Exit {
    let mut out = std::io::stdout();
    match crate::cli::generate::generate(T::command(), section, kind, &mut out) {
        Ok(()) => Exit::SUCCESS,
        Err(e) => report.failure(&e.to_string()),
    }
}
