//! Retained messages: stored per topic, replaced, deleted by an empty payload, sent to new
//! subscriptions with RETAIN 1 and forwarded live with RETAIN 0. (Retain Handling and Retain As
//! Published are 5.0 subscription options: see `v5_subscribe.rs`.)

use mqkit::protocol::{ProtocolVersion, QoS};

use crate::support::{message, retained, TestBroker};

both_versions!(
    retained_message_is_sent_to_a_new_subscription_with_retain_1_mqtt_3_3_1_8,
    newer_retained_message_replaces_the_older_one_mqtt_3_3_1_5,
    empty_retained_message_is_forwarded_and_deletes_the_retained_one_mqtt_3_3_1_10,
    empty_retained_message_is_not_stored_mqtt_3_3_1_11,
    message_without_retain_leaves_the_retained_one_alone_mqtt_3_3_1_12,
    live_message_is_forwarded_with_retain_0_mqtt_3_3_1_9,
    wildcard_subscription_gets_every_matching_retained_message_mqtt_3_3_1_6,
);

/// The retained message comes with RETAIN 1, at the lower of its QoS and the subscription's.
async fn retained_message_is_sent_to_a_new_subscription_with_retain_1_mqtt_3_3_1_8(
    v: ProtocolVersion,
) {
    let broker = TestBroker::start().await;
    let mut publisher = broker.connect(v, "publisher").await;
    publisher
        .publish(retained("kept/t", "state", QoS::AtLeastOnce))
        .await;
    let mut sub = broker.connect(v, "late").await;
    sub.subscribe("kept/t", QoS::ExactlyOnce).await;
    let got = sub.recv_message().await;
    assert!(got.retain);
    assert_eq!(got.qos, QoS::AtLeastOnce);
    assert_eq!(&got.payload[..], b"state");
    sub.expect_nothing().await;

    let mut low = broker.connect(v, "low").await;
    low.subscribe("kept/t", QoS::AtMostOnce).await;
    let got = low.recv_publish().await;
    assert_eq!((got.retain, got.qos), (true, QoS::AtMostOnce));
}

/// 5.0 [MQTT-3.3.1-5]: only the last retained message of a topic is kept.
async fn newer_retained_message_replaces_the_older_one_mqtt_3_3_1_5(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let mut publisher = broker.connect(v, "publisher").await;
    for state in ["first", "second", "third"] {
        publisher
            .publish(retained("replace/t", state, QoS::AtMostOnce))
            .await;
    }
    let mut sub = broker.connect(v, "late").await;
    sub.subscribe("replace/t", QoS::AtMostOnce).await;
    let got = sub.recv_publish().await;
    assert_eq!(&got.payload[..], b"third");
    sub.expect_nothing().await;
}

/// 5.0 [MQTT-3.3.1-6]: an empty retained PUBLISH goes to current subscribers as usual (RETAIN
/// 0) and removes the topic's retained message, so a new subscriber gets none.
async fn empty_retained_message_is_forwarded_and_deletes_the_retained_one_mqtt_3_3_1_10(
    v: ProtocolVersion,
) {
    let broker = TestBroker::start().await;
    let mut current = broker.connect(v, "current").await;
    current.subscribe("erase/t", QoS::AtLeastOnce).await;
    let mut publisher = broker.connect(v, "publisher").await;
    publisher
        .publish(retained("erase/t", "state", QoS::AtLeastOnce))
        .await;
    publisher
        .publish(retained("erase/t", "", QoS::AtLeastOnce))
        .await;
    assert_eq!(&current.recv_message().await.payload[..], b"state");
    let empty = current.recv_message().await;
    assert!(empty.payload.is_empty());
    assert!(!empty.retain, "forwarded as normal, RETAIN 0");

    let mut late = broker.connect(v, "late").await;
    late.subscribe("erase/t", QoS::AtLeastOnce).await;
    late.expect_nothing().await;
}

/// 5.0 [MQTT-3.3.1-7]: an empty retained message on a topic with none stored stores nothing.
async fn empty_retained_message_is_not_stored_mqtt_3_3_1_11(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let mut publisher = broker.connect(v, "publisher").await;
    publisher
        .publish(retained("void/t", "", QoS::AtMostOnce))
        .await;
    let mut late = broker.connect(v, "late").await;
    late.subscribe("void/#", QoS::AtMostOnce).await;
    late.expect_nothing().await;
}

/// 5.0 [MQTT-3.3.1-8]: a PUBLISH with RETAIN 0 neither stores nor replaces nor removes.
async fn message_without_retain_leaves_the_retained_one_alone_mqtt_3_3_1_12(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let mut publisher = broker.connect(v, "publisher").await;
    publisher
        .publish(retained("alone/t", "retained", QoS::AtMostOnce))
        .await;
    publisher
        .publish(message("alone/t", "passing", QoS::AtMostOnce))
        .await;
    publisher
        .publish(message("alone/t", "", QoS::AtMostOnce))
        .await;
    publisher
        .publish(message("alone/other", "passing", QoS::AtMostOnce))
        .await;
    let mut late = broker.connect(v, "late").await;
    late.subscribe("alone/#", QoS::AtMostOnce).await;
    let got = late.collect().await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].topic.as_str(), "alone/t");
    assert_eq!(&got[0].payload[..], b"retained");
}

/// A retained PUBLISH reaching an existing subscription goes out with RETAIN 0 (5.0: unless
/// Retain As Published, [MQTT-3.3.1-12]).
async fn live_message_is_forwarded_with_retain_0_mqtt_3_3_1_9(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let mut sub = broker.connect(v, "subscriber").await;
    sub.subscribe("live/t", QoS::AtLeastOnce).await;
    let mut publisher = broker.connect(v, "publisher").await;
    publisher
        .publish(retained("live/t", "now", QoS::AtLeastOnce))
        .await;
    let got = sub.recv_message().await;
    assert!(!got.retain, "{got:?}");
    // ... and it was stored all the same.
    let mut late = broker.connect(v, "late").await;
    late.subscribe("live/t", QoS::AtLeastOnce).await;
    assert!(late.recv_message().await.retain);
}

/// 5.0 [MQTT-3.3.1-9] (Retain Handling 0, the default): every retained message matching the new
/// subscription's filter is sent, each once.
async fn wildcard_subscription_gets_every_matching_retained_message_mqtt_3_3_1_6(
    v: ProtocolVersion,
) {
    let broker = TestBroker::start().await;
    let mut publisher = broker.connect(v, "publisher").await;
    for topic in [
        "home/kitchen/temp",
        "home/hall/temp",
        "home/kitchen/light",
        "office/temp",
    ] {
        publisher
            .publish(retained(topic, topic, QoS::AtMostOnce))
            .await;
    }
    let mut sub = broker.connect(v, "late").await;
    sub.subscribe("home/+/temp", QoS::AtMostOnce).await;
    let mut topics: Vec<String> = sub
        .collect()
        .await
        .into_iter()
        .inspect(|p| assert!(p.retain))
        .map(|p| p.topic.as_str().to_owned())
        .collect();
    topics.sort();
    assert_eq!(topics, ["home/hall/temp", "home/kitchen/temp"]);
}
