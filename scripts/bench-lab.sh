#!/bin/sh
# The network benchmark on lab engines (docs/bench-lab.md): macvlan and overlay measured for
# real. Needs root, the lab's tools (docs/testing.md) and the benchmark's (iperf3, sockperf,
# busybox). Everything it makes is removed at the end, also on Ctrl-C.
#
#   sudo scripts/bench-lab.sh --out docs/bench-lab --duration 2 --repeat 5 --seed 1
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-"$root/.venv/bin/python"}
cd "$root"
PYTHONPATH="$root/tests${PYTHONPATH:+:$PYTHONPATH}" exec "$python" -m support.lab.bench "$@"
