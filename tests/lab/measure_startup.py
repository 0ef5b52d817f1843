"""Lab start-up and tear-down times for N engines (docs/testing.md quotes its output).

    sudo .venv/bin/python tests/lab/measure_startup.py [--engines 3] [--rounds 5]

Starts and closes the lab ``--rounds`` times and prints the median and range of each phase.
Wall-clock times on a shared machine: read them as orders of magnitude, not as a benchmark.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from support.lab import EngineConfig, Lab, TcpApi  # noqa: E402


def configs(n: int, varied: bool) -> list[EngineConfig]:
    if not varied:
        return [EngineConfig(f"e{i}") for i in range(1, n + 1)]
    extra = [
        EngineConfig("e1", macvlan_parent=True, tcp=TcpApi()),
        EngineConfig("e2", daemon={"icc": False, "userland-proxy": False}),
        EngineConfig(
            "e3", daemon={"ipv6": True, "ip6tables": True, "experimental": True}, tcp=TcpApi(2376, tls=True)
        ),
    ]
    return (extra + [EngineConfig(f"e{i}") for i in range(4, n + 1)])[:n]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engines", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--varied", action="store_true", help="the package lab's settings (TLS, IPv6, ...)")
    args = parser.parse_args()
    phases: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        lab = Lab(configs(args.engines, args.varied), outside=["laptop", "attacker"])
        lab.start()
        t0 = time.monotonic()
        lab.close()
        for key in ("network", "engines", "total"):
            phases.setdefault(f"start: {key}", []).append(lab.timings[key])
        phases.setdefault("close", []).append(time.monotonic() - t0)
    print(
        f"N={args.engines} engines, 2 outside hosts, {args.rounds} rounds{' (varied settings)' if args.varied else ''}"
    )
    for key, values in phases.items():
        print(
            f"  {key:16} median {statistics.median(values):5.2f} s  (min {min(values):.2f}, max {max(values):.2f})"
        )


if __name__ == "__main__":
    main()
