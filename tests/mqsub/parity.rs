//! mqsub's stdout against mosquitto_sub's, byte for byte, for one set of messages: the default
//! output, `-v`, `-N`, and time-independent `-F` formats (fields with widths and flags, 5.0
//! properties, escapes, `%j` and `%J` with the time masked).
//!
//! The deliberate differences of `src/output/format.rs` are avoided: `%x` with a width only
//! meets payloads of 0 bytes or at least as many bytes as the width, and `%j` only text payloads.

use std::path::Path;

use crate::harness::{contains, Broker, BrokerKind, Pair, RawOutput, Subscribers};
use crate::support::{TempDir, Version};

both_brokers!(
    plain_and_format_outputs_are_mosquitto_subs,
    json_formats_are_mosquitto_subs,
    debug_lines_are_mosquitto_subs,
);

/// 5.0 only: 3.1.1 has no properties.
mod json_properties_are_mosquitto_subs_in_any_order {
    use crate::harness::BrokerKind::{Mosquitto, Mqbroker};

    #[test]
    fn mosquitto_v5() {
        super::json_properties_are_mosquitto_subs_in_any_order(Mosquitto);
    }

    #[test]
    fn mqbroker_v5() {
        super::json_properties_are_mosquitto_subs_in_any_order(Mqbroker);
    }
}

/// Output flags compared on every message, binary payloads included. Each `-F` shows the
/// topic, which is how the harness sees the probe.
const OUTPUTS: &[&str] = &[
    "",
    "-v",
    "-N",
    "-v -N",
    "-F '%t|%p|%l|%q|%r|%m'",
    "-F '%t|%x|%X|%4x|%-6X|%06x|%-x|%-p|%10p|%-10p|%010p|%3p|%08l|%-5l|%05m|%-4m'",
    "-F '%15t|%-15t|%.3t|%20.6t|%%'",
    "-F '%t|%C|%P|%R|%E|%D|%F|%A|%S'",
    "-F '%t|%-12C|%8.4C|%.3R|%-10R|%05E|%-6E|%5F|%3A'",
    "-F '%t\\t%%@@\\0\\e[1m%p\\e[0m\\\\\\n'",
    "-F '%t=%p\\0' -N",
    "-v -F '%t:%l'",
];

/// The bytes of the binary payload: NULs, bytes that are not UTF-8, a line feed and a carriage
/// return. Eight bytes, so that `%x` widths print as mosquitto's.
const BINARY: &[u8] = &[0x00, 0xff, 0x0a, b'A', 0x00, 0xfe, 0x80, 0x0d];

/// Every output above prints the same bytes for a retained message, text, an empty payload,
/// UTF-8 with `%`, a binary payload, with 5.0 every property mosquitto_pub can send, and QoS 0.
fn plain_and_format_outputs_are_mosquitto_subs(kind: BrokerKind, v: Version) {
    let Some(broker) = Broker::start(kind) else {
        return;
    };
    let dir = TempDir::new("mqsub-parity");
    let s = Subscribers::new(broker.port(), v);
    s.publish("-r -q 1 -t sbs/kept -m 'kept value'");
    let args: Vec<String> = OUTPUTS
        .iter()
        .map(|out| format!("-q 1 -t 'sbs/#' {out}"))
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let messages = text_messages(v).len() + 3;
    let pairs = s.side_by_side_all(&args, messages, || {
        for m in text_messages(v) {
            s.publish(m);
        }
        s.publish(&binary_message(dir.path()));
        s.publish("-q 0 -t sbs/q0 -m 'last, at QoS 0'");
    });
    for pair in &pairs {
        // Exit 0 under -C: every message was printed.
        pair.mqsub.success();
        pair.assert_same();
    }
    let verbose = &pairs[1].mqsub.stdout;
    assert!(
        contains(verbose, b"sbs/kept kept value\n"),
        "{}",
        pairs[1].mqsub
    );
    assert!(contains(verbose, b"sbs/bin \0\xff\nA\0\xfe\x80\r\n"));
}

/// The live messages with text payloads, as `mosquitto_pub` arguments.
fn text_messages(v: Version) -> Vec<&'static str> {
    let mut messages = vec![
        "-q 1 -t sbs/text -m 'hello world'",
        "-q 1 -t sbs/empty -n",
        "-q 1 -t sbs/utf8 -m 'ünï cödé 100% \\t'",
    ];
    if v == Version::V5 {
        messages.push(
            "-q 1 -t sbs/props -m 'with properties' -D publish content-type text/plain \
             -D publish response-topic sbs/reply -D publish correlation-data corr-1 \
             -D publish user-property k1 v1 -D publish user-property k2 'v 2' \
             -D publish message-expiry-interval 3600",
        );
    }
    messages
}

fn binary_message(dir: &Path) -> String {
    let file = crate::harness::write_file(dir, "binary", BINARY);
    format!("-q 1 -t sbs/bin -f {}", file.display())
}

