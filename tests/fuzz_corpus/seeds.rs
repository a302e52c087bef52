//! The seed inputs of the fuzz corpora: real packets of every type and version encoded by the
//! crate's own encoder (with the selector byte the decode targets expect in front), topic
//! pairs, `-F` formats from mosquitto_sub's documentation, `etc/mqbroker.conf` and small
//! configurations, and password files written by Debian's `mosquitto_passwd` 2.0.11.

use std::num::{NonZeroU16, NonZeroU32};
use std::path::Path;

use bytes::{Bytes, BytesMut};
use mqkit::protocol::{
    encode, Ack, Auth, ConnAck, Connect, Disconnect, LastWill, MqttString, Packet, PacketId,
    PayloadFormat, ProtocolVersion, Publish, QoS, ReasonCode, RetainHandling, SubAck, Subscribe,
    SubscribeProperties, Subscription, SubscriptionOptions, UnsubAck, Unsubscribe,
};
use mqkit::topic::TopicName;

use ProtocolVersion::{V31, V311, V5};

/// The first byte of a decode input: the version selector of `fuzz/bodies.rs`.
fn selector(version: ProtocolVersion) -> u8 {
    match version {
        V31 => 0,
        V311 => 1,
        V5 => 2,
    }
}

fn s(text: &str) -> MqttString {
    MqttString::new(text).expect("a valid string")
}

fn id(n: u16) -> PacketId {
    PacketId::new(n).expect("a non-zero packet id")
}

fn user_properties() -> Vec<(MqttString, MqttString)> {
    vec![(s("k"), s("v")), (s("k"), s("ü €"))]
}

/// A minimal CONNECT, and one with every field (will, user name, password, 5.0 properties).
fn connects(version: ProtocolVersion) -> Vec<Packet> {
    let minimal = Connect::new(version, s("c1"));
    let mut full = Connect::new(version, s("client-ü"));
    full.clean_start = false;
    full.keep_alive = 60;
    full.username = Some(s("alice"));
    full.password = Some(Bytes::from_static(b"se\0cret"));
    let mut will = LastWill {
        topic: TopicName::new("will/t").expect("a topic"),
        payload: Bytes::from_static(b"bye"),
        qos: QoS::AtLeastOnce,
        retain: true,
        properties: Default::default(),
    };
    if version.is_v5() {
        let p = &mut full.properties;
        p.session_expiry_interval = Some(3600);
        p.receive_maximum = NonZeroU16::new(10);
        p.maximum_packet_size = NonZeroU32::new(1 << 20);
        p.topic_alias_maximum = Some(5);
        p.request_response_information = Some(true);
        p.request_problem_information = Some(false);
        p.user_properties = user_properties();
        p.authentication_method = Some(s("SCRAM-SHA-1"));
        p.authentication_data = Some(Bytes::from_static(b"\x01\x02"));
        let w = &mut will.properties;
        w.will_delay_interval = Some(5);
        w.payload_format_indicator = Some(PayloadFormat::Utf8);
        w.message_expiry_interval = Some(60);
        w.content_type = Some(s("text/plain"));
        w.response_topic = TopicName::new("resp").ok();
        w.correlation_data = Some(Bytes::from_static(b"corr"));
        w.user_properties = user_properties();
    }
    full.will = Some(will);
    vec![
        Packet::Connect(Box::new(minimal)),
        Packet::Connect(Box::new(full)),
    ]
}

/// PUBLISH at QoS 0, 1 and 2, with 5.0 properties when the version has them.
fn publishes(version: ProtocolVersion) -> Vec<Packet> {
    let mut out = vec![Packet::Publish(Publish::new(
        TopicName::new("a/b").expect("a topic"),
        "hello",
    ))];
    let mut p = Publish::new(TopicName::new("sensors/ü/1").expect("a topic"), "21.5");
    p.qos = QoS::AtLeastOnce;
    p.packet_id = Some(id(1));
    p.retain = true;
    out.push(Packet::Publish(p.clone()));
    p.qos = QoS::ExactlyOnce;
    p.dup = true;
    p.packet_id = Some(id(65535));
    if version.is_v5() {
        let props = &mut p.properties;
        props.payload_format_indicator = Some(PayloadFormat::Utf8);
        props.message_expiry_interval = Some(10);
        props.topic_alias = NonZeroU16::new(3);
        props.response_topic = TopicName::new("r/t").ok();
        props.correlation_data = Some(Bytes::from_static(b"c"));
        props.user_properties = user_properties();
        props.subscription_identifiers =
            vec![NonZeroU32::MIN, NonZeroU32::new(268_435_455).expect("id")];
        props.content_type = Some(s("application/json"));
        out.push(Packet::Publish(p.clone()));
        // A Topic Alias alone, with the empty topic name.
        p.topic = TopicName::empty();
        p.properties = Default::default();
        p.properties.topic_alias = NonZeroU16::new(3);
    }
    out.push(Packet::Publish(p));
    out
}

