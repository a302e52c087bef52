#!/usr/bin/env bash
# mqbench pubsub against Debian's mosquitto and against mqbroker, one after the other in the
# same run, with the same flags. Usage: scripts/bench-pubsub.sh [mqbench pubsub flags...]
# Default flags: one publisher and one subscriber, QoS 0, 64 B, unpaced, 6 s with 1 s warm-up.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin mqbench --bin mqbroker
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
flags=("$@")
[ ${#flags[@]} -gt 0 ] || flags=(-d 6s --warmup 1s)
mosq_port=$(free_port)
mosquitto -p "$mosq_port" >/dev/null 2>&1 &
mosq=$!
ours_port=$(free_port)
target/release/mqbroker -p "$ours_port" >/dev/null 2>&1 &
ours=$!
trap 'kill $mosq $ours 2>/dev/null' EXIT
sleep 0.5
echo "== mosquitto $(mosquitto -h 2>/dev/null | head -1 | awk '{print $3}')"
target/release/mqbench pubsub -h 127.0.0.1 -p "$mosq_port" "${flags[@]}" || true
echo "== mqbroker"
target/release/mqbench pubsub -h 127.0.0.1 -p "$ours_port" "${flags[@]}" || true
