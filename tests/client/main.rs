//! The client engine (`mqkit::client`) against the in-process broker over real sockets, for
//! MQTT 3.1.1 and 5.0: QoS flows both ways, refusals with the code on the wire, keep alive.

use std::net::SocketAddr;
use std::time::Duration;

use mqkit::broker::{Broker, Config};
use mqkit::client::{Client, ClientError};
use mqkit::protocol::{
    Connect, MqttString, ProtocolVersion, Publish, QoS, ReasonCode, SubscribeProperties,
    Subscription, SubscriptionOptions,
};
use mqkit::topic::TopicName;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

const WAIT: Duration = Duration::from_secs(5);

/// An in-process broker on 127.0.0.1:0, stopped when dropped.
struct TestBroker {
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

async fn start_broker() -> TestBroker {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        Broker::new(Config::default())
            .serve(vec![listener], shutdown)
            .await
    });
    TestBroker { addr, _stop: stop }
}

fn connect(version: ProtocolVersion, id: &str) -> Connect {
    Connect::new(version, MqttString::new(id).unwrap())
}

async fn client(broker: &TestBroker, version: ProtocolVersion, id: &str) -> Client<TcpStream> {
    Client::connect(broker.addr, connect(version, id), WAIT)
        .await
        .unwrap()
}

fn subscription(filter: &str, qos: QoS) -> Subscription {
    Subscription {
        filter: MqttString::new(filter).unwrap(),
        options: SubscriptionOptions {
            qos,
            ..SubscriptionOptions::default()
        },
    }
}

fn message(topic: &str, payload: &'static str, qos: QoS) -> Publish {
    let mut p = Publish::new(TopicName::new(topic).unwrap(), payload);
    p.qos = qos;
    p
}

async fn qos_flows_deliver_in_order(version: ProtocolVersion) {
    let broker = start_broker().await;
    let mut sub = client(&broker, version, "sub").await;
    let suback = sub
        .subscribe(
            vec![subscription("t/#", QoS::ExactlyOnce)],
            SubscribeProperties::default(),
        )
        .await
        .unwrap();
    assert_eq!(suback.reason_codes, [ReasonCode::GrantedQoS2]);
    let mut publisher = client(&broker, version, "pub").await;
    for (payload, qos) in [
        ("zero", QoS::AtMostOnce),
        ("one", QoS::AtLeastOnce),
        ("two", QoS::ExactlyOnce),
    ] {
        let code = publisher
            .publish(message("t/x", payload, qos))
            .await
            .unwrap();
        assert_eq!(code, ReasonCode::Success, "{payload}");
    }
    for (payload, qos) in [
        ("zero", QoS::AtMostOnce),
        ("one", QoS::AtLeastOnce),
        ("two", QoS::ExactlyOnce),
    ] {
        let got = tokio::time::timeout(WAIT, sub.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((&got.payload[..], got.qos), (payload.as_bytes(), qos));
    }
    publisher.disconnect(ReasonCode::Success).await.unwrap();
}

#[tokio::test]
async fn qos_flows_deliver_in_order_v311() {
    qos_flows_deliver_in_order(ProtocolVersion::V311).await;
}

#[tokio::test]
async fn qos_flows_deliver_in_order_v5() {
    qos_flows_deliver_in_order(ProtocolVersion::V5).await;
}

/// 5.0 PUBACK carries the server's reason code: 0x10 when nobody subscribed.
#[tokio::test]
async fn publish_returns_the_v5_reason_code() {
    let broker = start_broker().await;
    let mut publisher = client(&broker, ProtocolVersion::V5, "lonely").await;
    let code = publisher
        .publish(message("nobody/listens", "x", QoS::AtLeastOnce))
        .await
        .unwrap();
    assert_eq!(code, ReasonCode::NoMatchingSubscribers);
}

/// A refused CONNECT is an error carrying the byte on the wire: the 3.1.1 return code 2 for an
/// empty id without clean session [MQTT-3.1.3-8], the 5.0 reason code 0x8C for an
/// authentication method the broker does not support.
#[tokio::test]
async fn refusals_carry_the_code_on_the_wire() {
    let broker = start_broker().await;
    let mut c = connect(ProtocolVersion::V311, "");
    c.clean_start = false;
    match Client::connect(broker.addr, c, WAIT).await {
        Err(ClientError::Refused { code, .. }) => assert_eq!(code, 2),
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    }
    let mut c = connect(ProtocolVersion::V5, "kerberos");
    c.properties.authentication_method = Some(MqttString::new("GSSAPI").unwrap());
    match Client::connect(broker.addr, c, WAIT).await {
        Err(ClientError::Refused { code, reason }) => {
            assert_eq!((code, reason), (0x8C, ReasonCode::BadAuthenticationMethod))
        }
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    }
}

/// An idle client pings within its keep alive, so the broker (which closes after 1.5 times the
/// keep alive without a packet [MQTT-3.1.2-24]) keeps it.
#[tokio::test]
async fn idle_client_keeps_its_connection_by_pinging() {
    let broker = start_broker().await;
    let mut c = connect(ProtocolVersion::V5, "idle");
    c.keep_alive = 1;
    let mut idle = Client::connect(broker.addr, c, WAIT).await.unwrap();
    idle.subscribe(
        vec![subscription("wake/up", QoS::AtMostOnce)],
        SubscribeProperties::default(),
    )
    .await
    .unwrap();
    // Nothing arrives for 2.2 s: past 1.5 keep-alive periods, so only pings keep it alive.
    let quiet = tokio::time::timeout(Duration::from_millis(2200), idle.recv()).await;
    assert!(quiet.is_err(), "nothing should arrive, got {quiet:?}");
    let mut publisher = client(&broker, ProtocolVersion::V5, "waker").await;
    publisher
        .publish(message("wake/up", "hello", QoS::AtLeastOnce))
        .await
        .unwrap();
    let got = tokio::time::timeout(WAIT, idle.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&got.payload[..], b"hello");
}

/// A server that closes the connection is reported, not waited on.
#[tokio::test]
async fn server_close_is_an_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        drop(socket);
    });
    let result = Client::connect(addr, connect(ProtocolVersion::V311, "x"), WAIT).await;
    assert!(
        matches!(result, Err(ClientError::Closed) | Err(ClientError::Io(_))),
        "{:?}",
        result.map(|_| ())
    );
}
