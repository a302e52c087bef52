//! Ctrl-C during a long run: the publishers stop, the subscribers drain, and the report of
//! what ran is printed; the exit status follows the thresholds.

use std::time::{Duration, Instant};

use crate::harness::{mqbench, report, total, Bench};
use crate::support::BrokerProcess;

#[test]
fn ctrl_c_stops_the_run_and_reports_it() {
    let broker = BrokerProcess::start();
    let args = format!(
        "pubsub -h 127.0.0.1 -p {} -q 1 -r 1000 -d 60s --warmup 0s --drain 1s -v --json --max-loss 0",
        broker.port()
    );
    let mut bench = Bench::spawn(mqbench(&args));
    // `-v` prints a progress line each second once publishing has started.
    bench.wait_for_stderr(Duration::from_secs(10), |l| l.starts_with("1s "));
    let interrupted = Instant::now();
    bench.interrupt();
    let output = bench.finish(Duration::from_secs(10));
    let took = interrupted.elapsed();
    assert_eq!(output.code(), 0, "{output}");
    assert!(
        took < Duration::from_secs(5),
        "took {took:?} to stop:\n{output}"
    );
    let r = report(&output);
    let sent = total(&r, "sent");
    assert!(sent > 0 && sent < 60_000, "{r:#}");
    assert_eq!(total(&r, "received"), sent, "{r:#}");
    assert_eq!(total(&r, "lost"), 0, "{r:#}");
}
