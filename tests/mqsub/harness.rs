//! What these tests add to the interop harness (`support`): [`Raw`], a child process whose
//! stdout is kept as bytes (so binary payloads are compared byte for byte, where `Running`
//! reads lossy UTF-8 lines) and which can be sent any signal; [`Broker`], either broker behind
//! one type; [`Subscribers`], which builds `mqsub` and `mosquitto_sub` command lines for the
//! same broker and version and runs them [`side_by_side`](Subscribers::side_by_side);
//! [`mqbroker_on`], the real mqbroker on a port of the test's choosing (to restart it);
//! and [`AuthMosquitto`], mosquitto refusing anonymous clients.

use std::fmt;
use std::fs;
use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{
    clients_installed, free_port, mosquitto_installed, words, BrokerProcess, Clients,
    MosquittoBroker, Running, TempDir, Version, PROBE_PAYLOAD, WAIT,
};

/// Which broker a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerKind {
    /// Debian's `mosquitto`.
    Mosquitto,
    /// The built `mqbroker`.
    Mqbroker,
}

/// A running broker of either kind, killed when dropped.
pub enum Broker {
    /// Debian's `mosquitto`.
    Mosquitto(MosquittoBroker),
    /// The built `mqbroker`.
    Mqbroker(BrokerProcess),
}

impl Broker {
    /// Starts a broker of `kind`; `None` (the test is skipped, or fails under `CI=true`) when
    /// the mosquitto clients, or the mosquitto broker it needs, are not installed.
    pub fn start(kind: BrokerKind) -> Option<Broker> {
        if !clients_installed() {
            return None;
        }
        match kind {
            BrokerKind::Mosquitto if !mosquitto_installed() => None,
            BrokerKind::Mosquitto => Some(Broker::Mosquitto(MosquittoBroker::start())),
            BrokerKind::Mqbroker => Some(Broker::Mqbroker(BrokerProcess::start())),
        }
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        match self {
            Broker::Mosquitto(b) => b.port(),
            Broker::Mqbroker(b) => b.port(),
        }
    }
}

/// `-V`'s value for `version`, for mqsub as for mosquitto_sub.
pub fn version_arg(version: Version) -> &'static str {
    match version {
        Version::V311 => "311",
        Version::V5 => "5",
    }
}

/// `mqsub ARGS` (split as [`words`] does) with no defaults file and nothing from the
/// environment that changes its output (`RUST_LOG`, `NO_COLOR`).
pub fn mqsub(args: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mqsub"));
    command
        .args(words(args))
        .env("XDG_CONFIG_HOME", "/nonexistent/mqkit-tests")
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR");
    command
}

/// `mqsub` and `mosquitto_sub` for one broker and protocol version, and `mosquitto_pub` to
/// publish to it.
#[derive(Debug, Clone, Copy)]
pub struct Subscribers {
    /// The mosquitto clients (pub, sub) for the broker.
    pub clients: Clients,
    port: u16,
    version: Version,
}

/// What [`Subscribers::side_by_side`] saw: `mosquitto_sub`'s output, then `mqsub`'s.
pub struct Pair {
    /// mosquitto_sub's.
    pub mosquitto: RawOutput,
    /// mqsub's.
    pub mqsub: RawOutput,
}

impl Pair {
    /// Asserts the two printed the same bytes on stdout and exited alike; returns mqsub's
    /// stdout.
    pub fn assert_same(&self) -> &[u8] {
        assert_eq!(
            (self.mqsub.code(), Escaped(&self.mqsub.stdout)),
            (self.mosquitto.code(), Escaped(&self.mosquitto.stdout)),
            "mqsub (left) differs from mosquitto_sub (right)\n=== mqsub\n{}\n=== mosquitto_sub\n{}",
            self.mqsub,
            self.mosquitto
        );
        &self.mqsub.stdout
    }
}

impl Subscribers {
    /// The clients for `127.0.0.1:port` speaking `version`.
    pub fn new(port: u16, version: Version) -> Subscribers {
        Subscribers {
            clients: Clients::new(port, version),
            port,
            version,
        }
    }

