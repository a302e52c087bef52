#!/usr/bin/env bash
# Runs a command against a fresh mqbroker, for CI jobs that need an MQTT broker for their tests.
#
#   MQBROKER=path/to/mqbroker scripts/mqbroker-ci-example.sh COMMAND [ARGS...]
#
# Starts `$MQBROKER -p 0 --bind 127.0.0.1` (default: `mqbroker` on PATH), waits at most 10 s for
# its `listening on mqtt://HOST:PORT` line, runs COMMAND with MQTT_HOST, MQTT_PORT and
# MQBROKER_PID exported, stops the broker with SIGTERM and exits with COMMAND's status. The
# broker's log is printed to stderr when COMMAND fails. Exits 1 if the broker does not start,
# 2 without a command. Copy it into your repository; it needs only bash and coreutils.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: MQBROKER=path/to/mqbroker $0 COMMAND [ARGS...]" >&2
    exit 2
fi

mqbroker=${MQBROKER:-mqbroker}
workdir=$(mktemp -d)
broker_pid=

stop_broker() {
    if [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null; then
        kill -TERM "$broker_pid" 2>/dev/null || true
        # Bounded: SIGKILL after 10 s.
        for _ in $(seq 100); do
            kill -0 "$broker_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$broker_pid" 2>/dev/null || true
    fi
    if [ -n "$broker_pid" ]; then
        wait "$broker_pid" 2>/dev/null || broker_status=$?
        broker_pid=
    fi
}

show_log() {
    echo "--- mqbroker log" >&2
    cat "$workdir/stderr" >&2 || true
    echo "---" >&2
}

broker_status=0
trap 'stop_broker; rm -rf "$workdir"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Created first: a background job opens its redirections only once it runs, which may be after
# the loop below has begun to read.
: >"$workdir/stdout"
: >"$workdir/stderr"
"$mqbroker" -p 0 --bind 127.0.0.1 >"$workdir/stdout" 2>"$workdir/stderr" &
broker_pid=$!

# Wait for the ready line (printed once the port is bound), 10 s at most.
address=
for _ in $(seq 100); do
    # `read` skips a line still being written: it only completes on the newline.
    while IFS= read -r line; do
        case $line in
        "listening on mqtt://"*)
            address=${line#listening on mqtt://}
            break
            ;;
        esac
    done <"$workdir/stdout"
    [ -n "$address" ] && break
    if ! kill -0 "$broker_pid" 2>/dev/null; then
        echo "$0: mqbroker ($mqbroker) exited before it was ready" >&2
        show_log
        exit 1
    fi
    sleep 0.1
done
if [ -z "$address" ]; then
    echo "$0: mqbroker ($mqbroker) did not print its address within 10 s" >&2
    show_log
    exit 1
fi

export MQTT_HOST=${address%:*}
export MQTT_PORT=${address##*:}
export MQBROKER_PID=$broker_pid

status=0
"$@" || status=$?

stop_broker
if [ "$status" -ne 0 ]; then
    echo "$0: command exited with status $status" >&2
    show_log
fi
if [ "$broker_status" -ne 0 ]; then
    echo "$0: warning: mqbroker exited with status $broker_status" >&2
fi
exit "$status"
