//! The harness: real processes on 127.0.0.1 and nothing else. [`BrokerProcess`] runs the built
//! `mqbroker` binary on an ephemeral port, [`MosquittoBroker`] runs Debian's `mosquitto` for the
//! side-by-side tests, [`Clients`] builds `mosquitto_pub` / `mosquitto_sub` / `mosquitto_rr`
//! command lines, and [`Running`] is any child process whose every wait has a deadline and which
//! is killed when it overruns or is dropped.
//!
//! A subscriber is known to be subscribed without sleeping: [`Clients::subscribed`] adds a
//! subscription to a retained probe message after the test's own filters. A broker handles the
//! filters of one SUBSCRIBE in order and sends retained messages once the filter is in place, so
//! when the probe is printed every filter before it is active. (`mosquitto_sub -d` would show the
//! SUBACK too, but its debug lines are block-buffered when stdout is a pipe.)

use std::ffi::OsStr;
use std::fmt;
use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// The longest any test waits for one process or one line of output.
pub const WAIT: Duration = Duration::from_secs(10);

/// The payload of the retained probe messages [`Clients::subscribed`] waits for, each on its
/// own topic `interop/ready/N` so that one subscriber's probe is not another's message.
pub const PROBE_PAYLOAD: &str = "mqkit-probe";

/// The protocol version a client speaks, as `mosquitto_* -V` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// MQTT 3.1.1 (`-V 311`).
    V311,
    /// MQTT 5.0 (`-V 5`).
    V5,
}

impl Version {
    fn arg(self) -> &'static str {
        match self {
            Version::V311 => "311",
            Version::V5 => "5",
        }
    }
}

/// Whether `mosquitto_pub`, `mosquitto_sub` and `mosquitto_rr` are installed. When one is
/// missing, the test fails under `CI=true` and is skipped (with a note) elsewhere, so a laptop
/// without mosquitto can still run the suite but CI cannot silently test nothing.
pub fn clients_installed() -> bool {
    let missing: Vec<&str> = ["mosquitto_pub", "mosquitto_sub", "mosquitto_rr"]
        .into_iter()
        .filter(|name| find_program(name).is_none())
        .collect();
    installed_or_skip("mosquitto-clients", &missing)
}

/// Whether Debian's `mosquitto` broker is installed (on PATH or in an `sbin` directory); like
/// [`clients_installed`] it fails the test under `CI=true`.
pub fn mosquitto_installed() -> bool {
    let missing: Vec<&str> = Some("mosquitto")
        .filter(|name| find_program(name).is_none())
        .into_iter()
        .collect();
    installed_or_skip("mosquitto", &missing)
}

/// `true` when nothing is `missing`; otherwise fails under `CI=true` and skips (with a note)
/// elsewhere, naming the Debian `package` to install.
pub fn installed_or_skip(package: &str, missing: &[&str]) -> bool {
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "{package} is not installed; .ci/run installs it (not found: {})",
        missing.join(", ")
    );
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{message}");
    }
    // Straight to stderr, past the test harness's capture, so a skip is seen even on success.
    let _ = writeln!(io::stderr(), "note: skipping this test: {message}");
    false
}

/// The executable `name` on PATH, then in the `sbin` directories a non-root PATH lacks (Debian
/// installs the broker as `/usr/sbin/mosquitto`).
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// What a finished (or killed) process left behind.
#[derive(Debug)]
pub struct Output {
    /// The command line, for messages.
    pub label: String,
    /// The exit code; `None` when the process was killed by a signal.
    pub code: Option<i32>,
    /// Whether it overran its deadline and was killed.
    pub timed_out: bool,
    /// Its stdout, one entry per line, without line ends.
    pub lines: Vec<String>,
    /// Its stderr.
    pub stderr: String,
}

impl Output {
    /// The exit code; panics (showing the output) if the process was killed.
    pub fn code(&self) -> i32 {
        match self.code {
            Some(code) if !self.timed_out => code,
            _ => panic!("no exit code:\n{self}"),
        }
    }

    /// Asserts exit code 0 and returns the output.
    pub fn success(self) -> Self {
        assert_eq!(self.code(), 0, "expected success:\n{self}");
        self
    }

