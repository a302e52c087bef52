//! Application messages: the QoS 0, 1 and 2 flows towards and from the broker, exactly-once
//! delivery, ordering and the QoS a subscriber receives.

use mqkit::protocol::{Ack, Packet, ProtocolVersion, QoS, ReasonCode};

use crate::support::{message, packet_id, RawClient, TestBroker};

both_versions!(
    qos0_message_is_delivered_without_packet_identifier_mqtt_4_3_1,
    qos1_flows_both_ways_with_puback_mqtt_4_3_2_4,
    qos2_flows_both_ways_with_pubrec_pubrel_pubcomp_mqtt_4_3_3_1,
    qos2_publish_resent_before_pubrel_is_delivered_once_mqtt_4_3_3_2,
    pubrel_for_an_unknown_packet_identifier_gets_pubcomp_section_4_3_3,
    dup_flag_of_an_incoming_publish_is_not_forwarded_mqtt_3_3_1_3,
    messages_on_a_topic_arrive_in_the_order_published_mqtt_4_6_0_6,
    delivered_qos_is_the_minimum_of_message_and_subscription_mqtt_3_8_4_8,
    max_inflight_bytes_holds_back_what_would_pass_it,
);

/// `max_inflight_bytes 1000`: with 400-byte messages, two are in flight to a subscriber that
/// does not acknowledge; each PUBACK lets the next one go, in order.
async fn max_inflight_bytes_holds_back_what_would_pass_it(v: ProtocolVersion) {
    let broker = TestBroker::with_config(mqkit::broker::Config {
        max_inflight_bytes: 1000,
        ..crate::support::config()
    })
    .await;
    let (mut sub, mut publisher) = pair(&broker, v, "bytes/t").await;
    for i in 0..5 {
        let payload = format!("{i}{}", "x".repeat(399));
        publisher
            .publish(message("bytes/t", &payload, QoS::AtLeastOnce))
            .await;
    }
    let first = sub.recv_publish().await;
    let second = sub.recv_publish().await;
    sub.expect_nothing().await;
    sub.ack(&first).await;
    let third = sub.recv_publish().await;
    assert_eq!(third.payload[0], b'2');
    sub.expect_nothing().await;
    sub.ack(&second).await;
    sub.ack(&third).await;
    assert_eq!(sub.recv_publish().await.payload[0], b'3');
    assert_eq!(sub.recv_publish().await.payload[0], b'4');
}

/// A subscriber on `topic` and a publisher, both of version `v`.
async fn pair(broker: &TestBroker, v: ProtocolVersion, topic: &str) -> (RawClient, RawClient) {
    let mut sub = broker.connect(v, "subscriber").await;
    sub.subscribe(topic, QoS::ExactlyOnce).await;
    let publisher = broker.connect(v, "publisher").await;
    (sub, publisher)
}

/// 5.0 §4.3.1: QoS 0 goes out once, without packet identifier and with DUP 0 [MQTT-3.3.1-2].
async fn qos0_message_is_delivered_without_packet_identifier_mqtt_4_3_1(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let (mut sub, mut publisher) = pair(&broker, v, "zero/t").await;
    publisher
        .publish(message("zero/t", "fire and forget", QoS::AtMostOnce))
        .await;
    let got = sub.recv_publish().await;
    assert_eq!(
        (got.qos, got.packet_id, got.dup),
        (QoS::AtMostOnce, None, false)
    );
    assert_eq!(&got.payload[..], b"fire and forget");
    sub.expect_nothing().await;
}

