//! The same command lines given to `mosquitto_pub` and to `mqpub`, against Debian's mosquitto
//! and against mqbroker: a `mosquitto_sub -V 5 --retain-as-published` prints the same lines
//! (topic, QoS, retain, payload bytes, properties) and the exit statuses are equal.

use crate::harness::{
    both_servers, mosquitto_pub, mqpub, observe, observed, run_with_input, signal, version_arg,
    Fed, Server, FORMAT,
};
use crate::support::{clients_installed, mosquitto_installed, Clients, TempDir, Version};

both_versions!(
    messages_are_the_same_as_mosquitto_pubs,
    will_is_the_same_as_mosquitto_pubs_when_killed,
);

/// One command line: `{conn}` becomes `-h 127.0.0.1 -p PORT`, `{port}` the port, `{t}` a topic
/// of the run, `{file}` a file of bytes that are not text; `stdin` is fed to the process.
struct Case {
    args: &'static str,
    stdin: &'static [u8],
    messages: usize,
}

const CASES: &[Case] = &[
    // The payload as given, QoS 0 [MQTT-3.3.1-1 and MQTT-3.3.1-3 for the flags].
    case("{conn} -t {t} -m 'hello world'", b"", 1),
    case("{conn} -t {t} -m one -q 1", b"", 1),
    case("{conn} -t {t} -m two -q 2", b"", 1),
    // RETAIN set as given [MQTT-3.3.1-5].
    case("{conn} -t {t} -m kept -r -q 1", b"", 1),
    // A zero-length payload.
    case("{conn} -t {t} -n -q 1", b"", 1),
    // The file's bytes, unchanged, including a NUL, 0xFF and the final newline.
    case("{conn} -t {t} -f {file} -q 1", b"", 1),
    // All of stdin as one message, with its newlines.
    case("{conn} -t {t} -s -q 1", b"first\nsecond\n\0\xff", 1),
    // One message per line; an empty line is a zero-length message; the last line needs no
    // newline.
    case("{conn} -t {t} -l -q 1", b"one\n\nthree\nlast", 4),
    case("{conn} -t {t} -m again --repeat 3 -q 1", b"", 3),
    case("{conn} -t {t} -m with-id -i parity-id -q 1", b"", 1),
    case("-L mqtt://127.0.0.1:{port}/{t} -m from-url -q 1", b"", 1),
];

const fn case(args: &'static str, stdin: &'static [u8], messages: usize) -> Case {
    Case {
        args,
        stdin,
        messages,
    }
}

/// Each of [`CASES`] gives the same messages and exit status with both tools, against both
/// brokers.
fn messages_are_the_same_as_mosquitto_pubs(v: Version) {
    if !clients_installed() || !mosquitto_installed() {
        return;
    }
    let dir = TempDir::new("mqpub-parity");
    let file = dir.path().join("payload.bin");
    std::fs::write(&file, b"bin\0\xff\x01 end\n").expect("write the payload file");
    for server in both_servers() {
        for (n, case) in CASES.iter().enumerate() {
            let args = case
                .args
                .replace("{conn}", "-h 127.0.0.1 -p {port}")
                .replace("{port}", &server.port().to_string())
                .replace("{file}", &file.display().to_string());
            let args = format!("{args} -V {}", version_arg(v));
            let mosq = publish_and_observe(&server, "mosquitto_pub", n, &args, case);
            let ours = publish_and_observe(&server, "mqpub", n, &args, case);
            let what = format!("{} with {} (case {n}: {args})", server.name(), v_name(v));
            assert_eq!(mosq.len(), case.messages, "mosquitto_pub, {what}: {mosq:?}");
            assert_eq!(ours, mosq, "mqpub (left) vs mosquitto_pub (right), {what}");
        }
    }
}

/// Publishes with `tool` to the topic `par/{tool}/{n}`, asserts exit status 0 (both tools give
/// it for every case) and returns what the subscriber printed, with the tool's name taken out
/// of the topic.
fn publish_and_observe(
    server: &Server,
    tool: &str,
    n: usize,
    args: &str,
    case: &Case,
) -> Vec<String> {
    let topic = format!("par/{tool}/{n}");
    let subscriber = observe(server.port(), &topic, case.messages);
    let args = args.replace("{t}", &topic);
    let command = match tool {
        "mqpub" => mqpub(&args),
        _ => mosquitto_pub(&args),
    };
    let out = run_with_input(command, case.stdin).success();
    assert!(out.stderr.is_empty(), "stderr on success:\n{out}");
    observed(subscriber)
        .iter()
        .map(|l| l.replace(&format!("par/{tool}/"), "par/TOOL/"))
        .collect()
}

fn v_name(v: Version) -> &'static str {
    match v {
        Version::V311 => "MQTT 3.1.1",
        Version::V5 => "MQTT 5.0",
    }
}

