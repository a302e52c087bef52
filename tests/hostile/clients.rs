//! Hostile brokers for `mqsub` and `mqpub`: a fake server on a `std::net::TcpListener` bound to
//! 127.0.0.1:0 inside the test reads the tool's CONNECT and then sends a malformed CONNACK, an
//! oversized packet, nothing at all, or half a packet before closing. The tools must exit
//! non-zero with one clear line on stderr, never panic, and never outlive their timeouts: the
//! connect timeout (10 s for TCP and CONNACK, `tool::connection::CONNECT_TIMEOUT`) and, once
//! connected, 1.5 keep-alive periods of silence (`-k`).

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use mqkit::protocol::{decode, Packet, ProtocolVersion};

/// The tools' connect timeout (`tool::connection::CONNECT_TIMEOUT`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long after its timeout a tool may take to exit.
const SLACK: Duration = Duration::from_secs(2);
/// How long a tool may take to give up on a broker that has plainly misbehaved.
const PROMPT: Duration = Duration::from_secs(3);

/// What the fake server does once it has read the CONNECT.
type Behaviour = fn(&mut TcpStream);

/// Starts a fake server for one connection; returns its port. The server reads the CONNECT,
/// runs `behaviour`, and drops the connection.
fn fake_broker(behaviour: Behaviour) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local address").port();
    listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    thread::spawn(move || {
        let deadline = Instant::now() + CONNECT_TIMEOUT + SLACK;
        let mut stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(5))
                }
                Err(_) => return,
            }
        };
        stream.set_nonblocking(false).expect("blocking stream");
        stream
            .set_read_timeout(Some(CONNECT_TIMEOUT + SLACK))
            .expect("read timeout");
        if read_connect(&mut stream).is_some() {
            behaviour(&mut stream);
        }
    });
    port
}

/// Reads the tool's CONNECT (at most [`CONNECT_TIMEOUT`] + [`SLACK`]); `None` if it is not
/// one. CONNECT carries its own protocol version, so decoding it as 5.0 works for all.
fn read_connect(stream: &mut TcpStream) -> Option<Packet> {
    let mut buf = BytesMut::new();
    let mut chunk = [0u8; 4096];
    loop {
        match decode(&mut buf, ProtocolVersion::V5, 1 << 20) {
            Ok(Some(packet @ Packet::Connect(_))) => return Some(packet),
            Ok(None) => {}
            Ok(Some(_)) | Err(_) => return None,
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Waits for the tool's next bytes (the packet after CONNECT; its contents do not matter).
fn read_some(stream: &mut TcpStream) {
    let _ = stream.read(&mut [0u8; 4096]);
}

/// Reads until the tool closes the connection (or the read timeout).
fn hold_until_closed(stream: &mut TcpStream) {
    let mut chunk = [0u8; 4096];
    while matches!(stream.read(&mut chunk), Ok(n) if n > 0) {}
}

/// Sends `bytes` and keeps the connection open until the tool goes.
fn send_and_hold(stream: &mut TcpStream, bytes: &[u8]) {
    let _ = stream.write_all(bytes);
    hold_until_closed(stream);
}

/// How a tool run ended.
struct Ended {
    code: Option<i32>,
    stderr: String,
    took: Duration,
}

/// Runs `tool` (`mqsub` or `mqpub`) against the fake server on `port`; kills it after `limit`.
fn run(tool: &str, port: u16, args: &[&str], limit: Duration) -> Ended {
    let program = match tool {
        "mqsub" => env!("CARGO_BIN_EXE_mqsub"),
        _ => env!("CARGO_BIN_EXE_mqpub"),
    };
    let mut child = Command::new(program)
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-t",
            "hostile/t",
        ])
        .args(args)
        .env("XDG_CONFIG_HOME", "/nonexistent/mqkit-tests")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {tool}: {e}"));
    let mut stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        let _ = tx.send(text);
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the tool") {
            break Some(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(10));
    };
    let took = started.elapsed();
    let stderr = rx.recv_timeout(SLACK).unwrap_or_default();
    assert!(
        status.is_some(),
        "{tool} {args:?} still running after {limit:?}:\n{stderr}"
    );
    Ended {
        code: status.and_then(|s| s.code()),
        stderr,
        took,
    }
}

/// The tool exits 1 within `limit` with exactly one stderr line `TOOL: error: ...` that
/// contains `wanted`, and does not panic.
fn assert_fails(tool: &str, behaviour: Behaviour, args: &[&str], limit: Duration, wanted: &str) {
    let port = fake_broker(behaviour);
    let ended = run(tool, port, args, limit + SLACK);
    let stderr = ended.stderr.trim_end();
    eprintln!(
        "{tool} {args:?}: exit {:?} after {:?}: {stderr}",
        ended.code, ended.took
    );
    assert!(!stderr.contains("panicked"), "{tool} panicked:\n{stderr}");
    assert_eq!(ended.code, Some(1), "{tool} exit status:\n{stderr}");
    assert!(
        ended.took <= limit,
        "{tool} took {:?} (limit {limit:?})",
        ended.took
    );
    assert_eq!(
        stderr.lines().count(),
        1,
        "{tool}: one line on stderr:\n{stderr}"
    );
    let prefix = format!("{tool}: error: ");
    assert!(
        stderr.starts_with(&prefix) && stderr.contains(wanted),
        "{tool}: {stderr:?} lacks {wanted:?}"
    );
}

