//! What only MQTT 5.0 has, apart from subscription options (`v5_subscribe.rs`): CONNACK
//! properties, enhanced authentication refused, session expiry, will delay and DISCONNECT with
//! will, topic aliases, message expiry, forwarded properties, flow control and packet size
//! limits in both directions. Statement numbers are 5.0's.

use std::collections::VecDeque;
use std::num::{NonZeroU16, NonZeroU32};
use std::time::Duration;

use bytes::Bytes;
use mqkit::broker::Config;
use mqkit::protocol::{
    Ack, Connect, Disconnect, DisconnectProperties, Packet, PayloadFormat, ProtocolVersion,
    Publish, QoS, ReasonCode,
};
use mqkit::topic::TopicName;
use tokio::time::{sleep, Instant};

use crate::support::{
    config, connect_packet, message, mqtt_string, packet_id, persistent, retained, topic_name,
    will, RawClient, TestBroker,
};

const V5: ProtocolVersion = ProtocolVersion::V5;

/// [MQTT-4.12.0-1]: an Authentication Method the broker does not support gets CONNACK 0x8C Bad
/// authentication method, then the connection closes.
#[tokio::test]
async fn unsupported_authentication_method_is_refused_with_0x8c_mqtt_4_12_0_1() {
    let broker = TestBroker::start().await;
    let mut connect = connect_packet(V5, "scram");
    connect.properties.authentication_method = Some(mqtt_string("SCRAM-SHA-1"));
    connect.properties.authentication_data = Some(Bytes::from_static(b"client-first"));
    let (mut client, connack) = broker.connect_with(connect).await;
    assert_eq!(connack.reason_code, ReasonCode::BadAuthenticationMethod);
    assert!(!connack.session_present);
    client.expect_closed().await;
    broker.assert_still_works().await;
}

/// An AUTH packet outside an enhanced authentication exchange is a Protocol Error (§4.12).
#[tokio::test]
async fn auth_packet_without_enhanced_authentication_is_a_protocol_error_section_4_12() {
    let broker = TestBroker::start().await;
    let mut client = broker.connect(V5, "auth").await;
    client.send_raw(&[0xF0, 0x00]).await; // AUTH, Success, no properties
    client.expect_disconnect(ReasonCode::ProtocolError).await;
    broker.assert_still_works().await;
}

/// [MQTT-3.1.3-7]: an empty identifier is replaced by one the CONNACK returns, also with Clean
/// Start 0 (unlike 3.1.1). The session lives under that identifier.
#[tokio::test]
async fn assigned_client_identifier_names_the_session_mqtt_3_1_3_7() {
    let broker = TestBroker::start().await;
    let (mut client, connack) = broker.connect_with(persistent(V5, "", 300)).await;
    assert_eq!(connack.reason_code, ReasonCode::Success);
    let assigned = connack
        .properties
        .assigned_client_identifier
        .expect("assigned id");
    client.subscribe("assigned/t", QoS::AtLeastOnce).await;
    client.disconnect().await;
    let (_client, present) = broker.connect_persistent(V5, assigned.as_str()).await;
    assert!(
        present,
        "the session is found under the assigned identifier"
    );
}

/// [MQTT-3.2.2-21]: a broker with a lower `max_keepalive` answers a larger Keep Alive with
/// Server Keep Alive, and times the connection out by it.
#[tokio::test(start_paused = true)]
async fn server_keep_alive_replaces_a_larger_keep_alive_mqtt_3_2_2_21() {
    let broker = TestBroker::with_config(Config {
        max_keepalive: 10,
        ..config()
    })
    .await;
    let mut connect = connect_packet(V5, "optimist");
    connect.keep_alive = 600;
    let (mut client, connack) = broker.connect_with(connect).await;
    assert_eq!(connack.reason_code, ReasonCode::Success);
    assert_eq!(connack.properties.server_keep_alive, Some(10));
    let start = Instant::now();
    // 1.5 times 10 s is longer than one wait of the harness: sleep through most of it.
    sleep(Duration::from_secs(14)).await;
    client.expect_disconnect(ReasonCode::KeepAliveTimeout).await;
    assert_eq!(start.elapsed(), Duration::from_secs(15));
}

/// A broker capping session expiry (`persistent_client_expiration`) tells the client the
/// Session Expiry Interval it uses instead of the one asked for (§3.2.2.3.2).
#[tokio::test]
async fn connack_tells_the_client_a_capped_session_expiry_section_3_2_2_3_2() {
    let broker = TestBroker::with_config(Config {
        persistent_client_expiration: Some(Duration::from_secs(60)),
        ..config()
    })
    .await;
    let (_client, connack) = broker.connect_with(persistent(V5, "capped", 3600)).await;
    assert_eq!(connack.properties.session_expiry_interval, Some(60));
    let (_client, connack) = broker.connect_with(persistent(V5, "modest", 30)).await;
    assert_eq!(
        connack.properties.session_expiry_interval, None,
        "30 s is granted as asked"
    );
}

