//! Exact counts in the `--json` report: every message published is delivered once to every
//! subscriber, against mqbroker and against Debian's mosquitto, at each QoS. `-L` ends the run
//! (`-d 30s` is only an upper bound) and `--warmup 0s` puts every delivery in the measured
//! window, so the latency histogram holds one sample per delivery.
//!
//! These caught a real bug: `Client::recv` dropped a decoded PUBLISH when cancelled while
//! writing its acknowledgement; acknowledgements are now queued without an await point.

use serde_json::Value;

use crate::harness::{pubsub, report, total};
use crate::support::{mosquitto_installed, BrokerProcess, MosquittoBroker, TempDir};

/// Runs `--pubs PUBS --subs SUBS -q QOS -L LIMIT` against `port` and checks every count.
fn exact(port: u16, pubs: u64, subs: u64, qos: u8, limit: u64) -> Value {
    let args =
        format!("--pubs {pubs} --subs {subs} -q {qos} -L {limit} -d 30s --warmup 0s -s 100 --json");
    let output = pubsub(port, &args).success();
    let r = report(&output);
    let sent = pubs * limit;
    assert_eq!(total(&r, "sent"), sent, "{r:#}");
    assert_eq!(total(&r, "expected"), sent * subs, "{r:#}");
    assert_eq!(total(&r, "received"), sent * subs, "{r:#}");
    assert_eq!(total(&r, "lost"), 0, "{r:#}");
    assert_eq!(total(&r, "duplicates"), 0, "{r:#}");
    assert_eq!(total(&r, "reordered"), 0, "{r:#}");
    assert_eq!(r["errors"], 0, "{r:#}");
    let latency = &r["latency_us"];
    assert_eq!(
        latency["count"],
        sent * subs,
        "one sample per delivery: {r:#}"
    );
    let (p50, p99, max) = (&latency["p50"], &latency["p99"], &latency["max"]);
    let [p50, p99, max] = [p50, p99, max].map(|v| v.as_u64().expect("a percentile"));
    assert!(p50 <= p99 && p99 <= max, "{r:#}");
    let ack = &r["ack_latency_us"];
    if qos == 0 {
        assert!(ack.is_null(), "no acks at QoS 0: {r:#}");
    } else {
        assert_eq!(ack["count"], sent, "one ack per publish: {r:#}");
    }
    let s = &r["settings"];
    assert_eq!(s["publishers"], pubs, "{r:#}");
    assert_eq!(s["subscribers"], subs, "{r:#}");
    assert_eq!(s["qos"], qos, "{r:#}");
    assert_eq!(s["payload_size"], 100, "{r:#}");
    assert_eq!(s["duration_s"], 30.0, "{r:#}");
    assert_eq!(s["warmup_s"], 0.0, "{r:#}");
    assert!(s["rate"].is_null(), "{r:#}");
    assert_eq!(s["topic"], "mqbench/%i", "{r:#}");
    assert_eq!(s["filter"], "mqbench/#", "{r:#}");
    assert!(
        s["server"]
            .as_str()
            .is_some_and(|v| v.contains(&port.to_string())),
        "{r:#}"
    );
    assert_eq!(r["scenario"], "pubsub");
    r
}

#[test]
fn qos1_exact_counts_with_mqbroker() {
    let broker = BrokerProcess::start();
    // 900 messages per subscriber: within mqbroker's queue of 1,000 (mosquitto's
    // max_queued_messages), which unpaced publishers can outrun; past it the broker drops, and
    // mqbench reports that as loss (seen in scripts/bench-pubsub.sh -q 1).
    exact(broker.port(), 3, 2, 1, 300);
}

#[test]
fn qos1_exact_counts_with_mosquitto() {
    if !mosquitto_installed() {
        return;
    }
    let broker = MosquittoBroker::start();
    exact(broker.port(), 3, 2, 1, 500);
}

#[test]
fn qos0_exact_counts_with_mqbroker() {
    let broker = BrokerProcess::start();
    exact(broker.port(), 2, 2, 0, 200);
}

#[test]
fn qos0_exact_counts_with_mosquitto() {
    if !mosquitto_installed() {
        return;
    }
    let broker = MosquittoBroker::start();
    exact(broker.port(), 2, 2, 0, 200);
}

#[test]
fn qos2_exact_counts_with_mqbroker() {
    let broker = BrokerProcess::start();
    exact(broker.port(), 2, 2, 2, 100);
}

#[test]
fn qos2_exact_counts_with_mosquitto() {
    if !mosquitto_installed() {
        return;
    }
    let broker = MosquittoBroker::start();
    exact(broker.port(), 2, 2, 2, 100);
}

#[test]
fn json_out_writes_the_document_printed() {
    let broker = BrokerProcess::start();
    let dir = TempDir::new("mqbench");
    let file = dir.path().join("report.json");
    let args = format!(
        "-q 1 -L 50 --warmup 0s --json --json-out {}",
        file.display()
    );
    let printed = report(&pubsub(broker.port(), &args).success());
    let text = std::fs::read_to_string(&file).expect("--json-out wrote the file");
    let written: Value = serde_json::from_str(&text).expect("the file is JSON");
    assert_eq!(written, printed);
    assert_eq!(total(&written, "received"), 50);
}

#[test]
fn json_out_is_written_beside_the_table() {
    let broker = BrokerProcess::start();
    let dir = TempDir::new("mqbench");
    let file = dir.path().join("report.json");
    let args = format!("-L 20 --warmup 0s --json-out {}", file.display());
    let output = pubsub(broker.port(), &args).success();
    assert!(
        output.lines.iter().any(|l| l.starts_with("messages")),
        "{output}"
    );
    let text = std::fs::read_to_string(&file).expect("--json-out wrote the file");
    let written: Value = serde_json::from_str(&text).expect("the file is JSON");
    assert_eq!(total(&written, "sent"), 20);
}
