//! `mqkit::output::Format` side by side with Debian's `mosquitto_sub -F`: the same messages,
//! sent through Debian's `mosquitto` broker by `mosquitto_pub` (3.1.1 and 5.0, with every
//! property it can send, retained and not), received by `mosquitto_sub` and by mqkit's own
//! client, must render to the same bytes for every time-independent format below.
//!
//! mosquitto listens on a port that was free on 127.0.0.1 a moment ago (it cannot take port 0);
//! every wait has a deadline and every child process is killed when dropped. The default and
//! `-v` outputs (`write_plain`) are compared in the same runs. Without mosquitto
//! the test prints a note and passes, except under `CI=true`, where it fails.
//!
//! Where mqkit differs from mosquitto on purpose (see `src/output/format.rs`), the messages
//! avoid the difference: `%j` is compared only for text payloads, `%x` widths only for
//! payloads of 0 or at least 4 bytes, and the `tst` of `%j` (a time) is masked on both sides.
//! Time fields are compared by shape, with every digit masked.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use mqkit::client::Client;
use mqkit::output::{write_plain, Colour, Format, Received};
use mqkit::protocol::{
    Connect, MqttString, ProtocolVersion, QoS, SubscribeProperties, Subscription,
    SubscriptionOptions,
};

/// The longest any one wait lasts.
const WAIT: Duration = Duration::from_secs(8);

/// Between the pieces of the combined format, and after each message.
const SEP: &str = "~~SEP~~";
const END: &str = "~~END~~";

/// How one format's output is compared.
#[derive(Clone, Copy, PartialEq)]
enum Compare {
    /// Byte for byte.
    Exact,
    /// Byte for byte, for text payloads only.
    TextPayloads,
    /// With every digit masked: the shape of times.
    Shape,
}

/// The formats compared.
const FORMATS: &[(&str, Compare)] = &[
    ("%t|%p|%l|%q|%r|%m", Compare::Exact),
    (
        "%x|%X|%4x|%-7p|%08p|%3p|%05l|%-4m|%-p|%-x|%-0X|",
        Compare::Exact,
    ),
    ("%A|%C|%D|%E|%F|%P|%R|%S", Compare::Exact),
    (
        "%5A|%-5C|%05E|%5F|%.3R|%-6S|%8.4C|%10t|%-10t|%.2t|%-05A",
        Compare::Exact,
    ),
    ("\\t%%@@\\e[1m%t\\e[0m\\\\\\0\\a\\v\\r\\n", Compare::Exact),
    ("%j", Compare::TextPayloads),
    ("%J", Compare::Exact),
    ("%I|%U|@N|@F @T @z|@s|%30I|%.13I", Compare::Shape),
];

/// The subscription identifier both 5.0 subscribers ask for.
const SUB_ID: u32 = 7;

#[test]
fn format_renders_like_mosquitto_sub() {
    if !mosquitto_installed() {
        return;
    }
    let broker = Mosquitto::start();
    for version in [Version::V311, Version::V5] {
        for pretty in [false, true] {
            compare(&broker, version, pretty);
        }
    }
}

/// One run: mosquitto_subs and an mqkit client subscribe, the messages are published, and
/// each piece of each message must be the same bytes.
fn compare(broker: &Mosquitto, version: Version, pretty: bool) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = TempDir::new();
    let messages = messages(&dir.0);
    let count = messages.len();
    let topic = format!("cmp/{}/{pretty}", version.arg());
    // The retained first message tells that a mosquitto_sub is subscribed.
    publish(broker.port, &topic, &messages[0]);
    let sub = Sub {
        port: broker.port,
        version,
        topic: &topic,
        count,
    };
    let formatted = sub.formatted(pretty);
    // QoS 1, so that libmosquitto hands messages over in order.
    let verbose = (!pretty).then(|| sub.start(&["-q", "1", "-v"], b"probe"));
    let default = (!pretty).then(|| sub.start(&["-q", "1"], b"probe"));
    let client_id = format!("mqkit-{}-{}-{pretty}", std::process::id(), version.arg());
    let mut client = runtime.block_on(subscribe(broker.port, version, &topic, &client_id));
    for args in &messages[1..] {
        publish(broker.port, &topic, args);
    }
    let ours = runtime.block_on(receive(&mut client, count));
    let output = formatted.finish();
    let theirs = &split(&output, END.as_bytes())[..count];
    let run = format!("{}{}", version.arg(), if pretty { " --pretty" } else { "" });
    // mqkit's client hands messages over in the order they were published.
    for (i, msg) in ours.iter().enumerate() {
        let record = matching(msg, theirs);
        let label = format!("message {i} ({}) over {run}", messages[i]);
        check(msg, record, pretty, &label);
    }
    for (sub, verbose) in [(verbose, true), (default, false)] {
        if let Some(sub) = sub {
            check_plain(&ours, &sub.finish(), verbose, &run);
        }
    }
}

