//! The same conversations against Debian's `mosquitto` and against mqbroker: what
//! `mosquitto_sub` prints and what the clients exit with must not tell the two apart.
//!
//! Left out on purpose, because the specification allows both answers and the two brokers
//! differ: overlapping subscriptions of one 5.0 client (mosquitto sends a copy per
//! subscription, mqbroker one copy, 5.0 §3.3.4), and the exact Message Expiry Interval.

use std::io::{Read, Write};
use std::net::TcpStream;

use crate::support::{
    clients_installed, mosquitto_installed, run, BrokerProcess, Clients, MosquittoBroker, Output,
    Version, WAIT,
};

both_versions!(
    conversation_output_is_the_same_as_with_mosquitto,
    exit_codes_are_the_same_as_with_mosquitto,
);

/// The messages of the conversation, as `mosquitto_pub` arguments, published in this order
/// once every subscriber is in place.
const CONVERSATION: &[&str] = &[
    "-q 0 -t cmp/a -m zero",
    "-q 1 -t cmp/b/c -m one",
    "-q 2 -t cmp/b -m two",
    "-q 1 -t cmp/state -m off -r",
    "-q 1 -t cmp/empty -n",
    "-q 1 -t other/x -m 'matches nothing'",
    "-q 1 -t '$app/dollar' -m 'matched by $app/# only [MQTT-4.7.2-1]'",
    "-q 1 -t app/dollar -m 'matched by +/dollar'",
    "-q 0 -t cmp/ü/c -m ünïcödé",
    "-q 2 -t cmp/b/c -m last",
];

/// Sent only with 5.0: PUBLISH properties for the `-F` subscriber to print.
const V5_MESSAGE: &str = "-q 1 -t cmp/v5 -m 'with properties' -D publish user-property k v \
    -D publish content-type text/plain -D publish response-topic cmp/reply \
    -D publish correlation-data c-1 -D publish payload-format-indicator 1";

/// A subscriber of the conversation: its `mosquitto_sub` arguments, what it adds with 5.0, how
/// many messages it gets after the probe (the retained `cmp/state` and the live ones its
/// filters match; one more with 5.0), and whether the order of its lines is fixed.
struct Subscriber {
    args: &'static str,
    v5_args: &'static str,
    messages: usize,
    ordered: bool,
}

const SUBSCRIBERS: [Subscriber; 3] = [
    // Receives at QoS 0 and 1 only, so each message is printed as it arrives: in the order
    // the publishers, one after the other, sent them.
    Subscriber {
        args: "-v -q 1 -t 'cmp/#'",
        v5_args: "",
        messages: 8,
        ordered: true,
    },
    // Flags, QoS and length, and with 5.0 the properties, on filters that do not overlap.
    Subscriber {
        args: "-q 1 -t 'cmp/+/c' -t 'cmp/+' -t '+/dollar' -t '$app/#' -F '%r %q %l %t %p'",
        // The later -F wins.
        v5_args: "-D subscribe subscription-identifier 9 -F '%r %q %l %t %p | %P %C %R %D %F %S'",
        messages: 10,
        ordered: true,
    },
    // QoS 2 end to end. libmosquitto hands an incoming QoS 2 message to mosquitto_sub when
    // the PUBREL arrives, so where it lands among QoS 0 and 1 messages depends on timing:
    // compared as a set of lines.
    Subscriber {
        args: "-v -q 2 -t 'cmp/#'",
        v5_args: "",
        messages: 8,
        ordered: false,
    },
];

/// Subscribers at QoS 1 and 2, `-v` and `-F` (flags, QoS, length and with 5.0 properties),
/// print the same lines with either broker: the retained message on subscribing
/// [MQTT-3.3.1-6], live messages at the lower QoS [MQTT-3.8.4-8 of 5.0], wildcards and the `$`
/// rule [MQTT-4.7.2-1], empty payloads.
fn conversation_output_is_the_same_as_with_mosquitto(v: Version) {
    if !clients_installed() || !mosquitto_installed() {
        return;
    }
    let mosquitto = MosquittoBroker::start();
    let expected = converse(Clients::new(mosquitto.port(), v), v);
    let mqbroker = BrokerProcess::start();
    let got = converse(Clients::new(mqbroker.port(), v), v);
    for ((mosq, mq), sub) in expected.iter().zip(&got).zip(&SUBSCRIBERS) {
        // The probes' topics differ from run to run.
        let (mut mosq_lines, mut mq_lines) = (mosq.without_probe(), mq.without_probe());
        if !sub.ordered {
            mosq_lines.sort();
            mq_lines.sort();
        }
        assert_eq!(
            mq_lines, mosq_lines,
            "mosquitto_sub prints differently with mqbroker (left) than with mosquitto \
             (right)\n=== mqbroker\n{mq}\n=== mosquitto\n{mosq}"
        );
    }
}

