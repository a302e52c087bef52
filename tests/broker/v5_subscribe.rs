//! 5.0 subscription features: No Local, Subscription Identifiers, Retain Handling, Retain As
//! Published, UNSUBACK reason codes and shared subscriptions. Statement numbers are 5.0's.

use mqkit::protocol::{ProtocolVersion, QoS, ReasonCode, RetainHandling, SubscriptionOptions};

use crate::support::{message, qos_options, retained, sub_id, TestBroker};

const V5: ProtocolVersion = ProtocolVersion::V5;

/// Options at QoS 1 changed by `f`.
fn options(f: impl FnOnce(&mut SubscriptionOptions)) -> SubscriptionOptions {
    let mut options = qos_options(QoS::AtLeastOnce);
    f(&mut options);
    options
}

/// [MQTT-3.8.3-3]: with No Local the broker does not send a client the messages it published
/// itself; other clients' messages still come.
#[tokio::test]
async fn no_local_keeps_a_client_own_messages_from_it_mqtt_3_8_3_3() {
    let broker = TestBroker::start().await;
    let mut me = broker.connect(V5, "me").await;
    me.subscribe_with(&[("nl/t", options(|o| o.no_local = true))], None)
        .await;
    let mut witness = broker.connect(V5, "witness").await;
    witness.subscribe("nl/t", QoS::AtLeastOnce).await;

    me.publish(message("nl/t", "mine", QoS::AtLeastOnce)).await;
    assert_eq!(&witness.recv_message().await.payload[..], b"mine");
    me.expect_nothing().await;

    witness
        .publish(message("nl/t", "theirs", QoS::AtLeastOnce))
        .await;
    assert_eq!(&me.recv_message().await.payload[..], b"theirs");
}

/// [MQTT-3.3.4-3]: a message matching a subscription made with a Subscription Identifier
/// carries it; one matching a subscription without has none. Resubscribing replaces the
/// identifier [MQTT-3.8.4-3].
#[tokio::test]
async fn subscription_identifier_comes_with_matching_messages_mqtt_3_3_4_3() {
    let broker = TestBroker::start().await;
    let mut sub = broker.connect(V5, "subscriber").await;
    sub.subscribe_with(&[("sid/#", qos_options(QoS::AtLeastOnce))], Some(sub_id(7)))
        .await;
    sub.subscribe_with(&[("plain/#", qos_options(QoS::AtLeastOnce))], None)
        .await;
    let mut publisher = broker.connect(V5, "publisher").await;
    publisher
        .publish(message("sid/a", "x", QoS::AtLeastOnce))
        .await;
    publisher
        .publish(message("plain/a", "x", QoS::AtLeastOnce))
        .await;
    assert_eq!(
        sub.recv_message().await.properties.subscription_identifiers,
        [sub_id(7)]
    );
    assert!(sub
        .recv_message()
        .await
        .properties
        .subscription_identifiers
        .is_empty());

    // The retained message sent because of the new subscription carries its identifier too.
    publisher
        .publish(retained("sid/r", "x", QoS::AtLeastOnce))
        .await;
    assert_eq!(
        sub.recv_message().await.properties.subscription_identifiers,
        [sub_id(7)]
    );
    sub.subscribe_with(
        &[("sid/#", qos_options(QoS::AtLeastOnce))],
        Some(sub_id(268_435_455)),
    )
    .await;
    let got = sub.recv_message().await;
    assert!(got.retain);
    assert_eq!(
        got.properties.subscription_identifiers,
        [sub_id(268_435_455)]
    );
    publisher
        .publish(message("sid/b", "x", QoS::AtLeastOnce))
        .await;
    assert_eq!(
        sub.recv_message().await.properties.subscription_identifiers,
        [sub_id(268_435_455)]
    );
}

/// A Subscription Identifier of 0 is a Protocol Error (§3.8.2.1.2).
#[tokio::test]
async fn subscription_identifier_0_is_a_protocol_error_section_3_8_2_1_2() {
    let broker = TestBroker::start().await;
    let mut client = broker.connect(V5, "zero").await;
    client
        .send_raw(&[
            0x82, 0x09, // SUBSCRIBE, remaining length 9
            0x00, 0x01, // packet identifier 1
            0x02, 0x0B, 0x00, // properties: Subscription Identifier 0
            0x00, 0x01, b't', 0x01, // "t", QoS 1
        ])
        .await;
    client.expect_disconnect(ReasonCode::ProtocolError).await;
    broker.assert_still_works().await;
}

