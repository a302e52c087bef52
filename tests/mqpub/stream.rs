//! `mqpub -l -q 1` across a broker restart (mosquitto #1152, #1899, #2187): the messages the
//! first broker did not acknowledge and the lines written while it was away reach a subscriber
//! of the second broker on the same port, in order, and mqpub exits 0. With
//! `--reconnect-attempts` and no broker coming back, it gives up, exits 1 and says how many
//! messages were not delivered.

use crate::harness::{hex, mqpub, observe, signal, without_probe, BrokerOnPort, Fed};
use crate::support::{clients_installed, BrokerProcess};

/// The lines `first..=last`, as written and as the subscriber's payload in hex.
fn lines(first: u32, last: u32) -> Vec<String> {
    (first..=last).map(|n| format!("line-{n:02}")).collect()
}

/// The payloads (decoded from `%x`) a subscriber printed.
fn payloads(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            let hex = l.split('|').nth(4).expect("a %x field");
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect();
            String::from_utf8(bytes).expect("text payloads")
        })
        .collect()
}

/// The broker is paused (SIGSTOP) so that lines 6-8 are sent, or queued, and certainly not
/// acknowledged; then it is killed and lines 9-12 are written while no broker runs. mqpub is
/// paused too while the second broker starts and the subscriber subscribes, so that it cannot
/// resend before someone listens: a fresh broker has no session to keep messages for. Every
/// one of lines 6-13 must then arrive, in order [MQTT-4.6.0-6 of 5.0]; lines 1-5, which the
/// first subscriber got, may arrive again (QoS 1 is at least once) but only before line 6.
#[test]
fn lines_survive_a_broker_restart_mqtt_4_6_0_6() {
    if !clients_installed() {
        return;
    }
    let first = BrokerOnPort::start(0);
    let port = first.port();
    let before = observe(port, "stream/t", 5);
    let args = format!("-h 127.0.0.1 -p {port} -V 5 -q 1 -l -t stream/t -i streamer");
    let mut publisher = Fed::spawn(mqpub(&args));
    for line in lines(1, 5) {
        publisher.write(format!("{line}\n").as_bytes());
    }
    let got = payloads(&crate::harness::observed(before));
    assert_eq!(got, lines(1, 5));

    first.pause();
    for line in lines(6, 8) {
        publisher.write(format!("{line}\n").as_bytes());
    }
    signal(publisher.pid(), "STOP");
    first.kill();
    for line in lines(9, 12) {
        publisher.write(format!("{line}\n").as_bytes());
    }
    let _second = BrokerOnPort::start(port);
    let mut after = observe(port, "stream/t", 100);
    signal(publisher.pid(), "CONT");
    publisher.write(b"line-13\n");
    let out = publisher.finish();
    assert_eq!(out.code(), 0, "{out}");
    after.wait_for_line("line-13", |l| l.contains(&hex(b"line-13")));
    let got = payloads(&without_probe(after.kill()));
    let resent = got.iter().take_while(|p| lines(1, 5).contains(p)).count();
    assert_eq!(got[resent..], lines(6, 13), "all: {got:?}");
}

/// `--reconnect-attempts 2` with the broker stopped (SIGTERM) for good: mqpub stops trying, exits 1 and
/// counts the three lines written after the broker died (lines 1 and 2 were acknowledged, as
/// `-d` shows) as not delivered.
#[test]
fn gives_up_after_reconnect_attempts_and_counts_the_lost() {
    if !clients_installed() {
        return;
    }
    let mut broker = BrokerProcess::start();
    let args = format!(
        "-h 127.0.0.1 -p {} -q 1 -l -t gone/t -i quitter -d --reconnect-attempts 2",
        broker.port()
    );
    let mut publisher = Fed::spawn(mqpub(&args));
    publisher.write(b"one\ntwo\n");
    publisher.wait_for_stdout("the second PUBACK", |l| {
        l.contains("received PUBACK (Mid: 2")
    });
    broker.terminate();
    publisher.write(b"three\nfour\nfive\n");
    let out = publisher.finish();
    assert_eq!(out.code(), 1, "{out}");
    let last = out.stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("3 message(s) could not be delivered"),
        "{out}"
    );
}
