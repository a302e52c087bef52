//! What only MQTT 5.0 has, through mqbroker with the mosquitto clients: PUBLISH properties set
//! with `mosquitto_pub -D` and printed by `mosquitto_sub -F`, and request / response with
//! `mosquitto_rr`.

use crate::support::{clients_installed, BrokerProcess, Clients, Running, Version};

/// `mosquitto_sub -F` fields: topic, user properties (`k:v`, space separated), content type,
/// response topic, correlation data, payload format indicator, subscription identifier,
/// payload, message expiry interval.
const PROPERTIES_FORMAT: &str = "-F '%t|%P|%C|%R|%D|%F|%S|%p|%E'";

/// The properties the test publishes, as `mosquitto_pub -D` arguments.
const PROPERTIES: &str = "-D publish user-property k v -D publish user-property k2 v2 \
    -D publish user-property k v3 -D publish content-type text/plain \
    -D publish response-topic reply/t -D publish correlation-data corr-1 \
    -D publish payload-format-indicator 1 -D publish message-expiry-interval 3600";

/// User Properties, in order and with the repeated key [MQTT-3.3.2-17, MQTT-3.3.2-18], Content
/// Type [MQTT-3.3.2-20], Response Topic [MQTT-3.3.2-15], Correlation Data [MQTT-3.3.2-16] and
/// the Payload Format Indicator [MQTT-3.3.2-4] reach a live subscriber and a later one (from
/// the retained message) unchanged; the subscription's identifier comes along [MQTT-3.3.4-3]
/// and the Message Expiry Interval is what is left of it [MQTT-3.3.2-6].
#[test]
fn publish_properties_reach_subscribers_unchanged_mqtt_3_3_2_17() {
    if !clients_installed() {
        return;
    }
    let broker = BrokerProcess::start();
    let c = Clients::new(broker.port(), Version::V5);
    let sub = c.subscribed(
        &format!("-D subscribe subscription-identifier 7 -q 1 {PROPERTIES_FORMAT} -t props/t"),
        1,
    );
    c.publish_ok(&format!("{PROPERTIES} -r -q 1 -t props/t -m hello"));
    let out = sub.finish().success();
    let lines = out.without_probe();
    assert_eq!(lines.len(), 1, "{out}");
    check_properties(lines[0], "7");

    let out = c.subscribe_ok(&format!("-q 1 {PROPERTIES_FORMAT} -t props/t -C 1"));
    assert_eq!(out.lines.len(), 1, "{out}");
    check_properties(&out.lines[0], "");
}

/// Checks one line of [`PROPERTIES_FORMAT`] output; `sub_id` is the expected `%S`.
fn check_properties(line: &str, sub_id: &str) {
    let (fixed, expiry) = line.rsplit_once('|').expect("the format has fields");
    let expected = format!("props/t|k:v k2:v2 k:v3|text/plain|reply/t|corr-1|1|{sub_id}|hello");
    assert_eq!(fixed, expected);
    let expiry: u32 = expiry
        .parse()
        .unwrap_or_else(|_| panic!("no message expiry in {line:?}"));
    assert!(
        (3590..=3600).contains(&expiry),
        "expiry {expiry} should be 3600 minus the seconds the message waited"
    );
}

/// `mosquitto_rr -t rr/request -e rr/response` publishes its request with the Response Topic
/// and its Correlation Data; a responder reads both from what mqbroker forwarded and answers
/// on that topic, and `mosquitto_rr` prints the answer and exits 0 (5.0 §4.10).
#[test]
fn mosquitto_rr_gets_the_response_through_the_broker() {
    if !clients_installed() {
        return;
    }
    let broker = BrokerProcess::start();
    let c = Clients::new(broker.port(), Version::V5);
    let responder = c.subscribed("-q 1 -F '%R|%D|%p' -t rr/request", 1);
    // mosquitto_rr subscribes to the response topic before it publishes the request, so once
    // the responder has the request, the answer has somewhere to go.
    let rr = c.request("-t rr/request -e rr/response -m question -D publish correlation-data c-42");
    let rr = Running::spawn(rr);

    let out = responder.finish().success();
    let request = out.without_probe();
    assert_eq!(request, ["rr/response|c-42|question"], "{out}");
    let mut fields = request[0].split('|');
    let (topic, correlation) = (fields.next().unwrap(), fields.next().unwrap());
    c.publish_ok(&format!(
        "-t {topic} -m 'answer to question' -D publish correlation-data {correlation}"
    ));
    let out = rr.finish().success();
    assert_eq!(out.lines, ["answer to question"], "{out}");
}
