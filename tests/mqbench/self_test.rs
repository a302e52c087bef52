//! `mqbench` with no arguments: a 5 s QoS 1 self-test against the embedded broker that must
//! lose nothing.

use std::time::Duration;

use crate::harness::run;

#[test]
fn self_test_against_the_embedded_broker_loses_nothing() {
    let output = run("", Duration::from_secs(30)).success();
    let table = output.lines.join("\n");
    assert!(table.contains("embedded broker"), "{output}");
    let counts = output
        .lines
        .iter()
        .find(|l| l.starts_with("messages"))
        .unwrap_or_else(|| panic!("no `messages` line:\n{output}"));
    assert!(counts.contains(" lost 0 "), "{output}");
    assert!(counts.contains(" duplicates 0 "), "{output}");
    assert!(!counts.contains(" sent 0 "), "{output}");
}
