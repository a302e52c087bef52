//! What the mqbench tests need beyond the interop harness (`support.rs`, shared, not copied):
//! the `mqbench` command line with a clean environment, a run whose deadline the test chooses
//! and which it can interrupt ([`Bench`]), the `--json` report parsed ([`report`]), and a TCP
//! proxy that drops every n-th PUBLISH the server sends ([`LossyProxy`]).

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use mqkit::protocol::{decode, FixedHeader, PacketType, ProtocolVersion};
use serde_json::Value;

use crate::support::{free_port, words, Output, TempDir};

/// How long a short run (one with `-L`) may take, connections and drain included.
pub const SHORT: Duration = Duration::from_secs(15);

/// The `mqbench` binary with `args` (split as [`words`] does), isolated from the user's setup:
/// no defaults file, no `MQKIT_PASSWORD`, no `RUST_LOG`.
pub fn mqbench(args: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mqbench"));
    command
        .args(words(args))
        .env("XDG_CONFIG_HOME", "/nonexistent/mqkit-tests")
        .env_remove("MQKIT_PASSWORD")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1");
    command
}

/// Runs `mqbench ARGS` to its end, killing it past `within`.
pub fn run(args: &str, within: Duration) -> Output {
    Bench::spawn(mqbench(args)).finish(within)
}

/// `mqbench pubsub -h 127.0.0.1 -p PORT ARGS` run to its end under [`SHORT`].
pub fn pubsub(port: u16, args: &str) -> Output {
    run(&format!("pubsub -h 127.0.0.1 -p {port} {args}"), SHORT)
}

/// The `--json` report on stdout, parsed; panics (showing the output) when it is not JSON.
pub fn report(output: &Output) -> Value {
    serde_json::from_str(&output.lines.join("\n"))
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{output}"))
}

/// `report["totals"][name]` as a number.
pub fn total(report: &Value, name: &str) -> u64 {
    report["totals"][name]
        .as_u64()
        .unwrap_or_else(|| panic!("totals.{name} is not a count: {report:#}"))
}

/// Asserts exit status 1, nothing on stdout and exactly one line on stderr, which contains
/// every one of `words`; returns that line.
pub fn one_line_error(output: &Output, words: &[&str]) -> String {
    assert_eq!(output.code(), 1, "expected exit status 1:\n{output}");
    assert!(
        output.lines.is_empty(),
        "expected nothing on stdout:\n{output}"
    );
    let lines: Vec<&str> = output.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line on stderr:\n{output}");
    for word in words {
        assert!(
            lines[0].contains(word),
            "stderr does not name {word:?}:\n{output}"
        );
    }
    lines[0].to_owned()
}

/// A running `mqbench` with stdout and stderr read line by line on threads, killed when
/// dropped. Unlike the interop harness's `Running`, the test sets each deadline and can send
/// SIGINT.
pub struct Bench {
    label: String,
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    stderr_seen: Vec<String>,
}

impl Bench {
    /// Starts `command` with stdin closed and both outputs captured.
    pub fn spawn(mut command: Command) -> Bench {
        let label = format!("{command:?}");
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {label}: {e}"));
        let stdout = lines(child.stdout.take().expect("stdout is piped"));
        let stderr = lines(child.stderr.take().expect("stderr is piped"));
        Bench {
            label,
            child,
            stdout,
            stderr,
            stderr_seen: Vec::new(),
        }
    }

    /// Waits (at most `within`) for a stderr line satisfying `wanted` and returns it.
    pub fn wait_for_stderr(&mut self, within: Duration, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + within;
        loop {
            match self
                .stderr
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(line) => {
                    self.stderr_seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(e) => {
                    let why = match e {
                        RecvTimeoutError::Timeout => "timed out",
                        RecvTimeoutError::Disconnected => "stderr closed",
                    };
                    panic!(
                        "no such stderr line ({why}):\n{}",
                        self.finish(Duration::ZERO)
                    )
                }
            }
        }
    }

