//! Flags mqbench rejects and servers it cannot reach: exit status 1, one line on stderr naming
//! the problem, nothing on stdout. Each run points at a closed port, so a flag wrongly accepted
//! fails fast on the connection instead of running a benchmark.

use crate::harness::{one_line_error, pubsub};
use crate::support::free_port;

/// Runs `pubsub ARGS` against a closed port and expects a one-line error naming `words`.
fn rejected(args: &str, words: &[&str]) {
    one_line_error(&pubsub(free_port(), args), words);
}

#[test]
fn size_below_the_stamp() {
    rejected("--size 5", &["--size 5", "20"]);
}

#[test]
fn qos_3() {
    rejected("-q 3", &["3"]);
}

#[test]
fn no_publishers() {
    rejected("--pubs 0", &["--pubs"]);
}

#[test]
fn negative_rate() {
    rejected("--rate -1", &["-1"]);
}

#[test]
fn zero_rate() {
    rejected("--rate 0", &["--rate"]);
}

#[test]
fn filter_with_hash_not_last() {
    rejected("--filter 'a/#/b'", &["--filter", "a/#/b"]);
}

#[test]
fn duration_not_a_time() {
    rejected("-d nonsense", &["nonsense"]);
}

#[test]
fn unknown_flag() {
    rejected("--no-such-flag", &["--no-such-flag"]);
}

#[test]
fn warmup_not_shorter_than_duration_without_limit() {
    rejected("-d 1s --warmup 1s", &["--warmup", "--duration"]);
}

#[test]
fn refused_connection_names_host_and_port() {
    let port = free_port();
    let output = pubsub(port, "-L 10");
    one_line_error(&output, &["127.0.0.1", &port.to_string()]);
}
