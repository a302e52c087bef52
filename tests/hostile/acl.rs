//! Attempts to get around the access control of `mqbroker` (`acl_file`, `password_file`,
//! `allow_anonymous`): wildcard and shared subscriptions over denied topics, `$SYS`, `%c` / `%u`
//! with wildcards or separators in client ids and user names, a stolen client id, topic aliases
//! re-mapped to denied topics, retained and will messages on denied topics, logins without the
//! right credentials (and how long a refusal takes), and an ACL reloaded under a connected
//! client. Every attempt must fail with the reason code the broker gives for a refusal (5.0
//! PUBACK / SUBACK / CONNACK 0x87, 3.1.1 SUBACK 0x80 and CONNACK 5), and nothing from a denied
//! topic may be delivered.
//!
//! "Nothing came" is never judged by waiting: a subscriber reads until a marker message that an
//! allowed client published after the denied ones ([`until_marker`]), or until the PINGRESP of
//! a round trip ([`Raw::ping`]) for retained messages, which are queued before the SUBACK is
//! written.

use std::num::{NonZeroU16, NonZeroU32};
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mqkit::broker::passwd::{hash_password, DEFAULT_ITERATIONS};
use mqkit::protocol::{
    ConnAck, Connect, Disconnect, LastWill, Packet, ProtocolVersion, Publish, QoS, ReasonCode,
};

use crate::attack::{mqtt, topic_name, unique, Broker, Raw, READ};
use crate::support::TempDir;

use ProtocolVersion::{V311, V5};

/// The rules every test runs under. Rules before the first `user` line are the anonymous
/// clients'; `admin` may read and write everything, `$SYS` included.
const ACL: &str = "\
topic read public/#
topic readwrite open/#

user alice
topic readwrite alice/#
topic deny alice/secret/#
topic readwrite open/#

user mallory
topic readwrite open/#
topic read public/#
topic readwrite reload/#

user bob
topic readwrite open/#

user admin
topic readwrite #
topic readwrite $SYS/#

pattern readwrite clients/%c/#
pattern readwrite users/%u/#
";

/// The users of the password file and their passwords; the last three have names that would
/// change the shape of `users/%u/#`.
const USERS: &[(&str, &str)] = &[
    ("alice", "alice-pw"),
    ("mallory", "mallory-pw"),
    ("bob", "bob-pw"),
    ("admin", "admin-pw"),
    ("+", "plus-pw"),
    // Not "#": a password file line starting with '#' is a comment (as in mosquitto).
    ("bob#", "hash-pw"),
    ("bob/x", "slash-pw"),
];

/// Where every subscriber expects its marker: allowed for everyone (anonymous clients too).
const MARKER: &str = "open/marker";

/// A broker with the password file of [`USERS`] and the ACL file [`ACL`].
struct Secured {
    broker: Broker,
    acl: PathBuf,
    _dir: TempDir,
}

impl Secured {
    /// Starts it; `extra` are more configuration lines (anonymous clients are allowed unless
    /// they say otherwise).
    fn start(extra: &str) -> Secured {
        let dir = TempDir::new("hostile-acl");
        let passwd = dir.path().join("passwd");
        let iterations = NonZeroU32::new(DEFAULT_ITERATIONS).expect("non-zero");
        let lines: String = USERS
            .iter()
            .map(|(user, pw)| {
                let hash = hash_password(pw.as_bytes(), iterations);
                format!("{user}:{}\n", hash.unwrap_or_else(|e| panic!("hash: {e}")))
            })
            .collect();
        std::fs::write(&passwd, lines).expect("write the password file");
        let acl = dir.path().join("acl");
        std::fs::write(&acl, ACL).expect("write the ACL file");
        let files = format!(
            "password_file {}\nacl_file {}\n{extra}",
            passwd.display(),
            acl.display()
        );
        Secured {
            broker: Broker::with_conf(&files),
            acl,
            _dir: dir,
        }
    }

    /// Sends `connect` and returns the connection and the CONNACK.
    fn try_login(&self, connect: Connect) -> (Raw, ConnAck) {
        Raw::connect_with(self.broker.port(), connect)
    }