/// Session Expiry Interval absent means 0: the session ends when the connection closes, even
/// with Clean Start 0 (§3.1.2.11.2).
#[tokio::test]
async fn absent_session_expiry_ends_the_session_with_the_connection_section_3_1_2_11_2() {
    let broker = TestBroker::start().await;
    let mut connect = connect_packet(V5, "brief");
    connect.clean_start = false;
    let (mut client, connack) = broker.connect_with(connect.clone()).await;
    assert!(!connack.session_present);
    client.subscribe("brief/t", QoS::AtLeastOnce).await;
    client.disconnect().await;

    let (_client, connack) = broker.connect_with(connect).await;
    assert!(!connack.session_present);
    let mut publisher = broker.connect(V5, "publisher").await;
    let code = publisher
        .publish(message("brief/t", "x", QoS::AtLeastOnce))
        .await;
    assert_eq!(code, ReasonCode::NoMatchingSubscribers);
}

/// A session with Session Expiry Interval 1 survives a short absence and ends after one longer
/// than a second: Session Present 0 and no subscriptions then (§3.1.2.11.2).
#[tokio::test(start_paused = true)]
async fn session_ends_once_its_expiry_interval_has_passed_section_3_1_2_11_2() {
    let broker = TestBroker::start().await;
    let (mut client, _) = broker.connect_with(persistent(V5, "fleeting", 1)).await;
    client.subscribe("fleeting/t", QoS::AtLeastOnce).await;
    client.disconnect().await;
    sleep(Duration::from_millis(500)).await;
    let (client, connack) = broker.connect_with(persistent(V5, "fleeting", 1)).await;
    assert!(
        connack.session_present,
        "half a second is within the interval"
    );
    client.disconnect().await;

    sleep(Duration::from_millis(2500)).await;
    let (_client, connack) = broker.connect_with(persistent(V5, "fleeting", 1)).await;
    assert!(!connack.session_present, "the session expired");
    let mut publisher = broker.connect(V5, "publisher").await;
    let code = publisher
        .publish(message("fleeting/t", "x", QoS::AtLeastOnce))
        .await;
    assert_eq!(code, ReasonCode::NoMatchingSubscribers);
}

/// After CONNECT with Session Expiry 0, a DISCONNECT with a non-zero Session Expiry is a
/// Protocol Error (§3.14.2.2.2): the broker answers DISCONNECT 0x82, without a Session Expiry
/// Interval of its own [MQTT-3.14.2-2], and the session still ends.
#[tokio::test]
async fn disconnect_cannot_raise_session_expiry_from_0_section_3_14_2_2_2() {
    let broker = TestBroker::start().await;
    let mut connect = connect_packet(V5, "sneaky");
    connect.clean_start = false;
    let (mut client, _) = broker.connect_with(connect).await;
    client.subscribe("sneaky/t", QoS::AtLeastOnce).await;
    let disconnect = Disconnect {
        reason_code: ReasonCode::NORMAL_DISCONNECTION,
        properties: DisconnectProperties {
            session_expiry_interval: Some(300),
            ..DisconnectProperties::default()
        },
    };
    client.send(Packet::Disconnect(disconnect)).await;
    client.expect_disconnect(ReasonCode::ProtocolError).await;
    let (_client, present) = broker.connect_persistent(V5, "sneaky").await;
    assert!(!present);
    broker.assert_still_works().await;
}

/// DISCONNECT may set the Session Expiry Interval to 0, ending the session now (§3.14.2.2.2).
#[tokio::test]
async fn disconnect_can_end_the_session_with_session_expiry_0_section_3_14_2_2_2() {
    let broker = TestBroker::start().await;
    let (mut client, _) = broker.connect_persistent(V5, "decisive").await;
    client.subscribe("decisive/t", QoS::AtLeastOnce).await;
    let disconnect = Disconnect {
        reason_code: ReasonCode::NORMAL_DISCONNECTION,
        properties: DisconnectProperties {
            session_expiry_interval: Some(0),
            ..DisconnectProperties::default()
        },
    };
    client.disconnect_with(disconnect).await;
    let (_client, present) = broker.connect_persistent(V5, "decisive").await;
    assert!(!present);
}