    /// The stdout lines other than the probe message's.
    pub fn without_probe(&self) -> Vec<&str> {
        self.lines
            .iter()
            .map(String::as_str)
            .filter(|line| !line.contains(PROBE_PAYLOAD))
            .collect()
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = match (self.timed_out, self.code) {
            (true, _) => format!("killed after {WAIT:?}"),
            (false, Some(code)) => format!("exit code {code}"),
            (false, None) => "killed by a signal".to_owned(),
        };
        writeln!(f, "$ {}\n[{status}]", self.label)?;
        writeln!(f, "--- stdout\n{}", self.lines.join("\n"))?;
        write!(f, "--- stderr\n{}", self.stderr)
    }
}

/// A child process with its stdout read line by line on a thread, so a test can wait for one
/// line under a deadline while the process keeps running. Killed (SIGKILL) when dropped.
pub struct Running {
    label: String,
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
    stderr: Receiver<String>,
}

impl Running {
    /// Starts `command` with stdin closed and stdout and stderr captured.
    pub fn spawn(command: Command) -> Running {
        Running::spawn_reading(command, Stdio::null())
    }

    /// Starts `command` reading `stdin`, with stdout and stderr captured.
    pub fn spawn_reading(mut command: Command, stdin: Stdio) -> Running {
        let label = describe(&command);
        command
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `{label}`: {e}"));
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        Running {
            label,
            child,
            lines: read_lines(stdout),
            seen: Vec::new(),
            stderr: read_all(stderr),
        }
    }

    /// The process id (to read `/proc/PID/status`, for instance).
    #[allow(dead_code)] // Not every test binary uses it.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Waits for a stdout line satisfying `wanted` (`what` names it in the panic message) and
    /// returns it; every line read stays part of the final [`Output`].
    pub fn wait_for_line(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.lines.recv_timeout(remaining(deadline)) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no {what} within {WAIT:?}:\n{}", self.kill())
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("ended before printing {what}:\n{}", self.collect(deadline))
                }
            }
        }
    }

    /// Waits (at most [`WAIT`]) for the process to exit on its own; kills it if it does not.
    pub fn finish(mut self) -> Output {
        self.collect(Instant::now() + WAIT)
    }

    /// Sends SIGTERM and waits (at most [`WAIT`]) for the process to exit.
    pub fn terminate(&mut self) -> Output {
        self.signal("TERM");
        self.collect(Instant::now() + WAIT)
    }

    /// Sends the signal `name` (`HUP`, `TERM`, ...) with `kill`.
    pub fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -{name} {pid} failed");
    }

    /// Kills the process with SIGKILL and returns what it printed.
    pub fn kill(&mut self) -> Output {
        let _ = self.child.kill();
        self.collect(Instant::now() + WAIT)
    }

    /// Reads stdout to its end and waits for the exit, both by `deadline`; past it, kills.
    fn collect(&mut self, deadline: Instant) -> Output {
        let mut timed_out = false;
        loop {
            match self.lines.recv_timeout(remaining(deadline)) {
                Ok(line) => self.seen.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    timed_out = true;
                    break;
                }
            }
        }
        let status = match self.wait_until(deadline) {
            Some(status) if !timed_out => Some(status),
            _ => {
                timed_out = true;
                let _ = self.child.kill();
                self.child.wait().ok()
            }
        };
        // Something the child started may still hold stderr open: wait only briefly for it.
        let stderr = self
            .stderr
            .recv_timeout(Duration::from_secs(1))
            .unwrap_or_else(|_| "<stderr still open>".to_owned());
        Output {
            label: self.label.clone(),
            code: status.and_then(|s| s.code()),
            timed_out,
            lines: std::mem::take(&mut self.seen),
            stderr,
        }
    }

    /// The exit status once stdout has closed. The process exits right after closing stdout, so
    /// this polls only for that moment, and never past `deadline`.
    fn wait_until(&mut self, deadline: Instant) -> Option<ExitStatus> {
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(2)),
                _ => return None,
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs `command` to completion under [`WAIT`].
pub fn run(command: Command) -> Output {
    Running::spawn(command).finish()
}

