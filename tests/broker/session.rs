//! Sessions across connections: Clean Session / Clean Start and Session Present, what a
//! persistent session keeps while its client is away, and redelivery when it comes back.
//!
//! 5.0 sessions here use a Session Expiry Interval of five minutes (`support::persistent`); the
//! expiry itself is tested in `v5.rs`.

use bytes::BytesMut;
use mqkit::broker::Config;
use mqkit::protocol::{Ack, Packet, ProtocolVersion, QoS, ReasonCode};

use crate::support::{message, packet_id, persistent, TestBroker};

both_versions!(
    clean_start_gives_session_present_0_and_a_new_session_mqtt_3_2_2_1,
    resumed_session_gives_session_present_1_and_keeps_subscriptions_mqtt_3_2_2_2,
    offline_session_queues_qos1_and_qos2_but_not_qos0_mqtt_3_1_2_5,
    takeover_with_clean_start_0_keeps_the_session_mqtt_3_1_4_2,
    unacknowledged_qos1_is_resent_with_dup_on_resume_mqtt_4_4_0_1,
    unfinished_qos2_flows_are_resumed_on_reconnect_mqtt_4_4_0_1,
    clean_session_ends_with_the_connection_mqtt_3_1_2_6,
    messages_published_during_a_takeover_reach_the_new_connection_mqtt_3_1_4_2,
    qos2_flow_of_a_publisher_survives_its_reconnect_mqtt_4_3_3_2,
    resent_messages_keep_their_order_across_packet_id_wraparound_mqtt_4_6_0_1,
);

/// 5.0 [MQTT-3.2.2-2]. Also [MQTT-3.2.2-3] (3.1.1): no session yet, Session Present 0.
async fn clean_start_gives_session_present_0_and_a_new_session_mqtt_3_2_2_1(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let (mut old, present) = broker.connect_persistent(v, "phoenix").await;
    assert!(!present, "no session existed");
    old.subscribe("phoenix/t", QoS::AtLeastOnce).await;
    old.disconnect().await;

    let mut fresh = broker.connect(v, "phoenix").await; // asserts Session Present 0
    let mut publisher = broker.connect(v, "publisher").await;
    let code = publisher
        .publish(message("phoenix/t", "x", QoS::AtLeastOnce))
        .await;
    if v.is_v5() {
        assert_eq!(code, ReasonCode::NoMatchingSubscribers);
    }
    // The old session's subscription went with it [MQTT-3.1.2-6].
    fresh.expect_nothing().await;
}

/// 5.0 [MQTT-3.2.2-3]. The resumed session still has its subscriptions [MQTT-3.1.2-4].
async fn resumed_session_gives_session_present_1_and_keeps_subscriptions_mqtt_3_2_2_2(
    v: ProtocolVersion,
) {
    let broker = TestBroker::start().await;
    let (mut client, present) = broker.connect_persistent(v, "loyal").await;
    assert!(!present);
    client.subscribe("loyal/#", QoS::AtLeastOnce).await;
    client.disconnect().await;

    let (mut client, present) = broker.connect_persistent(v, "loyal").await;
    assert!(present, "the session was kept");
    let mut publisher = broker.connect(v, "publisher").await;
    publisher
        .publish(message("loyal/t", "still here", QoS::AtLeastOnce))
        .await;
    let got = client.recv_message().await;
    assert_eq!(&got.payload[..], b"still here");
}

/// While the client is away its session stores the QoS 1 and 2 messages matching its
/// subscriptions and sends them, in order, when it returns; QoS 0 messages are not queued
/// (the broker's default, mosquitto's `queue_qos0_messages false`).
async fn offline_session_queues_qos1_and_qos2_but_not_qos0_mqtt_3_1_2_5(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let (mut client, _) = broker.connect_persistent(v, "away").await;
    client.subscribe("away/#", QoS::ExactlyOnce).await;
    client.disconnect().await;

    let mut publisher = broker.connect(v, "publisher").await;
    let sent = [
        ("away/a", QoS::AtLeastOnce),
        ("away/b", QoS::AtMostOnce),
        ("away/c", QoS::ExactlyOnce),
        ("away/d", QoS::AtLeastOnce),
        ("away/e", QoS::AtMostOnce),
        ("away/f", QoS::ExactlyOnce),
    ];
    for (topic, qos) in sent {
        publisher.publish(message(topic, topic, qos)).await;
    }

    let (mut client, present) = broker.connect_persistent(v, "away").await;
    assert!(present);
    for (topic, qos) in sent.into_iter().filter(|(_, q)| *q != QoS::AtMostOnce) {
        let got = client.recv_message().await;
        assert_eq!((got.topic.as_str(), got.qos), (topic, qos));
    }
    client.expect_nothing().await;
}