/// A watcher subscribed to `will/#`.
async fn watcher(broker: &TestBroker) -> RawClient {
    let mut watcher = broker.connect(V5, "watcher").await;
    watcher.subscribe("will/#", QoS::AtLeastOnce).await;
    watcher
}

/// CONNECT for `id` with Session Expiry `expiry` and a will on `will/<id>` delayed by `delay`.
fn delayed_will(id: &str, expiry: u32, delay: u32) -> Connect {
    let mut connect = persistent(V5, id, expiry);
    let mut last = will(&format!("will/{id}"), "late", QoS::AtLeastOnce, false);
    last.properties.will_delay_interval = Some(delay);
    connect.will = Some(last);
    connect
}

/// DISCONNECT with 0x04 Disconnect with Will Message ends the connection and publishes the will
/// (§3.14.2.1).
#[tokio::test]
async fn disconnect_with_will_message_publishes_the_will_section_3_14_2_1() {
    let broker = TestBroker::start().await;
    let mut watcher = watcher(&broker).await;
    let mut connect = connect_packet(V5, "testator");
    connect.will = Some(will("will/testator", "as wished", QoS::AtMostOnce, false));
    let (mut client, _) = broker.connect_with(connect).await;
    client
        .disconnect_with(Disconnect::new(ReasonCode::DisconnectWithWillMessage))
        .await;
    let got = watcher.recv_message().await;
    assert_eq!(&got.payload[..], b"as wished");
}

/// [MQTT-3.1.3-9]: a client that comes back (Clean Start 0) within its Will Delay Interval
/// cancels the will.
#[tokio::test(start_paused = true)]
async fn reconnecting_within_the_will_delay_cancels_the_will_mqtt_3_1_3_9() {
    let broker = TestBroker::start().await;
    let mut watcher = watcher(&broker).await;
    let (client, _) = broker.connect_with(delayed_will("roamer", 10, 2)).await;
    drop(client);
    sleep(Duration::from_millis(1000)).await;
    let (client, connack) = broker.connect_with(persistent(V5, "roamer", 10)).await;
    assert!(connack.session_present);
    sleep(Duration::from_secs(5)).await;
    watcher.expect_nothing().await;
    client.disconnect().await;
    watcher.expect_nothing().await;
}

/// [MQTT-3.1.2-8]: with a Will Delay Interval of 2 s the will goes out 2 s after the connection
/// dropped (at the broker's one-second housekeeping granularity), not before.
#[tokio::test(start_paused = true)]
async fn will_is_published_once_the_will_delay_has_passed_mqtt_3_1_2_8() {
    let broker = TestBroker::start().await;
    let mut watcher = watcher(&broker).await;
    let (client, _) = broker.connect_with(delayed_will("wanderer", 10, 2)).await;
    let dropped = Instant::now();
    drop(client);
    sleep(Duration::from_millis(1500)).await;
    watcher.expect_nothing().await;
    let got = watcher.recv_message().await;
    assert_eq!(got.topic.as_str(), "will/wanderer");
    let waited = dropped.elapsed();
    assert!(
        (Duration::from_secs(2)..=Duration::from_secs(3)).contains(&waited),
        "published {waited:?} after the drop"
    );
}

/// [MQTT-3.1.2-8]: the will goes out when the session ends, if that comes before the Will Delay
/// Interval has passed.
#[tokio::test(start_paused = true)]
async fn will_is_published_when_the_session_ends_before_the_will_delay_mqtt_3_1_2_8() {
    let broker = TestBroker::start().await;
    let mut watcher = watcher(&broker).await;
    let (client, _) = broker.connect_with(delayed_will("mayfly", 1, 60)).await;
    let dropped = Instant::now();
    drop(client);
    let got = watcher.recv_message().await;
    assert_eq!(got.topic.as_str(), "will/mayfly");
    assert!(
        dropped.elapsed() <= Duration::from_secs(2),
        "{:?}",
        dropped.elapsed()
    );
}

/// A new connection with Clean Start 1 within the Will Delay Interval ends the old session, so
/// its will goes out at once (§3.1.3.2.2, non-normative comment).
#[tokio::test(start_paused = true)]
async fn clean_start_within_the_will_delay_publishes_the_will_section_3_1_3_2_2() {
    let broker = TestBroker::start().await;
    let mut watcher = watcher(&broker).await;
    let (client, _) = broker.connect_with(delayed_will("reborn", 60, 30)).await;
    drop(client);
    sleep(Duration::from_millis(500)).await;
    let reconnected = Instant::now();
    let _client = broker.connect(V5, "reborn").await;
    let got = watcher.recv_message().await;
    assert_eq!(got.topic.as_str(), "will/reborn");
    assert!(reconnected.elapsed() < Duration::from_secs(1));
}

