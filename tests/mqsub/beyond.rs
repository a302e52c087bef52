//! What mqsub does beyond mosquitto_sub, with the built mqbroker: `--json` lines (binary
//! payloads as base64, mosquitto #2213), ending at once when the reader of a pipe goes
//! (`| head -1`), `--color`, and reconnecting when the broker restarts.

use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

use crate::harness::{contains, mqbroker_on, write_file, Raw, Subscribers};
use crate::support::{clients_installed, BrokerProcess, Running, TempDir, Version, PROBE_PAYLOAD};

both_versions!(
    json_lines_are_json_with_binary_payloads_in_base64,
    closed_pipe_ends_the_run_at_once,
    colour_is_on_only_when_asked_or_on_a_terminal,
    reconnects_and_subscribes_again_after_a_broker_restart,
);

/// The payload mosquitto_sub's `%j` cannot carry (eclipse-mosquitto/mosquitto#2213).
const BINARY: &[u8] = &[0x00, 0xff, 0x00];

fn mqbroker(v: Version) -> Option<(BrokerProcess, Subscribers)> {
    if !clients_installed() {
        return None;
    }
    let broker = BrokerProcess::start();
    let s = Subscribers::new(broker.port(), v);
    Some((broker, s))
}

/// `--json`: one JSON object per line with topic, qos, retain, payload, RFC 3339
/// `received_at` and, with 5.0, properties; a payload that is not UTF-8 is base64 with
/// `"payload_encoding":"base64"` and decodes to the bytes sent.
fn json_lines_are_json_with_binary_payloads_in_base64(v: Version) {
    let Some((_broker, s)) = mqbroker(v) else {
        return;
    };
    let dir = TempDir::new("mqsub-json");
    s.publish("-r -q 1 -t js/kept -m kept");
    let binary = write_file(dir.path(), "binary", BINARY);
    let sub = s.subscribed(s.mqsub("--json -q 1 -t 'js/#'"), 3);
    s.publish(&format!("-q 1 -t js/bin -f {}", binary.display()));
    match v {
        Version::V311 => s.publish("-q 0 -t js/text -m 'a \"quoted\" text'"),
        Version::V5 => s.publish(
            "-q 0 -t js/text -m 'a \"quoted\" text' -D publish content-type text/plain \
             -D publish response-topic js/reply -D publish correlation-data corr-1 \
             -D publish user-property k1 v1 -D publish user-property k1 'v 2' \
             -D publish message-expiry-interval 3600",
        ),
    }
    let out = sub.finish();
    let lines: Vec<Value> = out
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}\n{out}")))
        .collect();
    assert_eq!(lines.len(), 4, "{out}");
    for line in &lines {
        let at = line["received_at"].as_str().unwrap_or_default();
        assert!(
            chrono::DateTime::parse_from_rfc3339(at).is_ok(),
            "received_at {at:?} is not RFC 3339"
        );
    }
    let kept = &lines[0];
    assert_eq!(
        (
            &kept["topic"],
            &kept["qos"],
            &kept["retain"],
            &kept["payload"]
        ),
        (&json!("js/kept"), &json!(1), &json!(true), &json!("kept"))
    );
    assert_eq!(lines[1]["payload"], PROBE_PAYLOAD);
    let bin = &lines[2];
    assert_eq!(bin["payload_encoding"], "base64", "{bin}");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(bin["payload"].as_str().unwrap_or_default())
        .expect("base64");
    assert_eq!(decoded, BINARY);
    let text = &lines[3];
    assert_eq!(
        (&text["qos"], &text["retain"], &text["payload"]),
        (&json!(0), &json!(false), &json!("a \"quoted\" text"))
    );
    assert!(text.get("payload_encoding").is_none(), "{text}");
    if v == Version::V5 {
        let p = &text["properties"];
        assert_eq!(p["content_type"], "text/plain", "{p}");
        assert_eq!(p["response_topic"], "js/reply", "{p}");
        assert_eq!(p["correlation_data"], "corr-1", "{p}");
        assert_eq!(p["user_properties"], json!([["k1", "v1"], ["k1", "v 2"]]));
        let expiry = p["message_expiry_interval"].as_u64().unwrap_or_default();
        assert!((3590..=3600).contains(&expiry), "{p}");
    } else {
        assert!(text.get("properties").is_none(), "{text}");
    }
}