/// `%j`, `%J` and `--pretty`, with the `tst` time masked on both sides, for text payloads
/// (mqkit prints binary ones as mosquitto 2.1 does, on purpose) and JSON payloads for `%J`.
/// mqkit prints 5.0 properties in a fixed order and mosquitto_sub in the order on the wire,
/// which is the same with a mosquitto broker but not with mqbroker: there the message with
/// properties is left to [`json_properties_are_mosquitto_subs_in_any_order`].
fn json_formats_are_mosquitto_subs(kind: BrokerKind, v: Version) {
    let Some(broker) = Broker::start(kind) else {
        return;
    };
    let s = Subscribers::new(broker.port(), v);
    s.publish("-r -q 1 -t sbs/kept -m '{\"kept\":true}'");
    let outputs = [
        "-F %j",
        "-F %j --pretty",
        "-F '%t %J'",
        "-F '%t %J' --pretty",
    ];
    let args: Vec<String> = outputs
        .iter()
        .map(|out| format!("-q 1 -t 'sbs/#' {out}"))
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let json = [
        "-q 1 -t sbs/json/object -m '{\"a\":[1,2.5,\"x\\u00e9\"],\"b\":null,\"c\":{\"d\":-300}}'",
        "-q 1 -t sbs/json/array -m '[true, false, \"s p a c e s\"]'",
        "-q 0 -t sbs/json/number -m 12",
    ];
    let mut text = text_messages(v);
    if kind == BrokerKind::Mqbroker {
        text.retain(|m| !m.contains("sbs/props"));
    }
    let messages = text.len() + json.len() + 1;
    let pairs = s.side_by_side_all(&args, messages, || {
        for m in text.iter().chain(&json) {
            s.publish(m);
        }
    });
    for pair in &pairs {
        pair.mqsub.success();
        let masked = Pair {
            mosquitto: mask_tst(&pair.mosquitto),
            mqsub: mask_tst(&pair.mqsub),
        };
        masked.assert_same();
    }
    let one_line = pairs[0].mqsub.text();
    assert!(
        one_line.contains(r#""topic":"sbs/text","qos":1,"retain":0"#),
        "{one_line}"
    );
}

/// `%j` of a message with every 5.0 property mosquitto_pub sends has the same JSON value as
/// mosquitto_sub's (`tst` aside), with either broker, whatever order the properties come in.
fn json_properties_are_mosquitto_subs_in_any_order(kind: BrokerKind) {
    let v = Version::V5;
    let Some(broker) = Broker::start(kind) else {
        return;
    };
    let s = Subscribers::new(broker.port(), v);
    let pair = s.side_by_side("-q 1 -t 'sbs/#' -F %j", 1, || {
        s.publish(text_messages(v)[3]);
    });
    let [mosquitto, mqsub] = [&pair.mosquitto, &pair.mqsub].map(|out| {
        out.success();
        let mut values = serde_json::Deserializer::from_slice(&out.stdout)
            .into_iter::<serde_json::Value>()
            .map(|v| v.unwrap_or_else(|e| panic!("not JSON ({e}):\n{out}")))
            .collect::<Vec<_>>();
        for value in &mut values {
            value.as_object_mut().and_then(|o| o.remove("tst"));
        }
        values
    });
    assert_eq!(mqsub, mosquitto, "{}\n{}", pair.mqsub, pair.mosquitto);
    let properties = &mqsub[1]["properties"];
    assert_eq!(properties["user-properties"]["k2"], "v 2", "{}", pair.mqsub);
}

/// The output with each `"tst":"..."` value replaced by `TST`.
fn mask_tst(output: &RawOutput) -> RawOutput {
    let text = output.text();
    let mut masked = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("\"tst\":") {
        let (head, tail) = rest.split_at(at + "\"tst\":".len());
        masked.push_str(head);
        let value = tail.trim_start();
        masked.push_str(&tail[..tail.len() - value.len()]);
        let end = value[1..].find('"').map_or(value.len(), |e| e + 2);
        masked.push_str("\"TST\"");
        rest = &value[end..];
    }
    masked.push_str(rest);
    with_stdout(output, masked)
}

/// `-d`: the packet log on stdout (`Client ID sending SUBSCRIBE (Mid: 1, Topic: ...)`,
/// `Subscribed (mid: 1): 1, 1, 1`, `received PUBLISH (d0, q1, r0, m2, ...)`...) line for line
/// as mosquitto_sub's, the client id masked (the server assigns it with 5.0).
fn debug_lines_are_mosquitto_subs(kind: BrokerKind, v: Version) {
    let Some(broker) = Broker::start(kind) else {
        return;
    };
    let s = Subscribers::new(broker.port(), v);
    let pair = s.side_by_side("-d -q 1 -t dbg/a -t 'dbg/+/c'", 2, || {
        s.publish("-q 1 -t dbg/a -m one");
        s.publish("-q 0 -t dbg/b/c -m two");
    });
    let masked = Pair {
        mosquitto: mask_client_id(&pair.mosquitto),
        mqsub: mask_client_id(&pair.mqsub),
    };
    let out = String::from_utf8_lossy(masked.assert_same()).into_owned();
    assert!(out.contains("\nSubscribed (mid: 1): 1, 1, 1\n"), "{out}");
    assert!(
        out.contains("Client ID received PUBLISH (d0, q0, r0, m0, 'dbg/b/c', ... (3 bytes))\n"),
        "{out}"
    );
}

/// The output with the word after `Client ` at the start of each line replaced by `ID`.
fn mask_client_id(output: &RawOutput) -> RawOutput {
    let text = output.text();
    let lines: Vec<String> = text
        .split_inclusive('\n')
        .map(|line| match line.strip_prefix("Client ") {
            Some(rest) => format!("Client ID{}", &rest[rest.find(' ').unwrap_or(0)..]),
            None => line.to_owned(),
        })
        .collect();
    with_stdout(output, lines.concat())
}

fn with_stdout(output: &RawOutput, stdout: String) -> RawOutput {
    RawOutput {
        label: output.label.clone(),
        code: output.code,
        timed_out: output.timed_out,
        stdout: stdout.into_bytes(),
        stderr: output.stderr.clone(),
    }
}