/// A PUBLISH with a Topic Alias and a topic sets the alias; one with the alias and an empty
/// topic uses it; a later topic with the same alias replaces the mapping [MQTT-3.3.2-12]. The
/// subscriber, which allowed no aliases, gets full topic names [MQTT-3.3.2-11].
#[tokio::test]
async fn topic_alias_from_the_client_stands_for_its_topic_mqtt_3_3_2_12() {
    let broker = TestBroker::start().await;
    let mut sub = broker.connect(V5, "subscriber").await;
    sub.subscribe("alias/#", QoS::AtLeastOnce).await;
    let (mut publisher, connack) = broker.connect_with(connect_packet(V5, "publisher")).await;
    assert_eq!(connack.properties.topic_alias_maximum, Some(10));
    let alias = NonZeroU16::new(10);
    for (topic, payload) in [("alias/t", "1"), ("", "2"), ("alias/u", "3"), ("", "4")] {
        let mut publish = message("x", payload, QoS::AtLeastOnce);
        publish.topic = if topic.is_empty() {
            TopicName::empty()
        } else {
            topic_name(topic)
        };
        publish.properties.topic_alias = alias;
        publisher.publish(publish).await;
    }
    for (topic, payload) in [
        ("alias/t", "1"),
        ("alias/t", "2"),
        ("alias/u", "3"),
        ("alias/u", "4"),
    ] {
        let got = sub.recv_message().await;
        assert_eq!(
            (got.topic.as_str(), &got.payload[..]),
            (topic, payload.as_bytes())
        );
        assert_eq!(got.properties.topic_alias, None);
    }
}

/// Towards a client that allows aliases, the broker gives the first topics an alias, then sends
/// them by alias with an empty topic name; past the client's Topic Alias Maximum it sends full
/// names; it never uses an alias above that maximum [MQTT-3.3.2-11].
#[tokio::test]
async fn broker_uses_topic_aliases_within_the_client_maximum_mqtt_3_3_2_11() {
    let broker = TestBroker::start().await;
    let mut connect = connect_packet(V5, "alias-taker");
    connect.properties.topic_alias_maximum = Some(2);
    let (mut sub, _) = broker.connect_with(connect).await;
    sub.subscribe("out/#", QoS::AtMostOnce).await;
    let mut publisher = broker.connect(V5, "alias-giver").await;
    let sent = ["out/a", "out/a", "out/b", "out/c", "out/b", "out/c"];
    for (i, topic) in sent.iter().enumerate() {
        publisher
            .publish(message(topic, &i.to_string(), QoS::AtMostOnce))
            .await;
    }
    // (topic on the wire, alias): a new alias comes with its topic, a known one without.
    let expected: [(&str, Option<u16>); 6] = [
        ("out/a", Some(1)),
        ("", Some(1)),
        ("out/b", Some(2)),
        ("out/c", None),
        ("", Some(2)),
        ("out/c", None),
    ];
    for (i, (topic, alias)) in expected.into_iter().enumerate() {
        let got = sub.recv_message().await;
        assert_eq!(got.topic.as_str(), topic, "message {i}");
        assert_eq!(
            got.properties.topic_alias.map(|a| a.get()),
            alias,
            "message {i}"
        );
        assert_eq!(&got.payload[..], i.to_string().as_bytes());
    }
}

/// Response Information comes in CONNACK only when the client asked for it with Request
/// Response Information 1 [MQTT-3.1.2-28]; a client can then use it for its response topics.
#[tokio::test]
async fn response_information_only_when_requested_mqtt_3_1_2_28() {
    let broker = TestBroker::start().await;
    for asked in [None, Some(false)] {
        let mut connect = connect_packet(V5, "quiet");
        connect.properties.request_response_information = asked;
        let (_client, connack) = broker.connect_with(connect).await;
        assert_eq!(connack.properties.response_information, None, "{asked:?}");
    }
    let mut connect = connect_packet(V5, "asker");
    connect.properties.request_response_information = Some(true);
    let (mut requester, connack) = broker.connect_with(connect).await;
    let info = connack
        .properties
        .response_information
        .expect("Response Information");
    let response_topic = format!("{info}/answers");
    requester.subscribe(&response_topic, QoS::AtMostOnce).await;
    let mut responder = broker.connect(V5, "responder").await;
    responder
        .publish(message(&response_topic, "42", QoS::AtMostOnce))
        .await;
    assert_eq!(&requester.recv_message().await.payload[..], b"42");
}