/// A broker with one retained message on `rh/t`.
async fn with_retained() -> TestBroker {
    let broker = TestBroker::start().await;
    let mut publisher = broker.connect(V5, "publisher").await;
    publisher
        .publish(retained("rh/t", "state", QoS::AtLeastOnce))
        .await;
    publisher.disconnect().await;
    broker
}

/// [MQTT-3.3.1-9]: Retain Handling 0 sends the retained messages at every subscribe, also when
/// the subscription already existed.
#[tokio::test]
async fn retain_handling_0_sends_retained_messages_at_every_subscribe_mqtt_3_3_1_9() {
    let broker = with_retained().await;
    let mut sub = broker.connect(V5, "subscriber").await;
    let rh0 = options(|o| o.retain_handling = RetainHandling::SendAtSubscribe);
    for _ in 0..2 {
        sub.subscribe_with(&[("rh/t", rh0)], None).await;
        let got = sub.recv_message().await;
        assert!(got.retain);
        assert_eq!(&got.payload[..], b"state");
    }
    sub.expect_nothing().await;
}

/// [MQTT-3.3.1-10]: Retain Handling 1 sends them only when the subscription is new.
#[tokio::test]
async fn retain_handling_1_sends_retained_messages_for_a_new_subscription_only_mqtt_3_3_1_10() {
    let broker = with_retained().await;
    let mut sub = broker.connect(V5, "subscriber").await;
    let rh1 = options(|o| o.retain_handling = RetainHandling::SendIfNew);
    sub.subscribe_with(&[("rh/t", rh1)], None).await;
    assert!(sub.recv_message().await.retain);
    sub.subscribe_with(&[("rh/t", rh1)], None).await;
    sub.expect_nothing().await;
}

/// [MQTT-3.3.1-11]: Retain Handling 2 sends none; live messages still arrive.
#[tokio::test]
async fn retain_handling_2_sends_no_retained_messages_mqtt_3_3_1_11() {
    let broker = with_retained().await;
    let mut sub = broker.connect(V5, "subscriber").await;
    let rh2 = options(|o| o.retain_handling = RetainHandling::DoNotSend);
    sub.subscribe_with(&[("rh/t", rh2)], None).await;
    sub.expect_nothing().await;
    let mut publisher = broker.connect(V5, "publisher").await;
    publisher
        .publish(message("rh/t", "live", QoS::AtLeastOnce))
        .await;
    assert_eq!(&sub.recv_message().await.payload[..], b"live");
}

/// [MQTT-3.3.1-12]: without Retain As Published a forwarded message has RETAIN 0;
/// [MQTT-3.3.1-13]: with it, RETAIN as the publisher set it.
#[tokio::test]
async fn retain_as_published_decides_the_forwarded_retain_flag_mqtt_3_3_1_13() {
    let broker = TestBroker::start().await;
    let mut keeps = broker.connect(V5, "keeps").await;
    keeps
        .subscribe_with(
            &[("rap/t", options(|o| o.retain_as_published = true))],
            None,
        )
        .await;
    let mut clears = broker.connect(V5, "clears").await;
    clears.subscribe("rap/t", QoS::AtLeastOnce).await;
    let mut publisher = broker.connect(V5, "publisher").await;
    publisher
        .publish(retained("rap/t", "r", QoS::AtLeastOnce))
        .await;
    publisher
        .publish(message("rap/t", "n", QoS::AtLeastOnce))
        .await;
    for (client, first_retain) in [(&mut keeps, true), (&mut clears, false)] {
        let got = client.recv_message().await;
        assert_eq!((&got.payload[..], got.retain), (&b"r"[..], first_retain));
        let got = client.recv_message().await;
        assert_eq!((&got.payload[..], got.retain), (&b"n"[..], false));
    }
}

/// [MQTT-3.11.3-1]: UNSUBACK has one reason code per filter, in order: 0x00 Success, 0x11 No
/// subscription existed, 0x8F Topic Filter invalid.
#[tokio::test]
async fn unsuback_has_a_reason_code_per_filter_in_order_mqtt_3_11_3_1() {
    let broker = TestBroker::start().await;
    let mut sub = broker.connect(V5, "subscriber").await;
    sub.subscribe("u/a", QoS::AtLeastOnce).await;
    sub.subscribe("u/b", QoS::AtLeastOnce).await;
    let unsuback = sub
        .unsubscribe(&["u/a", "u/none", "u/a", "a/#/b", "u/b"])
        .await;
    assert_eq!(
        unsuback.reason_codes,
        [
            ReasonCode::Success,
            ReasonCode::NoSubscriptionExisted,
            ReasonCode::NoSubscriptionExisted,
            ReasonCode::TopicFilterInvalid,
            ReasonCode::Success,
        ]
    );
}