fn remaining(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

fn describe(command: &Command) -> String {
    let args = command.get_args().map(OsStr::to_string_lossy);
    std::iter::once(command.get_program().to_string_lossy())
        .chain(args)
        .map(|a| {
            if a.is_empty() || a.contains([' ', '\'', '"', '$', '#', '%', '|']) {
                format!("'{a}'")
            } else {
                a.into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Sends each line of `source` (without its line end) until end of file.
fn read_lines(source: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut reader = BufReader::new(source);
        let mut line = Vec::new();
        while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            // The receiver may be gone; keep draining so the child never blocks on a full pipe.
            let _ = tx.send(String::from_utf8_lossy(&line).into_owned());
            line.clear();
        }
    });
    rx
}

/// Sends the whole of `source` once it ends.
fn read_all(mut source: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = source.read_to_end(&mut bytes);
        let _ = tx.send(String::from_utf8_lossy(&bytes).into_owned());
    });
    rx
}

/// The built `mqbroker` binary with `-c conf` (RUST_LOG unset), once it has printed the ready
/// line of each of its first `listeners` listeners: it and their ports, in the file's order.
#[allow(dead_code)] // Not every test binary uses it.
pub fn mqbroker_conf(conf: &Path, listeners: usize) -> (Running, Vec<u16>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mqbroker"));
    command.arg("-c").arg(conf).env_remove("RUST_LOG");
    let mut broker = Running::spawn(command);
    let ports = (0..listeners).map(|_| broker.ready_port()).collect();
    (broker, ports)
}

impl Running {
    /// Waits for the next `listening on SCHEME://ADDRESS:PORT` line of an mqbroker; its port.
    #[allow(dead_code)] // Not every test binary uses it.
    pub fn ready_port(&mut self) -> u16 {
        let line = self.wait_for_line("a ready line", |l| l.starts_with("listening on "));
        line.rsplit(':')
            .next()
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("unexpected ready line from mqbroker: {line:?}"))
    }
}

/// The built `mqbroker` binary, started with `-p 0 --bind 127.0.0.1 -v` and killed when dropped.
/// Its log is printed if the test is failing when it is dropped.
pub struct BrokerProcess {
    process: Running,
    port: u16,
}

impl BrokerProcess {
    /// Starts the broker and waits for its `listening on mqtt://127.0.0.1:PORT` line.
    pub fn start() -> BrokerProcess {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mqbroker"));
        command.args(["-p", "0", "--bind", "127.0.0.1", "-v"]);
        command.env_remove("RUST_LOG").env("NO_COLOR", "1");
        let mut process = Running::spawn(command);
        let line = process.wait_for_line("`listening on mqtt://127.0.0.1:PORT`", |l| {
            l.starts_with("listening on mqtt://")
        });
        let port = line
            .strip_prefix("listening on mqtt://127.0.0.1:")
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("unexpected ready line from mqbroker: {line:?}"));
        BrokerProcess { process, port }
    }

    /// The port it listens on (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops it with SIGTERM and returns how it ended.
    pub fn terminate(&mut self) -> Output {
        self.process.terminate()
    }
}

impl Drop for BrokerProcess {
    fn drop(&mut self) {
        let output = self.process.kill();
        if thread::panicking() {
            eprintln!("mqbroker log (port {}):\n{}", self.port, output.stderr);
        }
    }
}

/// Debian's `mosquitto` on a free 127.0.0.1 port, with a throwaway config (anonymous access, no
/// persistence), killed when dropped. mosquitto cannot listen on port 0, so a free port is found
/// by binding one and closing it; if another test takes it in between, the start is retried.
pub struct MosquittoBroker {
    process: Running,
    port: u16,
    _dir: TempDir,
}

impl MosquittoBroker {
    /// Starts mosquitto and waits until it accepts TCP connections.
    pub fn start() -> MosquittoBroker {
        Self::start_with("")
    }

    /// Starts mosquitto with `extra` lines appended to its configuration.
    pub fn start_with(extra: &str) -> MosquittoBroker {
        let program = find_program("mosquitto").expect("mosquitto_installed() was checked");
        let dir = TempDir::new("mosquitto");
        let mut last = String::new();
        for _attempt in 0..5 {
            let port = free_port();
            let config = dir.path().join("mosquitto.conf");
            let text = format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n\
                 log_dest stderr\n{extra}"
            );
            fs::write(&config, text).expect("write mosquitto.conf");
            let mut command = Command::new(&program);
            command.arg("-c").arg(&config);
            let mut process = Running::spawn(command);
            match wait_for_accept(&mut process, port) {
                Ok(()) => {
                    return MosquittoBroker {
                        process,
                        port,
                        _dir: dir,
                    }
                }
                Err(output) => last = output.to_string(),
            }
            if !last.contains("Address already in use") {
                break;
            }
        }
        panic!("mosquitto did not start:\n{last}");
    }

    /// The port it listens on (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Sends it the signal `name` (`HUP` reloads its configuration).
    #[allow(dead_code)] // Not every test binary uses it.
    pub fn signal(&self, name: &str) {
        self.process.signal(name);
    }
}

