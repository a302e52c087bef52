#!/usr/bin/env bash
# What mqbench adds to latency: a bare MQTT round trip (benches/bare_latency.rs: raw sockets,
# busy-polling subscriber) and `mqbench pubsub -r 1000` against the same Debian mosquitto, one
# after the other, twice. Issue target: mqbench's p50 within 20 µs of the bare p50.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin mqbench
cargo bench --no-run --quiet --bench bare_latency 2>/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mosquitto -p "$port" >/dev/null 2>&1 &
broker=$!
trap 'kill $broker' EXIT
sleep 0.5
for run in 1 2; do
    echo "== run $run"
    MQTT_PORT=$port cargo bench --quiet --bench bare_latency 2>/dev/null | grep 'bare round trip'
    target/release/mqbench pubsub -h 127.0.0.1 -p "$port" -r 1000 -d 6s --warmup 1s | grep latency
done
