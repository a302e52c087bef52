//! mqbroker's TLS and WebSocket listeners, configured with the very mosquitto.conf listener
//! blocks the client tests give Debian's mosquitto and checked with the same round trips (both
//! protocol versions); client certificates as user names (`use_identity_as_username`) with an
//! ACL; refused handshakes logged with the reason; `max_connections`; TLS mistakes in the
//! configuration as one-line errors.

use std::process::Command;
use std::time::{Duration, Instant};

use mqkit::client::transport::{Scheme, TlsOptions};
use mqkit::protocol::ProtocolVersion;

use crate::interop::Running;
use crate::support::*;

/// mqbroker with `conf` (anonymous access unless `conf` says otherwise), and the port of each
/// of its `listeners` listener lines, in order.
fn mqbroker(pki: &Pki, conf: &str, listeners: usize) -> (Running, Vec<u16>) {
    let path = pki.path(&format!("mqbroker-{}.conf", fastrand_suffix()));
    std::fs::write(&path, format!("allow_anonymous true\n{conf}")).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_mqbroker"));
    command.arg("-c").arg(&path).env_remove("RUST_LOG");
    let mut broker = Running::spawn(command);
    let ports = (0..listeners)
        .map(|_| {
            let line = broker.wait_for_line("a ready line", |l| l.starts_with("listening on "));
            line.rsplit(':').next().unwrap().parse().unwrap()
        })
        .collect();
    (broker, ports)
}

fn fastrand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

#[tokio::test]
async fn tls_websocket_and_secure_websocket_listeners_carry_both_versions() {
    let pki = Pki::new();
    let blocks = [
        Listener::tls(&pki.server),
        Listener::Ws,
        Listener::Wss {
            server: pki.server.clone(),
        },
    ]
    .map(|l| l.config(0, &pki.ca))
    .concat();
    let (_broker, ports) = mqbroker(&pki, &blocks, 3);
    let schemes = [Scheme::Mqtts, Scheme::Ws, Scheme::Wss];
    for (scheme, port) in schemes.into_iter().zip(ports) {
        for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
            let target = target(scheme, "localhost", port);
            round_trip(&target, &trusting(&pki.ca), version).await;
        }
    }
}

/// Options presenting `client` and trusting the PKI's CA.
fn presenting(pki: &Pki, client: &CertFiles) -> mqkit::client::transport::TransportOptions {
    with_tls(TlsOptions {
        cafile: Some(pki.ca.clone()),
        cert: Some(client.cert.clone()),
        key: Some(client.key.clone()),
        ..TlsOptions::default()
    })
}

/// With `use_identity_as_username`, the certificate's Common Name is the user: anonymous
/// clients are refused, yet the client with a certificate gets what the ACL gives
/// `mqkit-client`. Clients without a certificate, or with one from another CA, are refused
/// and the broker's log says why.
#[tokio::test]
async fn client_certificate_common_name_is_the_user_name() {
    let pki = Pki::new();
    let acl = pki.path("acl");
    std::fs::write(&acl, "user mqkit-client\ntopic readwrite transport/#\n").unwrap();
    let listener = Listener::Tls {
        server: pki.server.clone(),
        require_certificate: true,
    };
    let conf = format!(
        "allow_anonymous false\nacl_file {}\n{}use_identity_as_username true\n",
        acl.display(),
        listener.config(0, &pki.ca)
    );
    let (mut broker, ports) = mqbroker(&pki, &conf, 1);
    let target = target(Scheme::Mqtts, "localhost", ports[0]);
    round_trip(&target, &presenting(&pki, &pki.client), ProtocolVersion::V5).await;
    round_trip(
        &target,
        &presenting(&pki, &pki.client),
        ProtocolVersion::V311,
    )
    .await;
    let message = failure(&target, &trusting(&pki.ca)).await;
    assert_eq!(
        message,
        "the server requires a client certificate (--cert/--key)"
    );
    for refused in [&pki.stranger_client, &pki.expired_client] {
        let message = failure(&target, &presenting(&pki, refused)).await;
        assert!(
            message.contains("rejected our client certificate"),
            "{message}"
        );
    }
    let log = broker.kill().stderr;
    assert!(
        log.contains("failed: the client sent no certificate and require_certificate is true"),
        "{log}"
    );
    assert!(
        log.contains("failed: the client certificate is not accepted: UnknownIssuer"),
        "{log}"
    );
    assert!(
        log.contains("failed: the client certificate is not accepted: Expired"),
        "{log}"
    );
}

