//! Subscriptions: topic matching with wildcards and the `$` rule, SUBACK codes, resubscribing,
//! overlapping subscriptions and UNSUBSCRIBE. (5.0 subscription options, identifiers and shared
//! subscriptions: `v5_subscribe.rs`.)

use std::time::Duration;

use mqkit::broker::Config;
use mqkit::protocol::{ProtocolVersion, Publish, QoS, ReasonCode};

use crate::support::{config, message, qos_options, sub_id, TestBroker};

both_versions!(
    wildcards_match_like_the_examples_of_section_4_7_1,
    topic_matching_is_case_sensitive_mqtt_4_7_3_4,
    suback_has_one_code_per_filter_in_order_and_rejects_invalid_filters_mqtt_3_9_3_1,
    resubscribing_replaces_the_subscription_mqtt_3_8_4_3,
    overlapping_subscriptions_give_one_delivery_at_the_highest_qos_mqtt_3_3_5_1,
    unsubscribe_ends_delivery_and_is_always_acknowledged_mqtt_3_10_4_1,
    dollar_topics_are_not_matched_by_leading_wildcards_mqtt_4_7_2_1,
);

/// Topics of `published` that a client subscribed to `filter` receives, sorted.
async fn matched(broker: &TestBroker, v: ProtocolVersion, filter: &str) -> Vec<String> {
    let mut sub = broker.connect(v, "matcher").await;
    assert_eq!(
        sub.subscribe(filter, QoS::AtMostOnce).await,
        ReasonCode::Success
    );
    let mut publisher = broker.connect(v, "publisher").await;
    let published = [
        "sport",
        "sport/",
        "sport/tennis",
        "sport/tennis/player1",
        "sport/tennis/player1/ranking",
        "sport/tennis/player1/score/wimbledon",
        "sport/tennis/player2",
        "/finance",
        "finance",
    ];
    for topic in published {
        publisher
            .publish(message(topic, topic, QoS::AtMostOnce))
            .await;
    }
    let mut topics: Vec<String> = sub
        .collect()
        .await
        .iter()
        .map(|p: &Publish| p.topic.as_str().to_owned())
        .collect();
    topics.sort();
    sub.disconnect().await;
    publisher.disconnect().await;
    topics
}

/// The matching examples of 3.1.1 §4.7.1.2 and §4.7.1.3 (5.0 §4.7.1.2, §4.7.1.3).
async fn wildcards_match_like_the_examples_of_section_4_7_1(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let cases: [(&str, &[&str]); 9] = [
        (
            "sport/tennis/player1/#",
            &[
                "sport/tennis/player1",
                "sport/tennis/player1/ranking",
                "sport/tennis/player1/score/wimbledon",
            ],
        ),
        (
            "sport/#",
            &[
                "sport",
                "sport/",
                "sport/tennis",
                "sport/tennis/player1",
                "sport/tennis/player1/ranking",
                "sport/tennis/player1/score/wimbledon",
                "sport/tennis/player2",
            ],
        ),
        (
            "sport/tennis/+",
            &["sport/tennis/player1", "sport/tennis/player2"],
        ),
        ("sport/+", &["sport/", "sport/tennis"]),
        ("+", &["finance", "sport"]),
        ("+/+", &["/finance", "sport/", "sport/tennis"]),
        ("/+", &["/finance"]),
        (
            "+/tennis/#",
            &[
                "sport/tennis",
                "sport/tennis/player1",
                "sport/tennis/player1/ranking",
                "sport/tennis/player1/score/wimbledon",
                "sport/tennis/player2",
            ],
        ),
        ("sport/tennis/player1", &["sport/tennis/player1"]),
    ];
    for (filter, expected) in cases {
        let got = matched(&broker, v, filter).await;
        assert_eq!(got, expected, "filter {filter}");
    }
    let mut all = matched(&broker, v, "#").await;
    all.sort();
    assert_eq!(all.len(), 9, "# matches every non-$ topic: {all:?}");
}

