//! A broker that drops messages is reported as loss: [`LossyProxy`] drops every 10th PUBLISH
//! mqbroker sends, and mqbench counts exactly those as lost.

use crate::harness::{pubsub, report, total, LossyProxy};
use crate::support::BrokerProcess;

const ARGS: &str = "-V 311 --pubs 1 --subs 1 -q 0 -L 100 -d 30s --warmup 0s --drain 1s --json";

#[test]
fn every_dropped_message_is_counted_lost() {
    let broker = BrokerProcess::start();
    let proxy = LossyProxy::start(broker.port(), 10);
    let output = pubsub(proxy.port(), ARGS).success();
    assert_eq!(proxy.dropped(), 10, "{output}");
    let r = report(&output);
    assert_eq!(total(&r, "sent"), 100, "{r:#}");
    assert_eq!(total(&r, "expected"), 100, "{r:#}");
    assert_eq!(total(&r, "received"), 90, "{r:#}");
    assert_eq!(total(&r, "lost"), 10, "{r:#}");
    assert_eq!(total(&r, "duplicates"), 0, "{r:#}");
    assert_eq!(total(&r, "reordered"), 0, "{r:#}");
}

#[test]
fn loss_above_max_loss_fails_the_run() {
    let broker = BrokerProcess::start();
    let proxy = LossyProxy::start(broker.port(), 10);
    let output = pubsub(proxy.port(), &format!("{ARGS} --max-loss 0"));
    assert_eq!(output.code(), 1, "{output}");
    assert_eq!(total(&report(&output), "lost"), 10, "{output}");
    let verdict = output
        .stderr
        .lines()
        .find(|l| l.contains("threshold not met"));
    let verdict = verdict.unwrap_or_else(|| panic!("no verdict on stderr:\n{output}"));
    assert!(verdict.contains("10 deliveries lost"), "{output}");
}

#[test]
fn loss_within_max_loss_passes() {
    let broker = BrokerProcess::start();
    let proxy = LossyProxy::start(broker.port(), 10);
    let output = pubsub(proxy.port(), &format!("{ARGS} --max-loss 10")).success();
    assert_eq!(total(&report(&output), "lost"), 10, "{output}");
    assert!(!output.stderr.contains("threshold"), "{output}");
}