/// PUBACK, PUBREC, PUBREL and PUBCOMP; in 5.0 also with a reason code and properties.
fn acks(version: ProtocolVersion) -> Vec<Packet> {
    let plain = Ack::new(id(7));
    let mut out = vec![
        Packet::PubAck(plain.clone()),
        Packet::PubRec(plain.clone()),
        Packet::PubRel(plain.clone()),
        Packet::PubComp(plain),
    ];
    if version.is_v5() {
        let with = |code: ReasonCode| {
            let mut a = Ack::new(id(8));
            a.reason_code = code;
            a.properties.reason_string = Some(s("why"));
            a.properties.user_properties = user_properties();
            a
        };
        out.push(Packet::PubAck(with(ReasonCode::NoMatchingSubscribers)));
        out.push(Packet::PubRec(with(ReasonCode::QuotaExceeded)));
        out.push(Packet::PubRel(with(ReasonCode::PacketIdentifierNotFound)));
        out.push(Packet::PubComp(with(ReasonCode::Success)));
        let mut code_only = Ack::new(id(9));
        code_only.reason_code = ReasonCode::NotAuthorized;
        out.push(Packet::PubAck(code_only));
    }
    out
}

/// SUBSCRIBE and UNSUBSCRIBE with several filters (wildcards, `$share`, every option).
fn subscriptions(version: ProtocolVersion) -> Vec<Packet> {
    let option = |qos, v5: bool| SubscriptionOptions {
        qos,
        no_local: v5,
        retain_as_published: v5,
        retain_handling: if v5 {
            RetainHandling::DoNotSend
        } else {
            RetainHandling::SendAtSubscribe
        },
    };
    let v5 = version.is_v5();
    let subscriptions = vec![
        Subscription {
            filter: s("a/+/c"),
            options: option(QoS::AtMostOnce, false),
        },
        Subscription {
            filter: s("sport/#"),
            options: option(QoS::AtLeastOnce, v5),
        },
        Subscription {
            filter: s(if v5 { "$share/g/x/#" } else { "#" }),
            options: option(QoS::ExactlyOnce, false),
        },
    ];
    let mut properties = SubscribeProperties::default();
    if v5 {
        properties.subscription_identifier = NonZeroU32::new(42);
        properties.user_properties = user_properties();
    }
    let unsubscribe = Unsubscribe {
        packet_id: id(3),
        filters: vec![s("a/+/c"), s("sport/#")],
        user_properties: if v5 { user_properties() } else { Vec::new() },
    };
    vec![
        Packet::Subscribe(Subscribe {
            packet_id: id(2),
            subscriptions,
            properties,
        }),
        Packet::Unsubscribe(unsubscribe),
    ]
}

/// Everything a client sends, for `version`.
fn client_packets(version: ProtocolVersion) -> Vec<Packet> {
    let mut out = connects(version);
    out.extend(publishes(version));
    out.extend(acks(version));
    out.extend(subscriptions(version));
    out.push(Packet::PingReq);
    out.push(Packet::Disconnect(Disconnect::new(ReasonCode::Success)));
    out.extend(both_ways_v5(version));
    out
}

/// DISCONNECT with a reason and properties, and AUTH: 5.0 only.
fn both_ways_v5(version: ProtocolVersion) -> Vec<Packet> {
    if !version.is_v5() {
        return Vec::new();
    }
    let mut d = Disconnect::new(ReasonCode::DisconnectWithWillMessage);
    d.properties.session_expiry_interval = Some(0);
    d.properties.reason_string = Some(s("bye"));
    d.properties.user_properties = user_properties();
    d.properties.server_reference = Some(s("other:1883"));
    let mut a = Auth {
        reason_code: ReasonCode::ContinueAuthentication,
        properties: Default::default(),
    };
    a.properties.authentication_method = Some(s("SCRAM-SHA-1"));
    a.properties.authentication_data = Some(Bytes::from_static(b"n,,n=user,r=abc"));
    a.properties.reason_string = Some(s("more"));
    a.properties.user_properties = user_properties();
    vec![Packet::Disconnect(d), Packet::Auth(a)]
}

/// Everything a server sends, for `version`.
fn server_packets(version: ProtocolVersion) -> Vec<Packet> {
    let mut out = connacks(version);
    out.extend(publishes(version));
    out.extend(acks(version));
    out.extend(sub_acks(version));
    out.push(Packet::PingResp);
    out.extend(both_ways_v5(version));
    out
}