/// A Topic Alias above the Topic Alias Maximum of CONNACK (10) is answered with DISCONNECT 0x94
/// Topic Alias invalid (§3.3.2.3.4; the client broke [MQTT-3.3.2-9]).
#[tokio::test]
async fn topic_alias_above_the_maximum_gets_disconnect_0x94_section_3_3_2_3_4() {
    let broker = TestBroker::start().await;
    let mut client = broker.connect(V5, "greedy").await;
    let mut publish = message("alias/t", "x", QoS::AtMostOnce);
    publish.properties.topic_alias = NonZeroU16::new(11);
    client.send(Packet::Publish(publish)).await;
    client
        .expect_disconnect(ReasonCode::TopicAliasInvalid)
        .await;
    broker.assert_still_works().await;
}

/// [MQTT-3.3.2-8]: Topic Alias 0 is not allowed; the broker answers DISCONNECT 0x94.
#[tokio::test]
async fn topic_alias_0_gets_disconnect_0x94_mqtt_3_3_2_8() {
    let broker = TestBroker::start().await;
    let mut client = broker.connect(V5, "zero").await;
    client
        .send_raw(&[
            0x30, 0x08, // PUBLISH QoS 0, remaining length 8
            0x00, 0x01, b'a', // topic "a"
            0x03, 0x23, 0x00, 0x00, // properties: Topic Alias 0
            b'x', // payload
        ])
        .await;
    client
        .expect_disconnect(ReasonCode::TopicAliasInvalid)
        .await;
    broker.assert_still_works().await;
}

/// An empty topic with an alias this connection never set is a Protocol Error; mappings do not
/// outlive their connection [MQTT-3.3.2-10, MQTT-3.3.2-12] (§3.3.2.3.4).
#[tokio::test]
async fn topic_alias_unknown_on_this_connection_is_a_protocol_error_section_3_3_2_3_4() {
    let broker = TestBroker::start().await;
    let mut client = broker.connect(V5, "amnesiac").await;
    let mut publish = message("alias/t", "x", QoS::AtLeastOnce);
    publish.properties.topic_alias = NonZeroU16::new(1);
    client.publish(publish).await;
    client.disconnect().await;

    let mut client = broker.connect(V5, "amnesiac").await;
    let mut publish = message("x", "y", QoS::AtMostOnce);
    publish.topic = TopicName::empty();
    publish.properties.topic_alias = NonZeroU16::new(1);
    client.send(Packet::Publish(publish)).await;
    client.expect_disconnect(ReasonCode::ProtocolError).await;
    broker.assert_still_works().await;
}

/// A message with a Message Expiry Interval.
fn expiring(topic: &str, payload: &str, seconds: u32) -> Publish {
    let mut publish = message(topic, payload, QoS::AtLeastOnce);
    publish.properties.message_expiry_interval = Some(seconds);
    publish
}

/// [MQTT-3.3.2-5]: a retained message whose expiry has passed is not sent to new subscribers.
#[tokio::test(start_paused = true)]
async fn retained_message_is_not_sent_after_it_expired_mqtt_3_3_2_5() {
    let broker = TestBroker::start().await;
    let mut publisher = broker.connect(V5, "publisher").await;
    let mut publish = expiring("expiry/t", "short-lived", 1);
    publish.retain = true;
    publisher.publish(publish).await;
    let mut early = broker.connect(V5, "early").await;
    early.subscribe("expiry/t", QoS::AtLeastOnce).await;
    let got = early.recv_message().await;
    assert_eq!(got.properties.message_expiry_interval, Some(1));

    sleep(Duration::from_secs(2)).await;
    let mut late = broker.connect(V5, "late").await;
    late.subscribe("expiry/t", QoS::AtLeastOnce).await;
    late.expect_nothing().await;
}

/// [MQTT-3.3.2-6]: the forwarded Message Expiry Interval is what is left of it; [MQTT-3.3.2-5]:
/// one that ran out while queued for an offline session is not sent at all.
#[tokio::test(start_paused = true)]
async fn forwarded_message_expiry_is_the_time_remaining_mqtt_3_3_2_6() {
    let broker = TestBroker::start().await;
    let (mut client, _) = broker.connect_persistent(V5, "offline").await;
    client.subscribe("expiry/#", QoS::AtLeastOnce).await;
    client.disconnect().await;
    let mut publisher = broker.connect(V5, "publisher").await;
    publisher.publish(expiring("expiry/short", "gone", 2)).await;
    publisher.publish(expiring("expiry/long", "kept", 10)).await;

    sleep(Duration::from_secs(3)).await;
    let (mut client, present) = broker.connect_persistent(V5, "offline").await;
    assert!(present);
    let got = client.recv_message().await;
    assert_eq!(got.topic.as_str(), "expiry/long");
    assert_eq!(got.properties.message_expiry_interval, Some(7));
    client.expect_nothing().await;
}

