//! What the mqpub tests need beyond the interop harness (`support.rs`, shared, not copied): the
//! `mqpub` command line with a clean environment, a child process whose standard input the test
//! writes to over time and whose stdout it can wait on line by line ([`Fed`]), signals, the
//! subscriber every comparison uses ([`observe`]), and brokers the interop harness does not
//! start: mosquitto with a password file ([`AuthMosquitto`]) and mqbroker on a given port
//! ([`BrokerOnPort`], for restarts).

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{
    free_port, words, BrokerProcess, Clients, MosquittoBroker, Output, Running, TempDir, Version,
    PROBE_PAYLOAD, WAIT,
};

/// `mosquitto_sub` output for one message: topic, QoS, retain, payload length, payload in hex,
/// content type, user properties, response topic, correlation data, message expiry, payload
/// format indicator. With `-V 5 --retain-as-published` the retain flag is the publisher's.
pub const FORMAT: &str = "-F '%t|%q|%r|%l|%x|%C|%P|%R|%D|%E|%F'";

/// The `mqpub` binary with `args` (split as [`words`] does), isolated from the user's setup: no
/// defaults file (`XDG_CONFIG_HOME` is an empty directory name), no `MQKIT_PASSWORD`, no
/// `RUST_LOG`.
pub fn mqpub(args: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mqpub"));
    command
        .args(words(args))
        .env("XDG_CONFIG_HOME", "/nonexistent/mqkit-tests")
        .env_remove("MQKIT_PASSWORD")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1");
    command
}

/// `mosquitto_pub` (from PATH) with `args`, with no defaults file.
pub fn mosquitto_pub(args: &str) -> Command {
    let mut command = Command::new("mosquitto_pub");
    command
        .args(words(args))
        .env("XDG_CONFIG_HOME", "/nonexistent/mqkit-tests");
    command
}

/// Runs `command` with `input` on its standard input (closed after it), under [`WAIT`].
pub fn run_with_input(command: Command, input: &[u8]) -> Output {
    let mut fed = Fed::spawn(command);
    fed.write(input);
    fed.close_stdin();
    fed.finish()
}

/// A child process the test feeds: stdin piped, stdout and stderr read line by line on threads.
/// Killed when dropped.
pub struct Fed {
    label: String,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    stdout_seen: Vec<String>,
    stderr_seen: Vec<String>,
}