/// The default or `-v` output of all the messages, in order, must be the same bytes.
fn check_plain(ours: &[Received], theirs: &[u8], verbose: bool, run: &str) {
    let mut out = Vec::new();
    for msg in ours {
        write_plain(msg, verbose, Colour::Off, true, &mut out);
    }
    let flag = if verbose { "-v" } else { "(default)" };
    assert_eq!(Shown(&out), Shown(theirs), "{flag} over {run}");
}

/// The record mosquitto_sub printed for `msg`, found by its first piece (topic, payload,
/// QoS, retain and packet id). The order may differ: libmosquitto hands a QoS 2 message over
/// on PUBREL, mqkit's client on PUBLISH.
fn matching<'a>(msg: &Received, theirs: &[&'a [u8]]) -> &'a [u8] {
    let mut key = Vec::new();
    let _ = Format::parse(FORMATS[0].0)
        .unwrap()
        .render(msg, false, &mut key);
    let found = theirs
        .iter()
        .position(|record| split(record, SEP.as_bytes())[0] == key.as_slice());
    let i = found.unwrap_or_else(|| panic!("mosquitto_sub printed no {:?}", Shown(&key)));
    theirs[i]
}

/// Each format rendered for `msg` must give the same bytes as its piece of `record`.
fn check(msg: &Received, record: &[u8], pretty: bool, label: &str) {
    let pieces = split(record, SEP.as_bytes());
    assert_eq!(pieces.len(), FORMATS.len(), "{label}: {:?}", Shown(record));
    for ((text, compare), theirs) in FORMATS.iter().zip(pieces) {
        if *compare == Compare::TextPayloads && std::str::from_utf8(&msg.publish.payload).is_err() {
            continue;
        }
        let mut ours = Vec::new();
        // A `%J` of a payload that is not JSON is skipped, by mosquitto_sub too.
        let _ = Format::parse(text).unwrap().render(msg, pretty, &mut ours);
        let (mut ours, mut theirs) = (mask_tst(&ours), mask_tst(theirs));
        if *compare == Compare::Shape {
            mask_digits(&mut ours);
            mask_digits(&mut theirs);
        }
        assert_eq!(Shown(&ours), Shown(&theirs), "-F '{text}' for {label}");
    }
}

/// The messages, each as the mosquitto_pub arguments after `-t TOPIC`; the first is retained
/// and doubles as the sign that mosquitto_sub is subscribed.
fn messages(dir: &std::path::Path) -> Vec<String> {
    let binary = dir.join("binary.bin");
    std::fs::write(&binary, b"\x00\xff\x00\x01\xfe\x7f\n").unwrap();
    vec![
        "-V 5 -q 1 -r -m {\"probe\":[1,2.50]} -D PUBLISH content-type application/json \
         -D PUBLISH user-property probe yes"
            .to_owned(),
        "-V 311 -q 0 -m hello_world".to_owned(),
        "-V 311 -q 1 -n".to_owned(),
        "-V 5 -q 2 -m {\"n\":1.5,\"s\":\"\\u00e9\\\"\\\\\",\"l\":[1,2e3,true,null,-0.0,1e400],\"o\":{}} \
         -D PUBLISH payload-format-indicator 1 -D PUBLISH content-type application/json \
         -D PUBLISH response-topic cmp/reply -D PUBLISH correlation-data req-42 \
         -D PUBLISH user-property a b -D PUBLISH user-property a c \
         -D PUBLISH user-property k2 v2 -D PUBLISH message-expiry-interval 3600"
            .to_owned(),
        format!(
            "-V 5 -q 1 -f {} -D PUBLISH user-property bin yes",
            binary.display()
        ),
        "-V 5 -q 0 -m tab\there\"q\"\\back/slash\u{1}ctl -D PUBLISH payload-format-indicator 0"
            .to_owned(),
        "-V 5 -q 1 -m [\"é\",{},[],0.30000000000000004,12345678901234567890] \
         -D PUBLISH response-topic r -D PUBLISH correlation-data c"
            .to_owned(),
    ]
}