/// Both tools at once, each in its usual shape: `mqsub -C 1` and `mqpub -m x`.
fn both(behaviour: Behaviour, args: &[&str], limit: Duration, wanted: &'static str) {
    let sub: Vec<String> = ["-C", "1"]
        .iter()
        .chain(args)
        .map(|a| a.to_string())
        .collect();
    let subscriber = thread::spawn(move || {
        let sub: Vec<&str> = sub.iter().map(String::as_str).collect();
        assert_fails("mqsub", behaviour, &sub, limit, wanted);
    });
    let publish: Vec<&str> = ["-m", "x"].iter().chain(args).copied().collect();
    assert_fails("mqpub", behaviour, &publish, limit, wanted);
    if let Err(panic) = subscriber.join() {
        std::panic::resume_unwind(panic);
    }
}

/// CONNACK with a reserved Connect Acknowledge Flags bit set [MQTT-3.2.2-1].
#[test]
fn malformed_connack_reserved_flags() {
    both(
        |s| send_and_hold(s, &[0x20, 0x02, 0x02, 0x00]),
        &["-V", "311"],
        PROMPT,
        "malformed packet from the server",
    );
}

/// A 5.0 CONNACK whose property length (5) runs past the end of the packet.
#[test]
fn malformed_connack_properties_overrun() {
    both(
        |s| send_and_hold(s, &[0x20, 0x03, 0x00, 0x00, 0x05]),
        &["-V", "5"],
        PROMPT,
        "malformed packet from the server",
    );
}

/// A SUBACK where the CONNACK should be.
#[test]
fn another_packet_instead_of_connack() {
    both(
        |s| send_and_hold(s, &[0x90, 0x03, 0x00, 0x01, 0x00]),
        &["-V", "311"],
        PROMPT,
        "expected CONNACK",
    );
}

/// A remaining length of five bytes, more than any packet may have [MQTT-1.5.5-1].
#[test]
fn oversized_remaining_length() {
    both(
        |s| send_and_hold(s, &[0x20, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]),
        &["-V", "311"],
        PROMPT,
        "malformed packet from the server",
    );
}

/// A CONNACK announcing 256 MB to a 5.0 client that accepts at most 1,024 bytes: refused as
/// soon as the fixed header is in, not after buffering.
#[test]
fn packet_over_the_clients_maximum_packet_size() {
    both(
        |s| send_and_hold(s, &[0x20, 0xFF, 0xFF, 0xFF, 0x7F]),
        &["-V", "5", "-D", "CONNECT", "maximum-packet-size", "1024"],
        PROMPT,
        "exceeds the maximum packet size",
    );
}

/// A CONNACK announcing 256 MB and then nothing, to a client without a maximum: it waits, but
/// no longer than its connect timeout.
#[test]
fn packet_announcing_256_mb_then_silence() {
    both(
        |s| send_and_hold(s, &[0x20, 0xFF, 0xFF, 0xFF, 0x7F]),
        &["-V", "311"],
        CONNECT_TIMEOUT + SLACK,
        "timed out waiting for CONNACK",
    );
}

/// A server that accepts the connection and never answers.
#[test]
fn server_that_never_answers() {
    both(
        hold_until_closed,
        &["-V", "5"],
        CONNECT_TIMEOUT + SLACK,
        "timed out waiting for CONNACK",
    );
}

/// Half a CONNACK, then the connection closes.
#[test]
fn server_that_closes_mid_connack() {
    both(
        |s| {
            let _ = s.write_all(&[0x20, 0x02, 0x00]);
        },
        &["-V", "311"],
        PROMPT,
        "closed the connection",
    );
}

/// A CONNACK, then silence: mqpub waiting for its PUBACK gives up after 1.5 keep-alive periods
/// without a PINGRESP (`-k 1`).
#[test]
fn mqpub_waiting_for_a_puback_that_never_comes() {
    let port = fake_broker(|s| send_and_hold(s, &[0x20, 0x02, 0x00, 0x00]));
    let ended = run(
        "mqpub",
        port,
        &["-q", "1", "-m", "x", "-k", "1"],
        Duration::from_secs(6),
    );
    assert!(!ended.stderr.contains("panicked"), "{}", ended.stderr);
    assert_eq!(ended.code, Some(1), "{}", ended.stderr);
    assert!(
        ended.stderr.contains("timed out waiting for PINGRESP"),
        "{}",
        ended.stderr
    );
}

/// A CONNACK, then half a PUBACK and the close: mqpub fails at once.
#[test]
fn mqpub_when_the_server_closes_mid_puback() {
    assert_fails(
        "mqpub",
        |s| {
            let _ = s.write_all(&[0x20, 0x02, 0x00, 0x00]);
            read_some(s);
            let _ = s.write_all(&[0x40, 0x02, 0x00]);
        },
        &["-q", "1", "-m", "x"],
        PROMPT,
        "closed the connection",
    );
}

/// After a good CONNACK the connection drops mid-SUBACK: mqsub reconnects, as mosquitto_sub
/// does, and the fake server is gone, so it keeps trying, with a warning each time, until its
/// `-W` limit ends the run (status 27). It never panics.
#[test]
fn mqsub_reconnects_after_a_drop_until_its_time_limit() {
    let port = fake_broker(|s| {
        let _ = s.write_all(&[0x20, 0x02, 0x00, 0x00]);
        read_some(s);
        let _ = s.write_all(&[0x90, 0x03]);
    });
    let ended = run("mqsub", port, &["-W", "3"], Duration::from_secs(3) + SLACK);
    eprintln!(
        "mqsub -W 3: exit {:?} after {:?}:\n{}",
        ended.code, ended.took, ended.stderr
    );
    assert!(!ended.stderr.contains("panicked"), "{}", ended.stderr);
    assert_eq!(ended.code, Some(27), "{}", ended.stderr);
    assert!(ended.stderr.contains("reconnecting"), "{}", ended.stderr);
}
