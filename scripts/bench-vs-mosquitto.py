#!/usr/bin/env python3
"""mqbroker against Debian's mosquitto on the scenarios of the performance issue, side by side.

Each scenario runs REPS times; each repetition starts a fresh mosquitto (persistence false,
log_dest none) and a fresh mqbroker on free 127.0.0.1 ports and runs the same mqbench command
against both, one after the other. The table shows, per broker, the median and [min-max] of the
repetitions, the broker's CPU (share of one core over the run) and peak RSS from /proc, and the
ratio mqbroker / mosquitto (for latency and memory, lower is better).

Run it through scripts/bench-vs-mosquitto.sh, which builds the release binaries and raises the
open-file limit. Installs nothing: mosquitto must be on the machine.
"""

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

MQBENCH = "target/release/mqbench"
MQBROKER = "target/release/mqbroker"
REPS = int(os.environ.get("REPS", "3"))
TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """A broker process on a free port, with CPU and memory read from /proc."""

    def __init__(self, kind, work):
        self.kind = kind
        self.port = free_port()
        conf = os.path.join(work, f"{kind}-{self.port}.conf")
        with open(conf, "w") as f:
            f.write(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n")
            f.write("persistence false\nlog_dest none\nmax_queued_messages 1000\n")
            if kind == "mosquitto":
                f.write("user root\n")
        program = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if kind == "mqbroker":
            program = MQBROKER
        self.process = subprocess.Popen(
            [program, "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.02)
        self.start_ticks = self.ticks()
        self.start_time = time.time()

    def status(self, key):
        with open(f"/proc/{self.process.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return 0

    def ticks(self):
        with open(f"/proc/{self.process.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])

    def cpu_percent(self):
        elapsed = time.time() - self.start_time
        return 100.0 * (self.ticks() - self.start_ticks) / TICKS / max(elapsed, 1e-9)

    def stop(self):
        self.process.kill()
        self.process.wait()


def mqbench(port, args):
    cmd = [MQBENCH] + args[:1] + ["-h", "127.0.0.1", "-p", str(port), "-V", "311", "--json"]
    out = subprocess.run(cmd + args[1:], capture_output=True, text=True, timeout=300)
    return json.loads(out.stdout)


def highest_rate(broker):
    """The delivered rate of the fastest paced run that kept up: the publisher reached 95 % of
    the asked rate and 99 % of the messages arrived."""
    best = 0
    for rate in [25_000, 50_000, 100_000, 150_000, 200_000, 300_000, 400_000, 600_000]:
        r = mqbench(broker.port, ["pubsub", "-r", str(rate), "-d", "3s", "--warmup", "1s"])
        t = r["totals"]
        kept_up = r["publish_rate"] >= 0.95 * rate
        if not kept_up or t["expected"] == 0 or t["received"] < 0.99 * t["expected"]:
            break
        best = r["delivery_rate"]
    return best


def delivered(args):
    return lambda broker: mqbench(broker.port, ["pubsub", "-d", "5s", "--warmup", "1s"] + args)[
        "delivery_rate"
    ]


def connects(broker):
    r = mqbench(broker.port, ["conn", "-c", "5000", "--hold", "1s"])
    return r["connect_rate"]


def idle_kb(broker):
    before = broker.status("VmRSS")
    cmd = [MQBENCH, "conn", "-h", "127.0.0.1", "-p", str(broker.port), "-V", "311"]
    run = subprocess.Popen(cmd + ["-c", "5000", "--hold", "4s"], stdout=subprocess.DEVNULL)
    time.sleep(3)
    after = broker.status("VmRSS")
    run.wait(timeout=60)
    return (after - before) / 5000


def latency(percentile):
    def measure(broker):
        r = mqbench(broker.port, ["pubsub", "-r", "1000", "-d", "6s", "--warmup", "1s"])
        return (r.get("latency_us") or {}).get(percentile, float("nan"))

    return measure


SCENARIOS = [
    ("1 -> 1, highest rate with >= 99 % delivered (msg/s)", highest_rate, True),
    ("1 -> 1 unpaced, delivered (msg/s)", delivered([]), True),
    ("20 -> 1 on #, delivered (msg/s)", delivered(["--pubs", "20"]), True),
    ("1 -> 20, deliveries (msg/s)", delivered(["--subs", "20"]), True),
    ("QoS 1, 1 -> 1, window 100, delivered (msg/s)", delivered(["-q", "1", "-F", "100"]), True),
    ("5,000 connections (connects/s)", connects, True),
    ("memory per idle connection (KB)", idle_kb, False),
    ("latency at 1,000 msg/s, p50 (us)", latency("p50"), False),
    ("latency at 1,000 msg/s, p99 (us)", latency("p99"), False),
]


def summary(values):
    return statistics.median(values), min(values), max(values)


def main():
    only = sys.argv[1:]
    work = tempfile.mkdtemp(prefix="bench-vs-mosquitto-")
    for name, measure, higher_better in SCENARIOS:
        if only and not any(o in name for o in only):
            continue
        results = {"mosquitto": [], "mqbroker": []}
        for _ in range(REPS):
            for kind in ["mosquitto", "mqbroker"]:
                broker = Broker(kind, work)
                try:
                    value = measure(broker)
                    results[kind].append((value, broker.cpu_percent(), broker.status("VmHWM")))
                finally:
                    broker.stop()
        print_row(name, results, higher_better)
    shutil.rmtree(work, ignore_errors=True)


def print_row(name, results, higher_better):
    cells = []
    medians = {}
    for kind in ["mosquitto", "mqbroker"]:
        values = [v for v, _, _ in results[kind]]
        med, lo, hi = summary(values)
        medians[kind] = med
        cpu = statistics.median(c for _, c, _ in results[kind])
        rss = max(r for _, _, r in results[kind]) / 1024
        cells.append(f"{med:,.1f} [{lo:,.1f}-{hi:,.1f}] cpu {cpu:.0f}% rss {rss:.0f} MB")
    ratio = medians["mqbroker"] / medians["mosquitto"] if medians["mosquitto"] else float("nan")
    better = "higher is better" if higher_better else "lower is better"
    print(f"| {name} | {cells[0]} | {cells[1]} | {ratio:.2f}x ({better}) |", flush=True)


if __name__ == "__main__":
    print("| scenario | mosquitto | mqbroker | ratio |")
    print("| --- | --- | --- | --- |")
    main()
