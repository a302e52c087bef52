//! The bodies of mqkit's fuzz targets, shared by the libFuzzer binaries in `fuzz_targets/`
//! (this file is the `mqkit_fuzz` library) and by the regression test `tests/fuzz_corpus.rs`
//! (which includes it with `#[path]`), so a corpus file replays exactly as the fuzzer ran it.
//!
//! Every body takes arbitrary bytes, never panics on its own account, and panics (with a
//! message) when mqkit breaks one of the invariants checked here.
//!
//! Inputs that carry two parts (topic filter and name, format and payload, password file and
//! password) split them at the first `0xFF` byte, which never occurs in UTF-8.

use std::path::Path;
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use mqkit::broker::conf::ConfFile;
use mqkit::broker::passwd::PasswordFile;
use mqkit::output::{Format, Received};
use mqkit::protocol::{
    decode, encode, encoded_len, MqttString, Packet, PacketType, ProtocolVersion,
    MAX_REMAINING_LENGTH,
};
use mqkit::topic::{matches, TopicError, TopicFilter, TopicName};

/// The small maximum packet size of the decode targets (bit 2 of the first byte set).
pub const SMALL_MAX_PACKET: usize = 128;
/// The large maximum packet size: the largest packet MQTT can frame.
pub const LARGE_MAX_PACKET: usize = MAX_REMAINING_LENGTH + 5;

/// Which end of a connection decodes the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// The broker, reading what a client sends.
    Server,
    /// A client, reading what the broker sends.
    Client,
}

/// Bytes as the broker decodes a client's stream (see [`decode_stream`] for the layout).
pub fn decode_server(data: &[u8]) {
    decode_stream(data, Side::Server);
}

/// Bytes as a client decodes the broker's stream (see [`decode_stream`] for the layout).
pub fn decode_client(data: &[u8]) {
    decode_stream(data, Side::Client);
}

/// Decodes `data[1..]` as a stream of packets until it ends, is malformed, or holds a packet
/// this side never receives. `data[0]` picks the version (bits 0–1: 3.1, 3.1.1, 5.0, or, for
/// the server, "as the handshake does": the first packet decoded as 5.0 and the rest with the
/// version its CONNECT names) and the maximum packet size (bit 2: small, else large).
fn decode_stream(data: &[u8], side: Side) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let handshake = side == Side::Server && first & 3 == 3;
    let mut version = match first & 3 {
        0 => ProtocolVersion::V31,
        1 => ProtocolVersion::V311,
        _ => ProtocolVersion::V5,
    };
    let max = if first & 4 != 0 {
        SMALL_MAX_PACKET
    } else {
        LARGE_MAX_PACKET
    };
    let mut buf = BytesMut::from(rest);
    let mut first_packet = true;
    loop {
        let before = buf.len();
        match decode(&mut buf, version, max) {
            Ok(Some(packet)) => {
                let used = before - buf.len();
                assert!(used <= max, "consumed {used} bytes with a maximum of {max}");
                round_trip(&packet, version);
                if handshake && first_packet {
                    // The broker closes a connection that does not start with CONNECT.
                    let Packet::Connect(connect) = &packet else {
                        return;
                    };
                    version = connect.version;
                }
                first_packet = false;
                if !receives(side, packet.packet_type()) {
                    return;
                }
            }
            Ok(None) => {
                assert_eq!(buf.len(), before, "an incomplete packet consumed bytes");
                return;
            }
            Err(_) => return,
        }
    }
}

/// Whether `side` ever receives packets of type `t` (the other end of the connection closes
/// on one it should not get; the codec itself decodes every type in both directions).
fn receives(side: Side, t: PacketType) -> bool {
    use PacketType as T;
    match t {
        T::Connect | T::Subscribe | T::Unsubscribe | T::PingReq => side == Side::Server,
        T::ConnAck | T::SubAck | T::UnsubAck | T::PingResp => side == Side::Client,
        _ => true,
    }
}

