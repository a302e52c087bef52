//! Exit statuses (and what goes with them on stdout and stderr), mqsub against mosquitto_sub:
//! `-W` (27, `Timed out`), `-E` (0 at the SUBACK), usage errors (1), a refused connection
//! (the CONNACK code), SIGTERM and SIGINT (0).

use crate::harness::{
    AuthMosquitto, Broker, BrokerKind, Raw, RawOutput, Subscribers, PASSWORD, USER,
};
use crate::support::{free_port, Version};

both_brokers!(
    timeout_prints_timed_out_and_exits_27,
    exit_after_subscribe_exits_0_at_the_suback,
    signals_end_the_run_with_status_0,
);
both_versions!(
    usage_errors_exit_1,
    refused_connection_exits_with_the_connack_code,
);

/// Runs `mosquitto_sub ARGS` and `mqsub ARGS` at the same time; returns their outputs.
fn both(s: &Subscribers, args: &str) -> (RawOutput, RawOutput) {
    let mosquitto = Raw::spawn(s.mosquitto_sub(args));
    let mqsub = Raw::spawn(s.mqsub(args));
    (mosquitto.finish(), mqsub.finish())
}

/// `-W 1` with no message: `Timed out` on stderr, nothing on stdout, exit 27
/// (MOSQ_ERR_TIMEOUT).
fn timeout_prints_timed_out_and_exits_27(kind: BrokerKind, v: Version) {
    let Some(broker) = Broker::start(kind) else {
        return;
    };
    let (mosquitto, mqsub) = both(&Subscribers::new(broker.port(), v), "-W 1 -t quiet/#");
    for out in [&mosquitto, &mqsub] {
        assert_eq!(
            (out.code(), &out.stdout[..], &out.stderr[..]),
            (27, &b""[..], "Timed out\n"),
            "{out}"
        );
    }
}

/// `-E`: exit 0 once the SUBACK is in, printing nothing.
fn exit_after_subscribe_exits_0_at_the_suback(kind: BrokerKind, v: Version) {
    let Some(broker) = Broker::start(kind) else {
        return;
    };
    let (mosquitto, mqsub) = both(&Subscribers::new(broker.port(), v), "-E -q 1 -t e/#");
    for out in [&mosquitto, &mqsub] {
        assert_eq!((out.code(), &out.stdout[..]), (0, &b""[..]), "{out}");
    }
}

/// SIGTERM and SIGINT end a subscribed mqsub with status 0, as they end mosquitto_sub.
fn signals_end_the_run_with_status_0(kind: BrokerKind, v: Version) {
    let Some(broker) = Broker::start(kind) else {
        return;
    };
    let s = Subscribers::new(broker.port(), v);
    for signal in ["TERM", "INT"] {
        for command in [s.mosquitto_sub("-v -t sig/#"), s.mqsub("-v -t sig/#")] {
            let subscriber = s.subscribed(command, 5);
            subscriber.signal(signal);
            let out = subscriber.finish();
            assert_eq!(out.code(), 0, "after SIG{signal}:\n{out}");
        }
    }
}

/// An invalid filter (`#` not last [MQTT-4.7.1-2]) and a missing `-t` are usage errors: exit
/// 1 before connecting (nothing listens on the port), with the reason on stderr.
fn usage_errors_exit_1(v: Version) {
    let s = Subscribers::new(free_port(), v);
    for (args, reason) in [
        (
            "-t 'a/#/b'",
            "nvalid subscription topic 'a/#/b', are all '+' and '#' wildcards correct?",
        ),
        ("-v", "ou must specify a topic to subscribe to"),
    ] {
        let (mosquitto, mqsub) = both(&s, args);
        for out in [&mosquitto, &mqsub] {
            assert_eq!((out.code(), &out.stdout[..]), (1, &b""[..]), "{out}");
            assert!(out.stderr.contains(reason), "{out}");
            assert!(!out.stderr.contains("onnection refused"), "{out}");
        }
    }
}

/// A server that refuses the connection: the exit status is the CONNACK code, as
/// mosquitto_sub's (3.1.1: 5 Not authorized; 5.0: 135 Not authorized); with
/// the right password the same command succeeds.
fn refused_connection_exits_with_the_connack_code(v: Version) {
    let Some(broker) = AuthMosquitto::start() else {
        return;
    };
    let s = Subscribers::new(broker.port(), v);
    let refused = match v {
        Version::V311 => 5,
        Version::V5 => 135,
    };
    let wrong = format!("-u {USER} -P wrong");
    let right = format!("-u {USER} -P {PASSWORD}");
    for (credentials, expected) in [("", refused), (&wrong[..], refused), (&right[..], 0)] {
        let (mosquitto, mqsub) = both(&s, &format!("{credentials} -E -t auth/#"));
        assert_eq!(mosquitto.code(), expected, "{mosquitto}");
        assert_eq!(mqsub.code(), expected, "{mqsub}");
        assert_eq!(mqsub.stdout, b"", "{mqsub}");
    }
}