/// §4.8.2: each message matching a shared subscription goes to exactly one member of the
/// group, while an ordinary subscription to the same topic gets every message.
#[tokio::test]
async fn shared_subscription_gives_each_message_to_one_member_section_4_8_2() {
    let broker = TestBroker::start().await;
    let mut members = Vec::new();
    for name in ["member1", "member2"] {
        let mut member = broker.connect(V5, name).await;
        let code = member.subscribe("$share/g/shared/t", QoS::AtMostOnce).await;
        assert_eq!(code, ReasonCode::GRANTED_QOS_0);
        members.push(member);
    }
    let mut plain = broker.connect(V5, "plain").await;
    plain.subscribe("shared/+", QoS::AtMostOnce).await;
    let mut publisher = broker.connect(V5, "publisher").await;
    for i in 0..10 {
        publisher
            .publish(message("shared/t", &i.to_string(), QoS::AtLeastOnce))
            .await;
    }
    let payloads = |got: Vec<mqkit::protocol::Publish>| -> Vec<String> {
        got.iter()
            .map(|p| String::from_utf8(p.payload.to_vec()).unwrap())
            .collect()
    };
    let all: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    assert_eq!(payloads(plain.collect().await), all);
    let mut shared = Vec::new();
    for member in &mut members {
        shared.extend(payloads(member.collect().await));
    }
    shared.sort_by_key(|p| p.parse::<u32>().unwrap());
    assert_eq!(shared, all, "each message to exactly one member");
}

/// §4.8.2: a shared group gives messages to a member that is connected, not to one whose
/// persistent session is offline (where QoS 0 would be lost).
#[tokio::test]
async fn shared_subscription_prefers_connected_members_section_4_8_2() {
    let broker = TestBroker::start().await;
    let (mut away, _) = broker
        .connect_with(crate::support::persistent(V5, "away", 600))
        .await;
    away.subscribe("$share/g/pref/t", QoS::AtMostOnce).await;
    away.disconnect().await;
    let mut here = broker.connect(V5, "here").await;
    here.subscribe("$share/g/pref/t", QoS::AtMostOnce).await;
    let mut publisher = broker.connect(V5, "publisher").await;
    for i in 0..6 {
        publisher
            .publish(message("pref/t", &i.to_string(), QoS::AtMostOnce))
            .await;
    }
    let got = here.collect().await;
    assert_eq!(
        got.len(),
        6,
        "every message to the connected member: {got:?}"
    );
}

/// §4.8.2 / §3.8.4: subscribing to a shared filter sends no retained messages.
#[tokio::test]
async fn shared_subscription_gets_no_retained_messages_section_4_8_2() {
    let broker = with_retained().await;
    let mut member = broker.connect(V5, "member").await;
    member.subscribe("$share/g/rh/t", QoS::AtLeastOnce).await;
    member.expect_nothing().await;
}

/// [MQTT-3.8.3-4]: No Local on a shared subscription is a Protocol Error.
#[tokio::test]
async fn no_local_on_a_shared_subscription_is_a_protocol_error_mqtt_3_8_3_4() {
    let broker = TestBroker::start().await;
    let mut client = broker.connect(V5, "contrary").await;
    let packet_id = client.next_id();
    let subscribe = mqkit::protocol::Subscribe {
        packet_id,
        subscriptions: vec![mqkit::protocol::Subscription {
            filter: crate::support::mqtt_string("$share/g/t"),
            options: options(|o| o.no_local = true),
        }],
        properties: Default::default(),
    };
    client
        .send(mqkit::protocol::Packet::Subscribe(subscribe))
        .await;
    client.expect_disconnect(ReasonCode::ProtocolError).await;
    broker.assert_still_works().await;
}

/// [MQTT-4.8.2-1], [MQTT-4.8.2-2]: a share name must be non-empty, free of `/`, `+` and `#`, and
/// followed by `/` and a topic filter; SUBACK refuses the filter with 0x8F otherwise.
#[tokio::test]
async fn malformed_shared_subscription_filters_are_refused_mqtt_4_8_2_2() {
    let broker = TestBroker::start().await;
    let mut client = broker.connect(V5, "sharer").await;
    let filters = [
        "$share//t",
        "$share/g+/t",
        "$share/g",
        "$share/g/",
        "$share/g/a/#/b",
    ];
    let requested: Vec<_> = filters
        .iter()
        .map(|f| (*f, qos_options(QoS::AtMostOnce)))
        .collect();
    let suback = client.subscribe_with(&requested, None).await;
    assert_eq!(suback.reason_codes, [ReasonCode::TopicFilterInvalid; 5]);
}
