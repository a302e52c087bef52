//! `scripts/mqbroker-ci-example.sh`, the README's "mqbroker in CI" recipe: it runs a command
//! against a fresh mqbroker, exits with the command's status and leaves no broker behind.

use std::net::TcpStream;
use std::process::Command;

use crate::support::{clients_installed, run, Output};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scripts/mqbroker-ci-example.sh"
);

/// `bash scripts/mqbroker-ci-example.sh sh -c SHELL` with `MQBROKER` set to `mqbroker`.
fn ci_script(mqbroker: &str, shell: &str) -> Output {
    let mut command = Command::new("bash");
    command.args([SCRIPT, "sh", "-c", shell]);
    command.env("MQBROKER", mqbroker);
    run(command)
}

/// The command's last stdout line is `PORT PID` (see [`REPORT`]); asserts that nothing listens
/// on the port any more, that the process is gone, and that SIGTERM stopped it with status 0.
fn assert_broker_gone(out: &Output) {
    assert!(
        !out.stderr.contains("mqbroker exited with status"),
        "mqbroker did not exit 0 on SIGTERM:\n{out}"
    );
    let last = out.lines.last().map(String::as_str).unwrap_or_default();
    let (port, pid) = last
        .split_once(' ')
        .unwrap_or_else(|| panic!("no `PORT PID` line:\n{out}"));
    let port: u16 = port.parse().unwrap_or_else(|_| panic!("bad port:\n{out}"));
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "something still listens on the broker's port {port}:\n{out}"
    );
    let mut alive = Command::new("sh");
    alive.args(["-c", r#"kill -0 "$1""#, "sh", pid]);
    let alive = run(alive);
    assert_ne!(alive.code(), 0, "mqbroker (pid {pid}) still runs:\n{out}");
}

/// Prints what [`assert_broker_gone`] needs, from the variables the script exports.
const REPORT: &str = r#"echo "$MQTT_PORT $MQBROKER_PID""#;

/// The script exports MQTT_HOST and MQTT_PORT of a working broker (`mosquitto_pub` publishes
/// to it), exits 0 with the command, and stops the broker.
#[test]
fn ci_script_runs_the_command_against_a_fresh_broker() {
    if !clients_installed() {
        return;
    }
    let publish = r#"mosquitto_pub -h "$MQTT_HOST" -p "$MQTT_PORT" -t ci/test -m ok -q 1"#;
    let out = ci_script(
        env!("CARGO_BIN_EXE_mqbroker"),
        &format!(r#"test "$MQTT_HOST" = 127.0.0.1 && {publish} && {REPORT}"#),
    );
    let out = out.success();
    assert_broker_gone(&out);
}

/// The command's failure status is the script's, and the broker is stopped all the same.
#[test]
fn ci_script_exits_with_the_command_status() {
    let out = ci_script(env!("CARGO_BIN_EXE_mqbroker"), &format!("{REPORT}; exit 3"));
    assert_eq!(out.code(), 3, "{out}");
    assert_broker_gone(&out);
    assert!(
        out.stderr.contains("--- mqbroker log"),
        "the broker log is shown when the command fails:\n{out}"
    );
}

/// A broker that does not start (here `false`, which exits at once) fails the script with
/// status 1 and a message, without running the command.
#[test]
fn ci_script_fails_when_the_broker_does_not_start() {
    let out = ci_script("false", "echo the command ran");
    assert_eq!(out.code(), 1, "{out}");
    assert!(out.lines.is_empty(), "{out}");
    assert!(out.stderr.contains("exited before it was ready"), "{out}");
}
