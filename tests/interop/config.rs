//! `mqbroker -c FILE`: a mosquitto.conf-style file sets the listeners and the limits the broker
//! announces in a 5.0 CONNACK (Maximum QoS, Retain Available [MQTT-3.2.2.3]); `--test-config`
//! checks a file; a mistake is one line naming the file, the line and the option.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use bytes::BytesMut;
use mqkit::protocol::{decode, encode, Connect, MqttString, Packet, ProtocolVersion, QoS};

use crate::support::{clients_installed, Running, TempDir};

mod logging;
mod options;
mod per_listener;

fn mqbroker(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mqbroker"));
    command
        .args(args)
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1");
    command
}

/// Sends a 5.0 CONNECT to `port` and returns the CONNACK.
fn connack(port: u16) -> mqkit::protocol::ConnAck {
    connack_for(port, "conf-probe")
}

/// Sends a 5.0 CONNECT with `client_id` to `port` and returns the CONNACK.
fn connack_for(port: u16, client_id: &str) -> mqkit::protocol::ConnAck {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let connect = Connect::new(ProtocolVersion::V5, MqttString::new(client_id).unwrap());
    let mut out = BytesMut::new();
    encode(
        &Packet::Connect(Box::new(connect)),
        ProtocolVersion::V5,
        &mut out,
    )
    .unwrap();
    s.write_all(&out).unwrap();
    let mut buf = BytesMut::new();
    loop {
        if let Some(packet) = decode(&mut buf, ProtocolVersion::V5, 1 << 20).unwrap() {
            match packet {
                Packet::ConnAck(c) => return c,
                other => panic!("expected CONNACK, got {other:?}"),
            }
        }
        let mut chunk = [0u8; 1024];
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0, "closed before CONNACK");
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[test]
fn listeners_and_limits_come_from_the_file() {
    let dir = TempDir::new("mqbroker-conf");
    let conf = dir.path().join("mosquitto.conf");
    std::fs::write(
        &conf,
        "# as mosquitto.conf\nlistener 0 127.0.0.1\nallow_anonymous true\nmax_qos 1\nretain_available false\n",
    )
    .unwrap();
    let (mut broker, port) = broker_with(&conf);
    let c = connack(port);
    assert_eq!(c.properties.maximum_qos, Some(QoS::AtLeastOnce), "{c:?}");
    assert_eq!(c.properties.retain_available, Some(false), "{c:?}");
    broker.kill();
}

#[test]
fn test_config_checks_and_names_the_line() {
    let dir = TempDir::new("mqbroker-conf-check");
    let good = dir.path().join("good.conf");
    std::fs::write(&good, "listener 1883\nmax_queued_messages 10\n").unwrap();
    let out = Running::spawn(mqbroker(&["-c", good.to_str().unwrap(), "--test-config"])).finish();
    assert_eq!(out.code, Some(0), "{out}");
    let bad = dir.path().join("bad.conf");
    std::fs::write(&bad, "listener 1883\nlistner 1884\n").unwrap();
    let out = Running::spawn(mqbroker(&["-c", bad.to_str().unwrap(), "--test-config"])).finish();
    assert_eq!(out.code, Some(1), "{out}");
    assert_eq!(out.stderr.lines().count(), 1, "{out}");
    assert!(
        out.stderr.contains("bad.conf:2: unknown option 'listner'"),
        "{out}"
    );
    let unsupported = dir.path().join("unsupported.conf");
    std::fs::write(&unsupported, "http_dir /var/www\n").unwrap();
    let out = Running::spawn(mqbroker(&[
        "-c",
        unsupported.to_str().unwrap(),
        "--test-config",
    ]))
    .finish();
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stderr
            .contains("unsupported.conf:1: option 'http_dir' is not supported by mqbroker yet"),
        "{out}"
    );
}

/// Starts `mqbroker -c` with `conf` and returns it with its port.
fn broker_with(conf: &std::path::Path) -> (Running, u16) {
    ready(mqbroker(&["-c", conf.to_str().unwrap()]))
}

/// Starts `command` (mqbroker, perhaps traced) and waits for its ready line: it and its port.
fn ready(command: Command) -> (Running, u16) {
    let mut broker = Running::spawn(command);
    let port = broker.ready_port();
    (broker, port)
}

/// `mosquitto_pub -V version ... args` against `port`; its exit status.
fn publish(port: u16, version: &str, args: &[&str]) -> i32 {
    let port = port.to_string();
    let mut command = Command::new("mosquitto_pub");
    command.args([
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-V",
        version,
        "-t",
        "t",
        "-m",
        "x",
    ]);
    Running::spawn({
        command.args(args);
        command
    })
    .finish()
    .code()
}

/// A password file written by Debian's `mosquitto_passwd` is honoured, and refusals carry the
/// codes mosquitto sends: 5 (3.1.1) and 0x87 (5.0).
#[test]
fn password_file_from_mosquitto_passwd() {
    if !clients_installed() {
        return;
    }
    let dir = TempDir::new("mqbroker-passwd");
    let passwd = dir.path().join("passwd");
    let made = Command::new("mosquitto_passwd")
        .args(["-b", "-c", passwd.to_str().unwrap(), "alice", "secret"])
        .status()
        .unwrap();
    assert!(made.success());
    let conf = dir.path().join("mosquitto.conf");
    let text = format!("listener 0 127.0.0.1\npassword_file {}\n", passwd.display());
    std::fs::write(&conf, text).unwrap();
    let (mut broker, port) = broker_with(&conf);
    for (version, refused) in [("311", 5), ("5", 135)] {
        assert_eq!(publish(port, version, &["-u", "alice", "-P", "secret"]), 0);
        assert_eq!(
            publish(port, version, &["-u", "alice", "-P", "wrong"]),
            refused
        );
        assert_eq!(
            publish(port, version, &["-u", "bob", "-P", "secret"]),
            refused
        );
        // With a configuration file, anonymous clients are refused unless allowed (mosquitto 2.0).
        assert_eq!(publish(port, version, &[]), refused);
    }
    broker.kill();
}

