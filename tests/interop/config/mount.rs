//! `mount_point`: clients of a mounted listener live under its prefix. What they publish lands
//! under it, what they subscribe to is looked up under it, and the prefix is taken off what
//! they receive, so they never see the rest of the tree.

use std::process::Command;

use crate::support::{clients_installed, Clients, Running, TempDir, Version};

#[test]
fn a_mounted_listener_sees_only_its_subtree() {
    if !clients_installed() {
        return;
    }
    let dir = TempDir::new("mount-point");
    let conf = dir.path().join("mqbroker.conf");
    let text =
        "allow_anonymous true\nlistener 0 127.0.0.1\nlistener 0 127.0.0.1\nmount_point tenant/\n";
    std::fs::write(&conf, text).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_mqbroker"));
    command.arg("-c").arg(&conf).env_remove("RUST_LOG");
    let mut broker = Running::spawn(command);
    let mut port = || -> u16 {
        let line = broker.wait_for_line("a ready line", |l| l.starts_with("listening on mqtt://"));
        line.rsplit(':').next().unwrap().parse().unwrap()
    };
    let (plain, mounted) = (port(), port());
    for version in [Version::V311, Version::V5] {
        let outside = Clients::new(plain, version);
        let inside = Clients::new(mounted, version);
        let mut tenant = inside.subscribed("-v -t '#'", 1000);
        let mut everyone = outside.subscribed("-v -t '#'", 1000);
        outside.publish_ok("-q 1 -t other/x -m not-for-tenants");
        outside.publish_ok("-q 1 -t tenant/a -m from-outside");
        inside.publish_ok("-q 1 -t b -m from-inside");
        outside.publish_ok("-q 1 -t tenant/end -m end");
        // Everything before the last message has arrived once it has (one publisher each).
        tenant.wait_for_line("the last message", |l| l == "end end");
        everyone.wait_for_line("the last message", |l| l == "tenant/end end");
        let inner = tenant.kill();
        assert_eq!(
            inner.without_probe(),
            ["a from-outside", "b from-inside", "end end"],
            "{version:?}"
        );
        let outer = everyone.kill();
        assert_eq!(
            outer.without_probe(),
            [
                "other/x not-for-tenants",
                "tenant/a from-outside",
                "tenant/b from-inside",
                "tenant/end end"
            ],
            "{version:?}"
        );
    }
}
