//! Settings that belong to one listener. `mount_point`: clients of a mounted listener live under
//! its prefix (what they publish lands under it, what they subscribe to is looked up under it,
//! and the prefix is taken off what they receive). `per_listener_settings`: each listener has
//! its own authentication and ACL.

use std::process::Command;

use crate::support::{clients_installed, mqbroker_conf, Clients, TempDir, Version};

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
    let (_broker, ports) = mqbroker_conf(&conf, 2);
    let (plain, mounted) = (ports[0], ports[1]);
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

/// `per_listener_settings true`: each listener has its own `allow_anonymous`, `password_file`
/// and `acl_file`; a listener that sets none lets nobody in (mosquitto 2.0's defaults).
#[test]
fn per_listener_settings_gives_each_listener_its_own_security() {
    if !clients_installed() {
        return;
    }
    let dir = TempDir::new("per-listener");
    let passwd = dir.path().join("passwd");
    let made = Command::new("mosquitto_passwd")
        .args(["-b", "-c", passwd.to_str().unwrap(), "alice", "pw"])
        .status()
        .unwrap();
    assert!(made.success());
    let acl = dir.path().join("acl");
    std::fs::write(&acl, "user alice\ntopic readwrite alice/#\n").unwrap();
    let conf = dir.path().join("mqbroker.conf");
    let text = format!(
        "per_listener_settings true\nlistener 0 127.0.0.1\nallow_anonymous true\n\
         listener 0 127.0.0.1\npassword_file {}\nacl_file {}\nlistener 0 127.0.0.1\n",
        passwd.display(),
        acl.display()
    );
    std::fs::write(&conf, text).unwrap();
    let (_broker, ports) = mqbroker_conf(&conf, 3);
    let (open, secured, closed) = (ports[0], ports[1], ports[2]);
    let code = |port: u16, args: &str| {
        let clients = Clients::new(port, Version::V5);
        crate::support::run(clients.publish(&format!("-q 1 {args} -m x"))).code()
    };
    assert_eq!(
        code(open, "-t any/topic"),
        0,
        "anonymous on the open listener"
    );
    assert_eq!(
        code(secured, "-t alice/x"),
        135,
        "anonymous on the secured one"
    );
    assert_eq!(code(secured, "-u alice -P pw -t alice/x"), 0);
    assert_eq!(code(secured, "-u alice -P nope -t alice/x"), 135);
    assert_eq!(
        code(closed, "-t any/topic"),
        135,
        "a listener without settings"
    );
    // The secured listener's ACL: alice may not publish elsewhere (PUBACK 0x87).
    let clients = Clients::new(secured, Version::V5);
    let out = crate::support::run(clients.publish("-d -q 1 -u alice -P pw -t other -m x"));
    assert!(
        out.lines
            .iter()
            .any(|l| l.contains("PUBACK (Mid: 1, RC:135)")),
        "{out}"
    );
}