/// The broker answers a QoS 1 PUBLISH with PUBACK carrying its packet identifier, and sends
/// QoS 1 to the subscriber with a packet identifier and DUP 0 [MQTT-4.3.2-1]; after PUBACK it
/// does not send it again.
async fn qos1_flows_both_ways_with_puback_mqtt_4_3_2_4(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let (mut sub, mut publisher) = pair(&broker, v, "one/t").await;
    let id = packet_id(4321);
    let mut publish = message("one/t", "at least once", QoS::AtLeastOnce);
    publish.packet_id = Some(id);
    publisher.send(Packet::Publish(publish)).await;
    let puback = publisher.expect_ack("PUBACK", id).await;
    assert_eq!(puback.reason_code, ReasonCode::Success);

    let got = sub.recv_publish().await;
    assert_eq!((got.qos, got.dup), (QoS::AtLeastOnce, false));
    assert!(got.packet_id.is_some());
    sub.ack(&got).await;
    sub.expect_nothing().await;
    publisher.expect_nothing().await;
}

/// Publisher side: PUBLISH → PUBREC, PUBREL → PUBCOMP, all with its packet identifier.
/// Subscriber side: PUBLISH → PUBREC from the client, then PUBREL from the broker with the same
/// identifier, answered by PUBCOMP.
async fn qos2_flows_both_ways_with_pubrec_pubrel_pubcomp_mqtt_4_3_3_1(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let (mut sub, mut publisher) = pair(&broker, v, "two/t").await;
    let id = packet_id(777);
    let mut publish = message("two/t", "exactly once", QoS::ExactlyOnce);
    publish.packet_id = Some(id);
    publisher.send(Packet::Publish(publish)).await;
    let rec = publisher.expect_ack("PUBREC", id).await;
    assert_eq!(rec.reason_code, ReasonCode::Success);
    publisher.send(Packet::PubRel(Ack::new(id))).await;
    let comp = publisher.expect_ack("PUBCOMP", id).await;
    assert_eq!(comp.reason_code, ReasonCode::Success);

    let got = sub.recv_publish().await;
    assert_eq!((got.qos, got.dup), (QoS::ExactlyOnce, false));
    let sid = got.packet_id.expect("QoS 2 has a packet identifier");
    sub.send(Packet::PubRec(Ack::new(sid))).await;
    match sub.recv().await {
        Packet::PubRel(rel) => assert_eq!(rel.packet_id, sid),
        other => panic!("expected PUBREL, got {other:?}"),
    }
    sub.send(Packet::PubComp(Ack::new(sid))).await;
    sub.expect_nothing().await;
    publisher.expect_nothing().await;
}

/// 5.0 [MQTT-4.3.3-10]: until PUBREL, a PUBLISH with the same packet identifier is answered with
/// PUBREC again and not delivered again. After PUBCOMP the identifier starts a new message.
async fn qos2_publish_resent_before_pubrel_is_delivered_once_mqtt_4_3_3_2(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let (mut sub, mut publisher) = pair(&broker, v, "once/t").await;
    let id = packet_id(9);
    let mut publish = message("once/t", "only once", QoS::ExactlyOnce);
    publish.packet_id = Some(id);
    publisher.send(Packet::Publish(publish.clone())).await;
    publisher.expect_ack("PUBREC", id).await;
    publish.dup = true;
    publisher.send(Packet::Publish(publish.clone())).await;
    publisher.expect_ack("PUBREC", id).await;
    publisher.send(Packet::PubRel(Ack::new(id))).await;
    publisher.expect_ack("PUBCOMP", id).await;

    let got = sub.recv_message().await;
    assert_eq!(&got.payload[..], b"only once");
    sub.expect_nothing().await;

    // The flow is over: the same identifier now carries a new message.
    let mut next = message("once/t", "next", QoS::ExactlyOnce);
    next.packet_id = Some(id);
    assert_eq!(publisher.publish(next).await, ReasonCode::Success);
    assert_eq!(&sub.recv_message().await.payload[..], b"next");
}

