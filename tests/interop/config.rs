//! `mqbroker -c FILE`: a mosquitto.conf-style file sets the listeners and the limits the broker
//! announces in a 5.0 CONNACK (Maximum QoS, Retain Available [MQTT-3.2.2.3]); `--test-config`
//! checks a file; a mistake is one line naming the file, the line and the option.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use bytes::BytesMut;
use mqkit::protocol::{decode, encode, Connect, MqttString, Packet, ProtocolVersion, QoS};

use crate::support::{Running, TempDir};

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
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let connect = Connect::new(ProtocolVersion::V5, MqttString::new("conf-probe").unwrap());
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
        "# as mosquitto.conf\nlistener 0 127.0.0.1\nmax_qos 1\nretain_available false\n",
    )
    .unwrap();
    let mut broker = Running::spawn(mqbroker(&["-c", conf.to_str().unwrap()]));
    let line = broker.wait_for_line("the ready line", |l| l.starts_with("listening on mqtt://"));
    let port: u16 = line.rsplit(':').next().unwrap().parse().unwrap();
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
    let unsupported = dir.path().join("tls.conf");
    std::fs::write(&unsupported, "certfile /etc/ssl/server.pem\n").unwrap();
    let out = Running::spawn(mqbroker(&[
        "-c",
        unsupported.to_str().unwrap(),
        "--test-config",
    ]))
    .finish();
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stderr
            .contains("tls.conf:1: option 'certfile' is not supported by mqbroker yet"),
        "{out}"
    );
}