/// 5.0 [MQTT-3.1.4-3]. A takeover with Clean Start 0 continues the session: Session Present 1
/// and the subscriptions made on the old connection.
async fn takeover_with_clean_start_0_keeps_the_session_mqtt_3_1_4_2(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let (mut old, _) = broker.connect_persistent(v, "heir").await;
    old.subscribe("heir/t", QoS::AtLeastOnce).await;
    let (mut new, present) = broker.connect_persistent(v, "heir").await;
    assert!(present);
    old.expect_disconnect(ReasonCode::SessionTakenOver).await;

    let mut publisher = broker.connect(v, "publisher").await;
    publisher
        .publish(message("heir/t", "inherited", QoS::AtLeastOnce))
        .await;
    assert_eq!(&new.recv_message().await.payload[..], b"inherited");
}

/// A QoS 1 PUBLISH the client did not acknowledge is sent again when the session resumes, with
/// its packet identifier and DUP 1 [MQTT-3.3.1-1].
async fn unacknowledged_qos1_is_resent_with_dup_on_resume_mqtt_4_4_0_1(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let (mut client, _) = broker.connect_persistent(v, "forgetful").await;
    client.subscribe("forgetful/t", QoS::AtLeastOnce).await;
    let mut publisher = broker.connect(v, "publisher").await;
    publisher
        .publish(message("forgetful/t", "again", QoS::AtLeastOnce))
        .await;
    let first = client.recv_publish().await;
    assert!(!first.dup);
    drop(client); // gone without PUBACK

    let (mut client, present) = broker.connect_persistent(v, "forgetful").await;
    assert!(present);
    let again = client.recv_publish().await;
    assert!(again.dup, "a redelivery has DUP 1: {again:?}");
    assert_eq!(again.packet_id, first.packet_id);
    assert_eq!(
        (again.qos, &again.payload[..]),
        (QoS::AtLeastOnce, &b"again"[..])
    );
    client.ack(&again).await;
    client.expect_nothing().await;
}

/// QoS 2 on resume: a PUBLISH without PUBREC is resent with DUP 1, and a PUBREL whose PUBCOMP
/// never came is resent, in the order the flows started [MQTT-4.6.0-1, MQTT-4.6.0-2].
async fn unfinished_qos2_flows_are_resumed_on_reconnect_mqtt_4_4_0_1(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let (mut client, _) = broker.connect_persistent(v, "halfway").await;
    client.subscribe("halfway/t", QoS::ExactlyOnce).await;
    let mut publisher = broker.connect(v, "publisher").await;
    for payload in ["one", "two"] {
        publisher
            .publish(message("halfway/t", payload, QoS::ExactlyOnce))
            .await;
    }
    let one = client.recv_publish().await;
    let two = client.recv_publish().await;
    let (one_id, two_id) = (one.packet_id.unwrap(), two.packet_id.unwrap());
    client.send(Packet::PubRec(Ack::new(one_id))).await;
    client.expect_ack("PUBREL", one_id).await;
    drop(client); // gone without PUBCOMP for one and PUBREC for two

    let (mut client, present) = broker.connect_persistent(v, "halfway").await;
    assert!(present);
    match client.recv().await {
        Packet::PubRel(rel) => assert_eq!(rel.packet_id, one_id),
        other => panic!("expected PUBREL {one_id} first, got {other:?}"),
    }
    client.send(Packet::PubComp(Ack::new(one_id))).await;
    let again = client.recv_publish().await;
    assert!(again.dup, "{again:?}");
    assert_eq!(again.packet_id, Some(two_id));
    assert_eq!(&again.payload[..], b"two");
    client.ack(&again).await;
    client.expect_nothing().await;
}

/// A Clean Session session ends with its connection [MQTT-3.1.2-6]: a later Clean Session 0
/// connection finds no session and no subscription.
async fn clean_session_ends_with_the_connection_mqtt_3_1_2_6(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let mut client = broker.connect(v, "ephemeral").await;
    client.subscribe("ephemeral/t", QoS::AtLeastOnce).await;
    client.disconnect().await;
    assert_eq!(broker.broker.session_count(), 0, "nothing kept");

    let (mut client, present) = broker.connect_persistent(v, "ephemeral").await;
    assert!(!present);
    let mut publisher = broker.connect(v, "publisher").await;
    publisher
        .publish(message("ephemeral/t", "x", QoS::AtLeastOnce))
        .await;
    client.expect_nothing().await;
}

/// Messages published while a session is being taken over (Clean Start 0) reach the new
/// connection, twenty takeovers in a row.
async fn messages_published_during_a_takeover_reach_the_new_connection_mqtt_3_1_4_2(
    v: ProtocolVersion,
) {
    let broker = TestBroker::start().await;
    let mut publisher = broker.connect(v, "publisher").await;
    let (mut old, _) = broker.connect_persistent(v, "handover").await;
    old.subscribe("handover/t", QoS::AtLeastOnce).await;
    for round in 0..20 {
        let mut new = broker.open(v).await;
        new.send(Packet::Connect(Box::new(persistent(v, "handover", 300))))
            .await;
        let mut publish = message("handover/t", &round.to_string(), QoS::AtLeastOnce);
        publish.packet_id = Some(packet_id(round + 1));
        publisher.send(Packet::Publish(publish)).await;
        match new.recv().await {
            Packet::ConnAck(c) => assert!(c.session_present),
            other => panic!("expected CONNACK, got {other:?}"),
        }
        publisher.expect_ack("PUBACK", packet_id(round + 1)).await;
        let got = new.recv_message().await;
        assert_eq!(
            &got.payload[..],
            round.to_string().as_bytes(),
            "round {round}"
        );
        drop(old);
        old = new;
    }
}