    /// `mqsub -h 127.0.0.1 -p PORT -V VERSION ARGS`.
    pub fn mqsub(&self, args: &str) -> Command {
        let mut command = mqsub(&format!(
            "-h 127.0.0.1 -p {} -V {}",
            self.port,
            version_arg(self.version)
        ));
        command.args(words(args));
        command
    }

    /// `mosquitto_sub -h 127.0.0.1 -p PORT -V VERSION ARGS`.
    pub fn mosquitto_sub(&self, args: &str) -> Command {
        self.clients.subscribe(args)
    }

    /// Runs `mosquitto_pub ARGS` and asserts it succeeds.
    pub fn publish(&self, args: &str) {
        self.clients.publish_ok(args);
    }

    /// A fresh retained probe message: its topic, for a subscriber's last `-t`.
    pub fn probe(&self) -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let topic = format!("mqsub/ready/{}", NEXT.fetch_add(1, Ordering::Relaxed));
        self.publish(&format!("-r -q 1 -t {topic} -m {PROBE_PAYLOAD}"));
        topic
    }

    /// Starts `command -t PROBE -C messages+1` (mqsub or mosquitto_sub) and returns once it
    /// has printed the retained probe: every filter in `command` is then subscribed (a broker
    /// handles the filters of a SUBSCRIBE in order). The output must show the probe's topic or
    /// payload.
    pub fn subscribed(&self, command: Command, messages: usize) -> Raw {
        let probe = self.probe();
        start_subscribed(command, &probe, messages)
    }

    /// Starts `mosquitto_sub ARGS` and `mqsub ARGS`, each with `-t PROBE -C messages+1`, waits
    /// until both have printed the probe, runs `publish`, and returns what each printed by the
    /// time it exited. Both subscribers see the same retained probe (its topic and packet id
    /// included), so whole outputs compare.
    pub fn side_by_side(&self, args: &str, messages: usize, publish: impl FnOnce()) -> Pair {
        let mut pairs = self.side_by_side_all(&[args], messages, publish);
        pairs.pop().expect("one pair")
    }

    /// [`side_by_side`](Self::side_by_side) for several command lines at once: every pair of
    /// subscribers is in place before `publish` runs, so one set of messages serves them all.
    pub fn side_by_side_all(
        &self,
        args: &[&str],
        messages: usize,
        publish: impl FnOnce(),
    ) -> Vec<Pair> {
        let probe = self.probe();
        let running: Vec<(Raw, Raw)> = args
            .iter()
            .map(|args| {
                (
                    start_subscribed(self.mosquitto_sub(args), &probe, messages),
                    start_subscribed(self.mqsub(args), &probe, messages),
                )
            })
            .collect();
        publish();
        running
            .into_iter()
            .map(|(mosquitto, mqsub)| Pair {
                mosquitto: mosquitto.finish(),
                mqsub: mqsub.finish(),
            })
            .collect()
    }
}

/// Starts `command -t PROBE -C messages+1` and waits for the probe's topic or payload.
fn start_subscribed(mut command: Command, probe: &str, messages: usize) -> Raw {
    command.args(["-t", probe, "-C", &(messages + 1).to_string()]);
    let mut subscriber = Raw::spawn(command);
    subscriber.wait_for_any("the probe message", &[probe, PROBE_PAYLOAD]);
    subscriber
}

/// A child process with stdin closed and stdout kept as bytes, read on a thread so that a test
/// can wait for some output under a deadline. Killed (SIGKILL) when dropped.
pub struct Raw {
    label: String,
    child: Child,
    chunks: Receiver<Vec<u8>>,
    stdout: Vec<u8>,
    stderr: Receiver<Vec<u8>>,
}

/// What a [`Raw`] process left behind.
#[derive(Debug)]
pub struct RawOutput {
    /// The command line.
    pub label: String,
    /// The exit code; `None` when killed by a signal.
    pub code: Option<i32>,
    /// Whether it overran its deadline and was killed.
    pub timed_out: bool,
    /// Its stdout, as written.
    pub stdout: Vec<u8>,
    /// Its stderr.
    pub stderr: String,
}

