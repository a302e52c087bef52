//! Hostile peers (issue 9): clients that attack the real `mqbroker` binary, and fake brokers
//! that attack `mqsub` and `mqpub`. Every broker test checks the same things: the broker stays
//! up, a fresh well-behaved client completes a QoS 1 round trip within
//! [`attack::ROUND_TRIP`] during or after the attack, the broker's peak RSS stays under the
//! bound the test states, and the offender is disconnected with the reason code the
//! specification gives, where it gives one.
//!
//! A test that shows a bug or a missing defence states the right behaviour and is marked
//! `#[ignore = "bug: ..."]` until the code is fixed; `cargo test --test hostile -- --ignored`
//! runs those. Run with `--nocapture` to see the measured round trips and RSS figures.

mod acl;
mod attack;
mod clients;
mod crash;
mod flow;
mod inflight;
mod oversize;
mod resets;
mod slow_reader;
mod slowloris;
mod storms;
mod strings;
#[allow(dead_code)]
#[path = "../interop/support.rs"]
mod support;