/// A client that does not trust the broker's certificate: the broker logs the failed
/// handshake in one line and keeps serving.
#[tokio::test]
async fn untrusted_server_certificate_is_logged() {
    let pki = Pki::new();
    let conf = Listener::tls(&pki.server).config(0, &pki.ca);
    let (mut broker, ports) = mqbroker(&pki, &conf, 1);
    let target = target(Scheme::Mqtts, "localhost", ports[0]);
    let message = failure(&target, &trusting(&pki.other_ca)).await;
    assert!(
        message.contains("not trusted") || message.contains("issuer"),
        "{message}"
    );
    round_trip(&target, &trusting(&pki.ca), ProtocolVersion::V5).await;
    let log = broker.kill().stderr;
    assert!(log.contains("TLS handshake with 127.0.0.1:"), "{log}");
}

/// `max_connections 1`: a second connection is closed at once; when the first goes, a new
/// one is accepted again.
#[tokio::test]
async fn max_connections_refuses_the_excess() {
    let pki = Pki::new();
    let conf = "listener 0 127.0.0.1\nmax_connections 1\n";
    let (_broker, ports) = mqbroker(&pki, conf, 1);
    let target = target(Scheme::Mqtt, "127.0.0.1", ports[0]);
    let plain = mqkit::client::transport::TransportOptions {
        connect_timeout: Some(WAIT),
        ..Default::default()
    };
    let first = connect(&target, &plain, ProtocolVersion::V5, "first")
        .await
        .unwrap();
    let second = connect(&target, &plain, ProtocolVersion::V5, "second").await;
    assert!(second.is_err(), "a second connection was accepted");
    drop(first);
    let deadline = Instant::now() + WAIT;
    loop {
        match connect(&target, &plain, ProtocolVersion::V5, "third").await {
            Ok(_) => break,
            Err(e) if Instant::now() > deadline => panic!("never accepted again: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// `bind_interface`: a listener tied to the loopback interface serves; one tied to an interface
/// that does not exist stops the broker with an error naming it.
#[tokio::test]
async fn bind_interface_ties_a_listener_to_an_interface() {
    let pki = Pki::new();
    let (_broker, ports) = mqbroker(&pki, "listener 0 127.0.0.1\nbind_interface lo\n", 1);
    let target = target(Scheme::Mqtt, "127.0.0.1", ports[0]);
    let plain = mqkit::client::transport::TransportOptions {
        connect_timeout: Some(WAIT),
        ..Default::default()
    };
    connect(&target, &plain, ProtocolVersion::V5, "on-lo")
        .await
        .unwrap();
    let path = pki.path("nosuch.conf");
    std::fs::write(&path, "listener 0 127.0.0.1\nbind_interface nosuchif0\n").unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_mqbroker"));
    command.arg("-c").arg(&path);
    let out = Running::spawn(command).finish();
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("bind_interface nosuchif0: "), "{out}");
}

/// `--test-config` loads the certificates: a TLS mistake is one line naming it, exit 1.
#[test]
fn tls_mistakes_are_one_line_errors() {
    let pki = Pki::new();
    let cases = [
        (
            format!("listener 0\ncertfile {}\n", pki.server.cert.display()),
            "listener 0: certfile needs keyfile".to_owned(),
        ),
        (
            format!(
                "listener 0\ncertfile {}\nkeyfile {}\n",
                pki.server.key.display(),
                pki.server.key.display()
            ),
            "contains no PEM certificate".to_owned(),
        ),
        (
            "certfile /x.pem\n".to_owned(),
            "certfile applies to a listener: put it after a listener line".to_owned(),
        ),
        (
            "listener 0\nrequire_certificate true\n".to_owned(),
            "listener 0: TLS options without certfile (and keyfile)".to_owned(),
        ),
        (
            "listener 0\ntls_version tlsv1.1\n".to_owned(),
            "tls_version tlsv1.1 is not supported".to_owned(),
        ),
    ];
    for (i, (conf, expected)) in cases.iter().enumerate() {
        let path = pki.path(&format!("bad-{i}.conf"));
        std::fs::write(&path, conf).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_mqbroker"));
        command.arg("-c").arg(&path).arg("--test-config");
        let out = Running::spawn(command).finish();
        assert_eq!(out.code, Some(1), "{conf}\n{out}");
        assert_eq!(out.stderr.lines().count(), 1, "{out}");
        assert!(out.stderr.contains(expected.as_str()), "{conf}\n{out}");
    }
}
