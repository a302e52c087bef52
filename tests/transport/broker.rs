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
    let log = pki.path("mqbroker.log");
    let text = format!(
        "allow_anonymous true\nlog_dest file {}\n{conf}",
        log.display()
    );
    std::fs::write(&path, text).unwrap();
    crate::interop::mqbroker_conf(&path, listeners)
}

/// Waits (at most [`WAIT`]) until the broker's log (`log_dest file`) has every one of
/// `needles`; the broker logs a refused handshake just after the client sees it fail.
fn wait_for_log(pki: &Pki, needles: &[&str]) {
    let deadline = Instant::now() + WAIT;
    loop {
        let log = std::fs::read_to_string(pki.path("mqbroker.log")).unwrap_or_default();
        if needles.iter().all(|n| log.contains(n)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not all of {needles:?} in the log:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
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
    let (_broker, ports) = mqbroker(&pki, &conf, 1);
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
    wait_for_log(
        &pki,
        &[
            "failed: the client sent no certificate and require_certificate is true",
            "failed: the client certificate is not accepted: UnknownIssuer",
            "failed: the client certificate is not accepted: Expired",
        ],
    );
}

/// `capath` (a directory of CA files), `use_subject_as_username` (the whole subject is the
/// user name the ACL names) and `tls_version tlsv1.3` together: the client with the CA's
/// certificate gets its ACL rights, and a TLS 1.2-only client is refused.
#[tokio::test]
async fn ca_directory_subject_as_user_name_and_tls_1_3_only() {
    let pki = Pki::new();
    let capath = pki.path("ca.d");
    std::fs::create_dir_all(&capath).unwrap();
    std::fs::copy(&pki.ca, capath.join("ca.pem")).unwrap();
    let acl = pki.path("subject.acl");
    std::fs::write(&acl, "user CN=mqkit-client\ntopic readwrite transport/#\n").unwrap();
    let conf = format!(
        "allow_anonymous false\nacl_file {}\nlistener 0 127.0.0.1\ncapath {}\ncertfile {}\n\
         keyfile {}\nrequire_certificate true\nuse_subject_as_username true\n\
         tls_version tlsv1.3\n",
        acl.display(),
        capath.display(),
        pki.server.cert.display(),
        pki.server.key.display()
    );
    let (_broker, ports) = mqbroker(&pki, &conf, 1);
    let target = target(Scheme::Mqtts, "localhost", ports[0]);
    round_trip(&target, &presenting(&pki, &pki.client), ProtocolVersion::V5).await;
    assert!(
        tls12_handshake(&pki, ports[0]).await.is_err(),
        "TLS 1.2 was accepted"
    );
    wait_for_log(&pki, &["TLS handshake with 127.0.0.1:"]);
}

/// A TLS handshake offering TLS 1.2 only, trusting the PKI's CA.
async fn tls12_handshake(pki: &Pki, port: u16) -> std::io::Result<()> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(&pki.ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    tokio::time::timeout(WAIT, connector.connect(name, tcp))
        .await
        .map_err(|_| std::io::Error::other("handshake timed out"))?
        .map(drop)
}

/// `crlfile`: a client certificate the CA revoked is refused, the others are not.
#[tokio::test]
async fn revoked_client_certificates_are_refused() {
    let pki = Pki::new();
    let listener = Listener::Tls {
        server: pki.server.clone(),
        require_certificate: true,
    };
    let conf = format!(
        "{}crlfile {}\n",
        listener.config(0, &pki.ca),
        pki.crl.display()
    );
    let (_broker, ports) = mqbroker(&pki, &conf, 1);
    let target = target(Scheme::Mqtts, "localhost", ports[0]);
    round_trip(&target, &presenting(&pki, &pki.client), ProtocolVersion::V5).await;
    let message = failure(&target, &presenting(&pki, &pki.revoked_client)).await;
    assert!(
        message.contains("rejected our client certificate"),
        "{message}"
    );
    wait_for_log(
        &pki,
        &["failed: the client certificate is not accepted: Revoked"],
    );
}

/// A client that does not trust the broker's certificate: the broker logs the failed
/// handshake in one line and keeps serving.
#[tokio::test]
async fn untrusted_server_certificate_is_logged() {
    let pki = Pki::new();
    let conf = Listener::tls(&pki.server).config(0, &pki.ca);
    let (_broker, ports) = mqbroker(&pki, &conf, 1);
    let target = target(Scheme::Mqtts, "localhost", ports[0]);
    let message = failure(&target, &trusting(&pki.other_ca)).await;
    assert!(
        message.contains("not trusted") || message.contains("issuer"),
        "{message}"
    );
    round_trip(&target, &trusting(&pki.ca), ProtocolVersion::V5).await;
    wait_for_log(&pki, &["TLS handshake with 127.0.0.1:"]);
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