/// 5.0 [MQTT-4.7.3-4] too: no case folding or normalisation when matching.
async fn topic_matching_is_case_sensitive_mqtt_4_7_3_4(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let mut sub = broker.connect(v, "subscriber").await;
    sub.subscribe("ACCOUNTS/+", QoS::AtMostOnce).await;
    let mut publisher = broker.connect(v, "publisher").await;
    for topic in ["Accounts/a", "accounts/a", "ACCOUNTS/a"] {
        publisher
            .publish(message(topic, topic, QoS::AtMostOnce))
            .await;
    }
    let got = sub.collect().await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].topic.as_str(), "ACCOUNTS/a");
}

/// SUBACK answers each filter in order; a filter breaking the wildcard rules gets a failure code
/// (3.1.1: 0x80; 5.0: 0x8F Topic Filter invalid) while the others are granted and work.
async fn suback_has_one_code_per_filter_in_order_and_rejects_invalid_filters_mqtt_3_9_3_1(
    v: ProtocolVersion,
) {
    let broker = TestBroker::start().await;
    let mut sub = broker.connect(v, "subscriber").await;
    let suback = sub
        .subscribe_with(
            &[
                ("ok/a", qos_options(QoS::AtMostOnce)),
                ("a/#/b", qos_options(QoS::AtLeastOnce)), // '#' not last [MQTT-4.7.1-2]
                ("ok/+", qos_options(QoS::ExactlyOnce)),
                ("sp+rt", qos_options(QoS::AtLeastOnce)), // '+' not a whole level [MQTT-4.7.1-3]
            ],
            None,
        )
        .await;
    let invalid = if v.is_v5() {
        ReasonCode::TopicFilterInvalid
    } else {
        ReasonCode::UnspecifiedError // the 3.1.1 failure return code 0x80
    };
    assert_eq!(
        suback.reason_codes,
        [
            ReasonCode::GRANTED_QOS_0,
            invalid,
            ReasonCode::GrantedQoS2,
            invalid
        ]
    );
    let mut publisher = broker.connect(v, "publisher").await;
    publisher
        .publish(message("ok/a", "a", QoS::AtMostOnce))
        .await;
    publisher
        .publish(message("ok/b", "b", QoS::ExactlyOnce))
        .await;
    assert_eq!(sub.recv_message().await.topic.as_str(), "ok/a");
    let got = sub.recv_message().await;
    assert_eq!((got.topic.as_str(), got.qos), ("ok/b", QoS::ExactlyOnce));
}

/// A SUBSCRIBE for a filter the client already has replaces that subscription (its QoS here)
/// instead of adding a second one.
async fn resubscribing_replaces_the_subscription_mqtt_3_8_4_3(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let mut sub = broker.connect(v, "subscriber").await;
    assert_eq!(
        sub.subscribe("again/t", QoS::AtMostOnce).await,
        ReasonCode::GRANTED_QOS_0
    );
    assert_eq!(
        sub.subscribe("again/t", QoS::ExactlyOnce).await,
        ReasonCode::GrantedQoS2
    );
    let mut publisher = broker.connect(v, "publisher").await;
    publisher
        .publish(message("again/t", "once", QoS::ExactlyOnce))
        .await;
    let got = sub.recv_message().await;
    assert_eq!(got.qos, QoS::ExactlyOnce, "the new subscription's QoS");
    sub.expect_nothing().await;
}

