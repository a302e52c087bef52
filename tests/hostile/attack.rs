//! The hostile-client harness. [`Broker`] runs the real `mqbroker` binary from a throwaway
//! configuration file on an ephemeral 127.0.0.1 port and reads its memory from
//! `/proc/PID/status`; [`Raw`] is a blocking raw-socket MQTT client on the crate's codec whose
//! every read has a deadline; [`Broker::assert_serves`] is the well-behaved client every attack
//! is checked against: connect, subscribe, publish at QoS 1 and receive, within [`ROUND_TRIP`].
//!
//! Memory is judged by the high-water mark (`VmHWM`), so a spike that is freed again before the
//! test looks still fails it; [`Rss::assert_peak_below`] prints the figures it compares.

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use mqkit::protocol::{
    decode, encode, Ack, ConnAck, Connect, Disconnect, MqttString, Packet, PacketId,
    ProtocolVersion, Publish, QoS, ReasonCode, SubAck, Subscribe, SubscribeProperties,
    Subscription, SubscriptionOptions,
};
use mqkit::topic::TopicName;

use crate::support::{Running, TempDir};

/// How long the well-behaved client's whole round trip may take while an attack runs. A
/// round trip takes a few milliseconds on an idle machine; the margin is for a loaded CI box.
pub const ROUND_TRIP: Duration = Duration::from_secs(3);

/// The longest any single read waits for the broker.
pub const READ: Duration = Duration::from_secs(5);

/// The largest packet the test clients accept from the broker (the protocol maximum).
const MAX_IN: usize = 268_435_460;

/// The real `mqbroker`, killed when dropped; its log is printed if the test is failing then.
pub struct Broker {
    process: Running,
    port: u16,
    _dir: TempDir,
}

impl Broker {
    /// A broker with the defaults (anonymous clients, no `$SYS`).
    pub fn start() -> Broker {
        Broker::with_conf("")
    }

    /// A broker whose configuration file has `extra` (mosquitto.conf lines) after a
    /// `listener 0 127.0.0.1`, `allow_anonymous true` and `sys_interval 0`.
    pub fn with_conf(extra: &str) -> Broker {
        let dir = TempDir::new("hostile");
        let conf = dir.path().join("mqbroker.conf");
        let text = format!("listener 0 127.0.0.1\nallow_anonymous true\nsys_interval 0\n{extra}\n");
        fs::write(&conf, text).expect("write mqbroker.conf");
        let (process, ports) = crate::support::mqbroker_conf(&conf, 1);
        let port = ports[0];
        Broker {
            process,
            port,
            _dir: dir,
        }
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A client connected with Clean Start as `id`.
    pub fn client(&self, version: ProtocolVersion, id: &str) -> Raw {
        Raw::connect(self.port, version, id)
    }

    /// Runs the well-behaved client's round trip and asserts it took less than [`ROUND_TRIP`];
    /// `when` names the moment in the messages. Returns the time taken.
    pub fn assert_serves(&self, when: &str) -> Duration {
        let took = round_trip(self.port);
        eprintln!("round trip {when}: {took:?}");
        assert!(
            took < ROUND_TRIP,
            "round trip {when} took {took:?}, more than {ROUND_TRIP:?}"
        );
        took
    }

    /// Sends the signal `name` (`HUP`: reload the configuration file) to the broker.
    pub fn signal(&self, name: &str) {
        self.process.signal(name);
    }

    /// Starts measuring memory from now.
    pub fn rss(&self) -> Rss {
        let pid = self.process.id();
        Rss {
            pid,
            baseline_kib: status_kib(pid, "VmRSS"),
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let output = self.process.kill();
        if thread::panicking() {
            eprintln!("mqbroker log (port {}):\n{}", self.port, output.stderr);
        }
    }
}

/// The broker's resident memory when measuring started.
pub struct Rss {
    pid: u32,
    baseline_kib: u64,
}

impl Rss {
    /// Asserts that the broker's peak resident memory (`VmHWM`) never rose more than
    /// `bound_mib` MiB above the baseline; returns the growth in KiB.
    pub fn assert_peak_below(&self, bound_mib: u64, what: &str) -> u64 {
        let peak = status_kib(self.pid, "VmHWM");
        let now = status_kib(self.pid, "VmRSS");
        let growth = peak.saturating_sub(self.baseline_kib);
        eprintln!(
            "RSS {what}: baseline {} KiB, peak {peak} KiB (+{growth} KiB), now {now} KiB; \
             bound +{bound_mib} MiB",
            self.baseline_kib
        );
        assert!(
            growth <= bound_mib * 1024,
            "{what}: the broker's RSS peaked at {peak} KiB, {growth} KiB above its baseline of \
             {} KiB (bound: {bound_mib} MiB)",
            self.baseline_kib
        );
        growth
    }
}

/// A `kB` field of `/proc/PID/status`.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("mqbroker (pid {pid}) is gone: {e}"));
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// How reading ended without a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The broker closed the connection (end of file or reset).
    Closed,
    /// Nothing came before the deadline.
    Silent,
}

/// A blocking MQTT client on a raw socket: packets in and out through the crate's codec, or
/// bytes as they are.
pub struct Raw {
    stream: TcpStream,
    version: ProtocolVersion,
    rbuf: BytesMut,
    last_id: u16,
}

impl Raw {
    /// A TCP connection that has sent nothing yet; `version` decodes what comes back.
    pub fn open(port: u16, version: ProtocolVersion) -> Raw {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("cannot connect to mqbroker on port {port}: {e}"));
        let _ = stream.set_nodelay(true);
        Raw {
            stream,
            version,
            rbuf: BytesMut::new(),
            last_id: 0,
        }
    }

