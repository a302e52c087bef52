//! `pid_file`, `clientid_prefixes`, `set_tcp_nodelay`, `upgrade_outgoing_qos` and
//! `check_retain_source` through the real binary; where mosquitto decides something a client
//! can see, side by side with Debian's mosquitto given the same lines.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{
    clients_installed, find_program, installed_or_skip, mosquitto_installed, Clients,
    MosquittoBroker, Running, TempDir, Version, WAIT,
};

both_versions!(upgrade_outgoing_qos_delivers_with_the_subscription_qos);

/// mqbroker with `lines` (after a listener and anonymous access) in `dir`, and its port.
fn mqbroker_with(dir: &TempDir, lines: &str) -> (Running, u16) {
    let conf = dir.path().join("mqbroker.conf");
    let text = format!("listener 0 127.0.0.1\nallow_anonymous true\n{lines}");
    std::fs::write(&conf, text).unwrap();
    super::broker_with(&conf)
}

#[test]
fn pid_file_is_written_once_listening_and_removed_on_clean_exit() {
    let dir = TempDir::new("pid-file");
    let pid_file = dir.path().join("mqbroker.pid");
    let (mut broker, _port) = mqbroker_with(&dir, &format!("pid_file {}\n", pid_file.display()));
    // Written before the ready line, which comes after the listeners are bound.
    let written = std::fs::read_to_string(&pid_file).unwrap();
    assert_eq!(written, format!("{}\n", broker.id()));
    let out = broker.terminate();
    assert_eq!(out.code, Some(0), "{out}");
    assert!(!pid_file.exists(), "{out}");
}

/// The exit codes of `mosquitto_pub` with each of `ids` (its `-i`/`-I` arguments; none: its own
/// `mosq-…` id), and the CONNACK reason code of a 5.0 client with an empty id (assigned one).
fn prefix_decisions(port: u16, version: Version) -> Vec<String> {
    let clients = Clients::new(port, version);
    let ids = ["-i sensor-1", "-I sensor-", "-i other", "-i xsensor-", ""];
    let mut codes: Vec<String> = ids
        .iter()
        .map(|id| {
            let out = crate::support::run(clients.publish(&format!("{id} -t t -m x")));
            format!("{id}={}", out.code())
        })
        .collect();
    let assigned = super::connack_for(port, "").reason_code;
    codes.push(format!("assigned={assigned:?}"));
    codes
}

/// Only ids starting with the prefix connect; others get CONNACK 5 (3.1.1) or 0x87 (5.0), as
/// mosquitto answers, and an identifier the broker assigns must match too.
#[test]
fn clientid_prefixes_refuses_other_ids_as_mosquitto() {
    if !clients_installed() || !mosquitto_installed() {
        return;
    }
    let lines = "clientid_prefixes sensor-\n";
    let mosquitto = MosquittoBroker::start_with(lines);
    let dir = TempDir::new("clientid-prefixes");
    let (_ours, port) = mqbroker_with(&dir, lines);
    for (version, refused) in [(Version::V311, "5"), (Version::V5, "135")] {
        let ours = prefix_decisions(port, version);
        assert_eq!(ours, prefix_decisions(mosquitto.port(), version));
        let want = [
            "-i sensor-1=0".to_owned(),
            "-I sensor-=0".to_owned(),
            format!("-i other={refused}"),
            format!("-i xsensor-={refused}"),
            format!("={refused}"),
            "assigned=NotAuthorized".to_owned(),
        ];
        assert_eq!(ours, want, "{version:?}");
    }
}

/// What a QoS 2 subscriber to `up/#` prints (`%q %t %p`) for a retained QoS 0 message and
/// live QoS 0 and 1 messages.
fn delivered_qos(port: u16, version: Version) -> Vec<String> {
    let clients = Clients::new(port, version);
    clients.publish_ok("-q 0 -r -t up/retained -m r0");
    let sub = clients.subscribed("-q 2 -t 'up/#' -F '%q %t %p'", 3);
    clients.publish_ok("-q 0 -t up/a -m a0");
    clients.publish_ok("-q 1 -t up/b -m b1");
    let out = sub.finish().success();
    out.without_probe().iter().map(|l| l.to_string()).collect()
}