/// Encodes a decoded `packet` again and decodes the result: the encoder must accept what the
/// decoder produced, say its size right, and write bytes that decode to the same packet and
/// encode to the same bytes.
fn round_trip(packet: &Packet, version: ProtocolVersion) {
    let mut out = BytesMut::new();
    if let Err(e) = encode(packet, version, &mut out) {
        panic!("decoded packet refused by the encoder ({e}): {packet:?}");
    }
    let len = encoded_len(packet, version).expect("encoded_len fails where encode succeeded");
    assert_eq!(
        len,
        out.len(),
        "encoded_len disagrees with encode: {packet:?}"
    );
    let wire = out.clone().freeze();
    let again = match decode(&mut out, version, LARGE_MAX_PACKET) {
        Ok(Some(again)) => again,
        other => panic!("encoded {packet:?} as {wire:?}, which decodes to {other:?}"),
    };
    assert!(
        out.is_empty(),
        "{} bytes left after decoding {wire:?}",
        out.len()
    );
    assert_eq!(
        &again, packet,
        "round trip through {wire:?} changed the packet"
    );
    let mut second = BytesMut::new();
    encode(&again, version, &mut second).expect("re-encoding a round-tripped packet");
    assert_eq!(wire, second, "encoding is not stable for {packet:?}");
}

/// Splits `data` at its first `0xFF` byte: everything before it, and everything after it
/// (empty when there is no `0xFF`).
fn split_ff(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == 0xFF) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

/// `filter 0xFF name`: topic filters and names built from raw bytes and from text, the
/// `$share` split, and [`matches`] against a naive level-by-level reference.
pub fn topic(data: &[u8]) {
    let (f, n) = split_ff(data);
    let filter = check_filter_construction(f);
    let name = check_name_construction(n);
    if let Some(name) = &name {
        check_name_matches_itself(name);
    }
    if let (Some(filter), Some(name)) = (&filter, &name) {
        let expected = reference_matches(filter.matching_filter(), name.as_str());
        assert_eq!(
            filter.matches(name),
            expected,
            "filter {filter:?} against name {name:?}"
        );
    }
}

/// Builds a filter from raw bytes and checks it agrees with the text constructor and that
/// its parts (`$share` group and filter, wildcards) are what the text says.
fn check_filter_construction(raw: &[u8]) -> Option<TopicFilter> {
    let from_bytes = MqttString::from_bytes(Bytes::copy_from_slice(raw))
        .map_err(TopicError::from)
        .and_then(TopicFilter::from_mqtt_string);
    if let Ok(text) = std::str::from_utf8(raw) {
        assert_eq!(TopicFilter::new(text), from_bytes, "filter {text:?}");
    }
    let filter = from_bytes.ok()?;
    let text = filter.as_str();
    assert!(!text.is_empty() && !text.contains('\0'));
    match filter.shared() {
        Some(shared) => {
            assert_eq!(text, format!("$share/{}/{}", shared.group, shared.filter));
            assert!(!shared.group.is_empty() && !shared.group.contains(['+', '#', '/']));
            assert!(!shared.filter.is_empty());
            assert_eq!(filter.matching_filter(), shared.filter);
        }
        None => {
            assert!(
                !text.starts_with("$share/"),
                "unsplit shared filter {text:?}"
            );
            assert_eq!(filter.matching_filter(), text);
        }
    }
    let m = filter.matching_filter();
    assert_eq!(filter.has_wildcards(), m.contains(['+', '#']), "{text:?}");
    for level in m.split('/') {
        assert!(!level.contains(['+', '#']) || level == "+" || level == "#");
    }
    Some(filter)
}

