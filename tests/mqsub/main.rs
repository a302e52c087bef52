//! The real `mqsub` binary, run as a process against real brokers on 127.0.0.1 (ephemeral
//! ports): side by side with Debian's `mosquitto_sub` on the same broker, Debian's `mosquitto`
//! and the built `mqbroker` both, for the same messages published with `mosquitto_pub`. Its
//! stdout must be the same bytes and its exit status the same number ([`parity`],
//! [`flags`], [`exits`]); what mosquitto_sub cannot do is checked on its own terms
//! ([`beyond`], [`defaults`]).
//!
//! The harness is the interop tests' (`tests/interop/support.rs`), plus `harness.rs`. Without
//! mosquitto the tests print a note and pass, except under `CI=true`, where they fail.
//!
//! Tests that apply to both brokers and both protocol versions run four times, as
//! `name::{mosquitto,mqbroker}_{v3_1_1,v5}`; those of one broker twice, as
//! `name::{v3_1_1,v5}`. Names end in the MQTT statement they check where there is one.

/// For each `fn name(broker: BrokerKind, version: Version)` listed, emits a module `name` with
/// one test per broker and protocol version.
macro_rules! both_brokers {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            use crate::harness::BrokerKind::{Mosquitto, Mqbroker};
            use crate::support::Version::{V311, V5};

            #[test]
            fn mosquitto_v3_1_1() {
                super::$name(Mosquitto, V311);
            }

            #[test]
            fn mosquitto_v5() {
                super::$name(Mosquitto, V5);
            }

            #[test]
            fn mqbroker_v3_1_1() {
                super::$name(Mqbroker, V311);
            }

            #[test]
            fn mqbroker_v5() {
                super::$name(Mqbroker, V5);
            }
        }
    )+};
}

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
mod defaults;
mod exits;
mod flags;
mod harness;
mod parity;
#[path = "../interop/support.rs"]
mod support;
