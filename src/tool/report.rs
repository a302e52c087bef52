//! How the client tools tell the user what went wrong: one line on stderr, prefixed with the
//! tool's name, and the exit status that goes with it. `--quiet` silences run-time messages
//! (not usage errors), as mosquitto's does.

use crate::client::ClientError;
use crate::exit::Exit;

/// Error and warning output for one tool.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    tool: &'static str,
    quiet: bool,
}

impl Report {
    /// Reporting for `tool`; `quiet` is `--quiet`.
    pub fn new(tool: &'static str, quiet: bool) -> Self {
        Report { tool, quiet }
    }

    /// A usage error: always printed, exit status 1.
    pub fn usage(&self, message: &str) -> Exit {
        eprintln!("{}: error: {message}", self.tool);
        Exit::FAILURE
    }

    /// A run-time failure, exit status 1.
    pub fn failure(&self, message: &str) -> Exit {
        self.error(message);
        Exit::FAILURE
    }

    /// Prints a run-time error (unless quiet) without deciding the exit status.
    pub fn error(&self, message: &str) {
        if !self.quiet {
            eprintln!("{}: error: {message}", self.tool);
        }
    }

    /// A warning (mosquitto's `Warning: Publish 1 failed: ...`).
    pub fn warning(&self, message: &str) {
        if !self.quiet {
            eprintln!("{}: warning: {message}", self.tool);
        }
    }

    /// A client failure: the CONNACK code when refused, else 1.
    pub fn client_error(&self, error: &ClientError) -> Exit {
        self.error(&error.to_string());
        Exit::of(error)
    }
}

impl Report {
    /// A bare line on stderr (mosquitto_sub's `Timed out`), unless quiet.
    pub fn error_line(&self, line: &str) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }
}