impl RawOutput {
    /// The exit code; panics (showing the output) when the process was killed.
    pub fn code(&self) -> i32 {
        match self.code {
            Some(code) if !self.timed_out => code,
            _ => panic!("no exit code:\n{self}"),
        }
    }

    /// Asserts exit code 0 and returns stdout.
    pub fn success(&self) -> &[u8] {
        assert_eq!(self.code(), 0, "expected success:\n{self}");
        &self.stdout
    }

    /// Stdout as text (lossy), for outputs that are text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

impl fmt::Display for RawOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = match (self.timed_out, self.code) {
            (true, _) => format!("killed after {WAIT:?}"),
            (false, Some(code)) => format!("exit code {code}"),
            (false, None) => "killed by a signal".to_owned(),
        };
        writeln!(f, "$ {}\n[{status}]", self.label)?;
        writeln!(f, "--- stdout\n{:?}", Escaped(&self.stdout))?;
        write!(f, "--- stderr\n{}", self.stderr)
    }
}

/// Bytes shown as an escaped string in assertion messages.
#[derive(PartialEq, Eq)]
pub struct Escaped<'a>(pub &'a [u8]);

impl fmt::Debug for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\"", self.0.escape_ascii())
    }
}

impl Raw {
    /// Starts `command` with stdin closed and stdout and stderr captured.
    pub fn spawn(mut command: Command) -> Raw {
        let label = format!("{command:?}");
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {label}: {e}"));
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        Raw {
            label,
            child,
            chunks: read_chunks(stdout),
            stdout: Vec::new(),
            stderr: read_to_end(stderr),
        }
    }

    /// Waits (at most [`WAIT`]) until stdout contains one of `needles`.
    pub fn wait_for_any(&mut self, what: &str, needles: &[&str]) {
        if let Err(output) = self.try_wait_for_any(needles) {
            panic!("no {what} within {WAIT:?}:\n{output}");
        }
    }

    /// Waits (at most [`WAIT`]) until stdout contains one of `needles`; if the process ends
    /// first, or overruns (it is killed then), what it printed.
    pub fn try_wait_for_any(&mut self, needles: &[&str]) -> Result<(), RawOutput> {
        let deadline = Instant::now() + WAIT;
        while !needles.iter().any(|n| contains(&self.stdout, n.as_bytes())) {
            match self.chunks.recv_timeout(remaining(deadline)) {
                Ok(chunk) => self.stdout.extend(chunk),
                Err(RecvTimeoutError::Timeout) => return Err(self.kill()),
                Err(RecvTimeoutError::Disconnected) => return Err(self.collect(deadline)),
            }
        }
        Ok(())
    }

    /// Waits (at most [`WAIT`]) until stdout contains `needle`.
    pub fn wait_for(&mut self, what: &str, needle: &str) {
        self.wait_for_any(what, &[needle]);
    }