/// Runs the conversation and returns what each of [`SUBSCRIBERS`] printed.
fn converse(c: Clients, v: Version) -> Vec<Output> {
    let v5 = v == Version::V5;
    c.publish_ok("-r -q 1 -t cmp/state -m on");
    let subscribers: Vec<_> = SUBSCRIBERS
        .iter()
        .map(|sub| match v5 {
            true => c.subscribed(&format!("{} {}", sub.args, sub.v5_args), sub.messages + 1),
            false => c.subscribed(sub.args, sub.messages),
        })
        .collect();
    let v5_message = v5.then_some(&V5_MESSAGE);
    for args in CONVERSATION.iter().chain(v5_message) {
        c.publish_ok(args);
    }
    subscribers.into_iter().map(|sub| sub.finish()).collect()
}

/// One client run whose exit code must not depend on the broker: `mosquitto_pub` (`pub`) or
/// `mosquitto_sub` (`sub`) arguments, and mosquitto's exit code, to show the case means what
/// it says.
struct Case {
    what: &'static str,
    command: &'static str,
    code: i32,
}

const fn case(what: &'static str, command: &'static str, code: i32) -> Case {
    Case {
        what,
        command,
        code,
    }
}

/// For both versions, in order: later cases rely on earlier ones (the retained message).
const CASES: &[Case] = &[
    case("QoS 0 publish", "pub -q 0 -t codes/t -m x", 0),
    case("QoS 1 publish", "pub -q 1 -t codes/t -m x", 0),
    case("QoS 2 publish", "pub -q 2 -t codes/t -m x", 0),
    case("retained publish", "pub -r -q 1 -t codes/kept -m x", 0),
    case(
        "publish with a will",
        "pub --will-topic codes/will --will-payload x -t codes/t -m x",
        0,
    ),
    case(
        "persistent session (-c -i)",
        "pub -c -i codes-c -q 1 -t codes/t -m x",
        0,
    ),
    case(
        "subscribe, exit on SUBACK (-E)",
        "sub -q 2 -t 'codes/#' -E",
        0,
    ),
    case(
        "receive the retained message (-C 1)",
        "sub -t codes/kept -C 1",
        0,
    ),
    case(
        "subscribe and unsubscribe (-U)",
        "sub -t codes/t -U codes/t -E",
        0,
    ),
    // 27 is mosquitto_sub's -W timeout: the broker kept the connection open and quiet.
    case("nothing arrives within -W 1", "sub -t codes/none -W 1", 27),
];

/// Only for 5.0.
const V5_CASES: &[Case] = &[
    // The CONNACK reason code 0x8C (Bad authentication method) is the exit code.
    case(
        "CONNECT with an authentication method the broker lacks",
        "pub -D connect authentication-method x -t codes/t -m x",
        140,
    ),
    case(
        "session expiry (-c -x 60)",
        "pub -c -i codes-x -x 60 -q 1 -t codes/t -m x",
        0,
    ),
    case(
        "topic alias within the Topic Alias Maximum",
        "pub -D publish topic-alias 1 -q 1 -t codes/t -m x",
        0,
    ),
    case(
        "Receive Maximum 1 and QoS 2",
        "pub -D connect receive-maximum 1 -q 2 -t codes/t -m x",
        0,
    ),
];