/// `upgrade_outgoing_qos true` delivers at the subscription's QoS, retained messages too,
/// against [MQTT-3.8.4-6] on purpose (as mosquitto).
fn upgrade_outgoing_qos_delivers_with_the_subscription_qos(version: Version) {
    if !clients_installed() || !mosquitto_installed() {
        return;
    }
    let lines = "upgrade_outgoing_qos true\n";
    let mosquitto = MosquittoBroker::start_with(lines);
    let dir = TempDir::new("upgrade-qos");
    let (_ours, port) = mqbroker_with(&dir, lines);
    let ours = delivered_qos(port, version);
    assert_eq!(ours, ["2 up/retained r0", "2 up/a a0", "2 up/b b1"]);
    assert_eq!(ours, delivered_qos(mosquitto.port(), version));
}

/// The ACL before and after the reload: alice loses the right to publish to `drop/#`, and
/// anonymous clients gain `reload/probe`, which tells when the reload took effect.
const ACL_BEFORE: &str =
    "topic readwrite interop/#\ntopic read keep/#\ntopic read drop/#\n\nuser alice\ntopic write keep/#\ntopic write drop/#\n";
const ACL_AFTER: &str =
    "topic readwrite interop/#\ntopic read keep/#\ntopic read drop/#\ntopic write reload/probe\n\nuser alice\ntopic write keep/#\n";