/// Payload Format Indicator [MQTT-3.3.2-4], Content Type [MQTT-3.3.2-20], Response Topic
/// [MQTT-3.3.2-15], Correlation Data [MQTT-3.3.2-16] and User Properties, all of them in order
/// [MQTT-3.3.2-17, MQTT-3.3.2-18], reach subscribers unchanged, live and retained.
#[tokio::test]
async fn publish_properties_are_forwarded_unchanged_mqtt_3_3_2_17() {
    let broker = TestBroker::start().await;
    let mut live = broker.connect(V5, "live").await;
    live.subscribe("props/t", QoS::AtLeastOnce).await;
    let mut publisher = broker.connect(V5, "publisher").await;
    let mut publish = retained("props/t", "{\"v\":1}", QoS::AtLeastOnce);
    let sent = &mut publish.properties;
    sent.payload_format_indicator = Some(PayloadFormat::Utf8);
    sent.content_type = Some(mqtt_string("application/json"));
    sent.response_topic = Some(topic_name("props/reply"));
    sent.correlation_data = Some(Bytes::from_static(b"\x00\xFFcorr"));
    sent.user_properties = [("k", "1"), ("a", "2"), ("k", "3"), ("k", "1")]
        .into_iter()
        .map(|(k, v)| (mqtt_string(k), mqtt_string(v)))
        .collect();
    let sent = publish.properties.clone();
    publisher.publish(publish).await;

    let mut stored = broker.connect(V5, "stored").await;
    stored.subscribe("props/t", QoS::AtLeastOnce).await;
    for client in [&mut live, &mut stored] {
        let got = client.recv_message().await.properties;
        assert_eq!(got.payload_format_indicator, sent.payload_format_indicator);
        assert_eq!(got.content_type, sent.content_type);
        assert_eq!(got.response_topic, sent.response_topic);
        assert_eq!(got.correlation_data, sent.correlation_data);
        assert_eq!(got.user_properties, sent.user_properties);
    }
}

/// A subscriber with Receive Maximum `max` and a QoS 2 subscription to `flow/t`.
async fn slow_subscriber(broker: &TestBroker, max: u16) -> RawClient {
    let mut connect = connect_packet(V5, "slow");
    connect.properties.receive_maximum = NonZeroU16::new(max);
    let (mut sub, _) = broker.connect_with(connect).await;
    sub.subscribe("flow/t", QoS::ExactlyOnce).await;
    sub
}

/// [MQTT-3.3.4-9]: with Receive Maximum 2 the broker never has more than two unacknowledged
/// QoS 1 PUBLISH packets out to the client; each PUBACK lets exactly one more through, in order.
#[tokio::test]
async fn receive_maximum_bounds_qos1_messages_in_flight_mqtt_3_3_4_9() {
    let broker = TestBroker::start().await;
    let mut sub = slow_subscriber(&broker, 2).await;
    let mut publisher = broker.connect(V5, "publisher").await;
    for i in 1..=5 {
        publisher
            .publish(message("flow/t", &i.to_string(), QoS::AtLeastOnce))
            .await;
    }
    let mut in_flight = VecDeque::from([sub.recv_publish().await, sub.recv_publish().await]);
    sub.expect_nothing().await;
    let (mut sent, mut expected) = (2, 1);
    while let Some(oldest) = in_flight.pop_front() {
        assert_eq!(&oldest.payload[..], expected.to_string().as_bytes());
        expected += 1;
        sub.ack(&oldest).await;
        if sent < 5 {
            in_flight.push_back(sub.recv_publish().await);
            sent += 1;
        }
        // The window is full again (or everything was sent).
        sub.expect_nothing().await;
    }
    assert_eq!(expected, 6);
}

/// [MQTT-3.3.4-9]: a QoS 2 message counts against Receive Maximum until PUBCOMP, not PUBREC.
#[tokio::test]
async fn receive_maximum_counts_qos2_until_pubcomp_mqtt_3_3_4_9() {
    let broker = TestBroker::start().await;
    let mut sub = slow_subscriber(&broker, 1).await;
    let mut publisher = broker.connect(V5, "publisher").await;
    for payload in ["a", "b"] {
        publisher
            .publish(message("flow/t", payload, QoS::ExactlyOnce))
            .await;
    }
    let first = sub.recv_publish().await;
    let id = first.packet_id.unwrap();
    sub.expect_nothing().await;
    sub.send(Packet::PubRec(Ack::new(id))).await;
    sub.expect_ack("PUBREL", id).await;
    sub.expect_nothing().await;
    sub.send(Packet::PubComp(Ack::new(id))).await;
    let second = sub.recv_message().await;
    assert_eq!(&second.payload[..], b"b");
}

