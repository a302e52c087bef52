//! The logging options through the real binary: `log_dest` (several combine; `none`; syslog
//! refused by name), `log_type` (levels and the subscribe type), `log_timestamp(_format)`,
//! `connection_messages`, and `-v` / `RUST_LOG` winning over `log_type`. Each run makes one
//! client subscribe: the broker logs the connection and the subscription before it answers, so
//! the SUBACK proves the lines were written before the broker is stopped.

use crate::support::{clients_installed, Clients, Output, Running, TempDir, Version};

/// Runs mqbroker with `lines` (after a listener and anonymous access), `args` and `RUST_LOG`
/// (`env`), lets client `sub1` subscribe to `log/t` at QoS 1, and stops it with SIGTERM.
fn one_subscriber(dir: &TempDir, lines: &str, args: &[&str], env: Option<&str>) -> Output {
    let conf = dir.path().join("mqbroker.conf");
    let text = format!("listener 0 127.0.0.1\nallow_anonymous true\n{lines}");
    std::fs::write(&conf, text).unwrap();
    let mut command = super::mqbroker(&[&["-c", conf.to_str().unwrap()], args].concat());
    if let Some(env) = env {
        command.env("RUST_LOG", env);
    }
    let (mut broker, port) = super::ready(command);
    let clients = Clients::new(port, Version::V311);
    clients.subscribe_ok("-i sub1 -q 1 -t log/t -E");
    let out = broker.terminate();
    assert_eq!(out.code, Some(0), "{out}");
    out
}

const CONNECTION_LINES: [&str; 2] = ["New connection from 127.0.0.1", "New client connected"];

#[test]
fn log_dest_lines_combine_and_log_type_selects_what_is_logged() {
    if !clients_installed() {
        return;
    }
    let dir = TempDir::new("log-dest");
    let file = dir.path().join("mqbroker.log");
    let lines = format!(
        "log_dest stdout\nlog_dest file {}\nlog_type subscribe\nlog_type warning\n\
         log_timestamp_format [%Y]\n",
        file.display()
    );
    let out = one_subscriber(&dir, &lines, &[], None);
    // The first log_dest line replaces the default (stderr).
    assert_eq!(out.stderr, "", "{out}");
    let logged = std::fs::read_to_string(&file).unwrap();
    let on_stdout: Vec<&str> = out
        .lines
        .iter()
        .map(String::as_str)
        .filter(|l| !l.starts_with("listening on "))
        .collect();
    assert_eq!(logged.lines().collect::<Vec<_>>(), on_stdout, "{out}");
    // `log_type subscribe`: CLIENT QOS FILTER, as mosquitto, with the strftime prefix.
    let year = chrono::Local::now().format("[%Y]").to_string();
    let subscribed = logged.lines().find(|l| l.ends_with(" sub1 1 log/t"));
    assert!(subscribed.is_some_and(|l| l.starts_with(&year)), "{logged}");
    // Neither notice nor information was asked for.
    for line in CONNECTION_LINES.iter().chain(&["shutting down"]) {
        assert!(!logged.contains(line), "{line}: {logged}");
    }
}

#[test]
fn connection_messages_false_hides_connections_even_with_v() {
    if !clients_installed() {
        return;
    }
    let dir = TempDir::new("log-connections");
    let lines = "log_timestamp false\nconnection_messages false\n";
    let out = one_subscriber(&dir, lines, &["-v"], None);
    let log = &out.stderr;
    // -v is log_type all: debug lines and the subscribe type.
    assert!(log.contains("Received SUBSCRIBE from sub1"), "{log}");
    assert!(log.contains(" sub1 1 log/t"), "{log}");
    for line in CONNECTION_LINES {
        assert!(!log.contains(line), "{line}: {log}");
    }
    // log_timestamp false: each line starts with its level.
    for line in log.lines() {
        let level = line.split_whitespace().next().unwrap_or_default();
        assert!(["ERROR", "WARN", "INFO", "DEBUG"].contains(&level), "{log}");
    }
}

#[test]
fn v_and_rust_log_win_over_log_type() {
    if !clients_installed() {
        return;
    }
    let dir = TempDir::new("log-override");
    let out = one_subscriber(&dir, "log_type error\n", &["-v"], None);
    for line in CONNECTION_LINES.iter().chain(&["Received SUBSCRIBE"]) {
        assert!(out.stderr.contains(line), "{line}: {out}");
    }
    let out = one_subscriber(&dir, "log_type error\n", &["-v"], Some("warn"));
    for line in CONNECTION_LINES.iter().chain(&["Received SUBSCRIBE"]) {
        assert!(!out.stderr.contains(line), "{line}: {out}");
    }
}

#[test]
fn log_dest_none_logs_nothing_and_syslog_is_refused_by_name() {
    if !clients_installed() {
        return;
    }
    let dir = TempDir::new("log-none");
    let out = one_subscriber(&dir, "log_dest none\n", &["-v"], None);
    assert_eq!(out.stderr, "", "{out}");
    assert_eq!(out.lines.len(), 1, "only the ready line: {out}");
    let conf = dir.path().join("syslog.conf");
    std::fs::write(&conf, "log_dest stderr\nlog_dest syslog\n").unwrap();
    let args = ["-c", conf.to_str().unwrap(), "--test-config"];
    let out = Running::spawn(super::mqbroker(&args)).finish();
    assert_eq!(out.code, Some(1), "{out}");
    assert_eq!(
        out.stderr.trim_end(),
        format!(
            "mqbroker: error: {}:2: log_dest syslog is not supported by mqbroker: \
             use stderr, stdout, file PATH or none",
            conf.display()
        )
    );
}

/// SIGHUP re-reads the logging settings too: after `log_type error` becomes `log_type all`,
/// the next connection is logged, to the file the new settings name.
#[test]
fn sighup_reloads_the_logging_settings() {
    if !clients_installed() {
        return;
    }
    let dir = TempDir::new("log-reload");
    let (before, after) = (dir.path().join("before.log"), dir.path().join("after.log"));
    let conf = dir.path().join("mqbroker.conf");
    let write = |log: &std::path::Path, types: &str| {
        let text = format!(
            "listener 0 127.0.0.1\nallow_anonymous true\nlog_dest file {}\nlog_type {types}\n",
            log.display()
        );
        std::fs::write(&conf, text).unwrap();
    };
    write(&before, "error");
    let command = super::mqbroker(&["-c", conf.to_str().unwrap()]);
    let (mut broker, port) = super::ready(command);
    let clients = Clients::new(port, Version::V311);
    clients.subscribe_ok("-i quiet -t log/t -E");
    write(&after, "all");
    broker.signal("HUP");
    let deadline = std::time::Instant::now() + crate::support::WAIT;
    loop {
        clients.subscribe_ok("-i loud -t log/t -E");
        let logged = std::fs::read_to_string(&after).unwrap_or_default();
        if logged.contains("New client connected") && logged.contains("as loud") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never logged: {logged}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = broker.terminate();
    assert_eq!(out.code, Some(0), "{out}");
    let quiet = std::fs::read_to_string(&before).unwrap();
    assert!(!quiet.contains("New client connected"), "{quiet}");
}