/// A PUBREL for an identifier the broker does not know still gets PUBCOMP (5.0: with 0x92
/// Packet Identifier not found), and the connection goes on.
async fn pubrel_for_an_unknown_packet_identifier_gets_pubcomp_section_4_3_3(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let mut client = broker.connect(v, "confused").await;
    let id = packet_id(31);
    client.send(Packet::PubRel(Ack::new(id))).await;
    let comp = client.expect_ack("PUBCOMP", id).await;
    if v.is_v5() {
        assert_eq!(comp.reason_code, ReasonCode::PacketIdentifierNotFound);
    }
    client.ping().await;
}

/// The DUP flag of an incoming PUBLISH is not propagated to subscribers.
async fn dup_flag_of_an_incoming_publish_is_not_forwarded_mqtt_3_3_1_3(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let (mut sub, mut publisher) = pair(&broker, v, "dup/t").await;
    let mut publish = message("dup/t", "resent", QoS::AtLeastOnce);
    publish.dup = true;
    publisher.publish(publish).await;
    let got = sub.recv_message().await;
    assert!(!got.dup, "{got:?}");
}

/// Messages on one topic reach a subscriber in the order the publisher sent them, per QoS,
/// even when the publisher sends many before any acknowledgement.
async fn messages_on_a_topic_arrive_in_the_order_published_mqtt_4_6_0_6(v: ProtocolVersion) {
    const N: u16 = 15;
    let broker = TestBroker::start().await;
    let (mut sub, mut publisher) = pair(&broker, v, "order/t").await;
    for qos in [QoS::AtLeastOnce, QoS::ExactlyOnce, QoS::AtMostOnce] {
        // Pipelined: every PUBLISH is sent before the first acknowledgement is read.
        for i in 1..=N {
            let mut publish = message("order/t", &format!("{}-{i}", qos.as_u8()), qos);
            publish.packet_id = (qos != QoS::AtMostOnce).then(|| packet_id(i));
            publisher.send(Packet::Publish(publish)).await;
        }
        for i in 1..=N {
            match qos {
                QoS::AtMostOnce => {}
                QoS::AtLeastOnce => {
                    publisher.expect_ack("PUBACK", packet_id(i)).await;
                }
                QoS::ExactlyOnce => {
                    publisher.expect_ack("PUBREC", packet_id(i)).await;
                    publisher.send(Packet::PubRel(Ack::new(packet_id(i)))).await;
                    publisher.expect_ack("PUBCOMP", packet_id(i)).await;
                }
            }
        }
    }
    let mut seen = [0u16; 3];
    for _ in 0..3 * N {
        let got = sub.recv_message().await;
        let q = usize::from(got.qos.as_u8());
        seen[q] += 1;
        let expected = format!("{}-{}", got.qos.as_u8(), seen[q]);
        assert_eq!(std::str::from_utf8(&got.payload).unwrap(), expected);
    }
    assert_eq!(seen, [N; 3]);
    sub.expect_nothing().await;
}

/// Three subscribers granted QoS 0, 1 and 2 receive each message at the lower of its QoS and
/// their subscription's. (5.0 [MQTT-3.8.4-8]; 3.1.1 §3.8.4.)
async fn delivered_qos_is_the_minimum_of_message_and_subscription_mqtt_3_8_4_8(v: ProtocolVersion) {
    let broker = TestBroker::start().await;
    let granted = [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce];
    let mut subs = Vec::new();
    for (i, qos) in granted.into_iter().enumerate() {
        let mut sub = broker.connect(v, &format!("sub{i}")).await;
        let code = sub.subscribe("min/t", qos).await;
        assert_eq!(code.as_u8(), qos.as_u8(), "granted what was asked");
        subs.push(sub);
    }
    let mut publisher = broker.connect(v, "publisher").await;
    for published in granted {
        publisher.publish(message("min/t", "m", published)).await;
        for (sub, max) in subs.iter_mut().zip(granted) {
            let got = sub.recv_message().await;
            assert_eq!(
                got.qos,
                published.min(max),
                "published {published:?}, max {max:?}"
            );
        }
    }
}