/// [MQTT-3.1.2-25]: a message larger than the client's Maximum Packet Size is not sent to it
/// (and treated as delivered); the next, smaller one is.
#[tokio::test]
async fn message_above_the_client_maximum_packet_size_is_not_sent_mqtt_3_1_2_25() {
    let broker = TestBroker::start().await;
    let mut connect = connect_packet(V5, "tiny");
    connect.properties.maximum_packet_size = NonZeroU32::new(100);
    let (mut sub, _) = broker.connect_with(connect).await;
    sub.subscribe("size/t", QoS::AtLeastOnce).await;
    let mut publisher = broker.connect(V5, "publisher").await;
    let big = "x".repeat(200);
    publisher
        .publish(message("size/t", &big, QoS::AtLeastOnce))
        .await;
    publisher
        .publish(message("size/t", &big, QoS::AtMostOnce))
        .await;
    publisher
        .publish(message("size/t", "small", QoS::AtLeastOnce))
        .await;
    let got = sub.recv_message().await;
    assert_eq!(&got.payload[..], b"small");
    sub.expect_nothing().await;
}

/// PUBACK and PUBREC say 0x10 No matching subscribers when nobody subscribed (§3.4.2.1).
#[tokio::test]
async fn acknowledgement_says_no_matching_subscribers_section_3_4_2_1() {
    let broker = TestBroker::start().await;
    let mut publisher = broker.connect(V5, "lonely").await;
    for qos in [QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let code = publisher.publish(message("nobody/t", "x", qos)).await;
        assert_eq!(code, ReasonCode::NoMatchingSubscribers);
    }
}

/// CONNACK announces the broker's Receive Maximum; a client with more QoS 2 messages
/// unacknowledged than that gets DISCONNECT 0x93 Receive Maximum exceeded (§3.3.4, [MQTT-3.3.4-7]
/// for the client's side).
#[tokio::test]
async fn client_exceeding_the_broker_receive_maximum_gets_disconnect_0x93_mqtt_3_3_4_7() {
    let broker = TestBroker::with_config(Config {
        receive_maximum: 2,
        ..config()
    })
    .await;
    let (mut client, connack) = broker.connect_with(connect_packet(V5, "eager")).await;
    assert_eq!(connack.properties.receive_maximum, NonZeroU16::new(2));
    for i in 1..=3 {
        let mut publish = message("eager/t", "x", QoS::ExactlyOnce);
        publish.packet_id = Some(packet_id(i));
        client.send(Packet::Publish(publish)).await;
    }
    client.expect_ack("PUBREC", packet_id(1)).await;
    client.expect_ack("PUBREC", packet_id(2)).await;
    client
        .expect_disconnect(ReasonCode::ReceiveMaximumExceeded)
        .await;
    broker.assert_still_works().await;
}

/// With `max_qos` 1: CONNACK says Maximum QoS 1, a QoS 2 subscription is granted QoS 1, and a
/// QoS 2 PUBLISH gets DISCONNECT 0x9B QoS not supported (§3.2.2.3.4).
#[tokio::test]
async fn qos_above_the_maximum_qos_is_refused_section_3_2_2_3_4() {
    let broker = TestBroker::with_config(Config {
        max_qos: QoS::AtLeastOnce,
        ..config()
    })
    .await;
    let (mut client, connack) = broker.connect_with(connect_packet(V5, "ambitious")).await;
    assert_eq!(connack.properties.maximum_qos, Some(QoS::AtLeastOnce));
    let granted = client.subscribe("max/t", QoS::ExactlyOnce).await;
    assert_eq!(granted, ReasonCode::GrantedQoS1);
    let mut publish = message("max/t", "x", QoS::ExactlyOnce);
    publish.packet_id = Some(packet_id(1));
    client.send(Packet::Publish(publish)).await;
    client.expect_disconnect(ReasonCode::QoSNotSupported).await;
    broker.assert_still_works().await;
}

/// [MQTT-3.2.2-12]: a will with a QoS above Maximum QoS is refused with CONNACK 0x9B.
#[tokio::test]
async fn will_qos_above_the_maximum_qos_is_refused_mqtt_3_2_2_12() {
    let broker = TestBroker::with_config(Config {
        max_qos: QoS::AtLeastOnce,
        ..config()
    })
    .await;
    let mut connect = connect_packet(V5, "ambitious");
    connect.will = Some(will("will/t", "x", QoS::ExactlyOnce, false));
    let (mut client, connack) = broker.connect_with(connect).await;
    assert_eq!(connack.reason_code, ReasonCode::QoSNotSupported);
    client.expect_closed().await;
    broker.assert_still_works().await;
}

