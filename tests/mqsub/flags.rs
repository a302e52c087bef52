//! mosquitto_sub's subscription flags, mqsub and mosquitto_sub side by side on one broker:
//! several `-t`, `-T`, `-R`, `--retained-only`, `--remove-retained`, `-U` with a persistent
//! session. Each test checks both the expected lines and that the two print the same bytes.

use std::process::Command;

use crate::harness::{Broker, BrokerKind, Raw, Subscribers};
use crate::support::{Version, WAIT};

both_brokers!(
    several_filters_are_subscribed_in_one_go,
    filter_out_is_neither_printed_nor_counted,
    no_retained_skips_retained_messages_mqtt_3_3_1_11,
    retained_only_prints_retained_and_exits_at_the_first_live_message,
    remove_retained_clears_retained_messages_mqtt_3_3_1_10,
    unsubscribe_stops_the_session_queueing_mqtt_3_10_4_2,
);

fn start(kind: BrokerKind, v: Version) -> Option<(Broker, Subscribers)> {
    let broker = Broker::start(kind)?;
    let s = Subscribers::new(broker.port(), v);
    Some((broker, s))
}

/// `-t` repeated: every filter is subscribed, wildcards included, and messages that match
/// none are not printed.
fn several_filters_are_subscribed_in_one_go(kind: BrokerKind, v: Version) {
    let Some((_broker, s)) = start(kind, v) else {
        return;
    };
    let args = "-v -q 1 -t multi/a -t 'multi/+/c' -t 'deep/#'";
    let pair = s.side_by_side(args, 3, || {
        for m in [
            "multi/a 1",
            "multi/b 2",
            "multi/b/c 3",
            "other 4",
            "deep/x/y 5",
        ] {
            let (topic, payload) = m.split_once(' ').expect("topic payload");
            s.publish(&format!("-q 1 -t {topic} -m {payload}"));
        }
    });
    let out = pair.assert_same();
    assert!(
        out.ends_with(b"multi/a 1\nmulti/b/c 3\ndeep/x/y 5\n"),
        "{}",
        pair.mqsub
    );
}

/// `-T`: a message matching the filter is not printed and does not count for `-C`.
fn filter_out_is_neither_printed_nor_counted(kind: BrokerKind, v: Version) {
    let Some((_broker, s)) = start(kind, v) else {
        return;
    };
    let args = "-v -q 1 -t 'ft/#' -T ft/skip -T 'ft/quiet/#'";
    let pair = s.side_by_side(args, 2, || {
        s.publish("-q 1 -t ft/skip -m skipped");
        s.publish("-q 1 -t ft/quiet/x -m skipped");
        s.publish("-q 1 -t ft/a -m printed");
        s.publish("-q 1 -t ft/skip -m skipped");
        s.publish("-q 1 -t ft/b -m printed");
    });
    let out = pair.assert_same();
    assert!(
        out.ends_with(b"ft/a printed\nft/b printed\n"),
        "{}",
        pair.mqsub
    );
}

/// `-R`: the retained message is not printed, the next live one is. With 5.0 the server is
/// asked not to send it (Retain Handling 2, [MQTT-3.3.1-11]); with 3.1.1 the client drops
/// it. Nothing retained is printed, so no probe can show the subscription is in place: the
/// live message is published until the subscriber, under `-C 1`, has printed it and exited.
fn no_retained_skips_retained_messages_mqtt_3_3_1_11(kind: BrokerKind, v: Version) {
    let Some((_broker, s)) = start(kind, v) else {
        return;
    };
    s.publish("-r -q 1 -t nr/t -m stale");
    let args = "-R -v -q 1 -t nr/t -C 1";
    let mosquitto = Raw::spawn(s.mosquitto_sub(args));
    let mqsub = Raw::spawn(s.mqsub(args));
    let [mosquitto, mqsub] = [mosquitto, mqsub].map(|mut sub| {
        let deadline = std::time::Instant::now() + WAIT;
        while !sub.exited() && std::time::Instant::now() < deadline {
            s.publish("-q 1 -t nr/t -m live");
        }
        sub.finish()
    });
    assert_eq!(mosquitto.success(), b"nr/t live\n", "{mosquitto}");
    assert_eq!(mqsub.success(), b"nr/t live\n", "{mqsub}");
}

