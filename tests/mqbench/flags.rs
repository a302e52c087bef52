//! Load-shaping flags: `--rate-per-client` (the total is per client × publishers), `--retain`
//! (the last message stays retained on the broker [MQTT-3.3.1-5]) and `--persistent` /
//! `--session-expiry` (accepted by the broker, and refused for MQTT 3.1.1).

use std::process::Command;

use crate::harness::{pubsub, report, total};
use crate::support::{clients_installed, BrokerProcess};

#[test]
fn rate_per_client_and_retain_mqtt_3_3_1_5() {
    if !clients_installed() {
        return;
    }
    let broker = BrokerProcess::start();
    let args = "--pubs 2 --rate-per-client 200 -d 1s --warmup 0s --retain --json";
    let r = report(&pubsub(broker.port(), args).success());
    assert_eq!(r["settings"]["rate"].as_f64(), Some(400.0), "{r:#}");
    assert_eq!(r["settings"]["retain"].as_bool(), Some(true), "{r:#}");
    assert!((300..=420).contains(&total(&r, "sent")), "{r:#}");
    assert_eq!(total(&r, "lost"), 0, "{r:#}");
    // A new subscriber gets a retained message at once.
    let port = broker.port().to_string();
    let out = Command::new("mosquitto_sub")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-t",
            "mqbench/#",
            "-C",
            "1",
            "-W",
            "5",
            "-F",
            "%r %t",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let line = String::from_utf8_lossy(&out.stdout);
    assert!(line.starts_with("1 mqbench/"), "{line}");
}

#[test]
fn persistent_sessions_with_expiry() {
    let broker = BrokerProcess::start();
    let args = "-V 5 --persistent -x 30 -L 50 -d 10s --warmup 0s --json";
    let r = report(&pubsub(broker.port(), args).success());
    assert_eq!(total(&r, "received"), 50, "{r:#}");
    let out = pubsub(broker.port(), "-V 311 -x 30 -L 5");
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stderr.contains("--session-expiry needs MQTT 5"),
        "{out}"
    );
}

#[test]
fn url_and_payload_file() {
    let broker = BrokerProcess::start();
    let dir = crate::support::TempDir::new("mqbench-payload");
    let file = dir.path().join("payload.json");
    std::fs::write(&file, br#"{"temperature": 21.5}"#).unwrap();
    let args = format!(
        "pubsub --url mqtt://127.0.0.1:{} --payload-file {} -L 30 -d 10s --warmup 0s --json",
        broker.port(),
        file.display()
    );
    let r = report(&crate::harness::run(&args, crate::harness::SHORT).success());
    assert_eq!(
        r["settings"]["payload_size"].as_u64(),
        Some(20 + 21),
        "{r:#}"
    );
    assert_eq!(total(&r, "received"), 30, "{r:#}");
    assert!(r["settings"]["server"]
        .as_str()
        .unwrap()
        .contains(&broker.port().to_string()));
}
