#!/usr/bin/env bash
# mqbroker against Debian's mosquitto on the performance issue's scenarios, side by side (see
# scripts/bench-vs-mosquitto.py for what is measured and how). Installs nothing.
# Usage: scripts/bench-vs-mosquitto.sh [SCENARIO-SUBSTRING...]   (REPS=3 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || { echo "mosquitto is not installed" >&2; exit 1; }
cargo build --release --quiet --bin mqbench --bin mqbroker
# 5,000 connections need more descriptors than the usual 1,024, for both brokers and mqbench.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "# $(date -u +%Y-%m-%d), $(nproc) cores, $(mosquitto -h 2>/dev/null | head -1 | awk '{print $3}' || true) vs mqbroker $(git rev-parse --short HEAD)"
exec python3 scripts/bench-vs-mosquitto.py "$@"