    /// Connects with Clean Start as `id` and asserts the CONNACK is a success.
    pub fn connect(port: u16, version: ProtocolVersion, id: &str) -> Raw {
        let (raw, connack) = Raw::connect_with(port, Connect::new(version, mqtt(id)));
        assert_eq!(connack.reason_code, ReasonCode::Success, "{connack:?}");
        raw
    }

    /// Sends `connect` on a new connection and returns the CONNACK, whatever it says.
    pub fn connect_with(port: u16, connect: Connect) -> (Raw, ConnAck) {
        let mut raw = Raw::open(port, connect.version);
        raw.send(&Packet::Connect(Box::new(connect)));
        match raw.recv() {
            Packet::ConnAck(connack) => (raw, connack),
            other => panic!("expected CONNACK, got {other:?}"),
        }
    }

    /// The socket, for attacks below the packet level.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Encodes and sends `packet`.
    pub fn send(&mut self, packet: &Packet) {
        let bytes = encoded(packet, self.version);
        self.write(&bytes);
    }

    /// Encodes `packets` back to back and sends them with one write.
    pub fn send_all(&mut self, packets: impl IntoIterator<Item = Packet>) {
        let packets: Vec<Packet> = packets.into_iter().collect();
        let bytes = encoded_all(&packets, self.version);
        self.write(&bytes);
    }

    /// Sends `bytes` as they are.
    pub fn write(&mut self, bytes: &[u8]) {
        self.stream
            .write_all(bytes)
            .unwrap_or_else(|e| panic!("write to mqbroker failed: {e}"));
    }

    /// Sends `bytes` if the socket still takes them (the broker may have closed it).
    pub fn try_write(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes);
    }

    /// The next packet from the broker, waiting at most `within`.
    pub fn next(&mut self, within: Duration) -> Result<Packet, End> {
        let deadline = Instant::now() + within;
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            match decode(&mut self.rbuf, self.version, MAX_IN) {
                Ok(Some(packet)) => return Ok(packet),
                Ok(None) => {}
                Err(e) => panic!("mqbroker sent a malformed packet: {e}"),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(End::Silent);
            }
            self.stream
                .set_read_timeout(Some(left))
                .expect("set a read timeout");
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(End::Closed),
                Ok(n) => self.rbuf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(End::Silent)
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Err(End::Closed),
            }
        }
    }

    /// The next packet; panics after [`READ`] or when the connection ends.
    pub fn recv(&mut self) -> Packet {
        self.next(READ)
            .unwrap_or_else(|end| panic!("no packet from mqbroker within {READ:?}: {end:?}"))
    }

    /// Waits (at most [`READ`]) for the broker to close the connection. Returns the reason code
    /// of the DISCONNECT it sent first, if any; panics on any other packet or on silence.
    pub fn expect_closed(&mut self, what: &str) -> Option<ReasonCode> {
        let mut reason = None;
        loop {
            match self.next(READ) {
                Ok(Packet::Disconnect(d)) if reason.is_none() => reason = Some(d.reason_code),
                Ok(other) => panic!("{what}: expected the connection to close, got {other:?}"),
                Err(End::Closed) => return reason,
                Err(End::Silent) => panic!("{what}: still open after {READ:?}"),
            }
        }
    }

    /// A fresh packet identifier (1, 2, ... wrapping past 65,535 to 1).
    pub fn next_id(&mut self) -> PacketId {
        self.last_id = self.last_id.checked_add(1).unwrap_or(1);
        PacketId::new(self.last_id).expect("non-zero")
    }

    /// Subscribes to `filters` at `qos` and returns the SUBACK.
    pub fn subscribe(&mut self, filters: &[&str], qos: QoS) -> SubAck {
        let packet = self.subscribe_packet(filters, qos);
        self.send(&packet);
        match self.recv() {
            Packet::SubAck(suback) => suback,
            other => panic!("expected SUBACK, got {other:?}"),
        }
    }

    /// A SUBSCRIBE for `filters` at `qos` with a fresh packet identifier.
    pub fn subscribe_packet(&mut self, filters: &[&str], qos: QoS) -> Packet {
        subscribe_packet(self.next_id(), filters, qos)
    }

    /// A PUBLISH of `payload` on `topic` at `qos`, with a fresh packet identifier if QoS > 0.
    pub fn publish_packet(&mut self, topic: &str, payload: impl Into<Bytes>, qos: QoS) -> Publish {
        let mut publish = Publish::new(topic_name(topic), payload);
        publish.qos = qos;
        if qos != QoS::AtMostOnce {
            publish.packet_id = Some(self.next_id());
        }
        publish
    }

    /// Publishes at QoS 1 and waits for the PUBACK (panics on any other packet).
    pub fn publish_qos1(&mut self, topic: &str, payload: &'static str) -> Ack {
        let publish = self.publish_packet(topic, payload, QoS::AtLeastOnce);
        self.send(&Packet::Publish(publish));
        match self.recv() {
            Packet::PubAck(ack) => ack,
            other => panic!("expected PUBACK, got {other:?}"),
        }
    }

    /// Waits for the next PUBLISH, acknowledging it at QoS 1 (other packets are a failure).
    pub fn recv_publish(&mut self) -> Publish {
        match self.recv() {
            Packet::Publish(p) => {
                if let (QoS::AtLeastOnce, Some(id)) = (p.qos, p.packet_id) {
                    self.send(&Packet::PubAck(Ack::new(id)));
                }
                p
            }
            other => panic!("expected PUBLISH, got {other:?}"),
        }
    }

    /// A PINGREQ / PINGRESP round trip: everything the broker had queued for this client
    /// before the PINGREQ was handled arrives before the PINGRESP, and is returned.
    pub fn ping(&mut self) -> Vec<Packet> {
        self.send(&Packet::PingReq);
        let mut before = Vec::new();
        loop {
            match self.recv() {
                Packet::PingResp => return before,
                other => before.push(other),
            }
        }
    }

    /// Sends DISCONNECT (normal) and closes.
    pub fn disconnect(mut self) {
        self.send(&Packet::Disconnect(Disconnect::new(
            ReasonCode::NORMAL_DISCONNECTION,
        )));
    }
}

