#!/usr/bin/env bash
# Runs the codec benchmark (benches/codec.rs: mqkit against rumqttc, same bytes, same run)
# RUNS times in a row and prints a Markdown table: per case and operation, the median mqkit and
# rumqttc times per packet and the median of the runs' ratios (rumqttc time / mqkit time), with
# each run's ratio in brackets; for PUBLISH, also the floor any codec bound by the same contract
# pays (one copy of the encoded packet; the Bytes splits of topic and payload) and how far above
# it rumqttc lies (the best ratio an encoder or decoder costing nothing beyond the floor reaches).
# One run scatters on a shared machine; the median of several is what BENCHMARKS.md records.
#
# usage: [RUNS=3] [PIN=cpu] scripts/bench-codec.sh [criterion filter]    e.g. RUNS=5 scripts/bench-codec.sh publish
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
target=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
for i in $(seq "$runs"); do
    echo "run $i of $runs" >&2
    touch "$results/start"
    ${PIN:+taskset -c "$PIN"} cargo bench --bench codec -- --warm-up-time 1 --measurement-time 3 ${1:+"$1"} >/dev/null 2>&1
    # Criterion keeps each function's latest estimates as <group>/<function>/new/estimates.json;
    # those this run wrote are its results, kept before the next run overwrites them.
    (cd "$target/criterion" && find . -path '*/new/estimates.json' -newer "$results/start" |
        while read -r path; do echo "$i $path $(cat "$path")"; done) >>"$results/estimates"
done
python3 - "$results/estimates" <<'PY'
import collections, json, statistics, sys

# Decode times one iteration of 64 packets (benches/codec.rs BATCH); encode one packet.
per_packet = {"decode": 64, "encode": 1}
times = collections.defaultdict(dict)  # (run, case, op) -> {codec: ns per packet}
with open(sys.argv[1]) as lines:
    for line in lines:
        run, path, estimates = line.split(" ", 2)
        group, codec = path.split("/")[1:3]
        case, _, op = group.rpartition("_")
        estimate = json.loads(estimates)["median"]["point_estimate"]
        times[(int(run), case, op)][codec] = estimate / per_packet[op]
table = collections.defaultdict(list)
for (run, case, op), t in sorted(times.items()):
    if "mqkit" in t and "rumqttc" in t:
        # The floor (benches/codec.rs: `copy` for encode, `slices` for PUBLISH decode), if any.
        floor = t.get("copy", t.get("slices"))
        table[(case, op)].append((t["mqkit"], t["rumqttc"], floor))
print("| case | op | mqkit | rumqttc | ratio: median (each run) | floor | rumqttc / floor |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for (case, op), rows in sorted(table.items()):
    ours = statistics.median(r[0] for r in rows)
    theirs = statistics.median(r[1] for r in rows)
    ratios = [r[1] / r[0] for r in rows]
    each = " / ".join(f"{x:.2f}x" for x in ratios)
    median = statistics.median(ratios)
    floors = [r[2] for r in rows if r[2] is not None]
    if floors:
        floor = statistics.median(floors)
        headroom = statistics.median(r[1] / r[2] for r in rows if r[2] is not None)
        extra = f"{floor:.1f} ns | {headroom:.2f}x"
    else:
        extra = "– | –"
    print(f"| {case} | {op} | {ours:.1f} ns | {theirs:.1f} ns | **{median:.2f}x** ({each}) | {extra} |")
PY