/// The reference configuration parses, documents every supported option, and is what
/// `--test-config` accepts.
#[test]
fn the_reference_config_parses_and_documents_every_option() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("etc/mqbroker.conf");
    mqkit::broker::conf::ConfFile::read(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    for key in mqkit::broker::conf::SUPPORTED {
        let documented = text
            .lines()
            .any(|l| l.trim_start_matches('#').split_whitespace().next() == Some(key));
        assert!(
            documented,
            "etc/mqbroker.conf does not show the option '{key}'"
        );
    }
    let out = Running::spawn(mqbroker(&["-c", path.to_str().unwrap(), "--test-config"])).finish();
    assert_eq!(out.code, Some(0), "{out}");
}

/// SIGHUP re-reads the file as mosquitto does: a user added to the password file can connect
/// afterwards, a client connected before keeps its connection, and a file with a mistake is
/// logged and the running configuration kept.
#[test]
fn sighup_reloads_the_password_file_without_dropping_clients() {
    if !clients_installed() {
        return;
    }
    let dir = TempDir::new("mqbroker-reload");
    let passwd = dir.path().join("passwd");
    let add_user = |user: &str, create: bool| {
        let mut command = Command::new("mosquitto_passwd");
        command.arg("-b");
        if create {
            command.arg("-c");
        }
        let made = command.arg(&passwd).args([user, "pw"]).status().unwrap();
        assert!(made.success());
    };
    add_user("alice", true);
    let conf = dir.path().join("mosquitto.conf");
    // Anonymous clients too: the harness's probe messages are anonymous.
    let text = format!(
        "listener 0 127.0.0.1\nallow_anonymous true\npassword_file {}\n",
        passwd.display()
    );
    std::fs::write(&conf, &text).unwrap();
    let (mut broker, port) = broker_with(&conf);
    let clients = crate::support::Clients::new(port, crate::support::Version::V5);
    let mut alice = clients.subscribed("-u alice -P pw -t reload/t -v", 1);
    assert_eq!(publish(port, "5", &["-u", "bob", "-P", "pw"]), 135);
    add_user("bob", false);
    broker.signal("HUP");
    let deadline = std::time::Instant::now() + crate::support::WAIT;
    while publish(port, "5", &["-u", "bob", "-P", "pw"]) != 0 {
        assert!(std::time::Instant::now() < deadline, "bob never let in");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::write(&conf, format!("{text}listner 1\n")).unwrap();
    broker.signal("HUP");
    clients.publish_ok("-u bob -P pw -t reload/t -m after");
    alice.wait_for_line("the message after the reloads", |l| l == "reload/t after");
    let log = broker.kill().stderr;
    assert!(log.contains("Reloaded "), "{log}");
    assert!(
        log.contains("Reload failed, keeping the running configuration: ")
            && log.contains("unknown option 'listner'"),
        "{log}"
    );
}

/// `mqbroker passwd` writes what Debian's mosquitto accepts (and mqbroker too): create, add,
/// update, delete.
#[test]
fn mqbroker_passwd_files_work_with_mosquitto() {
    if !clients_installed() || !crate::support::mosquitto_installed() {
        return;
    }
    let dir = TempDir::new("mqbroker-passwd-tool");
    let passwd = dir.path().join("passwd");
    let file = passwd.to_str().unwrap();
    let tool = |args: &[&str]| Running::spawn(mqbroker(&[&["passwd"], args].concat())).finish();
    assert_eq!(tool(&["-c", "-b", file, "alice", "one"]).code(), 0);
    assert_eq!(tool(&["-b", file, "bob", "two"]).code(), 0);
    assert_eq!(tool(&["-b", file, "alice", "three"]).code(), 0);
    assert_eq!(tool(&["-b", file, "carol", "four"]).code(), 0);
    assert_eq!(tool(&["-D", file, "carol"]).code(), 0);
    let missing = tool(&["-D", file, "carol"]);
    assert_eq!(missing.code(), 1);
    assert_eq!(
        missing.stderr.trim(),
        "mqbroker: error: user 'carol' is not in the password file"
    );
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&passwd).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "readable by its owner only");
    // `user root`: as root, mosquitto would switch to a user who cannot read a 0600 file.
    let mosquitto =
        crate::support::MosquittoBroker::start_with(&format!("user root\npassword_file {file}\n"));
    let conf = dir.path().join("mqbroker.conf");
    std::fs::write(
        &conf,
        format!("listener 0 127.0.0.1\npassword_file {file}\n"),
    )
    .unwrap();
    let (_ours, port) = broker_with(&conf);
    for port in [mosquitto.port(), port] {
        for (login, code) in [
            (["-u", "alice", "-P", "three"], 0),
            (["-u", "alice", "-P", "one"], 135),
            (["-u", "bob", "-P", "two"], 0),
            (["-u", "carol", "-P", "four"], 135),
        ] {
            assert_eq!(publish(port, "5", &login), code, "{login:?} on port {port}");
        }
    }
}