/// The broker remembers a QoS 2 packet identifier awaiting PUBREL as session state: a publisher
/// that reconnects and resends the PUBLISH (DUP 1) gets PUBREC without a second delivery, then
/// completes with PUBREL / PUBCOMP (5.0 [MQTT-4.3.3-10], [MQTT-4.4.0-1]).
async fn qos2_flow_of_a_publisher_survives_its_reconnect_mqtt_4_3_3_2(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let mut sub = broker.connect(v, "subscriber").await;
    sub.subscribe("resume/t", QoS::ExactlyOnce).await;
    let (mut publisher, _) = broker.connect_persistent(v, "publisher").await;
    let id = packet_id(42);
    let mut publish = message("resume/t", "once", QoS::ExactlyOnce);
    publish.packet_id = Some(id);
    publisher.send(Packet::Publish(publish.clone())).await;
    publisher.expect_ack("PUBREC", id).await;
    drop(publisher);

    let (mut publisher, present) = broker.connect_persistent(v, "publisher").await;
    assert!(present);
    publish.dup = true;
    publisher.send(Packet::Publish(publish)).await;
    publisher.expect_ack("PUBREC", id).await;
    publisher.send(Packet::PubRel(Ack::new(id))).await;
    let comp = publisher.expect_ack("PUBCOMP", id).await;
    assert_eq!(comp.reason_code, ReasonCode::Success);

    assert_eq!(&sub.recv_message().await.payload[..], b"once");
    sub.expect_nothing().await;
}

/// Resent QoS 1 messages go out in the order they were first sent (5.0 [MQTT-4.6.0-1]), also
/// when their packet identifiers wrapped around from 65,535 to 1 in between.
async fn resent_messages_keep_their_order_across_packet_id_wraparound_mqtt_4_6_0_1(
    v: ProtocolVersion,
) {
    const WARM_UP: u32 = 65_533;
    const BATCH: u16 = 1000;
    // A send window of a whole batch, so the warm-up needs one write of PUBACKs per batch.
    let broker = TestBroker::with_config(Config {
        max_inflight_messages: BATCH,
        ..crate::support::config()
    })
    .await;
    let (mut sub, _) = broker.connect_persistent(v, "wrap").await;
    sub.subscribe("wrap/t", QoS::AtLeastOnce).await;
    let mut publisher = broker.connect(v, "publisher").await;
    // Use up the subscriber session's packet identifiers 1 to 65,533, acknowledging each.
    let mut delivered = 0;
    while delivered < WARM_UP {
        let n = BATCH.min((WARM_UP - delivered) as u16);
        let mut out = BytesMut::new();
        for id in 1..=n {
            let mut publish = message("wrap/t", "warm-up", QoS::AtLeastOnce);
            publish.packet_id = Some(packet_id(id));
            publisher.encode(&Packet::Publish(publish), &mut out);
        }
        publisher.send_raw(&out).await;
        let mut acks = BytesMut::new();
        for _ in 0..n {
            let got = sub.recv_publish().await;
            sub.encode(&Packet::PubAck(Ack::new(got.packet_id.unwrap())), &mut acks);
        }
        sub.send_raw(&acks).await;
        for id in 1..=n {
            publisher.expect_ack("PUBACK", packet_id(id)).await;
        }
        delivered += u32::from(n);
    }
    for payload in ["w1", "w2", "w3", "w4"] {
        publisher
            .publish(message("wrap/t", payload, QoS::AtLeastOnce))
            .await;
    }
    let ids: Vec<u16> = {
        let mut ids = Vec::new();
        for _ in 0..4 {
            ids.push(sub.recv_publish().await.packet_id.unwrap().get());
        }
        ids
    };
    assert_eq!(ids, [65_534, 65_535, 1, 2], "identifiers wrapped");
    // A round trip: the broker handles a client's packets in order, so every warm-up PUBACK
    // is handled before the connection drops (unread ones would be lost with it).
    sub.ping().await;
    drop(sub); // none acknowledged

    let (mut sub, present) = broker.connect_persistent(v, "wrap").await;
    assert!(present);
    for payload in ["w1", "w2", "w3", "w4"] {
        let got = sub.recv_message().await;
        assert!(got.dup);
        assert_eq!(&got.payload[..], payload.as_bytes(), "resent in send order");
    }
}
