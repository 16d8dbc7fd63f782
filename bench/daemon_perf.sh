#!/usr/bin/env bash
# Performance figures of `ssbguard run` (issue 5): throughput against a plain read, CPU when
# paced, RSS over 10 minutes, alert latency from jammer onset, drops at 61.44 Msps.
# Builds the release binary, renders the benchmark recordings (bench/daemon_perf/*.toml,
# ~2.2 GB under out/bench-daemon) and writes bench/daemon_perf.md. Takes ~17 minutes
# (`--quick`: ~4, to check the script). Needs python3 (standard library only).
#
#   bench/daemon_perf.sh [--quick] [--binary PATH] [--report FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ " $* " != *" --binary "* && " $* " != *" --render "* ]]; then
    cargo build --release --bin ssbguard
fi
exec python3 bench/daemon_perf.py "$@"
