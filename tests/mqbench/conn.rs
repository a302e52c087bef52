//! `mqbench conn`: connections opened unpaced and paced, churn, failures counted by reason,
//! and the thresholds on connect latency and rate, against mqbroker and Debian's mosquitto.

use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{
    established_to, mqbench, one_line_error, report, run, AuthMosquitto, Bench, SHORT,
};
use crate::support::{free_port, mosquitto_installed, BrokerProcess, MosquittoBroker, Output};

/// `mqbench conn -h 127.0.0.1 -p PORT ARGS --json` run to its end under [`SHORT`].
fn conn(port: u16, args: &str) -> Output {
    run(&format!("conn -h 127.0.0.1 -p {port} {args} --json"), SHORT)
}

/// `report[name]` as a count.
fn count(r: &Value, name: &str) -> u64 {
    r[name]
        .as_u64()
        .unwrap_or_else(|| panic!("{name} is not a count: {r:#}"))
}

/// Asserts that all `n` attempts connected, with one latency sample each, ordered
/// percentiles and a positive rate; returns the report.
fn all_connected(output: &Output, n: u64) -> Value {
    let r = report(output);
    assert_eq!(r["scenario"], "conn", "{r:#}");
    assert_eq!(count(&r, "attempts"), n, "{r:#}");
    assert_eq!(count(&r, "connected"), n, "{r:#}");
    assert_eq!(r["failed"], serde_json::json!({}), "{r:#}");
    let latency = &r["connect_latency_us"];
    assert_eq!(latency["count"], n, "one sample per connection: {r:#}");
    let [p50, p99, max] = ["p50", "p99", "max"].map(|p| latency[p].as_u64().expect("a percentile"));
    assert!(0 < p50 && p50 <= p99 && p99 <= max, "{r:#}");
    assert!(r["connect_rate"].as_f64().is_some_and(|v| v > 0.0), "{r:#}");
    r
}

fn two_hundred_unpaced(port: u16) {
    let output = conn(port, "-c 200 --hold 0s").success();
    let r = all_connected(&output, 200);
    let s = &r["settings"];
    assert_eq!(s["count"], 200, "{r:#}");
    assert!(s["rate"].is_null(), "{r:#}");
    assert_eq!(s["hold_s"], 0.0, "{r:#}");
    assert_eq!(s["churn"], false, "{r:#}");
}

#[test]
fn two_hundred_unpaced_with_mqbroker() {
    let broker = BrokerProcess::start();
    two_hundred_unpaced(broker.port());
}

#[test]
fn two_hundred_unpaced_with_mosquitto() {
    if !mosquitto_installed() {
        return;
    }
    let broker = MosquittoBroker::start();
    two_hundred_unpaced(broker.port());
}

#[test]
fn paced_connects_keep_to_the_rate() {
    let broker = BrokerProcess::start();
    let started = Instant::now();
    let output = conn(broker.port(), "-R 400 -c 100 --hold 0s").success();
    let took = started.elapsed();
    // 100 attempts 2.5 ms apart: the last one starts 247.5 ms after the first.
    assert!(
        took >= Duration::from_millis(200),
        "took {took:?}:\n{output}"
    );
    let r = all_connected(&output, 100);
    assert_eq!(r["settings"]["rate"], 400.0, "{r:#}");
    // Connections per second over the run: not above the rate asked for (with rounding).
    let rate = r["connect_rate"].as_f64().expect("a rate");
    assert!(rate <= 420.0, "{r:#}");
}

/// `--hold`: the connections stay open (as the broker sees them) until the hold ends, and are
/// all closed after. This also shows [`established_to`] sees them, which the churn test relies on.
#[test]
fn held_connections_stay_open_then_close() {
    let broker = BrokerProcess::start();
    let port = broker.port();
    let mut bench = Bench::spawn(mqbench(&format!(
        "conn -h 127.0.0.1 -p {port} -c 50 --hold 1s --json"
    )));
    let deadline = Instant::now() + Duration::from_secs(5);
    while established_to(port) < 50 {
        assert!(
            Instant::now() < deadline,
            "50 connections never open at once"
        );
        thread::sleep(Duration::from_millis(10));
    }
    let output = bench.finish(SHORT).success();
    let r = all_connected(&output, 50);
    assert_eq!(r["settings"]["hold_s"], 1.0, "{r:#}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while established_to(port) > 0 {
        assert!(
            Instant::now() < deadline,
            "connections left open after the run"
        );
        thread::sleep(Duration::from_millis(10));
    }
}