/// `mosquitto_pub` and `mosquitto_sub` exit with the same code against either broker, for
/// success and for a CONNACK refusal. (A 3.1.1 refusal cannot be provoked: the clients refuse
/// `-i ''` with `-c` themselves, and anonymous access is on.)
fn exit_codes_are_the_same_as_with_mosquitto(v: Version) {
    if !clients_installed() || !mosquitto_installed() {
        return;
    }
    let mosquitto = MosquittoBroker::start();
    let mqbroker = BrokerProcess::start();
    let v5_cases = if v == Version::V5 { V5_CASES } else { &[] };
    let mut table = String::new();
    let mut failed = false;
    for case in CASES.iter().chain(v5_cases) {
        let mosq = run_case(Clients::new(mosquitto.port(), v), case);
        let mq = run_case(Clients::new(mqbroker.port(), v), case);
        let ok = mosq.code == Some(case.code) && mq.code == mosq.code && !mq.timed_out;
        failed |= !ok;
        let mark = if ok { "  " } else { "!!" };
        table.push_str(&format!(
            "{mark} {:<55} mosquitto {:?}, mqbroker {:?}\n",
            case.what, mosq.code, mq.code
        ));
        if !ok {
            table.push_str(&format!("=== mqbroker\n{mq}\n=== mosquitto\n{mosq}\n"));
        }
    }
    assert!(!failed, "exit codes differ:\n{table}");
}

fn run_case(c: Clients, case: &Case) -> Output {
    let command = match case.command.split_once(' ') {
        Some(("pub", args)) => c.publish(args),
        Some(("sub", args)) => c.subscribe(args),
        _ => panic!("a case starts with `pub` or `sub`: {}", case.command),
    };
    run(command)
}

/// 5.0 [MQTT-3.1.2-24]: the server must not send a packet larger than the client's Maximum
/// Packet Size. A CONNECT with Maximum Packet Size 30 and an empty client identifier asks for
/// a CONNACK carrying the Assigned Client Identifier; if that does not fit, the broker must
/// leave out optional properties or close the connection. Debian's mosquitto closes it
/// (`mosquitto_pub -V 5 -D connect maximum-packet-size 30` exits 7, "connection lost").
#[test]
fn connack_never_exceeds_the_client_maximum_packet_size_mqtt_3_1_2_24() {
    if !mosquitto_installed() {
        return;
    }
    let mosquitto = MosquittoBroker::start();
    let mqbroker = BrokerProcess::start();
    for (name, port) in [
        ("mosquitto", mosquitto.port()),
        ("mqbroker", mqbroker.port()),
    ] {
        let reply = first_packet_after_connect(port);
        assert!(
            reply.len() <= 30,
            "{name} sent a {}-byte packet to a client whose Maximum Packet Size is 30: {}",
            reply.len(),
            hex(&reply)
        );
    }
}

/// Sends a 5.0 CONNECT (clean start, empty client id, Maximum Packet Size 30) and returns the
/// first packet the broker answers with, or nothing if it closes the connection instead.
fn first_packet_after_connect(port: u16) -> Vec<u8> {
    let connect = [
        0x10, 0x12, // CONNECT, remaining length 18
        0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name
        0x05, // protocol level 5
        0x02, // flags: clean start
        0x00, 0x3c, // keep alive 60 s
        0x05, // properties length 5
        0x27, 0x00, 0x00, 0x00, 0x1e, // Maximum Packet Size 30
        0x00, 0x00, // client identifier: empty
    ];
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(WAIT)).expect("read timeout");
    stream.write_all(&connect).expect("send CONNECT");
    // Fixed header: type byte and a variable byte integer, then that many bytes.
    let mut packet = Vec::new();
    let mut byte = [0u8; 1];
    let mut remaining = 0usize;
    for shift in [None, Some(0), Some(7), Some(14), Some(21)] {
        match stream.read(&mut byte) {
            Ok(0) | Err(_) if packet.is_empty() => return packet,
            Ok(1) => packet.push(byte[0]),
            other => panic!("broken packet after {packet:02x?}: {other:?}"),
        }
        if let Some(shift) = shift {
            remaining |= usize::from(byte[0] & 0x7f) << shift;
            if byte[0] & 0x80 == 0 {
                break;
            }
        }
    }
    let mut body = vec![0u8; remaining];
    stream
        .read_exact(&mut body)
        .expect("the rest of the packet");
    packet.extend(body);
    packet
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
