//! Interop tests: the real `mqbroker` binary, started as a process on `127.0.0.1` with an
//! ephemeral port, driven by Debian's `mosquitto_pub`, `mosquitto_sub` and `mosquitto_rr`, and
//! compared side by side with Debian's `mosquitto` broker. Also the CI recipe script in
//! `scripts/`. See `support.rs` for the harness.
//!
//! Without mosquitto the tests print a note and pass, except under `CI=true`, where they fail:
//! `.ci/run` is expected to install `mosquitto` and `mosquitto-clients`.
//!
//! Behaviours both protocol versions share run twice, as `name::v3_1_1` (`-V 311`) and
//! `name::v5` (`-V 5`); names end in the MQTT 3.1.1 statement they check where there is one.

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

mod acl;
mod ci_script;
mod config;
mod persistence;
mod pubsub;
mod shutdown;
mod side_by_side;
mod support;
mod v5;
