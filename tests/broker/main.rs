//! Broker conformance tests: every test starts its own broker on `127.0.0.1:0` (see
//! `support.rs`) and talks to it over TCP with hand-built packets, so nothing but the socket sits
//! between the test and the broker.
//!
//! Behaviours both protocol versions share run twice, as `name::v3_1_1` and `name::v5`; their
//! names cite the MQTT 3.1.1 statement (the 5.0 one is in the doc comment where its number
//! differs). Tests of what only 5.0 has live in `v5.rs` and `v5_subscribe.rs` and cite 5.0
//! numbers. Keep alive, expiry and delay tests run with tokio's clock paused, so their seconds
//! cost no wall-clock time and their bounds are exact.

/// For each `async fn name(version: ProtocolVersion)` listed, emits a module `name` with the
/// tests `v3_1_1` and `v5`. With `paused:` first, the tests start with the clock paused.
macro_rules! both_versions {
    (paused: $($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(start_paused = true)]
            async fn v3_1_1() {
                super::$name(mqkit::protocol::ProtocolVersion::V311).await;
            }

            #[tokio::test(start_paused = true)]
            async fn v5() {
                super::$name(mqkit::protocol::ProtocolVersion::V5).await;
            }
        }
    )+};
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn v3_1_1() {
                super::$name(mqkit::protocol::ProtocolVersion::V311).await;
            }

            #[tokio::test]
            async fn v5() {
                super::$name(mqkit::protocol::ProtocolVersion::V5).await;
            }
        }
    )+};
}

mod connect;
mod errors;
mod publish;
mod retained;
mod session;
mod subscribe;
mod support;
mod v5;
mod v5_subscribe;
mod will;
