//! Crash safety with `persistence true`: a publisher sends numbered QoS 1 and QoS 2 messages
//! to a persistent subscriber session while the broker is killed with SIGKILL at random moments,
//! several times, and started again on the same store. Every message the broker acknowledged
//! (PUBACK, or PUBREC: by then a QoS 2 message is the broker's) must reach the subscriber, and
//! no QoS 2 message may reach it twice [MQTT-4.3.3-10 / 4.3.3-11: exactly once]. The subscriber
//! keeps its side of the QoS 2 state (identifiers awaiting PUBREL) across reconnections, as
//! the protocol asks of a client with a session.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mqkit::protocol::{Ack, Connect, Packet, ProtocolVersion, QoS, ReasonCode};

use crate::attack::{encoded, mqtt, Broker, End, Raw};
use crate::support::TempDir;

const V5: ProtocolVersion = ProtocolVersion::V5;

/// Kills per test run.
const ROUNDS: usize = 4;

/// What the subscriber has seen, across every connection.
#[derive(Default)]
struct Received {
    qos1: Vec<u32>,
    qos2: Vec<u32>,
    /// QoS 2 packet identifiers received and not yet released (the client's session state).
    awaiting_release: HashSet<u16>,
}

/// The subscriber's persistent session: CONNECT with Clean Start only the first time.
fn connect_subscriber(port: u16, first: bool) -> Raw {
    let mut connect = Connect::new(V5, mqtt("crash-sub"));
    connect.clean_start = first;
    connect.properties.session_expiry_interval = Some(u32::MAX);
    let (mut sub, connack) = Raw::connect_with(port, connect);
    assert_eq!(connack.reason_code, ReasonCode::Success);
    if first {
        sub.subscribe(&["crash/#"], QoS::ExactlyOnce);
    }
    sub
}

/// Receives until the connection ends (or `end` arrives), acknowledging as a QoS 2 receiver
/// with a session does. Returns whether `end` arrived.
fn receive(sub: &mut Raw, got: &Mutex<Received>, until: Instant) -> bool {
    while Instant::now() < until {
        let packet = match sub.next(Duration::from_millis(200)) {
            Ok(p) => p,
            Err(End::Silent) => continue,
            Err(End::Closed) => return false,
        };
        let reply = match packet {
            Packet::Publish(p) => {
                let text = String::from_utf8_lossy(&p.payload).into_owned();
                let seq: Option<u32> = text.rsplit('-').next().and_then(|n| n.parse().ok());
                let mut got = got.lock().unwrap();
                match (p.qos, p.packet_id) {
                    (QoS::AtLeastOnce, Some(id)) => {
                        got.qos1.extend(seq);
                        Some(Packet::PubAck(Ack::new(id)))
                    }
                    (QoS::ExactlyOnce, Some(id)) => {
                        if got.awaiting_release.insert(id.get()) {
                            got.qos2.extend(seq);
                        }
                        Some(Packet::PubRec(Ack::new(id)))
                    }
                    _ if text == "end" => return true,
                    _ => None,
                }
            }
            Packet::PubRel(ack) => {
                got.lock()
                    .unwrap()
                    .awaiting_release
                    .remove(&ack.packet_id.get());
                Some(Packet::PubComp(Ack::new(ack.packet_id)))
            }
            _ => None,
        };
        if let Some(reply) = reply {
            sub.try_write(&encoded(&reply, V5));
        }
    }
    false
}

/// Publishes numbered messages, alternating QoS 1 and 2, one at a time, from `next` on, until
/// the connection ends; returns the acknowledged ones as (QoS, number).
fn publish(port: u16, next: u32, acked: &Mutex<BTreeSet<(u8, u32)>>) -> u32 {
    let mut publisher = Raw::connect(port, V5, "crash-pub");
    let mut seq = next;
    loop {
        let qos = if seq.is_multiple_of(2) {
            QoS::AtLeastOnce
        } else {
            QoS::ExactlyOnce
        };
        let payload = Bytes::from(format!("q{}-{seq}", qos.as_u8()));
        let publish = publisher.publish_packet(&format!("crash/{}", qos.as_u8()), payload, qos);
        let id = publish.packet_id.expect("QoS 1 or 2");
        publisher.try_write(&encoded(&Packet::Publish(publish), V5));
        match publisher.next(Duration::from_secs(5)) {
            Ok(Packet::PubAck(a) | Packet::PubRec(a)) if a.reason_code.as_u8() < 0x80 => {
                acked.lock().unwrap().insert((qos.as_u8(), seq));
            }
            _ => return seq + 1,
        }
        if qos == QoS::ExactlyOnce {
            publisher.try_write(&encoded(&Packet::PubRel(Ack::new(id)), V5));
            if !matches!(
                publisher.next(Duration::from_secs(5)),
                Ok(Packet::PubComp(_))
            ) {
                return seq + 1;
            }
        }
        seq += 1;
    }
}

#[test]
fn no_acknowledged_message_is_lost_and_no_qos2_message_doubled_across_kill_9() {
    let store = TempDir::new("crash-store");
    let conf = format!(
        "persistence true\npersistence_location {}\nmax_queued_messages 100000\n",
        store.path().display()
    );
    let got = Arc::new(Mutex::new(Received::default()));
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let mut next = 0;
    for round in 0..ROUNDS {
        let broker = Broker::with_conf(&conf);
        let port = broker.port();
        let mut sub = connect_subscriber(port, round == 0);
        let (got2, acked2) = (Arc::clone(&got), Arc::clone(&acked));
        let receiver = thread::spawn(move || {
            receive(&mut sub, &got2, Instant::now() + Duration::from_secs(10))
        });
        let publisher = thread::spawn(move || publish(port, next, &acked2));
        // A random moment: the publisher and the store are busy by then.
        thread::sleep(Duration::from_millis(150 + fastrand::u64(0..350)));
        broker.signal("KILL");
        next = publisher.join().expect("publisher");
        receiver.join().expect("receiver");
        drop(broker);
    }
    let broker = Broker::with_conf(&conf);
    let mut sub = connect_subscriber(broker.port(), false);
    let mut marker = Raw::connect(broker.port(), V5, "crash-end");
    let end = marker.publish_packet("crash/end", Bytes::from_static(b"end"), QoS::AtMostOnce);
    marker.send(&Packet::Publish(end));
    let ended = receive(&mut sub, &got, Instant::now() + Duration::from_secs(10));
    assert!(ended, "the end marker never arrived");
    let got = got.lock().unwrap();
    let acked = acked.lock().unwrap();
    assert!(
        acked.len() > 20,
        "too few messages to prove anything: {}",
        acked.len()
    );
    let (got1, got2): (BTreeSet<u32>, BTreeSet<u32>) = (
        got.qos1.iter().copied().collect(),
        got.qos2.iter().copied().collect(),
    );
    let lost: Vec<&(u8, u32)> = acked
        .iter()
        .filter(|(qos, seq)| !if *qos == 1 { &got1 } else { &got2 }.contains(seq))
        .collect();
    assert!(
        lost.is_empty(),
        "acknowledged but never delivered: {lost:?}"
    );
    assert_eq!(
        got2.len(),
        got.qos2.len(),
        "a QoS 2 message was delivered twice"
    );
}