/// The bytes of `packet` as `version` encodes it.
pub fn encoded(packet: &Packet, version: ProtocolVersion) -> BytesMut {
    let mut out = BytesMut::new();
    encode(packet, version, &mut out).unwrap_or_else(|e| panic!("cannot encode {packet:?}: {e}"));
    out
}

/// A SUBSCRIBE for `filters`, each at `qos` with the 5.0 default options.
pub fn subscribe_packet(packet_id: PacketId, filters: &[&str], qos: QoS) -> Packet {
    let options = SubscriptionOptions {
        qos,
        ..SubscriptionOptions::default()
    };
    let subscriptions = filters
        .iter()
        .map(|f| Subscription {
            filter: mqtt(f),
            options,
        })
        .collect();
    Packet::Subscribe(Subscribe {
        packet_id,
        subscriptions,
        properties: SubscribeProperties::default(),
    })
}

/// The bytes of `packets`, back to back.
pub fn encoded_all(packets: &[Packet], version: ProtocolVersion) -> BytesMut {
    let mut out = BytesMut::new();
    for packet in packets {
        out.extend_from_slice(&encoded(packet, version));
    }
    out
}

/// `s` as an MQTT string (panics if it is not one).
pub fn mqtt(s: &str) -> MqttString {
    MqttString::new(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

/// `s` as a topic name (panics if it is not one).
pub fn topic_name(s: &str) -> TopicName {
    TopicName::new(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

/// A name no other test in this process uses: `prefix-PID-N`.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{n}", std::process::id())
}

/// The well-behaved client: a fresh v5 connection subscribes to a topic of its own at QoS 1,
/// publishes one message there at QoS 1 and receives it. Returns the time all of it took.
pub fn round_trip(port: u16) -> Duration {
    let started = Instant::now();
    let id = unique("probe");
    let topic = format!("hostile/probe/{id}");
    let mut client = Raw::connect(port, ProtocolVersion::V5, &id);
    let suback = client.subscribe(&[&topic], QoS::AtLeastOnce);
    assert_eq!(suback.reason_codes, [ReasonCode::GrantedQoS1], "{suback:?}");
    let publish = client.publish_packet(&topic, "ping", QoS::AtLeastOnce);
    client.send(&Packet::Publish(publish));
    let (mut acked, mut received) = (false, false);
    while !(acked && received) {
        match client.recv() {
            Packet::PubAck(_) => acked = true,
            Packet::Publish(p) => {
                assert_eq!(&p.payload[..], b"ping");
                if let Some(id) = p.packet_id {
                    client.send(&Packet::PubAck(Ack::new(id)));
                }
                received = true;
            }
            other => panic!("round trip: unexpected {other:?}"),
        }
    }
    client.disconnect();
    started.elapsed()
}