fn connacks(version: ProtocolVersion) -> Vec<Packet> {
    let mut out = vec![
        Packet::ConnAck(ConnAck::new(ReasonCode::Success, false)),
        Packet::ConnAck(ConnAck::new(ReasonCode::Success, true)),
        Packet::ConnAck(ConnAck::new(ReasonCode::NotAuthorized, false)),
    ];
    if version.is_v5() {
        let mut c = ConnAck::new(ReasonCode::Success, false);
        let p = &mut c.properties;
        p.session_expiry_interval = Some(60);
        p.receive_maximum = NonZeroU16::new(20);
        p.maximum_qos = Some(QoS::AtLeastOnce);
        p.retain_available = Some(false);
        p.maximum_packet_size = NonZeroU32::new(1024);
        p.assigned_client_identifier = Some(s("auto-1"));
        p.topic_alias_maximum = Some(10);
        p.reason_string = Some(s("ok"));
        p.user_properties = user_properties();
        p.wildcard_subscription_available = Some(true);
        p.subscription_identifiers_available = Some(true);
        p.shared_subscription_available = Some(false);
        p.server_keep_alive = Some(30);
        p.response_information = Some(s("resp/"));
        p.server_reference = Some(s("b:1883"));
        p.authentication_method = Some(s("SCRAM-SHA-1"));
        p.authentication_data = Some(Bytes::from_static(b"x"));
        out.push(Packet::ConnAck(c));
    }
    out
}

fn sub_acks(version: ProtocolVersion) -> Vec<Packet> {
    let v5 = version.is_v5();
    let mut codes = vec![
        ReasonCode::Success,
        ReasonCode::GrantedQoS1,
        ReasonCode::GrantedQoS2,
        ReasonCode::UnspecifiedError,
    ];
    if v5 {
        codes.push(ReasonCode::TopicFilterInvalid);
    }
    let mut sub_ack = SubAck {
        packet_id: id(2),
        reason_codes: codes,
        properties: Default::default(),
    };
    let mut unsub_ack = UnsubAck {
        packet_id: id(3),
        reason_codes: Vec::new(),
        properties: Default::default(),
    };
    if v5 {
        sub_ack.properties.reason_string = Some(s("r"));
        sub_ack.properties.user_properties = user_properties();
        unsub_ack.reason_codes = vec![ReasonCode::Success, ReasonCode::NoSubscriptionExisted];
        unsub_ack.properties = sub_ack.properties.clone();
    }
    vec![Packet::SubAck(sub_ack), Packet::UnsubAck(unsub_ack)]
}

fn encoded(packet: &Packet, version: ProtocolVersion) -> Vec<u8> {
    let mut out = BytesMut::new();
    if let Err(e) = encode(packet, version, &mut out) {
        panic!("seed {packet:?} for {version}: {e}");
    }
    out.to_vec()
}

/// One file per packet, one small-maximum copy of each, and one stream of them all.
fn write_packets(dir: &Path, version: ProtocolVersion, packets: &[Packet], handshake: bool) {
    let sel = selector(version);
    let mut stream = vec![if handshake { 3 } else { sel }];
    for (i, packet) in packets.iter().enumerate() {
        let bytes = encoded(packet, version);
        let name = format!("seed-v{}-{i:02}-{}", version.level(), packet.packet_type());
        write(dir, &name, &[&[sel], &bytes[..]].concat());
        write(
            dir,
            &format!("{name}-small"),
            &[&[sel | 4], &bytes[..]].concat(),
        );
        stream.extend_from_slice(&bytes);
    }
    write(dir, &format!("seed-v{}-stream", version.level()), &stream);
}

fn write(dir: &Path, name: &str, data: &[u8]) {
    std::fs::create_dir_all(dir).expect("a corpus directory");
    std::fs::write(dir.join(name), data).expect("a seed file");
}

/// Writes every target's seeds under `corpus`.
pub fn write_all(corpus: &Path) {
    for version in [V31, V311, V5] {
        write_packets(
            &corpus.join("decode_server"),
            version,
            &client_packets(version),
            true,
        );
        write_packets(
            &corpus.join("decode_client"),
            version,
            &server_packets(version),
            false,
        );
    }
    write_topics(&corpus.join("topic"));
    write_formats(&corpus.join("format"));
    write_confs(&corpus.join("conf"));
    write_passwds(&corpus.join("passwd"));
}

