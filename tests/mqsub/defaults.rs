//! The defaults file: `$XDG_CONFIG_HOME/mqsub`, or the file `-o FILE` names instead, one
//! option per line before the command line's, so that `-t` from both add up.

use crate::harness::{mqsub, write_file, Subscribers};
use crate::support::{clients_installed, BrokerProcess, TempDir, Version};

both_versions!(
    defaults_file_topics_add_to_the_command_lines,
    options_file_replaces_the_defaults_file
);

/// `XDG_CONFIG_HOME/mqsub` gives the port, `-v` and a topic; the command line adds its own
/// topic, and messages to both are printed.
fn defaults_file_topics_add_to_the_command_lines(v: Version) {
    if !clients_installed() {
        return;
    }
    let broker = BrokerProcess::start();
    let s = Subscribers::new(broker.port(), v);
    let dir = TempDir::new("mqsub-xdg");
    let defaults = format!("# mqsub defaults\n-p {}\n-t extra/#\n\n-v\n", broker.port());
    write_file(dir.path(), "mqsub", defaults.as_bytes());
    let mut command = mqsub(&format!(
        "-h 127.0.0.1 -V {} -q 1 -t cmd/#",
        crate::harness::version_arg(v)
    ));
    command.env("XDG_CONFIG_HOME", dir.path());
    let sub = s.subscribed(command, 2);
    s.publish("-q 1 -t extra/x -m from-file");
    s.publish("-q 1 -t other -m neither");
    s.publish("-q 1 -t cmd/y -m from-argv");
    let out = sub.finish();
    assert!(
        out.success()
            .ends_with(b"extra/x from-file\ncmd/y from-argv\n"),
        "{out}"
    );
}

/// `-o FILE`: its options are read and the default file is not (its `-p 1` and `-t wrong/#`
/// would show).
fn options_file_replaces_the_defaults_file(v: Version) {
    if !clients_installed() {
        return;
    }
    let broker = BrokerProcess::start();
    let s = Subscribers::new(broker.port(), v);
    let dir = TempDir::new("mqsub-options");
    write_file(dir.path(), "mqsub", b"-p 1\n-t wrong/#\n");
    let options = format!("-p {}\n-t extra/#\n-v\n", broker.port());
    let file = write_file(dir.path(), "options", options.as_bytes());
    let mut command = mqsub(&format!(
        "-h 127.0.0.1 -V {} -q 1 -o {} -t cmd/#",
        crate::harness::version_arg(v),
        file.display()
    ));
    command.env("XDG_CONFIG_HOME", dir.path());
    let sub = s.subscribed(command, 2);
    s.publish("-q 1 -t wrong/x -m not-subscribed");
    s.publish("-q 1 -t extra/x -m from-file");
    s.publish("-q 1 -t cmd/y -m from-argv");
    let out = sub.finish();
    assert!(
        out.success()
            .ends_with(b"extra/x from-file\ncmd/y from-argv\n"),
        "{out}"
    );
    assert!(!out.text().contains("wrong/x"), "{out}");
}