/// `--retained-only`: the retained messages are printed, then the first live message ends
/// the run (exit 0) without being printed.
fn retained_only_prints_retained_and_exits_at_the_first_live_message(kind: BrokerKind, v: Version) {
    let Some((_broker, s)) = start(kind, v) else {
        return;
    };
    s.publish("-r -q 1 -t ro/a -m first");
    s.publish("-r -q 1 -t ro/b -m second");
    // -C is far off: the live message must end the run on its own.
    let pair = s.side_by_side("--retained-only -v -q 1 -t 'ro/#'", 10, || {
        s.publish("-q 1 -t ro/c -m live");
    });
    let out = pair.assert_same();
    let text = String::from_utf8_lossy(out);
    let mut lines: Vec<&str> = text.lines().filter(|l| l.starts_with("ro/")).collect();
    lines.sort_unstable();
    assert_eq!(lines, ["ro/a first", "ro/b second"], "{}", pair.mqsub);
}

/// `--remove-retained`: each retained message received is cleared by publishing an empty
/// retained message [MQTT-3.3.1-10], so a later subscriber gets none; `-T` keeps one. mqsub
/// exits under `-C` once its clearing messages are acknowledged; mosquitto_sub 2.0.11 never
/// exits with `--remove-retained` (not with `-C`, not with `--retained-only`), so it runs until
/// it has printed its own clearing messages (`rr/a (null)`: the server has them), and is then
/// stopped.
fn remove_retained_clears_retained_messages_mqtt_3_3_1_10(kind: BrokerKind, v: Version) {
    let Some((_broker, s)) = start(kind, v) else {
        return;
    };
    let args = "--remove-retained -v -q 1 -t 'rr/#' -T rr/keep";
    let mut printed = Vec::new();
    for tool in ["mosquitto_sub", "mqsub"] {
        for t in ["a", "b/c", "keep"] {
            s.publish(&format!("-r -q 1 -t rr/{t} -m {t}"));
        }
        let out = if tool == "mqsub" {
            crate::harness::run(s.mqsub(&format!("{args} -C 2")))
        } else {
            let mut sub = Raw::spawn(s.mosquitto_sub(args));
            sub.wait_for("the first clearing message", "rr/a (null)\n");
            sub.wait_for("the second clearing message", "rr/b/c (null)\n");
            sub.signal("TERM");
            sub.finish()
        };
        assert_eq!(out.code(), 0, "{out}");
        let mut lines: Vec<String> = out
            .text()
            .lines()
            .filter(|l| l.starts_with("rr/") && !l.ends_with(" (null)"))
            .map(String::from)
            .collect();
        lines.sort_unstable();
        assert_eq!(lines, ["rr/a a", "rr/b/c b/c"], "{out}");
        // A later subscriber sees only the kept message before the probe.
        let after = s.clients.subscribed("-v -t 'rr/#'", 1).finish().success();
        assert_eq!(
            after.without_probe(),
            ["rr/keep keep"],
            "{tool} --remove-retained left retained messages:\n{after}"
        );
        printed.push(lines);
    }
    assert_eq!(printed[0], printed[1]);
}

/// `-U` with a persistent session (`-c -i ID -q 1`): after `-E -U u/b`, messages to `u/b` are
/// no longer queued for the session [MQTT-3.10.4-2], those to `u/a` are.
fn unsubscribe_stops_the_session_queueing_mqtt_3_10_4_2(kind: BrokerKind, v: Version) {
    let Some((_broker, s)) = start(kind, v) else {
        return;
    };
    let session = match v {
        Version::V311 => "-c",
        Version::V5 => "-c -x 600",
    };
    type Make = fn(&Subscribers, &str) -> Command;
    let tools: [(&str, Make); 2] = [
        ("mosquitto_sub", Subscribers::mosquitto_sub),
        ("mqsub", Subscribers::mqsub),
    ];
    for (tool, make) in tools {
        let id = format!("-i unsub-{tool} {session} -q 1 -v");
        let run = |args: String| crate::harness::run(make(&s, &args));
        run(format!("{id} -t {tool}/a -t {tool}/b -E")).success();
        let unsubscribed = run(format!("{id} -t {tool}/a -U {tool}/b -E"));
        assert_eq!(unsubscribed.success(), b"", "{unsubscribed}");
        s.publish(&format!("-q 1 -t {tool}/b -m 'not queued'"));
        s.publish(&format!("-q 1 -t {tool}/a -m queued"));
        let resumed = run(format!("{id} -t {tool}/a -C 1"));
        let expected = format!("{tool}/a queued\n");
        assert_eq!(
            String::from_utf8_lossy(resumed.success()),
            expected,
            "{resumed}"
        );
    }
}