    /// Logs in as `user` (with the right password; `None`: anonymous) and client `id`; the
    /// CONNACK must be a success.
    fn login(&self, version: ProtocolVersion, id: &str, user: Option<&str>) -> Raw {
        let (raw, connack) = self.try_login(login(version, id, user));
        assert_eq!(
            connack.reason_code,
            ReasonCode::Success,
            "{user:?}: {connack:?}"
        );
        raw
    }

    /// admin: may publish anywhere, so the markers and the messages on denied topics come
    /// from it.
    fn admin(&self) -> Raw {
        self.login(V5, &unique("admin"), Some("admin"))
    }

    /// Replaces the ACL file with `text`, sends SIGHUP and waits until a new connection of
    /// mallory is refused `reload/probe`.
    fn reload(&self, text: &str) {
        std::fs::write(&self.acl, text).expect("rewrite the ACL file");
        self.broker.signal("HUP");
        let deadline = Instant::now() + READ;
        loop {
            let mut probe = self.login(V5, &unique("probe"), Some("mallory"));
            if publish(&mut probe, "reload/probe", false) == ReasonCode::NotAuthorized {
                return;
            }
            assert!(Instant::now() < deadline, "the reload never took effect");
            thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A CONNECT as `user` with the password [`USERS`] gives it.
fn login(version: ProtocolVersion, id: &str, user: Option<&str>) -> Connect {
    let mut connect = Connect::new(version, mqtt(id));
    if let Some(user) = user {
        let (_, pw) = USERS
            .iter()
            .find(|(u, _)| *u == user)
            .expect("a known user");
        connect.username = Some(mqtt(user));
        connect.password = Some(Bytes::from_static(pw.as_bytes()));
    }
    connect
}

/// What a SUBACK says for a filter the ACL refuses: 0x87 in 5.0, 0x80 Failure in 3.1.1.
fn refused(version: ProtocolVersion) -> ReasonCode {
    match version {
        V5 => ReasonCode::NotAuthorized,
        _ => ReasonCode::UnspecifiedError,
    }
}

/// What a PUBACK says for a topic the ACL refuses: 0x87 in 5.0; 3.1.1's has no reason code.
fn denied_puback(version: ProtocolVersion) -> ReasonCode {
    match version {
        V5 => ReasonCode::NotAuthorized,
        _ => ReasonCode::Success,
    }
}

/// Publishes `publish` at QoS 1 and returns the PUBACK's reason code (always success in
/// 3.1.1, whose PUBACK has none).
fn send_qos1(raw: &mut Raw, mut publish: Publish) -> ReasonCode {
    publish.qos = QoS::AtLeastOnce;
    publish.packet_id = Some(raw.next_id());
    raw.send(&Packet::Publish(publish));
    match raw.recv() {
        Packet::PubAck(ack) => ack.reason_code,
        other => panic!("expected PUBACK, got {other:?}"),
    }
}

/// Publishes a message to `topic` at QoS 1, retained or not; returns the PUBACK's reason code.
fn publish(raw: &mut Raw, topic: &str, retain: bool) -> ReasonCode {
    let mut message = Publish::new(topic_name(topic), topic.to_owned());
    message.retain = retain;
    send_qos1(raw, message)
}

/// Publishes the marker (QoS 1) and asserts it was accepted.
fn mark(publisher: &mut Raw) {
    let code = publish(publisher, MARKER, false);
    assert!(!code.is_error(), "the marker was refused: {code:?}");
}

/// The topics of the messages `sub` receives before the marker, in order.
fn until_marker(sub: &mut Raw) -> Vec<String> {
    let mut topics = Vec::new();
    loop {
        let topic = sub.recv_publish().topic.as_str().to_owned();
        if topic == MARKER {
            return topics;
        }
        topics.push(topic);
    }
}

/// The topics of the messages that arrive before a PINGRESP (queued before the PINGREQ).
fn before_ping(sub: &mut Raw) -> Vec<String> {
    sub.ping()
        .into_iter()
        .map(|p| match p {
            Packet::Publish(p) => p.topic.as_str().to_owned(),
            other => panic!("expected PUBLISH or PINGRESP, got {other:?}"),
        })
        .collect()
}

/// Subscribes `raw` to each filter at QoS 1 and asserts the SUBACK codes: `true` granted,
/// `false` refused.
fn assert_suback(raw: &mut Raw, version: ProtocolVersion, cases: &[(&str, bool)]) {
    let filters: Vec<&str> = cases.iter().map(|(f, _)| *f).collect();
    let want: Vec<ReasonCode> = cases
        .iter()
        .map(|&(_, granted)| match granted {
            true => ReasonCode::GrantedQoS1,
            false => refused(version),
        })
        .collect();
    let suback = raw.subscribe(&filters, QoS::AtLeastOnce);
    assert_eq!(suback.reason_codes, want, "{version:?} {filters:?}");
}

/// Asserts that every topic in `topics` is `allowed`, naming the first that is not.
fn assert_only(topics: &[String], allowed: impl Fn(&str) -> bool, who: &str) {
    if let Some(bad) = topics.iter().find(|t| !allowed(t)) {
        panic!("{who} received '{bad}' (all received: {topics:?})");
    }
}

/// Retained messages on three topics (one alice may read, one her deny rule covers, one only
/// admin reaches), then live ones: alice's `#`, `+/secret/#`, `+/+/r` and `alice/#` (over her
/// deny) deliver only the first kind, mallory's wildcards nothing; filters that can receive
/// nothing are refused.
#[test]
fn wildcards_over_denied_topics_deliver_nothing_live_or_retained() {
    let secured = Secured::start("");
    let mut admin = secured.admin();
    for topic in ["alice/secret/r", "alice/ok/r", "priv/r"] {
        assert_eq!(
            publish(&mut admin, topic, true),
            ReasonCode::NoMatchingSubscribers
        );
    }
    for version in [V311, V5] {
        let mut alice = secured.login(version, &unique("alice"), Some("alice"));
        let alice_cases = [
            ("alice/#", true),
            ("#", true),
            ("+/secret/#", true),
            ("+/+/r", true),
            ("alice/secret/#", false),
            ("alice/secret/x", false),
        ];
        assert_suback(&mut alice, version, &alice_cases);
        let retained = before_ping(&mut alice);
        assert!(retained.contains(&"alice/ok/r".to_owned()), "{retained:?}");
        assert_only(&retained, |t| t == "alice/ok/r", "alice (retained)");
        let mut mallory = secured.login(version, &unique("mallory"), Some("mallory"));
        let mallory_cases = [
            ("#", true),
            ("+/secret/#", true),
            ("+/+/r", true),
            ("alice/#", false),
            ("priv/#", false),
        ];
        assert_suback(&mut mallory, version, &mallory_cases);
        assert_eq!(
            before_ping(&mut mallory),
            Vec::<String>::new(),
            "mallory (retained)"
        );
        for topic in ["alice/secret/x", "alice/y", "priv/z"] {
            assert!(!publish(&mut admin, topic, false).is_error());
        }
        mark(&mut admin);
        let seen = until_marker(&mut alice);
        assert!(seen.contains(&"alice/y".to_owned()), "{seen:?}");
        assert_only(&seen, |t| t == "alice/y", "alice");
        assert_eq!(until_marker(&mut mallory), Vec::<String>::new(), "mallory");
    }
}

/// Two connections of admin (who may read `$SYS/#`) on `#` and on `$SYS/#`, with `$SYS`
/// published every second: once the second got a live `$SYS` message, the first, subscribed
/// earlier, must have none [MQTT-4.7.2-1]; mallory may not subscribe to `$SYS`, nobody may
/// publish there.
#[test]
fn sys_topics_need_a_rule_and_hash_never_matches_them() {
    let secured = Secured::start("sys_interval 1");
    let mut everything = secured.admin();
    assert_suback(&mut everything, V5, &[("#", true), ("+/broker/#", true)]);
    let mut sys = secured.admin();
    assert_suback(&mut sys, V5, &[("$SYS/#", true)]);
    let deadline = Instant::now() + READ;
    while sys.recv_publish().retain {
        assert!(
            Instant::now() < deadline,
            "no live $SYS message within {READ:?}"
        );
    }
    assert_only(
        &before_ping(&mut everything),
        |t| !t.starts_with('$'),
        "admin on #",
    );
    for version in [V311, V5] {
        let mut mallory = secured.login(version, &unique("mallory"), Some("mallory"));
        let cases = [
            ("$SYS/#", false),
            ("$SYS/broker/uptime", false),
            ("#", true),
        ];
        assert_suback(&mut mallory, version, &cases);
        assert_eq!(before_ping(&mut mallory), Vec::<String>::new(), "mallory");
    }
    let mut admin = secured.admin();
    for retain in [false, true] {
        let code = publish(&mut admin, "$SYS/broker/fake", retain);
        assert_eq!(code, ReasonCode::NotAuthorized, "admin publishing to $SYS");
    }
    let mut fresh = secured.admin();
    assert_suback(&mut fresh, V5, &[("$SYS/broker/fake", true)]);
    assert_eq!(
        before_ping(&mut fresh),
        Vec::<String>::new(),
        "retained $SYS/broker/fake"
    );
    mark(&mut admin);
    assert_only(
        &until_marker(&mut everything),
        |t| !t.starts_with('$'),
        "admin on #",
    );
}

/// Client ids and user names that would put a wildcard or a level into `clients/%c/#` or
/// `users/%u/#`: the pattern does not apply to them at all, so they can neither subscribe to
/// the pattern's space (`filter`) nor publish into the victim's part of it.
#[test]
fn wildcards_and_separators_in_ids_and_user_names_never_widen_a_pattern() {
    let secured = Secured::start("");
    let mut victim = secured.login(V5, "victim", Some("bob"));
    let own = [
        ("clients/victim/#", true),
        ("users/bob/#", true),
        (MARKER, true),
    ];
    assert_suback(&mut victim, V5, &own);
    // (client id, user, the filter it tries): wildcards and separators in ids, then in names.
    let attackers: &[(&str, Option<&str>, &str)] = &[
        ("#", None, "clients/+/#"),
        ("+", None, "clients/#"),
        ("victim/x", None, "clients/victim/x/#"),
        (&unique("plus"), Some("+"), "users/+/#"),
        (&unique("hash"), Some("bob#"), "users/#"),
        (&unique("slash"), Some("bob/x"), "users/bob/x/#"),
    ];
    let targets = [
        "clients/victim/x",
        "clients/victim/x/y",
        "users/bob/x",
        "users/bob/x/y",
    ];
    for version in [V311, V5] {
        let want = denied_puback(version);
        for (id, user, filter) in attackers {
            let mut attacker = secured.login(version, id, *user);
            assert_suback(&mut attacker, version, &[(filter, false)]);
            for topic in targets {
                let code = publish(&mut attacker, topic, false);
                assert_eq!(code, want, "{version:?} {id:?} {user:?} on {topic}");
            }
            attacker.disconnect();
        }
    }
    mark(&mut secured.admin());
    assert_eq!(
        until_marker(&mut victim),
        Vec::<String>::new(),
        "the victim"
    );
}

/// An empty client id gets an assigned one, which `%c` uses: `clients//x` stays out of reach
/// and `clients/+/#`, granted for the client's own level, delivers nobody else's messages.
#[test]
fn an_empty_client_id_reaches_only_its_assigned_id() {
    let secured = Secured::start("");
    let (mut empty, connack) = secured.try_login(login(V5, "", None));
    assert_eq!(connack.reason_code, ReasonCode::Success);
    let assigned = connack
        .properties
        .assigned_client_identifier
        .expect("an assigned id");
    assert_suback(&mut empty, V5, &[("clients/+/#", true), (MARKER, true)]);
    assert_eq!(
        publish(&mut empty, "clients//x", false),
        ReasonCode::NotAuthorized
    );
    let mut admin = secured.admin();
    for topic in [
        "clients//x",
        "clients/victim/x",
        &format!("clients/{assigned}/own"),
    ] {
        assert!(!publish(&mut admin, topic, false).is_error());
    }
    mark(&mut admin);
    let seen = until_marker(&mut empty);
    assert_eq!(seen, [format!("clients/{assigned}/own")]);
}

/// bob (client `id`, a session that outlives the connection) subscribed to `users/bob/#` at
/// QoS 1; when `unacked`, admin's message `users/bob/inflight` was sent to bob and not
/// acknowledged. bob then disconnects normally and the broker has closed the connection.
fn bob_session_left_behind(secured: &Secured, id: &str, unacked: bool) {
    let mut connect = login(V5, id, Some("bob"));
    connect.properties.session_expiry_interval = Some(300);
    let (mut bob, _) = secured.try_login(connect);
    assert_suback(&mut bob, V5, &[("users/bob/#", true)]);
    if unacked {
        assert!(!publish(&mut secured.admin(), "users/bob/inflight", false).is_error());
        assert!(matches!(bob.recv(), Packet::Publish(_)), "bob's message");
    }
    bob.send(&Packet::Disconnect(Disconnect::new(
        ReasonCode::NORMAL_DISCONNECTION,
    )));
    assert_eq!(bob.expect_closed("bob's normal disconnect"), None);
}

/// mallory connects as bob's client id, resuming bob's session; returns the connection and
/// the topics of what it received before a PINGRESP (the resent and queued messages come first).
fn mallory_resumes(secured: &Secured, id: &str) -> (Raw, Vec<String>) {
    let mut connect = login(V5, id, Some("mallory"));
    connect.clean_start = false;
    connect.properties.session_expiry_interval = Some(300);
    let (mut mallory, connack) = secured.try_login(connect);
    assert_eq!(connack.reason_code, ReasonCode::Success);
    assert!(connack.session_present, "the session is resumed");
    let received = before_ping(&mut mallory);
    (mallory, received)
}

/// A client id is not a credential (as in mosquitto): mallory can take over bob's session, but
/// messages queued for bob's subscription are checked against mallory's rules.
#[test]
fn a_stolen_client_id_gives_no_access_to_queued_messages() {
    let secured = Secured::start("");
    let id = unique("bobs-device");
    bob_session_left_behind(&secured, &id, false);
    let mut admin = secured.admin();
    assert_eq!(
        publish(&mut admin, "users/bob/queued", false),
        ReasonCode::Success
    );
    let (mut mallory, received) = mallory_resumes(&secured, &id);
    assert_eq!(received, Vec::<String>::new(), "mallory as {id}, at once");
    assert_suback(&mut mallory, V5, &[(MARKER, true)]);
    assert_eq!(
        publish(&mut admin, "users/bob/live", false),
        ReasonCode::Success
    );
    mark(&mut admin);
    assert_eq!(
        until_marker(&mut mallory),
        Vec::<String>::new(),
        "mallory as {id}"
    );
}

/// A QoS 1 message in flight to bob (sent, not acknowledged) is resent with DUP when the
/// session resumes [MQTT-4.4.0-1]; when mallory resumes it, the resend must be checked against
/// mallory's rules as every other delivery is.
#[test]
fn a_stolen_client_id_gives_no_access_to_messages_in_flight() {
    let secured = Secured::start("");
    let id = unique("bobs-device");
    bob_session_left_behind(&secured, &id, true);
    let (_mallory, received) = mallory_resumes(&secured, &id);
    assert_eq!(received, Vec::<String>::new(), "mallory as {id}");
}

/// A 5.0 PUBLISH with a topic alias and no topic name: an alias set on an allowed topic and then
/// re-mapped to a denied one, or set on a denied one from the start, never reaches it.
#[test]
fn topic_aliases_never_reach_denied_topics() {
    let secured = Secured::start("");
    let mut watcher = secured.admin();
    assert_suback(&mut watcher, V5, &[("#", true)]);
    let mut mallory = secured.login(V5, &unique("mallory"), Some("mallory"));
    let by_alias = |topic: &str, alias: u16| {
        let mut publish = Publish::new(topic_name_or_empty(topic), "by alias");
        publish.properties.topic_alias = NonZeroU16::new(alias);
        publish
    };
    let steps: [(&str, u16, ReasonCode); 6] = [
        ("open/a", 1, ReasonCode::Success),
        ("", 1, ReasonCode::Success),
        ("alice/x", 1, ReasonCode::NotAuthorized),
        ("", 1, ReasonCode::NotAuthorized),
        ("alice/y", 2, ReasonCode::NotAuthorized),
        ("", 2, ReasonCode::NotAuthorized),
    ];
    for (topic, alias, want) in steps {
        let code = send_qos1(&mut mallory, by_alias(topic, alias));
        assert_eq!(code, want, "topic {topic:?} alias {alias}");
    }
    mark(&mut mallory);
    assert_eq!(until_marker(&mut watcher), ["open/a", "open/a"]);
}

/// A topic name, or the empty one a PUBLISH carries when it goes by its alias.
fn topic_name_or_empty(topic: &str) -> mqkit::topic::TopicName {
    match topic {
        "" => mqkit::topic::TopicName::empty(),
        _ => topic_name(topic),
    }
}

/// `$share/{group}/...`: a shared filter is judged by the filter it shares, and each message
/// by the topic it is on.
#[test]
fn shared_subscriptions_never_deliver_denied_topics() {
    let secured = Secured::start("");
    let mut mallory = secured.login(V5, &unique("mallory"), Some("mallory"));
    let cases = [
        ("$share/g/alice/#", false),
        ("$share/g/$SYS/#", false),
        ("$share/g/alice/secret/x", false),
        ("$share/g/#", true),
        ("$share/g/+/secret/#", true),
    ];
    assert_suback(&mut mallory, V5, &cases);
    let mut admin = secured.admin();
    for topic in ["alice/x", "alice/secret/y", "priv/z"] {
        assert!(!publish(&mut admin, topic, false).is_error());
    }
    mark(&mut admin);
    assert_eq!(until_marker(&mut mallory), Vec::<String>::new(), "mallory");
}

/// mallory cannot store a retained message on alice's topics, nor delete alice's (an empty
/// retained message), at QoS 0 or 1, in either version.
#[test]
fn retained_messages_on_denied_topics_are_neither_stored_nor_deleted() {
    let secured = Secured::start("");
    let mut admin = secured.admin();
    assert!(!publish(&mut admin, "alice/keep", true).is_error());
    for version in [V311, V5] {
        let mut mallory = secured.login(version, &unique("mallory"), Some("mallory"));
        let want = denied_puback(version);
        assert_eq!(publish(&mut mallory, "alice/stored", true), want);
        let mut qos0 = Publish::new(topic_name("alice/stored0"), "qos 0");
        qos0.retain = true;
        let mut delete = Publish::new(topic_name("alice/keep"), Bytes::new());
        delete.retain = true;
        mallory.send_all([Packet::Publish(qos0), Packet::Publish(delete)]);
        assert_eq!(mallory.ping(), Vec::<Packet>::new());
    }
    let mut alice = secured.login(V5, &unique("alice"), Some("alice"));
    assert_suback(&mut alice, V5, &[("alice/#", true)]);
    match &alice.ping()[..] {
        [Packet::Publish(p)] => assert_eq!(
            (p.topic.as_str(), &p.payload[..]),
            ("alice/keep", &b"alice/keep"[..])
        ),
        other => panic!("alice's retained messages: {other:?}"),
    }
}

/// A CONNECT as mallory with a retained QoS 1 will on `topic`.
fn with_will(version: ProtocolVersion, user: Option<&str>, topic: &str) -> Connect {
    let mut connect = login(version, &unique("testator"), user);
    connect.will = Some(LastWill {
        topic: topic_name(topic),
        payload: Bytes::from_static(b"will"),
        qos: QoS::AtLeastOnce,
        retain: true,
        properties: Default::default(),
    });
    connect
}

/// Connects with `connect` and ends the connection so that the will is due: 5.0 DISCONNECT
/// 0x04, or in 3.1.1 a second CONNECT (a protocol error). Returns once the broker has closed
/// the connection, which it does after handling the will.
fn leave_will(secured: &Secured, connect: Connect) {
    let version = connect.version;
    let (mut raw, connack) = secured.try_login(connect.clone());
    assert_eq!(connack.reason_code, ReasonCode::Success);
    match version {
        V5 => raw.send(&Packet::Disconnect(Disconnect::new(
            ReasonCode::DisconnectWithWillMessage,
        ))),
        _ => raw.send(&Packet::Connect(Box::new(connect))),
    }
    raw.expect_closed("the connection whose will is due");
}

/// Retained QoS 1 wills of mallory on alice's topic and of an anonymous client on admin's are
/// dropped, in both versions; the same will on an allowed topic (the marker) goes out.
#[test]
fn wills_on_denied_topics_are_never_published_nor_retained() {
    let secured = Secured::start("");
    let mut watcher = secured.admin();
    assert_suback(&mut watcher, V5, &[("#", true)]);
    for version in [V311, V5] {
        leave_will(&secured, with_will(version, Some("mallory"), "alice/will"));
        leave_will(&secured, with_will(version, None, "priv/will"));
        // The positive control: the same will on an allowed topic goes out.
        leave_will(&secured, with_will(version, Some("mallory"), MARKER));
        assert_eq!(
            until_marker(&mut watcher),
            Vec::<String>::new(),
            "{version:?}"
        );
    }
    let mut admin = secured.admin();
    assert_suback(&mut admin, V5, &[("alice/#", true), ("priv/#", true)]);
    assert_eq!(
        before_ping(&mut admin),
        Vec::<String>::new(),
        "retained wills"
    );
}

/// Clients may not publish to `$SYS` (refused with 0x87 even without an ACL file); a will is a
/// publication on the client's behalf and must be refused the same way.
#[test]
fn wills_cannot_publish_to_sys() {
    let broker = Broker::start();
    let mut sys = broker.client(V5, &unique("sys"));
    assert_suback(&mut sys, V5, &[("$SYS/#", true)]);
    let mut direct = broker.client(V5, &unique("direct"));
    let code = publish(&mut direct, "$SYS/broker/version", true);
    assert_eq!(code, ReasonCode::NotAuthorized, "a PUBLISH to $SYS");
    let mut connect = with_will(V5, None, "$SYS/broker/version");
    connect.client_id = mqtt(&unique("testator"));
    let (mut raw, _) = Raw::connect_with(broker.port(), connect);
    raw.send(&Packet::Disconnect(Disconnect::new(
        ReasonCode::DisconnectWithWillMessage,
    )));
    raw.expect_closed("the connection whose will is due");
    assert_eq!(before_ping(&mut sys), Vec::<String>::new(), "live $SYS");
    let mut fresh = broker.client(V5, &unique("fresh"));
    assert_suback(&mut fresh, V5, &[("$SYS/#", true)]);
    assert_eq!(
        before_ping(&mut fresh),
        Vec::<String>::new(),
        "retained $SYS"
    );
}

/// The CONNACK code `connect` gets, as the version sends it (5.0 reason code, 3.1.1 return
/// code).
fn connack_code(secured: &Secured, connect: Connect) -> u8 {
    let version = connect.version;
    secured.try_login(connect).1.code_for(version)
}

/// Anonymous clients only with `allow_anonymous true`; a user name without a password, with a
/// wrong one, or unknown, is refused either way (CONNACK 0x87 / 5); without a password file
/// and with `allow_anonymous false`, nobody gets in.
#[test]
fn only_configured_anonymous_access_and_only_right_passwords() {
    let closed = Secured::start("allow_anonymous false");
    let open = Secured::start("");
    for (version, refusal) in [(V311, 5), (V5, 0x87)] {
        let anonymous = || login(version, &unique("anon"), None);
        assert_eq!(connack_code(&closed, anonymous()), refusal, "anonymous");
        assert_eq!(connack_code(&open, anonymous()), 0, "allow_anonymous true");
        let mut no_password = login(version, &unique("nopw"), Some("alice"));
        no_password.password = None;
        let mut wrong = login(version, &unique("wrong"), Some("alice"));
        wrong.password = Some(Bytes::from_static(b"mallory-pw"));
        let mut unknown = login(version, &unique("unknown"), Some("alice"));
        unknown.username = Some(mqtt("eve"));
        for (what, connect) in [
            ("no password", no_password),
            ("wrong", wrong),
            ("eve", unknown),
        ] {
            assert_eq!(connack_code(&closed, connect.clone()), refusal, "{what}");
            assert_eq!(
                connack_code(&open, connect),
                refusal,
                "{what}, anonymous allowed"
            );
        }
        assert_eq!(
            connack_code(&closed, login(version, "alice-ok", Some("alice"))),
            0
        );
    }
    let bare = Broker::with_conf("allow_anonymous false");
    let (_, connack) = Raw::connect_with(bare.port(), login(V5, "alice", Some("alice")));
    assert_eq!(
        connack.reason_code,
        ReasonCode::NotAuthorized,
        "no password file"
    );
}

/// How long `connect` takes from TCP connect to CONNACK.
fn time_login(secured: &Secured, connect: &Connect) -> Duration {
    let started = Instant::now();
    let (_raw, _) = secured.try_login(connect.clone());
    started.elapsed()
}

/// A wrong password for a known user, any password for an unknown one, and the right one take
/// about as long: the medians of 21 interleaved tries each are within a factor of 2.5 of each
/// other. The work compared is one PBKDF2 of `mosquitto_passwd`'s 101 iterations, about twice
/// what the rest of a login costs in a debug build, so skipping it for unknown users would
/// show as a factor of about 3 (the medians are printed, with an anonymous login's).
#[test]
fn refusals_take_as_long_for_unknown_users() {
    let secured = Secured::start("");
    let mut unknown = login(V5, "timing-unknown", Some("alice"));
    unknown.username = Some(mqtt("eve"));
    let mut wrong = login(V5, "timing-wrong", Some("alice"));
    wrong.password = Some(Bytes::from_static(b"not-alices"));
    let right = login(V5, "timing-right", Some("alice"));
    // No password check at all: what the others cost beyond it is the check.
    let anonymous = login(V5, "timing-anonymous", None);
    let cases = [right, wrong, unknown, anonymous];
    let mut tries: [Vec<Duration>; 4] = Default::default();
    for _ in 0..21 {
        for (connect, times) in cases.iter().zip(&mut tries) {
            times.push(time_login(&secured, connect));
        }
    }
    let medians = tries.map(|mut times| {
        times.sort();
        times[times.len() / 2]
    });
    let [right, wrong, unknown, anonymous] = medians;
    eprintln!(
        "median CONNACK: right {right:?}, wrong {wrong:?}, unknown user {unknown:?}, \
         anonymous (no check) {anonymous:?}"
    );
    let fastest = right.min(wrong).min(unknown);
    let slowest = right.max(wrong).max(unknown);
    assert!(
        slowest < fastest * 5 / 2,
        "medians differ by more than 2.5x: right {right:?}, wrong {wrong:?}, unknown {unknown:?}"
    );
}

/// [`ACL`] without mallory's `reload/#` rule.
fn acl_without_reload() -> String {
    ACL.replace("topic readwrite reload/#\n", "")
}

/// After a reload that takes `reload/#` away from mallory, mallory's existing subscription
/// delivers nothing more and new attempts are refused.
#[test]
fn a_reload_revokes_reading_at_once() {
    let secured = Secured::start("");
    let mut mallory = secured.login(V5, &unique("mallory"), Some("mallory"));
    assert_suback(&mut mallory, V5, &[("reload/#", true), (MARKER, true)]);
    let mut admin = secured.admin();
    assert_eq!(
        publish(&mut admin, "reload/before", false),
        ReasonCode::Success
    );
    mark(&mut admin);
    assert_eq!(until_marker(&mut mallory), ["reload/before"]);
    secured.reload(&acl_without_reload());
    assert!(!publish(&mut admin, "reload/after", false).is_error());
    mark(&mut admin);
    // The reload's own probes (published until one is refused) may have been delivered before
    // the reload took effect; nothing published after it may be.
    let after: Vec<String> = until_marker(&mut mallory)
        .into_iter()
        .filter(|t| t != "reload/probe")
        .collect();
    assert_eq!(after, Vec::<String>::new());
    assert_eq!(
        publish(&mut mallory, "reload/x", false),
        ReasonCode::NotAuthorized
    );
    assert_suback(&mut mallory, V5, &[("reload/#", false)]);
}

/// The first packets a connected client sends after a reload are judged by the new rules too.
#[test]
fn a_reload_revokes_writing_at_once() {
    let secured = Secured::start("");
    let mut watcher = secured.admin();
    assert_suback(&mut watcher, V5, &[("reload/#", true), (MARKER, true)]);
    let mut mallory = secured.login(V5, &unique("mallory"), Some("mallory"));
    assert_eq!(
        publish(&mut mallory, "reload/before", false),
        ReasonCode::Success
    );
    secured.reload(&acl_without_reload());
    let denied = mallory.publish_packet("reload/after", "after", QoS::AtLeastOnce);
    let subscribe = mallory.subscribe_packet(&["reload/#"], QoS::AtLeastOnce);
    mallory.send_all([Packet::Publish(denied), subscribe]);
    let answers: Vec<ReasonCode> = (0..2)
        .map(|_| match mallory.recv() {
            Packet::PubAck(ack) => ack.reason_code,
            Packet::SubAck(suback) => suback.reason_codes[0],
            other => panic!("expected PUBACK and SUBACK, got {other:?}"),
        })
        .collect();
    assert_eq!(answers, [ReasonCode::NotAuthorized; 2], "PUBACK, SUBACK");
    mark(&mut secured.admin());
    // A probe of `Secured::reload` that ran before the reload took effect was published.
    let seen: Vec<String> = until_marker(&mut watcher)
        .into_iter()
        .filter(|t| t != "reload/probe")
        .collect();
    assert_eq!(seen, ["reload/before"]);
}