    /// Whether the process has exited.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Sends `signal` (`TERM`, `INT`...) with kill(1).
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status();
        assert!(
            sent.is_ok_and(|s| s.success()),
            "kill -{signal} {pid} failed"
        );
    }

    /// Waits (at most [`WAIT`]) for the process to exit on its own; kills it if it does not.
    pub fn finish(mut self) -> RawOutput {
        self.collect(Instant::now() + WAIT)
    }

    /// Kills the process and returns what it printed.
    pub fn kill(&mut self) -> RawOutput {
        let _ = self.child.kill();
        self.collect(Instant::now() + WAIT)
    }

    fn collect(&mut self, deadline: Instant) -> RawOutput {
        let mut timed_out = false;
        loop {
            match self.chunks.recv_timeout(remaining(deadline)) {
                Ok(chunk) => self.stdout.extend(chunk),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    timed_out = true;
                    break;
                }
            }
        }
        // stdout is closed: the process exits in a moment, so this polls only for that.
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) if !timed_out => break Some(status),
                Ok(None) if !timed_out && Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(2))
                }
                _ => {
                    timed_out = true;
                    let _ = self.child.kill();
                    break self.child.wait().ok();
                }
            }
        };
        let stderr = self
            .stderr
            .recv_timeout(Duration::from_secs(1))
            .unwrap_or_else(|_| b"<stderr still open>".to_vec());
        RawOutput {
            label: self.label.clone(),
            code: status.and_then(|s| s.code()),
            timed_out,
            stdout: std::mem::take(&mut self.stdout),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs `command` to completion under [`WAIT`].
pub fn run(command: Command) -> RawOutput {
    Raw::spawn(command).finish()
}

/// Whether `haystack` contains `needle`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

fn remaining(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

fn read_chunks(mut source: impl Read + Send + 'static) -> Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut buf = vec![0; 8192];
        while let Ok(n @ 1..) = source.read(&mut buf) {
            // The receiver may be gone; keep draining so the child never blocks on a full pipe.
            let _ = tx.send(buf[..n].to_vec());
        }
    });
    rx
}

fn read_to_end(mut source: impl Read + Send + 'static) -> Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = source.read_to_end(&mut bytes);
        let _ = tx.send(bytes);
    });
    rx
}

/// The built mqbroker on `127.0.0.1:port`, once it has printed its ready line; `None` when the
/// port is taken (another test may have bound it since it was free). Killed when dropped.
pub fn mqbroker_on(port: u16) -> Option<Raw> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mqbroker"));
    command.args(["-p", &port.to_string(), "--bind", "127.0.0.1"]);
    command.env_remove("RUST_LOG").env("NO_COLOR", "1");
    let mut broker = Raw::spawn(command);
    match broker.try_wait_for_any(&[&format!("listening on mqtt://127.0.0.1:{port}\n")]) {
        Ok(()) => Some(broker),
        Err(output) if output.stderr.contains("in use") => None,
        Err(output) => panic!("mqbroker did not start:\n{output}"),
    }
}

/// Debian's mosquitto with `allow_anonymous false` and one user (`alice`, password `secret`,
/// made with `mosquitto_passwd -b -c`), on a free port. Killed when dropped.
pub struct AuthMosquitto {
    _process: Running,
    port: u16,
    _dir: TempDir,
}

/// The user [`AuthMosquitto`] knows.
pub const USER: &str = "alice";
/// Their password.
pub const PASSWORD: &str = "secret";

impl AuthMosquitto {
    /// Starts it; `None` when mosquitto is not installed (see [`mosquitto_installed`]).
    pub fn start() -> Option<AuthMosquitto> {
        if !clients_installed() || !mosquitto_installed() {
            return None;
        }
        let dir = TempDir::new("mqsub-auth");
        let passwords = dir.path().join("passwords");
        let made = Command::new(program("mosquitto_passwd"))
            .args(["-b", "-c"])
            .arg(&passwords)
            .args([USER, PASSWORD])
            .status();
        assert!(made.is_ok_and(|s| s.success()), "mosquitto_passwd failed");
        for _attempt in 0..5 {
            let port = free_port();
            let config = dir.path().join("mosquitto.conf");
            let text = format!(
                "listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\n\
                 persistence false\nlog_dest stderr\n",
                passwords.display()
            );
            fs::write(&config, text).expect("write mosquitto.conf");
            let mut command = Command::new(program("mosquitto"));
            command.arg("-c").arg(&config);
            let process = Running::spawn(command);
            if accepts(port) {
                return Some(AuthMosquitto {
                    _process: process,
                    port,
                    _dir: dir,
                });
            }
        }
        panic!("mosquitto with a password file did not start");
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// Whether 127.0.0.1:`port` accepts a connection within [`WAIT`] (polled: mosquitto prints no
/// ready line).
fn accepts(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        thread::sleep(Duration::from_millis(10));
    }
    false
}

/// `name` in PATH or Debian's `sbin` directories.
fn program(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(name))
}

/// Writes `bytes` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}