    /// Sends SIGINT (Ctrl-C).
    pub fn interrupt(&self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-INT", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -INT {pid} failed");
    }

    /// Reads both outputs to their end and waits for the exit, all within `within`; past it,
    /// kills the process and marks the output timed out.
    pub fn finish(&mut self, within: Duration) -> Output {
        let deadline = Instant::now() + within;
        let stdout = drain(&self.stdout, deadline);
        let stderr = drain(&self.stderr, deadline);
        let mut timed_out = stdout.is_none() || stderr.is_none();
        let mut status = None;
        while !timed_out {
            match self.child.try_wait() {
                Ok(Some(s)) => {
                    status = Some(s);
                    break;
                }
                // Both pipes are closed: the exit is a matter of moments.
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(2)),
                _ => timed_out = true,
            }
        }
        if timed_out {
            let _ = self.child.kill();
            status = self.child.wait().ok();
        }
        let mut err = std::mem::take(&mut self.stderr_seen);
        err.extend(stderr.unwrap_or_default());
        Output {
            label: self.label.clone(),
            code: status.and_then(|s| s.code()),
            timed_out,
            lines: stdout.unwrap_or_default(),
            stderr: err.iter().map(|l| format!("{l}\n")).collect(),
        }
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Every line until the sender closes; `None` when `deadline` passes first.
fn drain(lines: &Receiver<String>, deadline: Instant) -> Option<Vec<String>> {
    let mut all = Vec::new();
    loop {
        match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => all.push(line),
            Err(RecvTimeoutError::Disconnected) => return Some(all),
            Err(RecvTimeoutError::Timeout) => return None,
        }
    }
}

/// Sends each line of `source` (without its line end) until end of file.
fn lines(source: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut reader = BufReader::new(source);
        let mut line = Vec::new();
        while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            let _ = tx.send(String::from_utf8_lossy(&line).into_owned());
            line.clear();
        }
    });
    rx
}

/// A TCP proxy on a free 127.0.0.1 port in front of a server on `127.0.0.1:upstream`. Client
/// bytes go through untouched; the server's are cut into MQTT 3.1.1 packets with the codec and
/// forwarded as they came, except every `every`-th PUBLISH (counted over all connections),
/// which is dropped: a broker that loses messages. Its threads end with their connections.
pub struct LossyProxy {
    port: u16,
    dropped: Arc<AtomicU64>,
}