/// Builds a name from raw bytes and checks it agrees with the text constructor and with the
/// rules (non-empty, no wildcard, no U+0000).
fn check_name_construction(raw: &[u8]) -> Option<TopicName> {
    let from_bytes = MqttString::from_bytes(Bytes::copy_from_slice(raw))
        .map_err(TopicError::from)
        .and_then(TopicName::from_mqtt_string);
    if let Ok(text) = std::str::from_utf8(raw) {
        assert_eq!(TopicName::new(text), from_bytes, "name {text:?}");
        let valid = !text.is_empty() && !text.contains(['+', '#', '\0']) && text.len() <= 65535;
        assert_eq!(from_bytes.is_ok(), valid, "name {text:?}");
    }
    let name = from_bytes.ok()?;
    assert_eq!(name.is_system(), name.as_str().starts_with('$'));
    Some(name)
}

/// A name is a valid filter without wildcards (unless it starts with `$share/`), and that
/// filter matches the name and nothing else it is compared with here.
fn check_name_matches_itself(name: &TopicName) {
    let text = name.as_str();
    assert!(matches(text, text), "{text:?} does not match itself");
    if text.starts_with("$share/") {
        return;
    }
    let filter = TopicFilter::new(text).expect("a topic name is a valid filter");
    assert!(!filter.has_wildcards());
    assert!(
        filter.matches(name),
        "{text:?} as a filter does not match itself"
    );
    if let Ok(longer) = TopicName::new(&format!("{text}/x")) {
        assert!(!filter.matches(&longer), "{text:?} matches {longer:?}");
    }
}

