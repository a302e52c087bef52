//! `acl_file`: one ACL file and one password file (made by Debian's `mosquitto_passwd`) give the
//! same publish and delivery decisions on mqbroker as on Debian's mosquitto, side by side; and
//! mqbroker refuses a SUBSCRIBE that can never receive anything (0x87 / 0x80), where mosquitto
//! 2.0.11 grants it and delivers nothing.

use std::process::Command;

use crate::support::{
    clients_installed, mosquitto_installed, Clients, MosquittoBroker, Running, TempDir, Version,
};

/// Rules of every kind: anonymous, per user, read / write / readwrite / deny, patterns with
/// `%c` and `%u`, `$SYS`.
const ACL: &str = "\
# anonymous clients
topic readwrite interop/#
topic read public/#

user alice
topic read interop/#
topic readwrite alice/#
topic read sensors/+/temp
topic deny sensors/secret/temp
topic write cmd/#
topic read $SYS/broker/uptime

user admin
topic write #

pattern readwrite clients/%c/#
pattern read users/%u/inbox
";

/// The topics every test publishes to, each allowed or denied by a different rule.
const TOPICS: &[&str] = &[
    "alice/x",
    "sensors/a/temp",
    "sensors/secret/temp",
    "cmd/x",
    "clients/c1/y",
    "clients/c9/y",
    "users/alice/inbox",
    "public/p",
    "other",
];

/// The config lines naming a password file (alice, admin) and the ACL file, in `dir`.
fn auth_files(dir: &TempDir) -> String {
    let passwd = dir.path().join("passwd");
    for (i, (user, password)) in [("alice", "secret"), ("admin", "root")].iter().enumerate() {
        let mut command = Command::new("mosquitto_passwd");
        command.arg("-b");
        if i == 0 {
            command.arg("-c");
        }
        let made = command
            .arg(&passwd)
            .args([user, password])
            .status()
            .unwrap();
        assert!(made.success(), "mosquitto_passwd failed");
    }
    let acl = dir.path().join("acl");
    std::fs::write(&acl, ACL).unwrap();
    format!(
        "password_file {}\nacl_file {}\n",
        passwd.display(),
        acl.display()
    )
}

/// mqbroker with `extra` configuration lines (and anonymous access), and its port.
fn mqbroker_with(dir: &TempDir, extra: &str) -> (Running, u16) {
    let conf = dir.path().join("mqbroker.conf");
    let text = format!("listener 0 127.0.0.1\nallow_anonymous true\n{extra}");
    std::fs::write(&conf, text).unwrap();
    let (broker, ports) = crate::support::mqbroker_conf(&conf, 1);
    (broker, ports[0])
}

/// The PUBACK reason code `mosquitto_pub -d -q 1 ARGS` reports ("none" without one).
pub(crate) fn puback_code(clients: Clients, args: &str) -> String {
    let out = crate::support::run(clients.publish(&format!("-d -q 1 {args}")));
    out.lines
        .iter()
        .find_map(|l| l.split_once("received PUBACK (Mid: 1, RC:"))
        .map_or("none", |(_, rest)| rest.trim_end_matches(')'))
        .to_owned()
}

/// The PUBACK reason code `mosquitto_pub -d -q 1` reports for each topic, as `topic=code`.
fn puback_codes(clients: Clients, login: &str) -> Vec<String> {
    TOPICS
        .iter()
        .map(|topic| {
            let code = puback_code(clients, &format!("{login} -t {topic} -m x"));
            format!("{topic}={code}")
        })
        .collect()
}

/// Who publishes: anonymous, alice as client c1, alice as client c9.
const LOGINS: &[&str] = &[
    "-i anon",
    "-u alice -P secret -i c1",
    "-u alice -P secret -i c9",
];