/// Publishes one message to `topic` with mosquitto_pub.
fn publish(port: u16, topic: &str, args: &str) {
    let mut command = Command::new("mosquitto_pub");
    command.args(["-h", "127.0.0.1", "-p", &port.to_string(), "-t", topic]);
    command.args(args.split(' '));
    let status = Process::spawn(command).wait();
    assert!(status.is_some_and(|s| s.success()), "mosquitto_pub {args}");
}

async fn subscribe(
    port: u16,
    version: Version,
    topic: &str,
    client_id: &str,
) -> Client<tokio::net::TcpStream> {
    let id = MqttString::new(client_id).unwrap();
    let connect = Connect::new(version.protocol(), id);
    let mut client = Client::connect(("127.0.0.1", port), connect, WAIT)
        .await
        .unwrap();
    let mut properties = SubscribeProperties::default();
    if version == Version::V5 {
        properties.subscription_identifier = std::num::NonZeroU32::new(SUB_ID);
    }
    let subscription = Subscription {
        filter: MqttString::new(topic).unwrap(),
        options: SubscriptionOptions {
            qos: QoS::ExactlyOnce,
            ..SubscriptionOptions::default()
        },
    };
    let suback = client.subscribe(vec![subscription], properties);
    let suback = tokio::time::timeout(WAIT, suback).await;
    suback.expect("a SUBACK in time").unwrap();
    client
}

async fn receive(client: &mut Client<tokio::net::TcpStream>, count: usize) -> Vec<Received> {
    let mut received = Vec::new();
    for _ in 0..count {
        let publish = tokio::time::timeout(WAIT, client.recv()).await;
        received.push(Received::now(publish.expect("a message in time").unwrap()));
    }
    received
}

/// How to start a mosquitto_sub for one run.
struct Sub<'a> {
    port: u16,
    version: Version,
    topic: &'a str,
    /// How many messages it prints before it exits (`-C`).
    count: usize,
}

impl Sub<'_> {
    /// mosquitto_sub -F with every format joined by [`SEP`], each message ending in [`END`].
    fn formatted(&self, pretty: bool) -> MosquittoSub {
        let pieces: Vec<&str> = FORMATS.iter().map(|(f, _)| *f).collect();
        let format = pieces.join(SEP) + END;
        let mut args = vec!["-q", "2", "-N", "-F", &format];
        if pretty {
            args.push("--pretty");
        }
        self.start(&args, END.as_bytes())
    }

    /// Starts mosquitto_sub with `args` and waits until it has printed `ready` (from the
    /// retained first message: a broker sends it once the subscription is in place).
    fn start(&self, args: &[&str], ready: &[u8]) -> MosquittoSub {
        let mut command = Command::new("mosquitto_sub");
        let port = self.port.to_string();
        command.args(["-h", "127.0.0.1", "-p", &port, "-V", self.version.arg()]);
        command.args(["-t", self.topic, "-C", &self.count.to_string(), "-W", "10"]);
        if self.version == Version::V5 {
            let id = SUB_ID.to_string();
            command.args(["-D", "SUBSCRIBE", "subscription-identifier", &id]);
        }
        command.args(args).stdout(Stdio::piped());
        let mut process = Process::spawn(command);
        let stdout = process.child.stdout.take().unwrap();
        let mut sub = MosquittoSub {
            _process: process,
            output: read_chunks(stdout),
            buffer: Vec::new(),
            deadline: Instant::now() + WAIT,
        };
        sub.wait_for(|out| contains(out, ready));
        sub
    }
}

/// A running mosquitto_sub and what it printed so far.
struct MosquittoSub {
    _process: Process,
    output: Receiver<Option<Vec<u8>>>,
    buffer: Vec<u8>,
    deadline: Instant,
}

impl MosquittoSub {
    /// Reads until `done` holds for the output; `None` from the reader is the end of output.
    fn wait_for(&mut self, done: impl Fn(&[u8]) -> bool) {
        while !done(&self.buffer) {
            let left = self.deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(Some(chunk)) => self.buffer.extend_from_slice(&chunk),
                Ok(None) | Err(_) => panic!(
                    "mosquitto_sub ended or overran its deadline; it printed {:?}",
                    Shown(&self.buffer)
                ),
            }
        }
    }

    /// All it prints until it exits after its `-C` messages.
    fn finish(mut self) -> Vec<u8> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        loop {
            match self.output.recv_timeout(left) {
                Ok(Some(chunk)) => self.buffer.extend_from_slice(&chunk),
                Ok(None) => return self.buffer,
                Err(_) => panic!(
                    "mosquitto_sub did not exit; it printed {:?}",
                    Shown(&self.buffer)
                ),
            }
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Everything a reader yields, chunk by chunk, then `None` at the end.
fn read_chunks(mut source: impl Read + Send + 'static) -> Receiver<Option<Vec<u8>>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut buf = [0; 4096];
        while let Ok(n @ 1..) = source.read(&mut buf) {
            if tx.send(Some(buf[..n].to_vec())).is_err() {
                return;
            }
        }
        let _ = tx.send(None);
    });
    rx
}

