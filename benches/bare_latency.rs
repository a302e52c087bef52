//! The floor for mqbench's latency figures: a bare MQTT 3.1.1 round trip through a broker with
//! plain sockets and nothing else (the subscriber busy-polls, so no wake-up is measured). One thread publishes a QoS 0 message every millisecond
//! (1,000 msg/s) and reads it back on a subscribed socket; the time from just before the write
//! to just after the read is the latency. `scripts/bench-latency-overhead.sh` runs this and
//! `mqbench pubsub -r 1000` against the same broker and prints both p50s: the difference is what
//! mqbench itself adds (issue target: < 20 µs).
//!
//! Usage: `MQTT_PORT=1883 cargo bench --bench bare_latency` (default 5,000 messages).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use hdrhistogram::Histogram;
use mqkit::protocol::{
    decode, encode, Connect, MqttString, Packet, PacketId, ProtocolVersion, Publish, QoS,
    Subscribe, SubscribeProperties, Subscription, SubscriptionOptions,
};
use mqkit::topic::TopicName;

const V: ProtocolVersion = ProtocolVersion::V311;

fn send(stream: &mut TcpStream, packet: &Packet) {
    let mut buf = BytesMut::new();
    encode(packet, V, &mut buf).expect("encodable");
    stream.write_all(&buf).expect("write");
}

fn read(stream: &mut TcpStream, buf: &mut BytesMut) -> Packet {
    loop {
        if let Some(p) = decode(buf, V, 1 << 20).expect("valid packet") {
            return p;
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk) {
            Ok(0) => panic!("the broker closed the connection"),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            // Busy-polling: no scheduler wake-up in the measured time, the floor proper.
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::hint::spin_loop(),
            Err(e) => panic!("read: {e}"),
        }
    }
}

fn connect(port: u16, id: &str) -> (TcpStream, BytesMut) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_nodelay(true).expect("nodelay");
    let c = Connect::new(V, MqttString::new(id).expect("id"));
    send(&mut s, &Packet::Connect(Box::new(c)));
    let mut buf = BytesMut::new();
    assert!(matches!(read(&mut s, &mut buf), Packet::ConnAck(_)));
    (s, buf)
}

fn main() {
    let port: u16 = std::env::var("MQTT_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(1883);
    let count: u64 = std::env::var("COUNT")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(5_000);
    let (mut sub, mut sub_buf) = connect(port, "bare-sub");
    let subscribe = Subscribe {
        packet_id: PacketId::new(1).expect("non-zero"),
        subscriptions: vec![Subscription {
            filter: MqttString::new("bare/latency").expect("filter"),
            options: SubscriptionOptions::default(),
        }],
        properties: SubscribeProperties::default(),
    };
    send(&mut sub, &Packet::Subscribe(subscribe));
    assert!(matches!(read(&mut sub, &mut sub_buf), Packet::SubAck(_)));
    let (mut publ, _) = connect(port, "bare-pub");
    sub.set_nonblocking(true).expect("nonblocking");
    let topic = TopicName::new("bare/latency").expect("topic");
    let mut wire = BytesMut::new();
    let mut publish = Publish::new(topic, vec![b'x'; 64]);
    publish.qos = QoS::AtMostOnce;
    encode(&Packet::Publish(publish), V, &mut wire).expect("encodable");
    let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
    let start = Instant::now();
    for i in 0..count {
        let at = start + Duration::from_millis(i);
        while Instant::now() < at {
            std::hint::spin_loop();
        }
        let sent = Instant::now();
        publ.write_all(&wire).expect("write");
        assert!(matches!(read(&mut sub, &mut sub_buf), Packet::Publish(_)));
        let ns = sent.elapsed().as_nanos() as u64;
        if i >= count / 5 {
            h.record((ns / 1_000).max(1)).expect("in range");
        }
    }
    println!(
        "bare round trip at 1000 msg/s: p50 {}µs p90 {}µs p99 {}µs max {}µs (n={})",
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.9),
        h.value_at_quantile(0.99),
        h.max(),
        h.len()
    );
}
