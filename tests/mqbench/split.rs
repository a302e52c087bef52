//! Publishers and subscribers in separate processes: `mqbench sub` counts and times what a
//! separate `mqbench pub` sends (the stamps are Unix-epoch nanoseconds, so latency works
//! across processes on one machine), and `mqbench pub` alone reports its acknowledgements.
//! Two ignored tests record a bug: `mqbench pub` judges `--min-rate` and `--max-p99` on
//! deliveries it never has.

use std::time::Duration;

use crate::harness::{mqbench, report, run, total, Bench, SHORT};
use crate::support::{mosquitto_installed, BrokerProcess, MosquittoBroker};

/// `mqbench sub --subs 2 -q 1 -v` on `port`, waited for until both subscriptions are in:
/// its `-v` progress lines count connections only once their SUBACK came, so the first line
/// with `connections 2` is the signal. Then `mqbench pub -L 300 -q 1`; the subscriber must
/// count every delivery once.
fn split(port: u16) {
    let mut sub = Bench::spawn(mqbench(&format!(
        "sub -h 127.0.0.1 -p {port} --subs 2 -d 4s --warmup 0s --json -q 1 -v"
    )));
    sub.wait_for_stderr(Duration::from_secs(5), |l| l.contains("connections 2"));
    let publisher = run(
        &format!("pub -h 127.0.0.1 -p {port} -L 300 -q 1 -d 10s --warmup 0s --json"),
        SHORT,
    )
    .success();
    let p = report(&publisher);
    assert_eq!(p["scenario"], "pub", "{p:#}");
    assert_eq!(total(&p, "sent"), 300, "{p:#}");
    assert_eq!(total(&p, "expected"), 0, "{p:#}");

    let output = sub.finish(SHORT).success();
    let r = report(&output);
    assert_eq!(r["scenario"], "sub", "{r:#}");
    assert_eq!(r["settings"]["subscribers"], 2, "{r:#}");
    assert_eq!(r["settings"]["publishers"], 0, "{r:#}");
    assert_eq!(total(&r, "sent"), 0, "{r:#}");
    assert_eq!(total(&r, "received"), 600, "{r:#}");
    assert_eq!(total(&r, "duplicates"), 0, "{r:#}");
    assert_eq!(total(&r, "lost"), 0, "no gaps: {r:#}");
    assert_eq!(total(&r, "reordered"), 0, "{r:#}");
    assert_eq!(r["errors"], 0, "{r:#}");
    let latency = &r["latency_us"];
    assert_eq!(latency["count"], 600, "one sample per delivery: {r:#}");
    let [p50, max] = ["p50", "max"].map(|p| latency[p].as_u64().expect("a percentile"));
    // Cross-process latency on one machine: positive and well under the run's length.
    assert!(0 < p50 && p50 <= max && max < 4_000_000, "{r:#}");
}

#[test]
fn sub_counts_a_separate_pub_with_mqbroker() {
    let broker = BrokerProcess::start();
    split(broker.port());
}

#[test]
fn sub_counts_a_separate_pub_with_mosquitto() {
    if !mosquitto_installed() {
        return;
    }
    let broker = MosquittoBroker::start();
    split(broker.port());
}

#[test]
fn pub_alone_reports_ack_latency() {
    let broker = BrokerProcess::start();
    let port = broker.port();
    let output = run(
        &format!("pub -h 127.0.0.1 -p {port} -L 200 -q 1 --warmup 0s --json"),
        SHORT,
    )
    .success();
    let r = report(&output);
    assert_eq!(r["scenario"], "pub", "{r:#}");
    assert_eq!(r["settings"]["subscribers"], 0, "{r:#}");
    assert_eq!(total(&r, "sent"), 200, "{r:#}");
    assert_eq!(total(&r, "expected"), 0, "{r:#}");
    assert_eq!(total(&r, "received"), 0, "{r:#}");
    assert_eq!(total(&r, "lost"), 0, "{r:#}");
    assert!(r["latency_us"].is_null(), "nothing received: {r:#}");
    let ack = &r["ack_latency_us"];
    assert_eq!(ack["count"], 200, "one ack per publish: {r:#}");
    let [p50, p99, max] = ["p50", "p99", "max"].map(|p| ack[p].as_u64().expect("a percentile"));
    assert!(0 < p50 && p50 <= p99 && p99 <= max, "{r:#}");
}

/// `mqbench pub` has no deliveries, so a `--min-rate` judged on the delivery rate (0) can
/// never be met: it should judge the publish rate, which `mqbench pub` reports.
#[test]
fn pub_min_rate_judges_the_publish_rate() {
    let broker = BrokerProcess::start();
    let port = broker.port();
    let output = run(
        &format!("pub -h 127.0.0.1 -p {port} -L 100 -q 1 --warmup 0s --json --min-rate 1"),
        SHORT,
    );
    let r = report(&output);
    assert!(
        r["publish_rate"].as_f64().is_some_and(|v| v >= 1.0),
        "{r:#}"
    );
    assert_eq!(output.code(), 0, "publish rate above 1 msg/s:\n{output}");
}

/// `mqbench pub` has no end-to-end latency; `--max-p99` should judge what it measures (the
/// publish-to-ack p99) rather than be ignored without a word.
#[test]
fn pub_max_p99_judges_the_ack_latency() {
    let broker = BrokerProcess::start();
    let port = broker.port();
    let output = run(
        &format!("pub -h 127.0.0.1 -p {port} -L 100 -q 1 --warmup 0s --json --max-p99 1us"),
        SHORT,
    );
    let r = report(&output);
    assert_eq!(r["ack_latency_us"]["count"], 100, "{r:#}");
    assert_eq!(output.code(), 1, "ack p99 is above 1µs:\n{output}");
    assert!(
        output
            .stderr
            .lines()
            .any(|l| l.contains("threshold not met") && l.contains("--max-p99")),
        "{output}"
    );
}