fn split<'a>(bytes: &'a [u8], separator: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut rest = bytes;
    while let Some(at) = rest.windows(separator.len()).position(|w| w == separator) {
        parts.push(&rest[..at]);
        rest = &rest[at + separator.len()..];
    }
    parts.push(rest);
    parts
}

/// Replaces the value of every `"tst"` (the time of `%j`) with `TST`.
fn mask_tst(bytes: &[u8]) -> Vec<u8> {
    let key = b"\"tst\":";
    let mut out = Vec::new();
    let mut rest = bytes;
    while let Some(at) = rest.windows(key.len()).position(|w| w == key) {
        out.extend_from_slice(&rest[..at + key.len()]);
        rest = &rest[at + key.len()..];
        let Some(open) = rest.iter().position(|&b| b == b'"') else {
            break;
        };
        let Some(close) = rest[open + 1..].iter().position(|&b| b == b'"') else {
            break;
        };
        out.extend_from_slice(&rest[..open]);
        out.extend_from_slice(b"\"TST\"");
        rest = &rest[open + close + 2..];
    }
    out.extend_from_slice(rest);
    out
}

fn mask_digits(bytes: &mut [u8]) {
    for b in bytes.iter_mut().filter(|b| b.is_ascii_digit()) {
        *b = b'9';
    }
}

/// Bytes shown as an escaped string in assertion messages.
#[derive(PartialEq)]
struct Shown<'a>(&'a [u8]);

impl std::fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "\"{}\"", self.0.escape_ascii())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Version {
    V311,
    V5,
}

impl Version {
    fn arg(self) -> &'static str {
        match self {
            Version::V311 => "311",
            Version::V5 => "5",
        }
    }

    fn protocol(self) -> ProtocolVersion {
        match self {
            Version::V311 => ProtocolVersion::V311,
            Version::V5 => ProtocolVersion::V5,
        }
    }
}

/// Debian's mosquitto on 127.0.0.1, killed when dropped.
struct Mosquitto {
    _process: Process,
    port: u16,
}

impl Mosquitto {
    /// Starts `mosquitto -p PORT` on a free port and waits until it accepts connections;
    /// tries again if another process took the port in between.
    fn start() -> Mosquitto {
        for _ in 0..5 {
            let port = free_port();
            let mut command = Command::new(program("mosquitto").unwrap());
            command.args(["-p", &port.to_string()]);
            let mut process = Process::spawn(command);
            if accepts(&mut process, port) {
                return Mosquitto {
                    _process: process,
                    port,
                };
            }
        }
        panic!("mosquitto did not start");
    }
}

/// Whether `port` accepts a connection before the deadline, while `process` runs.
fn accepts(process: &mut Process, port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if !matches!(process.child.try_wait(), Ok(None)) {
            return false;
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        thread::sleep(Duration::from_millis(10));
    }
    false
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A child process, killed when dropped.
struct Process {
    child: Child,
}

impl Process {
    fn spawn(mut command: Command) -> Process {
        command.stdin(Stdio::null());
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("{command:?}: {e}"));
        Process { child }
    }

    /// Waits for the exit until the deadline, then kills it; `None` when killed.
    fn wait(&mut self) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            thread::sleep(Duration::from_millis(5));
        }
        let _ = self.child.kill();
        None
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh directory under the system temp directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("mqkit-output-{}-{n}", std::process::id());
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The executable `name` on PATH or in an `sbin` directory (Debian's broker is
/// `/usr/sbin/mosquitto`, which a non-root PATH may lack).
fn program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Whether mosquitto and its clients are installed; fails under `CI=true` when they are not.
fn mosquitto_installed() -> bool {
    let missing: Vec<&str> = ["mosquitto", "mosquitto_pub", "mosquitto_sub"]
        .into_iter()
        .filter(|name| program(name).is_none())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "not installed: {} (apt-get install mosquitto mosquitto-clients)",
        missing.join(", ")
    );
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{message}");
    }
    let _ = writeln!(
        io::stderr(),
        "note: skipping output_vs_mosquitto: {message}"
    );
    false
}
