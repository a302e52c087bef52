//! Usage errors: exit status 1, one line on stderr naming the problem, nothing published (a
//! subscriber to everything the bad command lines name gets only the closing marker). Where
//! mosquitto_pub rejects the same command line, it exits 1 too.

use crate::harness::{mosquitto_pub, mqpub, observe, observed};
use crate::support::{clients_installed, BrokerProcess, Clients, Version};

/// A bad command line (after `-h 127.0.0.1 -p PORT`), a word its error line must contain, and
/// whether mosquitto_pub rejects it as well (mosquitto_pub accepts and ignores `-D SUBSCRIBE`,
/// `-V 311` with `-D`, and TLS options without a CA file; with a PSK it fails with 8).
const BAD: &[(&str, &str, bool)] = &[
    ("-t use/x", "must be supplied", true),
    ("-m x", "must be supplied", true),
    ("-t use/x -m x -n", "only one type", true),
    ("-t 'use/#' -m x", "'use/#'", true),
    ("-t use/+ -m x", "'use/+'", true),
    ("-t use/x -m x -q 3", "'3'", true),
    (
        "-t use/x -f /nonexistent/mqpub-test",
        "/nonexistent/mqpub-test",
        true,
    ),
    ("-t use/x -m x --bogus", "--bogus", true),
    (
        "-t use/x -m x -D PUBLISH bogus-property v",
        "bogus-property",
        true,
    ),
    (
        "-t use/x -m x -D SUBSCRIBE subscription-identifier 1",
        "SUBSCRIBE",
        false,
    ),
    (
        "-V 311 -t use/x -m x -D PUBLISH content-type c",
        "-V 5",
        false,
    ),
    ("-t use/x -m x -c", "-i", true),
    ("-t use/x -m x --repeat 0", "--repeat", true),
    ("-t use/x -m x --ciphers x", "--ciphers", false),
    ("-t use/x -m x --psk 00ff --psk-identity me", "--psk", false),
    ("-t use/x -m x --tls-version tlsv1.1", "tlsv1.1", false),
    ("-t use/x -m zz --encoding hex", "'zz'", false),
    ("-t use/x -m abc --encoding hex", "odd", false),
    (
        "-t use/x -m 'not base64!' --encoding base64",
        "base64",
        false,
    ),
    ("-t use/x -l --line-format nope", "nope", false),
];

/// Every line of [`BAD`] against mqbroker, with a subscriber to `use/#` watching.
#[test]
fn usage_errors_exit_1_with_one_line_and_publish_nothing() {
    if !clients_installed() {
        return;
    }
    let broker = BrokerProcess::start();
    let port = broker.port();
    let subscriber = observe(port, "use/#", 1);
    for (args, names, mosquitto_rejects) in BAD {
        let args = format!("-h 127.0.0.1 -p {port} {args}");
        let out = crate::support::run(mqpub(&args));
        assert_eq!(out.code(), 1, "{out}");
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line on stderr:\n{out}");
        assert!(lines[0].starts_with("mqpub: "), "{out}");
        assert!(lines[0].contains(names), "should name {names:?}:\n{out}");
        assert!(out.lines.is_empty(), "nothing on stdout:\n{out}");
        if *mosquitto_rejects {
            let mosq = crate::support::run(mosquitto_pub(&args));
            assert_eq!(mosq.code(), 1, "mosquitto_pub's status:\n{mosq}");
        }
    }
    Clients::new(port, Version::V5).publish_ok("-t use/end -m end");
    let got = observed(subscriber);
    assert_eq!(got.len(), 1, "only the marker: {got:?}");
    assert!(got[0].starts_with("use/end|"), "{got:?}");
}
