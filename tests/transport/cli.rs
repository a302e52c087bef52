//! The real `mqpub` and `mqsub` binaries over every transport their flags select: TLS from
//! `--cafile` (and `-L mqtts://`), `--insecure`, mutual TLS with `--cert`/`--key`, WebSockets
//! from `--ws` and `-L ws://`, `--unix`; and a TLS failure reported in one line with exit 1.
//! Each exchange publishes a retained message and reads it back with `mqsub -C 1`, so no test
//! waits for a subscription to be in place.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// Runs a binary with a deadline, killing it when it overruns.
fn run(binary: &str, args: &[&str]) -> Output {
    let mut child = Command::new(binary)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + WAIT;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("{binary} {args:?} did not exit within {WAIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

fn mqpub(args: &[&str]) -> Output {
    run(env!("CARGO_BIN_EXE_mqpub"), args)
}

fn mqsub(args: &[&str]) -> Output {
    run(env!("CARGO_BIN_EXE_mqsub"), args)
}

/// Publishes `topic`=`payload` retained with `connection` flags, reads it back with the same
/// flags, and checks mqsub printed `topic payload`.
fn retained_round_trip(connection: &[&str], topic: &str, payload: &str) {
    let publish = [connection, &["-t", topic, "-m", payload, "-r", "-q", "1"]].concat();
    let out = mqpub(&publish);
    assert!(
        out.status.success(),
        "mqpub {publish:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let subscribe = [connection, &["-t", topic, "-C", "1", "-v"]].concat();
    let out = mqsub(&subscribe);
    assert!(
        out.status.success(),
        "mqsub {subscribe:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{topic} {payload}\n")
    );
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn tls_with_cafile_and_with_an_mqtts_url() {
    if !mosquitto_installed() {
        return;
    }
    let pki = Pki::new();
    let broker = Mosquitto::start(&pki, &[Listener::tls(&pki.server)]);
    let port = broker.port(0).to_string();
    let flags = ["-h", "localhost", "-p", &port, "--cafile", path(&pki.ca)];
    retained_round_trip(&flags, "cli/tls", "over tls");
    let url = format!("mqtts://localhost:{port}/cli/url");
    let out = mqpub(&[
        "-L",
        &url,
        "--cafile",
        path(&pki.ca),
        "-m",
        "via url",
        "-r",
        "-V",
        "5",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    retained_round_trip(&flags, "cli/url", "via url");
}

#[test]
fn insecure_and_mutual_tls() {
    if !mosquitto_installed() {
        return;
    }
    let pki = Pki::new();
    let mutual = Listener::Tls {
        server: pki.self_signed.clone(),
        require_certificate: true,
    };
    let broker = Mosquitto::start(&pki, &[mutual]);
    let port = broker.port(0).to_string();
    let (cert, key) = (path(&pki.client.cert), path(&pki.client.key));
    let flags = [
        "-h",
        "localhost",
        "-p",
        &port,
        "--insecure",
        "--cert",
        cert,
        "--key",
        key,
    ];
    retained_round_trip(&flags, "cli/mtls", "both ways");
}

#[test]
fn a_tls_failure_is_one_line_naming_it_and_exit_1() {
    if !mosquitto_installed() {
        return;
    }
    let pki = Pki::new();
    let broker = Mosquitto::start(&pki, &[Listener::tls(&pki.server)]);
    let port = broker.port(0).to_string();
    let flags = [
        "-h",
        "localhost",
        "-p",
        &port,
        "--cafile",
        path(&pki.other_ca),
    ];
    for out in [
        mqpub(&[&flags[..], &["-t", "cli/x", "-m", "x"]].concat()),
        mqsub(&[&flags[..], &["-t", "cli/x", "-C", "1"]].concat()),
    ] {
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("not signed by a trusted CA (issuer: CN=mqkit test CA)"),
            "{err}"
        );
    }
}

#[test]
fn websockets_with_ws_flag_and_url() {
    if !mosquitto_installed() {
        return;
    }
    let pki = Pki::new();
    let broker = Mosquitto::start(&pki, &[Listener::Ws]);
    let port = broker.port(0).to_string();
    retained_round_trip(
        &["-h", "127.0.0.1", "-p", &port, "--ws"],
        "cli/ws",
        "framed",
    );
    let url = format!("ws://127.0.0.1:{port}/mqtt");
    retained_round_trip(&["-L", &url], "cli/ws-url", "by url");
}

#[test]
fn unix_socket() {
    if !mosquitto_installed() {
        return;
    }
    let pki = Pki::new();
    let socket = pki.path("mqtt.sock");
    let broker = Mosquitto::start(&pki, &[Listener::Unix(socket.clone())]);
    let _ = broker.port(0);
    retained_round_trip(&["--unix", path(&socket)], "cli/unix", "local");
}
