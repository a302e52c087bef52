//! `persistence true`: what mqbroker acknowledged survives `kill -9` of the real binary.
//! Debian's mosquitto_pub publishes QoS 1 and 2 messages for an offline persistent session;
//! once each is acknowledged the broker is killed with SIGKILL, started again on the same
//! store, and the subscriber collects exactly those messages, in order. Retained messages and
//! subscriptions survive too, and a damaged store stops the broker with a clear error.

use std::process::Command;

use crate::support::{clients_installed, Clients, Running, TempDir, Version};

/// A persistent mqbroker on `dir`'s store, and its port.
fn start(dir: &TempDir) -> (Running, u16) {
    let conf = dir.path().join("mqbroker.conf");
    let text = format!(
        "listener 0 127.0.0.1\nallow_anonymous true\nsys_interval 0\npersistence true\n\
         persistence_location {}\n",
        dir.path().display()
    );
    std::fs::write(&conf, text).unwrap();
    let (broker, ports) = crate::support::mqbroker_conf(&conf, 1);
    (broker, ports[0])
}

/// Publishes `lines` with `mosquitto_pub -l` at `qos` (it exits once every one is acknowledged).
fn publish_lines(clients: Clients, topic: &str, qos: u8, lines: &[String]) {
    let name = format!("mqkit-lines-{}-{topic}", std::process::id()).replace('/', "_");
    let path = std::env::temp_dir().join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let args = format!("-q {qos} -t {topic} -l");
    let input = std::fs::File::open(&path).unwrap();
    let out = Running::spawn_reading(clients.publish(&args), input.into()).finish();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(out.code(), 0, "{out}");
}

#[test]
fn acknowledged_messages_survive_kill_9() {
    if !clients_installed() {
        return;
    }
    for version in [Version::V311, Version::V5] {
        let dir = TempDir::new("persist-kill");
        let (mut broker, port) = start(&dir);
        let clients = Clients::new(port, version);
        // A persistent session subscribed at QoS 2, then offline.
        let session = "-c -i durable -x 3600 -q 2 -t 'kill/#'";
        let session = match version {
            Version::V311 => session.replace(" -x 3600", ""),
            Version::V5 => session.to_owned(),
        };
        clients.subscribe_ok(&format!("{session} -E"));
        let qos1: Vec<String> = (0..200).map(|i| format!("one-{i}")).collect();
        let qos2: Vec<String> = (0..50).map(|i| format!("two-{i}")).collect();
        publish_lines(clients, "kill/one", 1, &qos1);
        publish_lines(clients, "kill/two", 2, &qos2);
        broker.kill();
        let (_broker, port) = start(&dir);
        let clients = Clients::new(port, version);
        let out = clients.subscribe_ok(&format!("{session} -C 250 -W 10"));
        let got: Vec<&str> = out.lines.iter().map(String::as_str).collect();
        let one: Vec<&str> = got
            .iter()
            .copied()
            .filter(|l| l.starts_with("one-"))
            .collect();
        let two: Vec<&str> = got
            .iter()
            .copied()
            .filter(|l| l.starts_with("two-"))
            .collect();
        assert_eq!(one, qos1, "{version:?}: QoS 1 messages, in order");
        assert_eq!(
            two, qos2,
            "{version:?}: QoS 2 messages, in order, once each"
        );
    }
}

#[test]
fn retained_messages_and_subscriptions_survive_a_restart() {
    if !clients_installed() {
        return;
    }
    let dir = TempDir::new("persist-retained");
    let (mut broker, port) = start(&dir);
    let clients = Clients::new(port, Version::V5);
    clients.publish_ok("-r -q 1 -t keep/r -m kept");
    clients.publish_ok("-r -q 0 -t keep/gone -m soon-deleted");
    clients.publish_ok("-r -q 1 -t keep/gone -n");
    clients
        .subscribe_ok("-c -i later -x 3600 -q 1 -t after/# -E")
        .code();
    broker.kill();
    let (_broker, port) = start(&dir);
    let clients = Clients::new(port, Version::V5);
    let out = clients.subscribe_ok("-t 'keep/#' -v -W 2 -C 1");
    assert_eq!(
        out.lines,
        ["keep/r kept"],
        "retained, and the deleted one stays deleted"
    );
    // The subscription of the offline session was restored: it collects this.
    clients.publish_ok("-q 1 -t after/x -m queued");
    let out = clients.subscribe_ok("-c -i later -x 3600 -q 1 -t after/# -v -W 5 -C 1");
    assert_eq!(out.lines, ["after/x queued"]);
}

#[test]
fn a_damaged_store_stops_the_broker_with_a_clear_error() {
    let dir = TempDir::new("persist-damaged");
    std::fs::write(
        dir.path().join("mqbroker.db"),
        b"not a database, not at all",
    )
    .unwrap();
    let conf = dir.path().join("mqbroker.conf");
    let text = format!(
        "listener 0 127.0.0.1\npersistence true\npersistence_location {}\n",
        dir.path().display()
    );
    std::fs::write(&conf, text).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_mqbroker"));
    command.arg("-c").arg(&conf).env_remove("RUST_LOG");
    let out = Running::spawn(command).finish();
    assert_eq!(out.code, Some(1), "{out}");
    let last = out.stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("mqbroker: error: ")
            && last.contains("mqbroker.db")
            && last.contains("move it away"),
        "{out}"
    );
    let kept = std::fs::read(dir.path().join("mqbroker.db")).unwrap();
    assert_eq!(
        kept, b"not a database, not at all",
        "a damaged store is never overwritten"
    );
}