/// The PUBLISH properties mosquitto_pub users give with `-D` (5.0 §3.3.2.3): Content Type
/// [MQTT-3.3.2-20], User Properties in order [MQTT-3.3.2-18], Correlation Data
/// [MQTT-3.3.2-16], Response Topic [MQTT-3.3.2-15] and Message Expiry Interval [MQTT-3.3.2-5]
/// reach the subscriber as mosquitto_pub's do.
const PROPERTIES: &str = "-D PUBLISH content-type text/plain -D PUBLISH user-property k v \
    -D PUBLISH user-property k v2 -D PUBLISH correlation-data corr-1 \
    -D PUBLISH response-topic reply/t -D PUBLISH message-expiry-interval 3600";

#[test]
fn properties_are_the_same_as_mosquitto_pubs_mqtt_3_3_2_20() {
    properties_case(PROPERTIES);
}

/// One 3-word `-D` as the last argument is the form that parses today.
#[test]
fn a_last_property_is_the_same_as_mosquitto_pubs_mqtt_3_3_2_20() {
    properties_case("-D PUBLISH user-property k v -D PUBLISH content-type text/plain");
}

fn properties_case(properties: &str) {
    if !clients_installed() || !mosquitto_installed() {
        return;
    }
    for server in both_servers() {
        let args = format!(
            "-h 127.0.0.1 -p {} -V 5 -q 1 -t {{t}} -m props {properties}",
            server.port()
        );
        let case = case("", b"", 1);
        let mosq = publish_and_observe(&server, "mosquitto_pub", 0, &args, &case);
        let ours = publish_and_observe(&server, "mqpub", 0, &args, &case);
        let (mosq, ours) = (without_expiry(&mosq), without_expiry(&ours));
        assert_eq!(
            ours,
            mosq,
            "mqpub (left) vs mosquitto_pub, {}",
            server.name()
        );
    }
}

/// The lines with `%E` checked (3600 less the seconds the message waited, 5.0 §3.3.2.3.3) and
/// blanked, so that a second boundary between the two runs does not matter.
fn without_expiry(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|line| {
            let mut fields: Vec<&str> = line.split('|').collect();
            if let Some(expiry) = fields.get_mut(9).filter(|e| !e.is_empty()) {
                let seconds: u32 = expiry.parse().expect("%E is a number");
                assert!((3590..=3600).contains(&seconds), "expiry {seconds}");
                *expiry = "E";
            }
            fields.join("|")
        })
        .collect()
}

/// A publisher killed with SIGKILL while connected (`-l`, after its first line arrived) has its
/// will published [MQTT-3.1.2-8] with the will QoS and retain flag [MQTT-3.1.2-14 and -17 of
/// 3.1.1]: the same message for mosquitto_pub and mqpub.
fn will_is_the_same_as_mosquitto_pubs_when_killed(v: Version) {
    if !clients_installed() || !mosquitto_installed() {
        return;
    }
    for server in both_servers() {
        let mut got = Vec::new();
        for tool in ["mosquitto_pub", "mqpub"] {
            let base = format!("will/{tool}");
            let subscriber = observe(server.port(), &format!("{base}/#"), 2);
            let args = format!(
                "-h 127.0.0.1 -p {} -V {} -l -q 1 -t {base}/live --will-topic {base}/gone \
                 --will-payload 'bye bye' --will-qos 1 --will-retain",
                server.port(),
                version_arg(v)
            );
            let command = match tool {
                "mqpub" => mqpub(&args),
                _ => mosquitto_pub(&args),
            };
            let mut publisher = Fed::spawn(command);
            publisher.write(b"alive\n");
            let mut subscriber = subscriber;
            subscriber.wait_for_line("the first line", |l| l.contains("|616c697665|"));
            signal(publisher.pid(), "KILL");
            let lines = observed(subscriber);
            got.push(
                lines
                    .iter()
                    .map(|l| l.replace(&base, "will/TOOL"))
                    .collect::<Vec<_>>(),
            );
        }
        assert_eq!(got[0].len(), 2, "{}: {:?}", server.name(), got[0]);
        // Retained [MQTT-3.1.2-17 of 3.1.1]: a later subscriber gets mqpub's will too.
        let later = Clients::new(server.port(), Version::V5)
            .subscribe_ok(&format!("-C 1 -q 1 {FORMAT} -t will/mqpub/gone"));
        assert_eq!(later.lines.len(), 1, "{later}");
        assert!(
            later.lines[0].starts_with("will/mqpub/gone|1|1|7|"),
            "{later}"
        );
        assert_eq!(
            got[1],
            got[0],
            "mqpub (left) vs mosquitto_pub, {}",
            server.name()
        );
    }
}
