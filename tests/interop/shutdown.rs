//! `mqbroker` stops cleanly on SIGTERM: 5.0 clients are told DISCONNECT 0x8B (Server shutting
//! down) and the process exits 0. Needs no mosquitto.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use mqkit::protocol::{decode, encode, Connect, MqttString, Packet, ProtocolVersion, ReasonCode};

use crate::support::BrokerProcess;

/// Reads from `stream` until one whole packet is decoded (5 s at most).
fn read_packet(stream: &mut TcpStream, buf: &mut BytesMut) -> Packet {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(packet) = decode(buf, ProtocolVersion::V5, 1 << 20).expect("valid packet") {
            return packet;
        }
        assert!(Instant::now() < deadline, "no packet within 5 s");
        let mut chunk = [0u8; 1024];
        let n = stream.read(&mut chunk).expect("read from mqbroker");
        assert!(
            n > 0,
            "mqbroker closed the connection before a whole packet"
        );
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[test]
fn sigterm_sends_server_shutting_down_and_exits_0() {
    let mut broker = BrokerProcess::start();
    let mut stream = TcpStream::connect(("127.0.0.1", broker.port())).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    let id = MqttString::new("stopping").expect("client id");
    let mut out = BytesMut::new();
    let connect = Packet::Connect(Box::new(Connect::new(ProtocolVersion::V5, id)));
    encode(&connect, ProtocolVersion::V5, &mut out).expect("encode CONNECT");
    stream.write_all(&out).expect("send CONNECT");
    let mut buf = BytesMut::new();
    match read_packet(&mut stream, &mut buf) {
        Packet::ConnAck(ack) => assert_eq!(ack.reason_code, ReasonCode::Success),
        other => panic!("expected CONNACK, got {other:?}"),
    }
    let output = broker.terminate();
    match read_packet(&mut stream, &mut buf) {
        Packet::Disconnect(d) => assert_eq!(d.reason_code, ReasonCode::ServerShuttingDown),
        other => panic!("expected DISCONNECT, got {other:?}"),
    }
    assert_eq!(output.code(), 0, "{output}");
}
