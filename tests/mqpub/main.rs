//! Tests of the real `mqpub` binary, run as a process against brokers on `127.0.0.1` with
//! ephemeral ports, and observed with `mosquitto_sub -V 5 -F ...`: the same command lines as
//! `mosquitto_pub` give the same messages and exit statuses with Debian's mosquitto and with
//! mqbroker (`parity`), usage errors (`usage`), refused connections (`refused`), what only
//! mqpub does (`beyond`), and `-l` surviving a broker restart (`stream`).
//!
//! The interop harness (`tests/interop/support.rs`) is shared, not copied; `harness.rs` adds
//! what these tests need. Without mosquitto the tests print a note and pass, except under
//! `CI=true`, where they fail.

/// For each `fn name(version: Version)` listed, emits a module `name` with the tests `v3_1_1`
/// and `v5`.
macro_rules! both_versions {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[test]
            fn v3_1_1() {
                super::$name(crate::support::Version::V311);
            }

            #[test]
            fn v5() {
                super::$name(crate::support::Version::V5);
            }
        }
    )+};
}

mod beyond;
mod harness;
mod parity;
mod refused;
mod stream;
#[path = "../interop/support.rs"]
mod support;
mod usage;