#[test]
fn publish_decisions_are_mosquittos() {
    if !clients_installed() || !mosquitto_installed() {
        return;
    }
    let dir = TempDir::new("acl-publish");
    let extra = auth_files(&dir);
    let mosquitto = MosquittoBroker::start_with(&extra);
    let (_mqbroker, port) = mqbroker_with(&dir, &extra);
    for version in [Version::V311, Version::V5] {
        for login in LOGINS {
            let ours = puback_codes(Clients::new(port, version), login);
            let theirs = puback_codes(Clients::new(mosquitto.port(), version), login);
            assert_eq!(
                ours, theirs,
                "{version:?} {login}: mqbroker (left), mosquitto (right)"
            );
        }
    }
    // The comparison is not vacuous: a 5.0 client is told 0x87 for a denied topic
    // [MQTT-3.4.2.1] and 0x10 or 0 for an allowed one.
    let alice = puback_codes(Clients::new(port, Version::V5), LOGINS[1]);
    assert!(
        alice.contains(&"sensors/a/temp=135".to_owned()),
        "{alice:?}"
    );
    assert!(!alice.contains(&"alice/x=135".to_owned()), "{alice:?}");
}

/// What alice receives on `#` while admin (who may write anywhere) publishes to every topic.
fn delivered(port: u16, version: Version) -> Vec<String> {
    let clients = Clients::new(port, version);
    let mut sub = clients.subscribed("-u alice -P secret -i c1 -q 1 -v -t '#'", 1000);
    for topic in TOPICS.iter().chain(&["alice/zz-end"]) {
        clients.publish_ok(&format!("-u admin -P root -q 1 -t {topic} -m m"));
    }
    sub.wait_for_line("the last message", |l| l.starts_with("alice/zz-end"));
    let out = sub.kill();
    out.without_probe().iter().map(|l| l.to_string()).collect()
}

#[test]
fn delivery_decisions_are_mosquittos() {
    if !clients_installed() || !mosquitto_installed() {
        return;
    }
    let dir = TempDir::new("acl-deliver");
    let extra = auth_files(&dir);
    let mosquitto = MosquittoBroker::start_with(&extra);
    let (_mqbroker, port) = mqbroker_with(&dir, &extra);
    for version in [Version::V311, Version::V5] {
        let ours = delivered(port, version);
        assert_eq!(
            ours,
            delivered(mosquitto.port(), version),
            "mqbroker (left), mosquitto (right)"
        );
        // Read access is checked per message: the deny rule inside sensors/+/temp holds.
        assert!(ours.contains(&"sensors/a/temp m".to_owned()), "{ours:?}");
        assert!(
            !ours.iter().any(|l| l.starts_with("sensors/secret")),
            "{ours:?}"
        );
    }
}

/// The SUBACK code `mosquitto_sub -d` reports for each filter (all subscribing at once).
fn subacks(clients: Clients, filters: &[&str]) -> Vec<String> {
    let running: Vec<Running> = filters
        .iter()
        .enumerate()
        .map(|(i, filter)| {
            let args = format!("-d -u alice -P secret -i c1-{i} -t '{filter}' -W 1");
            Running::spawn(clients.subscribe(&args))
        })
        .collect();
    running
        .into_iter()
        .map(|r| {
            let out = r.finish();
            out.lines
                .iter()
                .find_map(|l| l.split_once("Subscribed (mid: 1): "))
                .map_or("none".to_owned(), |(_, code)| code.to_owned())
        })
        .collect()
}

#[test]
fn subscriptions_that_can_receive_nothing_are_refused() {
    if !clients_installed() {
        return;
    }
    let dir = TempDir::new("acl-subscribe");
    let (_mqbroker, port) = mqbroker_with(&dir, &auth_files(&dir));
    for (version, refused) in [(Version::V311, "128"), (Version::V5, "135")] {
        let cases = [
            ("#", "0"),
            ("sensors/+/temp", "0"),
            ("clients/c1-2/#", "0"), // its own client id, by the %c pattern
            ("$SYS/broker/uptime", "0"),
            ("sensors/secret/temp", refused),
            ("cmd/x", refused),
            ("clients/c9/#", refused),
            ("$SYS/#", "0"),
            ("$SYS/broker/load", refused),
            ("$share/g/cmd/x", refused),
        ];
        let filters: Vec<&str> = cases.iter().map(|(f, _)| *f).collect();
        let got = subacks(Clients::new(port, version), &filters);
        let want: Vec<String> = cases.iter().map(|(_, c)| c.to_string()).collect();
        assert_eq!(got, want, "{version:?}: {filters:?}");
    }
}