/// Waits until an anonymous 5.0 client may publish to `reload/probe` (PUBACK other than 0x87).
fn wait_for_reload(port: u16) {
    let deadline = Instant::now() + WAIT;
    let clients = Clients::new(port, Version::V5);
    while crate::acl::puback_code(clients, "-t reload/probe -m x") == "135" {
        assert!(Instant::now() < deadline, "no reload on port {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// With `check_retain_source true`, a retained message whose publisher lost the right to
/// publish it (ACL reloaded with SIGHUP) is no longer delivered to new subscribers; one whose
/// publisher still may is.
#[test]
fn check_retain_source_rechecks_the_publisher_on_delivery() {
    if !clients_installed() || !mosquitto_installed() {
        return;
    }
    let dir = TempDir::new("retain-source");
    let acl = dir.path().join("acl");
    std::fs::write(&acl, ACL_BEFORE).unwrap();
    let lines = format!("acl_file {}\ncheck_retain_source true\n", acl.display());
    let mosquitto = MosquittoBroker::start_with(&format!("user root\n{lines}"));
    let (ours, port) = mqbroker_with(&dir, &lines);
    for port in [port, mosquitto.port()] {
        let alice = Clients::new(port, Version::V5);
        alice.publish_ok("-u alice -q 1 -r -t keep/a -m kept");
        alice.publish_ok("-u alice -q 1 -r -t drop/a -m dropped");
    }
    std::fs::write(&acl, ACL_AFTER).unwrap();
    ours.signal("HUP");
    mosquitto.signal("HUP");
    for port in [port, mosquitto.port()] {
        wait_for_reload(port);
        // One message expected: a second one (drop/a) would end it before the probe.
        let sub = Clients::new(port, Version::V5).subscribed("-v -t 'keep/#' -t 'drop/#'", 1);
        let out = sub.finish().success();
        assert_eq!(out.without_probe(), ["keep/a kept"], "port {port}");
    }
}

/// The `setsockopt(…, TCP_NODELAY, [1], …)` calls mqbroker makes for one client, as `strace`
/// sees them.
fn nodelay_calls(dir: &TempDir, setting: &str) -> usize {
    let conf = dir.path().join(format!("nodelay-{setting}.conf"));
    let pid_file = dir.path().join(format!("nodelay-{setting}.pid"));
    let text = format!(
        "listener 0 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay {setting}\npid_file {}\n",
        pid_file.display()
    );
    std::fs::write(&conf, text).unwrap();
    let trace = dir.path().join(format!("trace-{setting}"));
    let mut command = Command::new("strace");
    command.args(["-f", "-e", "trace=setsockopt", "-o"]);
    command.arg(&trace).arg(env!("CARGO_BIN_EXE_mqbroker"));
    command.arg("-c").arg(&conf).env_remove("RUST_LOG");
    let (broker, port) = super::ready(command);
    // CONNACK comes after the accept, so the option is set (or not) by then.
    Clients::new(port, Version::V5).publish_ok("-t t -m x");
    // SIGTERM to the broker itself (strace would detach and leave it running); strace exits
    // with it.
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let killed = Command::new("kill").arg(pid.trim()).status().unwrap();
    assert!(killed.success());
    let out = broker.finish();
    assert_eq!(out.code, Some(0), "{out}");
    let calls = std::fs::read_to_string(&trace).unwrap();
    calls
        .lines()
        .filter(|l| l.contains("TCP_NODELAY, [1]"))
        .count()
}

/// mqbroker sets TCP_NODELAY on accepted sockets unless `set_tcp_nodelay false` (mosquitto's
/// default is false; see `man/mqbroker.conf.5`).
#[test]
fn set_tcp_nodelay_false_leaves_nagle_on() {
    let strace: Vec<&str> = Some("strace")
        .filter(|name| find_program(name).is_none())
        .into_iter()
        .collect();
    if !clients_installed() || !installed_or_skip("strace", &strace) {
        return;
    }
    let dir = TempDir::new("nodelay");
    assert_eq!(nodelay_calls(&dir, "true"), 1);
    assert_eq!(nodelay_calls(&dir, "false"), 0);
}

/// What a subscriber on `size/#` receives while 3.1.1 and 5.0 publishers send a 5-byte and a
/// 50-byte QoS 1 message, and the PUBACK codes `mosquitto_pub -d` reports.
fn size_limit_outcome(port: u16) -> (Vec<String>, Vec<String>) {
    let watcher = Clients::new(port, Version::V5);
    let mut sub = watcher.subscribed("-v -t 'size/#'", 1000);
    let mut codes = Vec::new();
    for version in [Version::V311, Version::V5] {
        let clients = Clients::new(port, version);
        for payload in ["small", &"L".repeat(50)] {
            let args = format!("-d -q 1 -t size/{version:?} -m {payload}");
            let out = crate::support::run(clients.publish(&args));
            let code = out
                .lines
                .iter()
                .find_map(|l| l.split_once("received PUBACK (Mid: 1, RC:"))
                .map_or("none".to_owned(), |(_, c)| {
                    c.trim_end_matches(')').to_owned()
                });
            codes.push(format!("{version:?} {} bytes: {code}", payload.len()));
        }
    }
    watcher.publish_ok("-q 1 -t size/end -m end");
    sub.wait_for_line("the last message", |l| l == "size/end end");
    let got = sub
        .kill()
        .without_probe()
        .iter()
        .map(|l| l.to_string())
        .collect();
    (got, codes)
}

/// `message_size_limit 20`: a larger payload is dropped and the connection goes on, as with
/// mosquitto. A 5.0 publisher is told 0x97 (151, Quota exceeded); mosquitto sends 0x95, which
/// is not a PUBACK reason code (5.0 §3.4.2.1).
#[test]
fn message_size_limit_drops_large_payloads_as_mosquitto() {
    if !clients_installed() || !mosquitto_installed() {
        return;
    }
    let dir = TempDir::new("size-limit");
    let (_ours, port) = mqbroker_with(&dir, "message_size_limit 20\n");
    let mosquitto = MosquittoBroker::start_with("message_size_limit 20\n");
    let (delivered, mut codes) = size_limit_outcome(port);
    let (theirs, mut their_codes) = size_limit_outcome(mosquitto.port());
    assert_eq!(delivered, theirs, "mqbroker (left), mosquitto (right)");
    assert_eq!(
        delivered,
        ["size/V311 small", "size/V5 small", "size/end end"]
    );
    assert_eq!(codes.pop().as_deref(), Some("V5 50 bytes: 151"));
    assert_eq!(their_codes.pop().as_deref(), Some("V5 50 bytes: 149"));
    assert_eq!(codes, their_codes);
}
