//! Publish / subscribe through mqbroker with the mosquitto clients: delivery at each QoS,
//! retained messages, wills and persistent sessions, for 3.1.1 and 5.0.

use crate::support::{clients_installed, BrokerProcess, Clients, Version};

both_versions!(
    published_messages_reach_the_subscriber_at_qos_0_1_2,
    retained_message_reaches_a_later_subscriber_until_cleared_mqtt_3_3_1_10,
    will_is_published_when_the_client_dies_but_not_after_disconnect_mqtt_3_1_2_8,
    persistent_session_gets_what_was_published_while_offline_mqtt_3_1_2_5,
);

/// `mosquitto_sub -C 3 -v` prints, in order, what three `mosquitto_pub` runs send at QoS 0, 1
/// and 2, and every client exits 0.
fn published_messages_reach_the_subscriber_at_qos_0_1_2(v: Version) {
    if !clients_installed() {
        return;
    }
    let broker = BrokerProcess::start();
    let c = Clients::new(broker.port(), v);
    let sub = c.subscribed("-v -q 2 -t 'qos/#'", 3);
    c.publish_ok("-q 0 -t qos/0 -m zero");
    c.publish_ok("-q 1 -t qos/1 -m one");
    c.publish_ok("-q 2 -t qos/2 -m two");
    let out = sub.finish().success();
    assert_eq!(
        out.without_probe(),
        ["qos/0 zero", "qos/1 one", "qos/2 two"],
        "{out}"
    );
}

/// A retained message (`-r`) reaches a later subscriber with RETAIN 1 [MQTT-3.3.1-8]; `-r -n`
/// deletes it [MQTT-3.3.1-10], so the next subscriber's first message on the topic is a live
/// one (RETAIN 0), published after its subscription was in place.
fn retained_message_reaches_a_later_subscriber_until_cleared_mqtt_3_3_1_10(v: Version) {
    if !clients_installed() {
        return;
    }
    let broker = BrokerProcess::start();
    let c = Clients::new(broker.port(), v);
    c.publish_ok("-r -q 1 -t retained/t -m kept");
    let out = c.subscribe_ok("-q 1 -t retained/t -C 1 -F '%r %q %t %p'");
    assert_eq!(out.lines, ["1 1 retained/t kept"], "{out}");

    c.publish_ok("-r -n -q 1 -t retained/t");
    let sub = c.subscribed("-q 1 -F '%r %t %p' -t retained/t", 1);
    c.publish_ok("-q 1 -t retained/t -m live");
    let out = sub.finish().success();
    assert_eq!(out.without_probe(), ["0 retained/t live"], "{out}");
}

/// A client that disconnects normally leaves no will [MQTT-3.1.2-10]; one killed with SIGKILL
/// has its will (`--will-topic`, `--will-payload`) published [MQTT-3.1.2-8].
fn will_is_published_when_the_client_dies_but_not_after_disconnect_mqtt_3_1_2_8(v: Version) {
    if !clients_installed() {
        return;
    }
    let broker = BrokerProcess::start();
    let c = Clients::new(broker.port(), v);
    let watcher = c.subscribed("-v -t will/t", 1);

    c.subscribe_ok("--will-topic will/t --will-payload polite -t will/other -E");

    // It expects one more message, which never comes: it stays connected until killed.
    let mut doomed = c.subscribed(
        "--will-topic will/t --will-payload doomed -v -t will/none",
        1,
    );
    let killed = doomed.kill();
    assert_eq!(killed.code, None, "killed by SIGKILL:\n{killed}");

    let out = watcher.finish().success();
    assert_eq!(out.without_probe(), ["will/t doomed"], "{out}");
}

/// `mosquitto_sub -c -i id -q 1` subscribes and leaves; the QoS 1 messages published meanwhile
/// are kept [MQTT-3.1.2-5] (the QoS 0 one is not: mosquitto's `queue_qos0_messages false`) and
/// delivered, in order, when the same `-c -i id` comes back [MQTT-3.1.2-4].
fn persistent_session_gets_what_was_published_while_offline_mqtt_3_1_2_5(v: Version) {
    if !clients_installed() {
        return;
    }
    let broker = BrokerProcess::start();
    let c = Clients::new(broker.port(), v);
    let session = "-c -i interop-persistent -q 1 -t session/t";
    c.subscribe_ok(&format!("{session} -E"));

    c.publish_ok("-q 1 -t session/t -m one");
    c.publish_ok("-q 0 -t session/t -m not-queued");
    c.publish_ok("-q 1 -t session/t -m two");

    let out = c.subscribe_ok(&format!("{session} -v -C 2"));
    assert_eq!(out.lines, ["session/t one", "session/t two"], "{out}");
}