/// [MQTT-3.3.4-9] on resume: a client that comes back with a lower Receive Maximum than it had
/// unacknowledged messages gets them resent [MQTT-4.4.0-1] no more than Receive Maximum at a
/// time.
#[tokio::test]
async fn resent_messages_respect_the_new_receive_maximum_mqtt_3_3_4_9() {
    let broker = TestBroker::start().await;
    let (mut sub, _) = broker.connect_persistent(V5, "shrinking").await;
    sub.subscribe("shrink/t", QoS::AtLeastOnce).await;
    let mut publisher = broker.connect(V5, "publisher").await;
    for i in 1..=5 {
        publisher
            .publish(message("shrink/t", &i.to_string(), QoS::AtLeastOnce))
            .await;
    }
    for _ in 1..=5 {
        sub.recv_publish().await; // not acknowledged
    }
    drop(sub);

    let mut connect = persistent(V5, "shrinking", 300);
    connect.properties.receive_maximum = NonZeroU16::new(2);
    let (mut sub, connack) = broker.connect_with(connect).await;
    assert!(connack.session_present);
    let mut in_flight = VecDeque::new();
    for _ in 0..2 {
        in_flight.push_back(sub.recv_publish().await);
    }
    sub.expect_nothing().await;
    let mut expected = 1;
    while let Some(oldest) = in_flight.pop_front() {
        assert!(oldest.dup);
        assert_eq!(&oldest.payload[..], expected.to_string().as_bytes());
        expected += 1;
        sub.ack(&oldest).await;
        if expected + in_flight.len() <= 5 {
            in_flight.push_back(sub.recv_publish().await);
        }
        sub.expect_nothing().await;
    }
    assert_eq!(expected, 6);
}

/// §3.1.4 and the non-normative comment of §3.1.3.2.2: when a takeover closes a connection
/// whose will has Will Delay Interval 0, that will is published.
#[tokio::test]
async fn takeover_publishes_the_old_connection_will_when_its_delay_is_0_section_3_1_3_2_2() {
    let broker = TestBroker::start().await;
    let mut watcher = watcher(&broker).await;
    let (mut old, _) = broker.connect_with(delayed_will("usurped", 60, 0)).await;
    let (_new, connack) = broker.connect_with(persistent(V5, "usurped", 60)).await;
    assert!(connack.session_present);
    old.expect_disconnect(ReasonCode::SessionTakenOver).await;
    let got = watcher.recv_message().await;
    assert_eq!(got.topic.as_str(), "will/usurped");
}

/// [MQTT-3.1.3-9]: a takeover with Clean Start 0 is a new connection to the session within the
/// Will Delay Interval, so the old connection's delayed will is not published.
#[tokio::test(start_paused = true)]
async fn takeover_cancels_the_old_connection_delayed_will_mqtt_3_1_3_9() {
    let broker = TestBroker::start().await;
    let mut watcher = watcher(&broker).await;
    let (mut old, _) = broker.connect_with(delayed_will("resumed", 60, 2)).await;
    let (_new, connack) = broker.connect_with(persistent(V5, "resumed", 60)).await;
    assert!(connack.session_present);
    old.expect_disconnect(ReasonCode::SessionTakenOver).await;
    sleep(Duration::from_secs(5)).await;
    watcher.expect_nothing().await;
}

/// [MQTT-3.14.4-3] discards the will only on DISCONNECT with Reason Code 0x00; a DISCONNECT
/// with an error code is a close "without first sending a DISCONNECT packet with a Reason Code
/// 0x00" (§3.1.2.5), so the will is published.
#[tokio::test]
async fn disconnect_with_an_error_reason_code_publishes_the_will_mqtt_3_14_4_3() {
    let broker = TestBroker::start().await;
    let mut watcher = watcher(&broker).await;
    let mut connect = connect_packet(V5, "failing");
    connect.will = Some(will("will/failing", "failed", QoS::AtMostOnce, false));
    let (mut client, _) = broker.connect_with(connect).await;
    client
        .disconnect_with(Disconnect::new(ReasonCode::UnspecifiedError))
        .await;
    // The broker closed the connection, so the will is already queued for the watcher.
    let got = watcher.collect().await;
    assert_eq!(got.len(), 1, "the will, published: {got:?}");
    assert_eq!(&got[0].payload[..], b"failed");
}
