//! Tests of the real `mqbench` binary, run as a process over sockets on `127.0.0.1` with
//! ephemeral ports: the self-test against the embedded broker (`self_test`), exact counts in
//! the `--json` report against mqbroker and Debian's mosquitto (`counts`), loss reported when
//! a proxy drops messages (`loss`), the thresholds and their exit status (`thresholds`), usage
//! and connection errors as one line (`usage`), Ctrl-C ending a run with a report
//! (`interrupt`), the `conn` scenario with its failures by reason and thresholds (`conn`), and
//! `mqbench sub` measuring a separate `mqbench pub` (`split`).
//!
//! The interop harness (`tests/interop/support.rs`) is shared, not copied; `harness.rs` adds
//! what these tests need. Without mosquitto the mosquitto tests print a note and pass, except
//! under `CI=true`, where they fail.

mod conn;
mod counts;
mod flags;
mod harness;
mod interrupt;
mod loss;
mod self_test;
mod split;
// The shared harness is used in part here; editing it for this binary or copying it would be
// worse than letting its other items go unused.
#[expect(
    dead_code,
    reason = "the interop harness is shared; mqbench uses part of it"
)]
#[path = "../interop/support.rs"]
mod support;
mod thresholds;
mod usage;
