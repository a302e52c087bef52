#!/usr/bin/env bash
# Start-to-exit time of one publish, mqpub against mosquitto_pub, side by side on the same
# broker (Debian's mosquitto on a free loopback port) in the same run. Needs hyperfine,
# mosquitto and mosquitto-clients. Usage: scripts/bench-client-startup.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-300}"
cargo build --release --quiet --bin mqpub --bin mqsub
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mosquitto -p "$port" >/dev/null 2>&1 &
broker=$!
report=$(mktemp)
trap 'kill $broker; rm -f "$report"' EXIT
for _ in $(seq 50); do mosquitto_pub -p "$port" -t probe -n 2>/dev/null && break; sleep 0.1; done
hyperfine --warmup 20 --runs "$runs" -N --export-markdown "$report" \
    -n "mosquitto_pub -q 0" "mosquitto_pub -h 127.0.0.1 -p $port -t bench -m x" \
    -n "mqpub -q 0" "target/release/mqpub -h 127.0.0.1 -p $port -t bench -m x" \
    -n "mosquitto_pub -q 1" "mosquitto_pub -h 127.0.0.1 -p $port -t bench -m x -q 1" \
    -n "mqpub -q 1" "target/release/mqpub -h 127.0.0.1 -p $port -t bench -m x -q 1" \
    -n "mosquitto_sub -C 1 (retained)" "mosquitto_sub -h 127.0.0.1 -p $port -t ret -C 1" \
    -n "mqsub -C 1 (retained)" "target/release/mqsub -h 127.0.0.1 -p $port -t ret -C 1" \
    --setup "mosquitto_pub -h 127.0.0.1 -p $port -t ret -m r -r"
cat "$report"
