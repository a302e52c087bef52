#!/usr/bin/env bash
# Acknowledged QoS 1 messages per second for an offline persistent session, side by side in one
# run: Debian's mosquitto with `persistence true` (it saves to disk every autosave_interval and
# on exit), mqbroker with `persistence false`, and mqbroker with `persistence true` (a message is
# acknowledged once it is on disk: group-committed fsyncs). A persistent session subscribes to
# mqbench/# and disconnects; then `mqbench pub` publishes unpaced and counts PUBACKs. Queues are
# large enough that nothing is dropped, so every message is queued (and stored). Each broker
# gets a fresh directory. Usage: scripts/bench-persistence.sh [mqbench pub flags...]
# Default flags: 16 publishers, QoS 1, 64 B, unpaced, 64 in flight each, 5 s.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin mqbench --bin mqbroker
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
flags=("$@")
[ ${#flags[@]} -gt 0 ] || flags=(--pubs 16 -q 1 -d 5s --warmup 1s)
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT

start() { # NAME PROGRAM PERSISTENCE -> sets $port (not in a subshell: $pids must keep the pid)
    local name=$1 program=$2 persistence=$3
    port=$(free_port)
    mkdir -p "$work/$name"
    printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence %s\npersistence_location %s/\nmax_queued_messages 10000000\nuser root\n' \
        "$port" "$persistence" "$work/$name" > "$work/$name.conf"
    [ "$program" = mosquitto ] || sed -i '/^user root$/d' "$work/$name.conf"
    "$program" -c "$work/$name.conf" >/dev/null 2>&1 &
    pids+=($!)
}

start mosquitto mosquitto true
mosq=$port
start mqbroker-memory target/release/mqbroker false
plain=$port
start mqbroker-durable target/release/mqbroker true
durable=$port
sleep 0.5
run() { # NAME PORT
    echo "== $1"
    mosquitto_sub -h 127.0.0.1 -p "$2" -V 5 -c -i durable -x 3600 -q 1 -t 'mqbench/#' -E
    target/release/mqbench pub -h 127.0.0.1 -p "$2" "${flags[@]}" || true
}
run "mosquitto $(mosquitto -h 2>/dev/null | head -1 | awk '{print $3}') persistence true" "$mosq"
run "mqbroker persistence false" "$plain"
run "mqbroker persistence true" "$durable"
