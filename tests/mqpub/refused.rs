//! A connection the server refuses: the exit status is the CONNACK code, as mosquitto_pub's
//! (3.1.1 return code 5 "not authorized" [MQTT-3.2.2-5], 5.0 reason code 0x87 = 135); a TCP
//! connection refused exits 1 with a message naming the host and port.

use crate::harness::{mosquitto_pub, mqpub, version_arg, AuthMosquitto};
use crate::support::{clients_installed, free_port, mosquitto_installed, run, Version};

both_versions!(
    refused_connack_code_is_the_exit_status_mqtt_3_2_2_5,
    tcp_refused_exits_1_naming_host_and_port,
);

fn refused_connack_code_is_the_exit_status_mqtt_3_2_2_5(v: Version) {
    if !clients_installed() || !mosquitto_installed() {
        return;
    }
    let broker = AuthMosquitto::start();
    let expected = match v {
        Version::V311 => 5,
        Version::V5 => 135,
    };
    let conn = format!("-h 127.0.0.1 -p {} -V {}", broker.port(), version_arg(v));
    for credentials in ["", "-u user -P wrong", "-u nobody -P pass"] {
        let args = format!("{conn} -t t -m x -q 1 {credentials}");
        let mosq = run(mosquitto_pub(&args));
        let ours = run(mqpub(&args));
        assert_eq!(mosq.code(), expected, "{mosq}");
        assert_eq!(ours.code(), expected, "{ours}");
        assert_eq!(ours.stderr.lines().count(), 1, "{ours}");
        assert!(ours.stderr.contains("refused"), "{ours}");
    }
    let args = format!("{conn} -t t -m x -q 1 -u user -P pass");
    assert_eq!(run(mosquitto_pub(&args)).success().code(), 0);
    run(mqpub(&args)).success();
}

fn tcp_refused_exits_1_naming_host_and_port(v: Version) {
    if !clients_installed() {
        return;
    }
    let port = free_port();
    let args = format!("-h 127.0.0.1 -p {port} -V {} -t t -m x", version_arg(v));
    let ours = run(mqpub(&args));
    assert_eq!(ours.code(), 1, "{ours}");
    assert_eq!(ours.stderr.lines().count(), 1, "{ours}");
    assert!(ours.stderr.contains(&format!("127.0.0.1:{port}")), "{ours}");
    assert_eq!(run(mosquitto_pub(&args)).code(), 1);
}