/// `--churn -R 200 -d 1s` while the broker's established connections are sampled: each
/// connection is closed right after its CONNACK, so they never pile up (held, they would
/// reach ~200), and none is left once the run is over.
#[test]
fn churn_connects_and_disconnects() {
    let broker = BrokerProcess::start();
    let port = broker.port();
    let mut bench = Bench::spawn(mqbench(&format!(
        "conn -h 127.0.0.1 -p {port} --churn -R 200 -d 1s --json"
    )));
    let sampling = Instant::now();
    let mut most = 0;
    while sampling.elapsed() < Duration::from_millis(900) {
        most = most.max(established_to(port));
        thread::sleep(Duration::from_millis(20));
    }
    let output = bench.finish(SHORT).success();
    let r = report(&output);
    let attempts = count(&r, "attempts");
    assert!((150..=250).contains(&attempts), "{r:#}");
    let r = all_connected(&output, attempts);
    assert_eq!(r["settings"]["churn"], true, "{r:#}");
    assert!(
        most <= 20,
        "{most} connections open at once while churning:\n{output}"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while established_to(port) > 0 {
        assert!(
            Instant::now() < deadline,
            "connections left open after the run"
        );
        thread::sleep(Duration::from_millis(20));
    }
    // And the broker still takes connections.
    all_connected(&conn(port, "-c 10 --hold 0s").success(), 10);
}

#[test]
fn churn_requires_rate() {
    let output = conn(free_port(), "--churn -d 1s");
    one_line_error(&output, &["--rate"]);
}

#[test]
fn closed_port_counts_refusals() {
    let output = conn(free_port(), "-c 3 --hold 0s");
    assert_eq!(output.code(), 1, "{output}");
    let r = report(&output);
    assert_eq!(count(&r, "attempts"), 3, "{r:#}");
    assert_eq!(count(&r, "connected"), 0, "{r:#}");
    let failed = r["failed"].as_object().expect("failed is a map");
    assert_eq!(failed.len(), 1, "{r:#}");
    let (why, n) = failed.iter().next().expect("one reason");
    assert!(why.contains("connection refused"), "{r:#}");
    assert_eq!(n, 3, "{r:#}");
    assert!(r["connect_latency_us"].is_null(), "{r:#}");
    assert!(
        output.stderr.contains("no connection succeeded"),
        "{output}"
    );
}

#[test]
fn anonymous_refused_by_reason_code() {
    if !mosquitto_installed() {
        return;
    }
    let broker = AuthMosquitto::start();
    let output = conn(broker.port(), "-c 5 -V 5 --hold 0s");
    assert_eq!(output.code(), 1, "{output}");
    let r = report(&output);
    assert_eq!(count(&r, "attempts"), 5, "{r:#}");
    assert_eq!(count(&r, "connected"), 0, "{r:#}");
    let failed = r["failed"].as_object().expect("failed is a map");
    assert_eq!(failed.len(), 1, "{r:#}");
    let (why, n) = failed.iter().next().expect("one reason");
    // mosquitto 2 answers an anonymous 5.0 CONNECT with 0x87 Not authorized.
    assert!(why.contains("0x87"), "{r:#}");
    assert_eq!(n, 5, "{r:#}");
    let verdicts: Vec<&str> = output
        .stderr
        .lines()
        .filter(|l| l.contains("no connection succeeded"))
        .collect();
    assert_eq!(verdicts.len(), 1, "{output}");
}

#[test]
fn credentials_accepted() {
    if !mosquitto_installed() {
        return;
    }
    let broker = AuthMosquitto::start();
    let args = format!(
        "-c 5 -V 5 --hold 0s -u {} -P {}",
        AuthMosquitto::USER,
        AuthMosquitto::PASSWORD
    );
    all_connected(&conn(broker.port(), &args).success(), 5);
}

#[test]
fn connect_p99_above_max_p99_fails() {
    let broker = BrokerProcess::start();
    let output = conn(broker.port(), "-c 20 --hold 0s --max-p99 1us");
    assert_eq!(output.code(), 1, "{output}");
    all_connected(&output, 20);
    let lines: Vec<&str> = output
        .stderr
        .lines()
        .filter(|l| l.contains("threshold not met"))
        .collect();
    assert_eq!(lines.len(), 1, "{output}");
    assert!(
        lines[0].contains("connect latency") && lines[0].contains("--max-p99"),
        "{output}"
    );
}

#[test]
fn connect_rate_below_min_rate_fails() {
    let broker = BrokerProcess::start();
    let output = conn(broker.port(), "-c 20 --hold 0s --min-rate 1e9");
    assert_eq!(output.code(), 1, "{output}");
    all_connected(&output, 20);
    let lines: Vec<&str> = output
        .stderr
        .lines()
        .filter(|l| l.contains("threshold not met"))
        .collect();
    assert_eq!(lines.len(), 1, "{output}");
    assert!(
        lines[0].contains("connect rate") && lines[0].contains("--min-rate"),
        "{output}"
    );
}

#[test]
fn connect_thresholds_met_exit_0() {
    let broker = BrokerProcess::start();
    let args = "-c 20 --hold 0s --max-p99 10s --min-rate 1 --max-loss 0";
    let output = conn(broker.port(), args).success();
    assert!(!output.stderr.contains("threshold"), "{output}");
}

/// `-c 0` measures nothing yet exits 0 (even against a closed port), where `pubsub --pubs 0`
/// is refused as a usage error.
#[test]
fn zero_count_is_a_usage_error() {
    let output = run(
        &format!("conn -h 127.0.0.1 -p {} -c 0 --hold 0s", free_port()),
        SHORT,
    );
    one_line_error(&output, &["--count"]);
}
