//! `--max-p99`, `--min-rate` and `--max-loss`: a threshold not met exits 1 with a
//! `threshold not met` line naming it, after the report; thresholds met exit 0.

use crate::harness::{pubsub, report, total};
use crate::support::{BrokerProcess, Output};

const RUN: &str = "-q 1 -L 100 --warmup 0s --json";

/// The `threshold not met` lines of a run that must have failed on them.
fn verdicts(output: &Output) -> Vec<&str> {
    assert_eq!(output.code(), 1, "{output}");
    assert_eq!(
        total(&report(output), "received"),
        100,
        "the report is still printed"
    );
    output
        .stderr
        .lines()
        .filter(|l| l.contains("threshold not met"))
        .collect()
}

#[test]
fn p99_above_max_p99_fails() {
    let broker = BrokerProcess::start();
    let output = pubsub(broker.port(), &format!("{RUN} --max-p99 1us"));
    let lines = verdicts(&output);
    assert_eq!(lines.len(), 1, "{output}");
    assert!(
        lines[0].contains("p99") && lines[0].contains("--max-p99"),
        "{output}"
    );
}

#[test]
fn rate_below_min_rate_fails() {
    let broker = BrokerProcess::start();
    let output = pubsub(broker.port(), &format!("{RUN} --min-rate 1e12"));
    let lines = verdicts(&output);
    assert_eq!(lines.len(), 1, "{output}");
    assert!(lines[0].contains("--min-rate"), "{output}");
}

#[test]
fn every_failed_threshold_is_named() {
    let broker = BrokerProcess::start();
    let output = pubsub(
        broker.port(),
        &format!("{RUN} --max-p99 1us --min-rate 1e12"),
    );
    assert_eq!(verdicts(&output).len(), 2, "{output}");
}

#[test]
fn thresholds_met_exit_0() {
    let broker = BrokerProcess::start();
    let args = format!("{RUN} --max-p99 10s --min-rate 1 --max-loss 0");
    let output = pubsub(broker.port(), &args).success();
    assert!(!output.stderr.contains("threshold"), "{output}");
}