impl Fed {
    /// Starts `command` with every standard stream piped.
    pub fn spawn(mut command: Command) -> Fed {
        let label = format!("{command:?}");
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {label}: {e}"));
        let stdout = lines_of(child.stdout.take().expect("stdout is piped"));
        let stderr = lines_of(child.stderr.take().expect("stderr is piped"));
        Fed {
            label,
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
            stdout_seen: Vec::new(),
            stderr_seen: Vec::new(),
        }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Writes `bytes` to its standard input.
    pub fn write(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is still open");
        stdin.write_all(bytes).expect("write to the child's stdin");
        stdin.flush().expect("flush the child's stdin");
    }

    /// Closes its standard input (end of input).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits (at most [`WAIT`]) for a stdout line satisfying `wanted`.
    pub fn wait_for_stdout(&mut self, what: &str, wanted: impl Fn(&str) -> bool) {
        let found = wait_for(&self.stdout, &mut self.stdout_seen, wanted);
        if !found {
            let output = self.finish_by(Instant::now());
            panic!("no {what} on stdout:\n{output}");
        }
    }

    /// Closes stdin and waits (at most [`WAIT`]) for the exit; kills the process past that.
    pub fn finish(mut self) -> Output {
        self.close_stdin();
        self.finish_by(Instant::now() + WAIT)
    }

    fn finish_by(&mut self, deadline: Instant) -> Output {
        let mut lines = std::mem::take(&mut self.stdout_seen);
        let mut timed_out = !drain(&self.stdout, &mut lines, deadline);
        let mut status = None;
        while status.is_none() && Instant::now() < deadline {
            status = self.child.try_wait().ok().flatten();
            if status.is_none() {
                thread::sleep(Duration::from_millis(2));
            }
        }
        if status.is_none() {
            timed_out = true;
            let _ = self.child.kill();
            status = self.child.wait().ok();
        }
        drain(&self.stderr, &mut self.stderr_seen, Instant::now() + WAIT);
        Output {
            label: self.label.clone(),
            code: status.and_then(|s| s.code()),
            timed_out,
            lines,
            stderr: self.stderr_seen.join("\n"),
        }
    }
}

impl Drop for Fed {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Moves lines from `rx` into `into` until one satisfies `wanted` (true) or [`WAIT`] passes.
fn wait_for(rx: &Receiver<String>, into: &mut Vec<String>, wanted: impl Fn(&str) -> bool) -> bool {
    let deadline = Instant::now() + WAIT;
    while let Ok(line) = rx.recv_timeout(remaining(deadline)) {
        let found = wanted(&line);
        into.push(line);
        if found {
            return true;
        }
    }
    false
}

/// Moves lines from `rx` into `into` until the sender is gone (true) or `deadline` (false).
fn drain(rx: &Receiver<String>, into: &mut Vec<String>, deadline: Instant) -> bool {
    loop {
        match rx.recv_timeout(remaining(deadline)) {
            Ok(line) => into.push(line),
            Err(RecvTimeoutError::Disconnected) => return true,
            Err(RecvTimeoutError::Timeout) => return false,
        }
    }
}

fn remaining(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

fn lines_of(source: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(source).split(b'\n') {
            let Ok(line) = line else { return };
            let _ = tx.send(String::from_utf8_lossy(&line).into_owned());
        }
    });
    rx
}

/// Sends `signal` (`STOP`, `CONT`, `KILL`) to the process `pid`, which the test started.
pub fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status();
    assert!(
        status.is_ok_and(|s| s.success()),
        "kill -{signal} {pid} failed"
    );
}

/// A `mosquitto_sub -V 5` on `filter` at QoS 2 printing [`FORMAT`], expecting `messages`
/// messages, returned once it is subscribed. As [`Clients::subscribed`] does, it also subscribes
/// to a retained probe after `filter` and waits for it; here the probe is recognised by its
/// payload in hex, since [`FORMAT`] prints payloads as `%x` (a raw `%p` with newlines would
/// split one message over several lines).
pub fn observe(port: u16, filter: &str, messages: usize) -> Running {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let probe = format!("mqpub/ready/{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let clients = Clients::new(port, Version::V5);
    clients.publish_ok(&format!("-r -q 1 -t {probe} -m {PROBE_PAYLOAD}"));
    let args = format!(
        "-q 2 --retain-as-published {FORMAT} -t '{filter}' -t {probe} -C {}",
        messages + 1
    );
    let mut subscriber = Running::spawn(clients.subscribe(&args));
    let probe_hex = hex(PROBE_PAYLOAD.as_bytes());
    subscriber.wait_for_line("the probe message", |l| l.contains(&probe_hex));
    subscriber
}

/// `bytes` in lower-case hex, as `%x` prints them.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The lines a subscriber from [`observe`] printed once it exited, without the probe;
/// a subscriber still waiting for messages at the deadline fails the test.
pub fn observed(subscriber: Running) -> Vec<String> {
    without_probe(subscriber.finish())
}

/// The lines of `out` other than the probe's.
pub fn without_probe(out: Output) -> Vec<String> {
    assert!(!out.timed_out, "the subscriber missed messages:\n{out}");
    let probe_hex = hex(PROBE_PAYLOAD.as_bytes());
    out.lines
        .into_iter()
        .filter(|l| !l.contains(&probe_hex))
        .collect()
}

/// Either broker of a side-by-side test.
pub enum Server {
    /// Debian's mosquitto.
    Mosquitto(MosquittoBroker),
    /// The built mqbroker.
    Mqbroker(BrokerProcess),
}

impl Server {
    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        match self {
            Server::Mosquitto(b) => b.port(),
            Server::Mqbroker(b) => b.port(),
        }
    }

    /// Its name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Server::Mosquitto(_) => "mosquitto",
            Server::Mqbroker(_) => "mqbroker",
        }
    }
}