/// Overlapping subscriptions of one client: the broker sends one copy, at the highest QoS of the
/// matching subscriptions (5.0 [MQTT-3.3.4-2]), and in 5.0 with the Subscription Identifiers of
/// all of them [MQTT-3.3.4-4]. One copy is this broker's documented choice.
async fn overlapping_subscriptions_give_one_delivery_at_the_highest_qos_mqtt_3_3_5_1(
    v: ProtocolVersion,
) {
    let broker = TestBroker::start().await;
    let mut sub = broker.connect(v, "subscriber").await;
    let (low, high) = if v.is_v5() {
        (Some(sub_id(1)), Some(sub_id(2)))
    } else {
        (None, None)
    };
    sub.subscribe_with(&[("over/#", qos_options(QoS::AtMostOnce))], low)
        .await;
    sub.subscribe_with(&[("over/+", qos_options(QoS::ExactlyOnce))], high)
        .await;
    sub.subscribe_with(&[("other/+", qos_options(QoS::AtLeastOnce))], None)
        .await;
    let mut publisher = broker.connect(v, "publisher").await;
    publisher
        .publish(message("over/lap", "x", QoS::ExactlyOnce))
        .await;
    publisher
        .publish(message("over/lap/deeper", "y", QoS::ExactlyOnce))
        .await;

    let got = sub.recv_message().await;
    assert_eq!(
        (got.topic.as_str(), got.qos),
        ("over/lap", QoS::ExactlyOnce)
    );
    let mut ids = got.properties.subscription_identifiers.clone();
    ids.sort();
    let expected: Vec<_> = low.into_iter().chain(high).collect();
    assert_eq!(ids, expected);
    // Only "over/#" matches this one.
    let got = sub.recv_message().await;
    assert_eq!(
        (got.topic.as_str(), got.qos),
        ("over/lap/deeper", QoS::AtMostOnce)
    );
    assert_eq!(got.properties.subscription_identifiers, Vec::from_iter(low));
    sub.expect_nothing().await;
}

/// UNSUBSCRIBE deletes the matching subscription and only it; UNSUBACK comes even when nothing
/// was deleted [MQTT-3.10.4-5].
async fn unsubscribe_ends_delivery_and_is_always_acknowledged_mqtt_3_10_4_1(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let mut sub = broker.connect(v, "subscriber").await;
    sub.subscribe("un/t", QoS::AtLeastOnce).await;
    sub.subscribe("un/kept", QoS::AtLeastOnce).await;
    sub.unsubscribe(&["un/t"]).await;
    sub.unsubscribe(&["never/subscribed"]).await;
    // "un/+" is not the same filter as "un/t": character by character comparison.
    sub.unsubscribe(&["un/+"]).await;
    let mut publisher = broker.connect(v, "publisher").await;
    publisher
        .publish(message("un/t", "gone", QoS::AtLeastOnce))
        .await;
    publisher
        .publish(message("un/kept", "kept", QoS::AtLeastOnce))
        .await;
    let got = sub.recv_message().await;
    assert_eq!(got.topic.as_str(), "un/kept");
    sub.expect_nothing().await;
}

/// Filters starting with a wildcard do not match topics starting with `$`, while `$SYS/#` gets
/// the broker's `$SYS/broker/...` statistics (5.0 [MQTT-4.7.2-1] too).
async fn dollar_topics_are_not_matched_by_leading_wildcards_mqtt_4_7_2_1(v: ProtocolVersion) {
    let broker = TestBroker::with_config(Config {
        sys_interval: Some(Duration::from_millis(200)),
        ..config()
    })
    .await;
    let mut wild = broker.connect(v, "wild").await;
    for filter in ["#", "+/broker/#", "+/+/version"] {
        wild.subscribe(filter, QoS::AtMostOnce).await;
    }
    let mut sys = broker.connect(v, "sys").await;
    sys.subscribe("$SYS/#", QoS::AtMostOnce).await;
    // Wait for a live (RETAIN 0) version message: it was published after both subscriptions.
    loop {
        let got = sys.recv_publish().await;
        if got.topic.as_str() == "$SYS/broker/version" && !got.retain {
            let version = std::str::from_utf8(&got.payload).unwrap();
            assert!(version.starts_with("mqkit"), "{version}");
            break;
        }
    }
    wild.expect_nothing().await;
    // Neither stored nor live: a new "#" subscriber does not get the retained $SYS messages.
    let mut late = broker.connect(v, "late").await;
    late.subscribe("#", QoS::AtMostOnce).await;
    late.expect_nothing().await;
}
