//! Slowloris: hundreds of sockets that connect and send nothing, and some that send a CONNECT
//! one byte a second. The broker keeps serving everyone else, stays under a memory bound, and
//! its CONNECT timeout (10 s, `Config::connect_timeout`; not settable from a file yet) closes
//! every one of them: the timeout covers the whole handshake, so trickling bytes do not extend
//! it.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use mqkit::protocol::{Connect, Packet, ProtocolVersion};

use crate::attack::{encoded, mqtt, unique, Broker};

/// Sockets that send nothing at all.
const IDLE: usize = 300;
/// Sockets that send their CONNECT one byte a second.
const TRICKLING: usize = 20;
/// The broker's CONNECT timeout (`Config::connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How late after the CONNECT timeout a socket may still be open.
const SLACK: Duration = Duration::from_secs(3);
/// Peak RSS growth allowed for the 320 half-opened connections.
const RSS_BOUND_MIB: u64 = 32;

/// One attacking socket and when the broker closed it.
struct Attacker {
    stream: TcpStream,
    /// The CONNECT still to trickle (empty for idle sockets).
    rest: Vec<u8>,
    closed_after: Option<Duration>,
}

impl Attacker {
    fn open(port: u16, trickle: bool) -> Attacker {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to mqbroker");
        stream.set_nonblocking(true).expect("non-blocking socket");
        let rest = if trickle {
            let connect = Connect::new(ProtocolVersion::V311, mqtt(&unique("slow")));
            encoded(&Packet::Connect(Box::new(connect)), ProtocolVersion::V311).to_vec()
        } else {
            Vec::new()
        };
        Attacker {
            stream,
            rest,
            closed_after: None,
        }
    }

    /// Sends the next byte of the CONNECT (if trickling) and notes whether the broker has
    /// closed the connection. The broker must send nothing before the CONNECT is complete.
    fn tick(&mut self, elapsed: Duration) {
        if self.closed_after.is_some() {
            return;
        }
        if !self.rest.is_empty() && self.stream.write(&self.rest[..1]).is_ok() {
            self.rest.remove(0);
        }
        let mut byte = [0u8; 1];
        match self.stream.read(&mut byte) {
            Ok(0) => self.closed_after = Some(elapsed),
            Ok(_) => panic!("mqbroker answered an incomplete CONNECT"),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(_) => self.closed_after = Some(elapsed),
        }
    }
}

#[test]
fn idle_and_trickling_sockets_do_not_stop_service_and_are_closed_by_the_connect_timeout() {
    let broker = Broker::start();
    broker.assert_serves("before the attack");
    let rss = broker.rss();
    let started = Instant::now();
    let mut attackers: Vec<Attacker> = (0..IDLE + TRICKLING)
        .map(|i| Attacker::open(broker.port(), i >= IDLE))
        .collect();
    let mut second = 0;
    while started.elapsed() < CONNECT_TIMEOUT + SLACK {
        let elapsed = started.elapsed();
        attackers.iter_mut().for_each(|a| a.tick(elapsed));
        if attackers.iter().all(|a| a.closed_after.is_some()) {
            break;
        }
        if second % 3 == 0 && elapsed < CONNECT_TIMEOUT {
            broker.assert_serves(&format!("{second} s into the slowloris attack"));
        }
        second += 1;
        // The attack's own pace: one byte a second.
        thread::sleep(Duration::from_secs(1));
    }
    rss.assert_peak_below(RSS_BOUND_MIB, "with 320 slowloris sockets");
    let open = attackers
        .iter()
        .filter(|a| a.closed_after.is_none())
        .count();
    let last = attackers.iter().filter_map(|a| a.closed_after).max();
    eprintln!("slowloris sockets still open: {open}; last closed after {last:?}");
    assert_eq!(
        open,
        0,
        "{open} of {} slowloris sockets were still open {:?} after connecting",
        IDLE + TRICKLING,
        CONNECT_TIMEOUT + SLACK
    );
    broker.assert_serves("after the slowloris attack");
}

/// Connected clients that then say nothing cost the broker little memory each: no read buffer
/// is kept for an idle connection, and its task and session are small (the performance issue's
/// memory per idle connection; `scripts/bench-vs-mosquitto.sh` measures the release build).
#[test]
fn idle_connected_clients_cost_a_few_kib_each() {
    const CLIENTS: u64 = 2_000;
    let broker = Broker::start();
    let rss = broker.rss();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| broker.client(ProtocolVersion::V311, &unique("idle")))
        .collect();
    broker.assert_serves("with 2,000 idle clients");
    let growth = rss.assert_peak_below(CLIENTS * BOUND_KIB_PER_CLIENT / 1024, "2,000 idle clients");
    eprintln!("{} bytes per idle client", growth * 1024 / CLIENTS);
    drop(clients);
}

/// Memory per idle client allowed by the test above, in KiB (a debug build's futures are
/// larger than a release build's).
const BOUND_KIB_PER_CLIENT: u64 = 7;