impl Drop for MosquittoBroker {
    fn drop(&mut self) {
        let output = self.process.kill();
        if thread::panicking() {
            eprintln!("mosquitto log (port {}):\n{}", self.port, output.stderr);
        }
    }
}

/// Waits until `port` accepts a connection or `process` exits (its output is the error). Unlike
/// mqbroker, mosquitto prints nothing on stdout when ready, so readiness is a connect that works.
fn wait_for_accept(process: &mut Running, port: u16) -> Result<(), Output> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = process.child.try_wait() {
            return Err(process.collect(Instant::now() + WAIT));
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        thread::sleep(Duration::from_millis(10));
    }
    Err(process.kill())
}

/// A port that was free on 127.0.0.1 a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// A fresh directory under the system temp directory, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `mqkit-interop-<what>-<pid>-<n>`.
    pub fn new(what: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("mqkit-interop-{what}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create a temp directory");
        TempDir(path)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The mosquitto command-line clients pointed at one broker with one protocol version.
#[derive(Debug, Clone, Copy)]
pub struct Clients {
    port: u16,
    version: Version,
}

impl Clients {
    /// Clients for the broker on `127.0.0.1:port`, speaking `version`.
    pub fn new(port: u16, version: Version) -> Clients {
        Clients { port, version }
    }

    /// `mosquitto_pub -h 127.0.0.1 -p PORT -V VERSION ARGS`, with `args` split as [`words`] does.
    pub fn publish(&self, args: &str) -> Command {
        self.command("mosquitto_pub", args)
    }

    /// `mosquitto_sub -h 127.0.0.1 -p PORT -V VERSION ARGS`.
    pub fn subscribe(&self, args: &str) -> Command {
        self.command("mosquitto_sub", args)
    }

    /// `mosquitto_rr -h 127.0.0.1 -p PORT -V VERSION ARGS`.
    pub fn request(&self, args: &str) -> Command {
        self.command("mosquitto_rr", args)
    }

    fn command(&self, tool: &str, args: &str) -> Command {
        let program = find_program(tool).unwrap_or_else(|| PathBuf::from(tool));
        let mut command = Command::new(program);
        let port = self.port.to_string();
        command.args(["-h", "127.0.0.1", "-p", &port, "-V", self.version.arg()]);
        command.args(words(args));
        command
    }

    /// Runs `mosquitto_pub ARGS` and asserts it succeeds.
    pub fn publish_ok(&self, args: &str) {
        run(self.publish(args)).success();
    }

    /// Runs `mosquitto_sub ARGS` and asserts it succeeds.
    pub fn subscribe_ok(&self, args: &str) -> Output {
        run(self.subscribe(args)).success()
    }

    /// Starts `mosquitto_sub ARGS -t interop/ready/N -C messages+1` and returns once it has
    /// printed the retained probe, that is once every filter in `args` is subscribed (and any
    /// will in `args` is registered). The output format in `args` must print the payload (`-v`,
    /// or `-F` with `%p`).
    pub fn subscribed(&self, args: &str, messages: usize) -> Running {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let probe = format!("interop/ready/{}", NEXT.fetch_add(1, Ordering::Relaxed));
        self.publish_ok(&format!("-r -q 1 -t {probe} -m {PROBE_PAYLOAD}"));
        let count = (messages + 1).to_string();
        let mut command = self.subscribe(args);
        command.args(["-t", &probe, "-C", &count]);
        let mut subscriber = Running::spawn(command);
        subscriber.wait_for_line("the probe message", |l| l.contains(PROBE_PAYLOAD));
        subscriber
    }
}

/// Splits a command line the way `sh` would if single quotes were its only quoting: words are
/// separated by whitespace, and `'...'` keeps spaces (and `%`, `$`, `#`) in one word.
pub fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quoted = false;
    for ch in line.chars() {
        match ch {
            '\'' => {
                quoted = !quoted;
                word.get_or_insert_with(String::new);
            }
            c if c.is_whitespace() && !quoted => words.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    assert!(!quoted, "unbalanced quote in {line:?}");
    words.extend(word);
    words
}