impl LossyProxy {
    /// Starts the proxy.
    pub fn start(upstream: u16, every: u64) -> LossyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        let dropped = Arc::new(AtomicU64::new(0));
        let counters = (Arc::new(AtomicU64::new(0)), dropped.clone());
        thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let counters = counters.clone();
                let (c, s) = (client.try_clone(), server.try_clone());
                if let (Ok(client2), Ok(server2)) = (c, s) {
                    thread::spawn(move || copy(client2, server2));
                    thread::spawn(move || filter(server, client, every, counters));
                }
            }
        });
        LossyProxy { port, dropped }
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The PUBLISH packets it dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Copies `from` to `to` until either side ends, then shuts both down.
fn copy(mut from: TcpStream, mut to: TcpStream) {
    let _ = std::io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

/// Forwards the server's packets from `from` to `to`, dropping every `every`-th PUBLISH;
/// `(seen, dropped)` count PUBLISH packets over all connections.
fn filter(
    mut from: TcpStream,
    mut to: TcpStream,
    every: u64,
    counters: (Arc<AtomicU64>, Arc<AtomicU64>),
) {
    let (seen, dropped) = counters;
    let mut buf = BytesMut::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        while let Some(frame) = next_frame(&mut buf) {
            let is_publish = frame.1 == PacketType::Publish;
            if is_publish && (seen.fetch_add(1, Ordering::Relaxed) + 1) % every == 0 {
                dropped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            if to.write_all(&frame.0).is_err() {
                break;
            }
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

/// The next whole packet at the front of `buf`, removed from it, with its type; `None` when
/// more bytes are needed. Each packet is decoded too, so the proxy only forwards valid ones.
fn next_frame(buf: &mut BytesMut) -> Option<(BytesMut, PacketType)> {
    let header = FixedHeader::parse(buf, ProtocolVersion::V311)
        .unwrap_or_else(|e| panic!("the server sent a malformed header: {e}"))?;
    if buf.len() < header.packet_len() {
        return None;
    }
    let frame = buf.split_to(header.packet_len());
    let packet = decode(&mut frame.clone(), ProtocolVersion::V311, usize::MAX)
        .unwrap_or_else(|e| panic!("the server sent a malformed packet: {e}"))
        .unwrap_or_else(|| panic!("a whole {:?} did not decode", header.packet_type));
    assert_eq!(packet.packet_type(), header.packet_type);
    Some((frame, header.packet_type))
}

/// Debian's mosquitto refusing anonymous clients, with one user ([`AuthMosquitto::USER`] /
/// [`AuthMosquitto::PASSWORD`], made with `mosquitto_passwd -b -c`), on a free 127.0.0.1 port;
/// killed when dropped. The directory and file are made readable to all: run as root,
/// mosquitto drops to its own user before it reads the password file.
pub struct AuthMosquitto {
    _process: Bench,
    port: u16,
    _dir: TempDir,
}

impl AuthMosquitto {
    /// The user name it accepts.
    pub const USER: &'static str = "user";
    /// That user's password.
    pub const PASSWORD: &'static str = "pass";

    /// Writes the password file and config and starts mosquitto, retrying on a taken port.
    pub fn start() -> AuthMosquitto {
        let dir = TempDir::new("mqbench-auth");
        let passwords = dir.path().join("passwords");
        let made = Command::new("mosquitto_passwd")
            .args(["-b", "-c"])
            .arg(&passwords)
            .args([Self::USER, Self::PASSWORD])
            .status();
        assert!(made.is_ok_and(|s| s.success()), "mosquitto_passwd failed");
        for (path, mode) in [(dir.path(), 0o755), (passwords.as_path(), 0o644)] {
            fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
        }
        let mut last = String::new();
        for _attempt in 0..5 {
            let port = free_port();
            let config = dir.path().join("mosquitto.conf");
            let text = format!(
                "listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\n\
                 persistence false\nlog_dest stderr\n",
                passwords.display()
            );
            fs::write(&config, text).expect("write mosquitto.conf");
            let mut command = Command::new(sbin("mosquitto"));
            command.arg("-c").arg(&config);
            let mut process = Bench::spawn(command);
            if accepts(port, &mut process) {
                return AuthMosquitto {
                    _process: process,
                    port,
                    _dir: dir,
                };
            }
            last = process.finish(Duration::from_secs(2)).to_string();
            if !last.contains("Address already in use") {
                break;
            }
        }
        panic!("mosquitto did not start:\n{last}");
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// `name` in an `sbin` directory (Debian installs the broker as `/usr/sbin/mosquitto`), else
/// on PATH.
fn sbin(name: &str) -> PathBuf {
    ["/usr/sbin", "/usr/local/sbin", "/sbin"]
        .iter()
        .map(|dir| PathBuf::from(dir).join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from(name))
}

/// Whether 127.0.0.1:`port` accepts a connection before `process` exits, within 10 s.
fn accepts(port: u16, process: &mut Bench) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = process.child.try_wait() {
            return false;
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        thread::sleep(Duration::from_millis(10));
    }
    false
}

/// Established TCP connections on 127.0.0.1 whose local port is `port`, from
/// `/proc/net/tcp`: the server's side of its clients' connections.
pub fn established_to(port: u16) -> usize {
    let table = fs::read_to_string("/proc/net/tcp").expect("read /proc/net/tcp");
    let local = format!("0100007F:{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.get(1) == Some(&local.as_str()) && fields.get(3) == Some(&"01")
        })
        .count()
}