/// The specification's matching rule written the obvious way: split both at `/` and compare
/// level by level; `+` is any one level, `#` the rest (parent level included); filters
/// starting with a wildcard never match names starting with `$`.
fn reference_matches(filter: &str, name: &str) -> bool {
    if name.is_empty() || (name.starts_with('$') && filter.starts_with(['+', '#'])) {
        return false;
    }
    let (f, n): (Vec<&str>, Vec<&str>) = (filter.split('/').collect(), name.split('/').collect());
    for i in 0.. {
        match (f.get(i), n.get(i)) {
            (Some(&"#"), _) => return true,
            (None, None) => return true,
            (Some(&"+"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
    unreachable!()
}

/// `flags format 0xFF payload`: parses the `-F` format (UTF-8, else skipped) and renders a
/// message built from the flags and payload; rendering twice gives the same bytes, and a
/// format without `%`, `@` or `\` renders as itself.
pub fn format(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let (text, payload) = split_ff(rest);
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let Ok(format) = Format::parse(text) else {
        return;
    };
    let msg = message(flags, payload);
    let pretty = flags & 0x10 != 0;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let ra = format.render(&msg, pretty, &mut a);
    let rb = format.render(&msg, pretty, &mut b);
    assert_eq!((ra, &a), (rb, &b), "rendering {text:?} twice");
    if !text.contains(['%', '@', '\\']) {
        assert_eq!(
            a,
            text.as_bytes(),
            "a plain format is not printed as itself"
        );
    }
}

/// A received PUBLISH for the format target: bits 0–1 of `flags` the QoS, bit 2 retain,
/// bit 3 every 5.0 property set (from the payload), bits 5–7 one of eight topics.
fn message(flags: u8, payload: &[u8]) -> Received {
    use mqkit::protocol::{PacketId, PayloadFormat, Publish, QoS};
    use std::num::{NonZeroU16, NonZeroU32};
    const TOPICS: [&str; 8] = ["a/b", "t", "$SYS/x", "ü/€/😀", "a//b/", "/", " ", "x/y/z/w"];
    let topic = TopicName::new(TOPICS[usize::from(flags >> 5)]).expect("a valid topic");
    let mut p = Publish::new(topic, Bytes::copy_from_slice(payload));
    p.qos = QoS::from_u8(flags & 3).unwrap_or(QoS::ExactlyOnce);
    p.packet_id = (p.qos != QoS::AtMostOnce).then_some(PacketId::MIN);
    p.retain = flags & 4 != 0;
    if flags & 8 != 0 {
        let text: String = String::from_utf8_lossy(payload)
            .chars()
            .filter(|&c| c != '\0')
            .take(100)
            .collect();
        let s = |t: &str| MqttString::new(t).ok();
        let props = &mut p.properties;
        props.payload_format_indicator = Some(match std::str::from_utf8(payload) {
            Ok(_) => PayloadFormat::Utf8,
            Err(_) => PayloadFormat::Unspecified,
        });
        props.message_expiry_interval = Some(u32::MAX);
        props.topic_alias = NonZeroU16::new(u16::MAX);
        props.response_topic = TopicName::new("r/t").ok();
        props.correlation_data = Some(Bytes::copy_from_slice(payload));
        props.user_properties = s(&text).into_iter().map(|v| (v.clone(), v)).collect();
        props.subscription_identifiers = vec![NonZeroU32::MAX, NonZeroU32::MIN];
        props.content_type = s(&text);
    }
    Received {
        publish: p,
        at: SystemTime::UNIX_EPOCH + Duration::new(1_795_435_200, 123_456_789),
    }
}

/// A mosquitto.conf text (lossy UTF-8): parsing never panics, and an error names the path
/// given and a line of the text. Inputs with a line that reads other files (`include_dir`,
/// `password_file`) are skipped: the fuzzer must not read the disk.
pub fn conf(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if text.lines().any(reads_a_file) {
        return;
    }
    let path = Path::new("fuzz.conf");
    match ConfFile::parse(&text, path) {
        Ok(conf) => {
            let listeners = text.lines().filter(|l| l.contains("listener")).count();
            assert!(conf.listeners.len() <= listeners);
        }
        Err(e) => {
            assert_eq!(e.path, path);
            assert!(e.line >= 1 && e.line <= text.lines().count(), "{e}");
            let _ = e.to_string();
        }
    }
}

/// Whether a configuration line names a file or directory to read, as the parser splits it.
fn reads_a_file(line: &str) -> bool {
    let line = line.trim();
    let key = line
        .split_once(char::is_whitespace)
        .map_or(line, |(key, _)| key);
    key == "include_dir" || key == "password_file"
}

/// `passwd-file 0xFF password`: parses the file (lossy UTF-8) and checks the password against
/// its first users (the check runs every PBKDF2 iteration the file asks for); an unknown user
/// never passes, and an error names a line of the text.
pub fn passwd(data: &[u8]) {
    let (text, password) = split_ff(data);
    let text = String::from_utf8_lossy(text);
    let file = match PasswordFile::parse(&text) {
        Ok(file) => file,
        Err((line, why)) => {
            assert!(line >= 1 && line <= text.lines().count(), "{line}: {why}");
            return;
        }
    };
    assert!(file.len() <= text.lines().count());
    let users = text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(u, _)| u);
    for user in users.take(4) {
        let _ = file.check(user, password);
    }
    assert!(!file.check("\u{0}no such user\u{0}", password));
}

/// `acl-file 0xFF client-id 0xFF user 0xFF topic`: parses an ACL file (lossy UTF-8); an error
/// names a line of the text. For a file that parses, the rules of an anonymous client and of
/// the user are built (patterns filled in with the fuzzed ids) and asked about the topic, for
/// reading, writing and subscribing: nothing may panic.
pub fn acl(data: &[u8]) {
    use mqkit::broker::acl::{AclFile, Action};
    let (text, rest) = split_ff(data);
    let (client_id, rest) = split_ff(rest);
    let (user, topic) = split_ff(rest);
    let text = String::from_utf8_lossy(text);
    let file = match AclFile::parse(&text) {
        Ok(file) => file,
        Err((line, why)) => {
            assert!(line >= 1 && line <= text.lines().count(), "{line}: {why}");
            return;
        }
    };
    let client_id = String::from_utf8_lossy(client_id);
    let user = String::from_utf8_lossy(user);
    let topic = String::from_utf8_lossy(topic);
    for username in [None, Some(user.as_ref())] {
        let rules = file.for_client(username, &client_id);
        let _ = rules.allows(&topic, Action::Read);
        let _ = rules.allows(&topic, Action::Write);
        if mqkit::topic::TopicFilter::new(&topic).is_ok() {
            let _ = rules.may_subscribe(&topic);
        }
    }
}