fn write_topics(dir: &Path) {
    let pairs = [
        ("sport/tennis/+", "sport/tennis/player1"),
        ("sport/#", "sport"),
        ("+/+", "/finance"),
        ("#", "$SYS/broker/uptime"),
        ("$SYS/#", "$SYS/broker/uptime"),
        ("$share/group/a/+/c", "a/b/c"),
        ("$share/g/#", "x//y/"),
        ("a/+/b", "a//b"),
        ("ü/+/€", "ü/😀/€"),
        ("a/b#", "a/b+"),
        ("$share//x", "$share/g/x"),
    ];
    for (i, (filter, name)) in pairs.iter().enumerate() {
        let data = [filter.as_bytes(), &[0xFF], name.as_bytes()].concat();
        write(dir, &format!("seed-{i:02}"), &data);
    }
    write(dir, "seed-nul", b"a/\0/b\xFFa/\0/b");
    write(dir, "seed-invalid-utf8", b"a/\xC3\x28\xFFa/\xED\xA0\x80");
}

fn write_formats(dir: &Path) {
    let formats = [
        "%t %p",
        "%I %t %p",
        "%U %t %q %r %m %l",
        "%j",
        "%J",
        "%x %X %10x %-10X %010x",
        "%A %C %D %E %F %P %R %S",
        "%-20t|%20.3t|%05l|%-5m|%.4C|%08E",
        "@Y-@m-@d @H:@M:@S.@N @z @Z @@ %%",
        "\\e[31m%t\\e[0m\\t%p\\n\\0\\a\\v\\r\\\\",
        "%65535p",
        "plain text",
    ];
    for (i, text) in formats.iter().enumerate() {
        for flags in [0u8, 0x0D, 0x1B | 0xE0] {
            let payload: &[u8] = if i % 2 == 0 {
                b"{\"a\": [1, 2.5e3, true, null, \"\\u00fc\"]}"
            } else {
                b"bin\x00\xff\xc3"
            };
            let data = [&[flags], text.as_bytes(), &[0xFF], payload].concat();
            write(dir, &format!("seed-{i:02}-{flags:02x}"), &data);
        }
    }
}

fn write_confs(dir: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let reference = std::fs::read(root.join("etc/mqbroker.conf")).expect("etc/mqbroker.conf");
    write(dir, "seed-mqbroker.conf", &reference);
    let confs = [
        "listener 1883\nlistener 0 127.0.0.1\nlistener 8883 ::1\n",
        "max_packet_size 0\nmessage_size_limit 1000\nmax_qos 1\nmax_keepalive 65535\n",
        "persistent_client_expiration 14d\npersistent_client_expiration 1y\nsys_interval 10\n",
        "allow_anonymous true\nallow_zero_length_clientid false\nauto_id_prefix a b\n",
        "  # indented comment\n\tmax_queued_messages 10 \r\nqueue_qos0_messages false\n",
        "acl_file /etc/mosquitto/acl\n",
        "listner 1883\n",
        "max_topic_alias 10\nretain_available false\nmax_inflight_messages 20\n",
    ];
    for (i, text) in confs.iter().enumerate() {
        write(dir, &format!("seed-{i:02}.conf"), text.as_bytes());
    }
}

/// Written by Debian's `mosquitto_passwd -b FILE USER PASSWORD` (2.0.11), plus a `$6$` line.
fn write_passwds(dir: &Path) {
    let files: [&[u8]; 4] = [
        b"alice:$7$101$wm/mBSLaoiPiktzO$pbOQCny5d2ClOESJaQmAXpmGPDOl3jOy5uz4Koch7L00ViIJZ93eNMSE1ckvph1XmPYwP8lsofl0r3CwwEfkqg==\n\xFFsecret",
        b"# users\nbob:$6$MDEyMzQ1Njc4OWFi$ZmFrZQ==\n\nalice:plain\n\xFFpw",
        b"c:$7$1$AA==$AA==\n\xFF",
        b"nocolon\n",
    ];
    for (i, data) in files.iter().enumerate() {
        write(dir, &format!("seed-{i:02}"), data);
    }
    write_mosquitto_passwd(dir);
}

/// Runs Debian's `mosquitto_passwd` when it is installed, for fresh `$7$` lines.
fn write_mosquitto_passwd(dir: &Path) {
    let tmp = std::env::temp_dir().join(format!("mqkit-seed-passwd-{}", std::process::id()));
    std::fs::write(&tmp, "").expect("an empty password file");
    let users = [
        ("alice", "secret"),
        ("bob", "ü pass"),
        ("carol", ""),
        ("x", "p:w"),
    ];
    for (user, password) in users {
        let status = std::process::Command::new("mosquitto_passwd")
            .args([
                "-b".as_ref(),
                tmp.as_os_str(),
                user.as_ref(),
                password.as_ref(),
            ])
            .status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("mosquitto_passwd failed for {user}; skipped");
        }
    }
    if let Ok(text) = std::fs::read(&tmp) {
        let data = [&text[..], &[0xFF], b"secret"].concat();
        write(dir, "seed-mosquitto_passwd", &data);
        let _ = std::fs::remove_file(&tmp);
    }
}
