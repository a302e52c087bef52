//! Exit statuses, mosquitto-compatible: 0 success, 1 usage errors and failures, the CONNACK
//! code when the server refuses the connection (3.1.1: 1–5, 5.0: 128–162), 27 when `-W`
//! expires (libmosquitto's MOSQ_ERR_TIMEOUT).

use std::process::ExitCode;

use crate::client::ClientError;

/// A tool's exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit(pub u8);

impl Exit {
    /// Everything worked.
    pub const SUCCESS: Exit = Exit(0);
    /// A usage error or a failure.
    pub const FAILURE: Exit = Exit(1);
    /// `-W` expired (mosquitto's MOSQ_ERR_TIMEOUT).
    pub const TIMEOUT: Exit = Exit(27);

    /// The status for a client failure: the CONNACK code for a refusal, else 1.
    pub fn of(error: &ClientError) -> Exit {
        match error {
            ClientError::Refused { code, .. } => Exit(*code),
            _ => Exit::FAILURE,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.0)
    }
}