/// `mqsub ... | head -1`: once `head` has its line and exits, mqsub exits 0 at once, though
/// no further message comes to make a write fail.
fn closed_pipe_ends_the_run_at_once(v: Version) {
    let Some((_broker, s)) = mqbroker(v) else {
        return;
    };
    let probe = s.probe();
    let mqsub = s.mqsub(&format!("-t {probe} -t 'never/#'"));
    let mut shell = Command::new("sh");
    shell
        .arg("-c")
        .arg(r#"{ "$0" "$@"; echo "mqsub exited $?" >&2; } | head -1"#)
        .arg(mqsub.get_program())
        .args(mqsub.get_args())
        .env("XDG_CONFIG_HOME", "/nonexistent/mqkit-tests");
    let started = Instant::now();
    let out = Raw::spawn(shell).finish();
    let took = started.elapsed();
    assert_eq!(out.success(), format!("{PROBE_PAYLOAD}\n").as_bytes());
    assert!(out.stderr.contains("mqsub exited 0"), "{out}");
    assert!(took < Duration::from_secs(5), "took {took:?}:\n{out}");
}

/// `--color always` colours the topic of `-v` output; `never`, and `auto` into a pipe, do not
/// (the bytes are then mosquitto_sub's). On a terminal (`script` gives one) `auto` colours,
/// unless `NO_COLOR` is set.
fn colour_is_on_only_when_asked_or_on_a_terminal(v: Version) {
    let Some((_broker, s)) = mqbroker(v) else {
        return;
    };
    let probe = s.probe();
    let args = format!("-v -t {probe} -C 1");
    let plain = s.clients.subscribe_ok(&args);
    let expected = format!("{}\n", plain.lines.join("\n"));
    let escape = b"\x1b[";
    for (colour, coloured) in [("always", true), ("never", false), ("auto", false)] {
        let out = crate::harness::run(s.mqsub(&format!("--color {colour} {args}")));
        let stdout = out.success();
        assert_eq!(
            contains(stdout, escape),
            coloured,
            "--color {colour}:\n{out}"
        );
        if !coloured {
            assert_eq!(stdout, expected.as_bytes(), "{out}");
        }
    }
    if Command::new("script").arg("--version").output().is_err() {
        return;
    }
    for (no_color, coloured) in [(None, true), (Some("1"), false)] {
        let command = s.mqsub(&format!("--color auto {args}"));
        let line = std::iter::once(command.get_program())
            .chain(command.get_args())
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        let mut script = Command::new("script");
        script
            .args(["-q", "-e", "-c", &line, "/dev/null"])
            .env("XDG_CONFIG_HOME", "/nonexistent/mqkit-tests")
            .env_remove("NO_COLOR");
        if let Some(value) = no_color {
            script.env("NO_COLOR", value);
        }
        let out = crate::harness::run(script);
        let stdout = out.success();
        assert!(contains(stdout, PROBE_PAYLOAD.as_bytes()), "{out}");
        assert_eq!(
            contains(stdout, escape),
            coloured,
            "NO_COLOR={no_color:?} on a terminal:\n{out}"
        );
    }
}

/// mqbroker stops and starts again on the same port: mqsub reconnects (after its 1 s pause),
/// subscribes again, and prints what is published to the new broker.
fn reconnects_and_subscribes_again_after_a_broker_restart(v: Version) {
    let Some((mut first, s)) = mqbroker(v) else {
        return;
    };
    let port = first.port();
    let mut sub = s.subscribed(s.mqsub("-v -q 1 -t 'rc/#'"), 2);
    first.terminate();
    let _second = (0..5)
        .find_map(|_| mqbroker_on(port))
        .unwrap_or_else(|| panic!("cannot start mqbroker again on port {port}"));
    // Retained, so it is printed whether mqsub subscribes before or after it is published.
    s.publish("-r -q 1 -t rc/after -m restarted");
    sub.wait_for("the message after the restart", "rc/after restarted\n");
    s.publish("-q 1 -t rc/live -m live");
    let out = sub.finish();
    assert!(
        out.text().ends_with("rc/after restarted\nrc/live live\n"),
        "{out}"
    );
    assert!(out.stderr.contains("reconnecting"), "{out}");
}

/// A request from `mosquitto_rr` (5.0) carries its response topic: `--json` shows it, and the
/// reply published there reaches mosquitto_rr.
#[test]
fn json_shows_the_response_topic_of_a_mosquitto_rr_request() {
    let Some((_broker, s)) = mqbroker(Version::V5) else {
        return;
    };
    let sub = s.subscribed(s.mqsub("--json -q 1 -t 'rq/#'"), 1);
    let rr = Running::spawn(s.clients.request("-t rq/ask -e rr/answer -m question -W 5"));
    let out = sub.finish();
    let line = out
        .text()
        .lines()
        .last()
        .map(str::to_owned)
        .unwrap_or_default();
    let request: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}:\n{out}"));
    assert_eq!(request["payload"], "question", "{out}");
    let reply_to = request["properties"]["response_topic"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(reply_to, "rr/answer", "{out}");
    s.publish(&format!("-q 1 -t {reply_to} -m answer"));
    let rr = rr.finish().success();
    assert_eq!(rr.lines, ["answer"], "{rr}");
}