/// Both brokers, started.
pub fn both_servers() -> [Server; 2] {
    [
        Server::Mosquitto(MosquittoBroker::start()),
        Server::Mqbroker(BrokerProcess::start()),
    ]
}

/// Debian's mosquitto refusing anonymous clients: one user, `user` / `pass`, from a
/// `mosquitto_passwd` file.
pub struct AuthMosquitto {
    _process: Running,
    port: u16,
    _dir: TempDir,
}

impl AuthMosquitto {
    /// The user name and password it accepts.
    pub const USER: &'static str = "user";
    /// See [`AuthMosquitto::USER`].
    pub const PASSWORD: &'static str = "pass";

    /// Writes the password file and config and starts mosquitto, retrying on a taken port.
    pub fn start() -> AuthMosquitto {
        let dir = TempDir::new("mqpub-auth");
        let passwords = dir.path().join("passwords");
        let made = Command::new("mosquitto_passwd")
            .args(["-b", "-c"])
            .arg(&passwords)
            .args([Self::USER, Self::PASSWORD])
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
            let mut command = Command::new(sbin("mosquitto"));
            command.arg("-c").arg(&config);
            let mut process = Running::spawn(command);
            if accepts(port) {
                return AuthMosquitto {
                    _process: process,
                    port,
                    _dir: dir,
                };
            }
            let out = process.kill();
            assert!(
                out.stderr.contains("Address already in use"),
                "mosquitto did not start:\n{out}"
            );
        }
        panic!("mosquitto found no free port in 5 attempts");
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }
}

fn sbin(name: &str) -> PathBuf {
    ["/usr/sbin", "/usr/local/sbin", "/sbin"]
        .iter()
        .map(|dir| PathBuf::from(dir).join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from(name))
}

/// Whether 127.0.0.1:`port` accepts a connection within [`WAIT`] (mosquitto prints no ready
/// line, so a working connect is the readiness signal).
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

/// mqbroker on a port the test chose, so that a restarted broker is found where the first one
/// was. Killed when dropped.
pub struct BrokerOnPort {
    process: Fed,
    port: u16,
}

impl BrokerOnPort {
    /// Starts `mqbroker -p PORT --bind 127.0.0.1 -v` (0: a free port) and waits for its ready
    /// line.
    pub fn start(port: u16) -> BrokerOnPort {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mqbroker"));
        command.args(["-p", &port.to_string(), "--bind", "127.0.0.1", "-v"]);
        command.env_remove("RUST_LOG").env("NO_COLOR", "1");
        let mut process = Fed::spawn(command);
        let prefix = "listening on mqtt://127.0.0.1:";
        process.wait_for_stdout("the ready line", |l| l.starts_with(prefix));
        let line = process.stdout_seen.last().expect("the ready line was seen");
        let port = line
            .strip_prefix(prefix)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected ready line from mqbroker: {line:?}"));
        BrokerOnPort { process, port }
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops it (SIGSTOP): it accepts bytes into its socket buffers but answers nothing.
    pub fn pause(&self) {
        let pid = self.process.pid();
        signal(pid, "STOP");
        // SIGSTOP takes effect asynchronously: wait until the kernel reports it stopped, so
        // that nothing written afterwards is handled.
        let deadline = Instant::now() + WAIT;
        let stat = format!("/proc/{pid}/stat");
        while std::fs::read_to_string(&stat).ok().and_then(|s| {
            s.rsplit(')')
                .next()
                .map(|rest| rest.trim_start().starts_with('T'))
        }) != Some(true)
        {
            assert!(Instant::now() < deadline, "the broker did not stop");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    /// Kills it (SIGKILL) and waits for it to be gone, so that its port is free.
    pub fn kill(mut self) {
        signal(self.process.pid(), "KILL");
        let _ = self.process.finish_by(Instant::now() + WAIT);
    }
}

/// `-V` as the mosquitto clients spell it.
pub fn version_arg(v: Version) -> &'static str {
    match v {
        Version::V311 => "311",
        Version::V5 => "5",
    }
}
