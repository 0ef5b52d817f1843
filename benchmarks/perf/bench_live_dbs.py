"""Live scan against docker-bench-security's network checks, side by side on the same engine.

docker-bench-security is not part of auditor and is not shipped here: give this benchmark a
checkout of it. To obtain one (read-only checks; it needs the machine's ``docker`` CLI and root):

    git clone https://github.com/docker/docker-bench-security /tmp/dbs

Then: ``.venv/bin/python benchmarks/perf/bench_live_dbs.py /tmp/dbs [N ...] [--repeats R]``
(default sizes 50 and 200, R = 3, at least 3).

For each size it starts N labelled containers on the local engine (``sleep``, a quarter each
publishing on 0.0.0.0, on 127.0.0.1, on [::1] and nothing; every other one on a user network of
its own), then alternates, R times (the order flips each round), two whole processes:

- docker-bench-security with the six network checks the CIS items name (5.8 privileged ports,
  5.9 open ports, 5.10 host network, 5.14 bound interface, 5.30 docker0, 5.32 socket mount),
  its log written to a temporary directory;
- ``auditor scan -f json`` (every rule, the whole engine, like docker-bench-security).

It prints the medians, the ratio per size, and from the two sizes each tool's fixed cost and
cost per container (a straight line through the two medians). Bytecode is cached for auditor
(``PYTHONDONTWRITEBYTECODE`` is dropped for the child, after one warm-up run), as an installed
copy runs. Both tools see every container of the engine, other users' too: the count is printed.
Everything it creates carries the label ``io.auditor.perf`` with this run's id and is removed,
also on Ctrl-C and SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import docker
from auditor.benchmarks.image import build_busybox_image

LABEL = "io.auditor.perf"
CHECKS = "check_5_8,check_5_9,check_5_10,check_5_14,check_5_30,check_5_32"
PUBLISH = ("0.0.0.0", "127.0.0.1", "::1", None)  # host address of each quarter's port; None: no port


def dbs_version(checkout: Path) -> str:
    script = checkout / "docker-bench-security.sh"
    match = re.search(r"^version='([^']+)'", script.read_text(), re.M)
    return match.group(1) if match else "unknown"


def start(client: docker.DockerClient, image: str, count: int, run_id: str, network: str) -> None:
    """Bring the labelled, running containers of this run up to ``count``."""
    existing = len(client.containers.list(all=True, filters={"label": f"{LABEL}={run_id}"}))
    for i in range(existing, count):
        address = PUBLISH[i % len(PUBLISH)]
        client.containers.run(
            image,
            "sleep 3600",
            detach=True,
            name=f"perf-dbs-{run_id}-{i}",
            labels={LABEL: run_id},
            ports={"80/tcp": (address, None)} if address else None,
            network=network if i % 2 else None,
        )


def cleanup(client: docker.DockerClient, run_id: str) -> None:
    for c in client.containers.list(all=True, filters={"label": f"{LABEL}={run_id}"}):
        c.remove(force=True)
    for n in client.networks.list(filters={"label": f"{LABEL}={run_id}"}):
        n.remove()


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    begin = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - begin
    if proc.returncode not in (0, 1):
        sys.exit(f"{args[0]} failed ({proc.returncode}): {proc.stderr.strip()[:500]}")
    return seconds


def line(points: dict[int, float]) -> tuple[float, float]:
    """Fixed cost and cost per container of a straight line through the smallest and largest size."""
    small, large = min(points), max(points)
    per = (points[large] - points[small]) / (large - small)
    return points[small] - per * small, per


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "checkout", type=Path, help="a docker-bench-security checkout (see the module docstring)"
    )
    parser.add_argument("sizes", type=int, nargs="*", default=[50, 200])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.repeats < 3:
        sys.exit("--repeats must be at least 3 (the figures are medians)")
    script = args.checkout / "docker-bench-security.sh"
    if not script.is_file():
        sys.exit(
            f"{script} not found: git clone https://github.com/docker/docker-bench-security {args.checkout}"
        )
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    client = docker.from_env()
    # An image of its own: containers inherit their image's labels, and test suites on the same
    # engine remove whatever carries theirs (io.auditor.test) when they clean up.
    image = build_busybox_image(client, "auditor-perf/busybox:1", {LABEL: "image"})
    run_id = uuid.uuid4().hex[:8]
    network = client.networks.create(f"perf-dbs-{run_id}", labels={LABEL: run_id}).name
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "AUDITOR_STORE")}
    ours = [sys.executable, "-m", "auditor", "scan", "-f", "json", "--fail-on", "none", "-q"]
    rows: list[tuple[int, int, float, float]] = []
    medians: dict[str, dict[int, float]] = {"docker-bench-security": {}, "auditor": {}}
    try:
        with tempfile.TemporaryDirectory(prefix="auditor-bench-dbs-") as tmp:
            theirs = ["sh", str(script), "-c", CHECKS, "-l", str(Path(tmp) / "dbs.log")]
            tools = {"docker-bench-security": (theirs, args.checkout), "auditor": (ours, Path(tmp))}
            timed(ours, Path(tmp), env)  # warm-up: bytecode written once
            for size in sorted(args.sizes):
                start(client, image, size, run_id, network)
                on_engine = len(client.containers.list())
                ours_before = len(client.containers.list(filters={"label": f"{LABEL}={run_id}"}))
                runs: dict[str, list[float]] = {name: [] for name in tools}
                for round_no in range(args.repeats):
                    order = list(tools.items()) if round_no % 2 == 0 else list(reversed(tools.items()))
                    for name, (command, cwd) in order:
                        runs[name].append(timed(command, cwd, env))
                ours_after = len(client.containers.list(filters={"label": f"{LABEL}={run_id}"}))
                if (ours_before, ours_after) != (size, size):  # someone removed or stopped ours: figures void
                    sys.exit(
                        f"N={size}: {ours_before} of this run's containers running before, {ours_after} after"
                    )
                for name in tools:
                    medians[name][size] = statistics.median(runs[name])
                rows.append(
                    (size, on_engine, medians["docker-bench-security"][size], medians["auditor"][size])
                )
                print(
                    f"N={size}: dbs {', '.join(f'{x:.2f}' for x in runs['docker-bench-security'])}; "
                    f"auditor {', '.join(f'{x:.2f}' for x in runs['auditor'])}",
                    file=sys.stderr,
                )
    except KeyboardInterrupt:
        print("interrupted: removing what this run created", file=sys.stderr)
        sys.exit(130)
    finally:
        cleanup(client, run_id)
    server = client.version()
    print(
        f"docker-bench-security {dbs_version(args.checkout)} (checks {CHECKS.replace('check_', '').replace('_', '.')}), "
        f"auditor (python {sys.version.split()[0]}, bytecode cached), Docker Engine {server.get('Version')}"
    )
    print(f"{'N':>5} {'running':>8} {'dbs s':>8} {'auditor s':>10} {'ratio':>8}")
    for size, on_engine, dbs, ours_s in rows:
        print(f"{size:>5} {on_engine:>8} {dbs:>8.2f} {ours_s:>10.2f} {dbs / ours_s:>7.1f}x")
    if len(rows) > 1:
        for name, points in medians.items():
            fixed, per = line(points)
            print(f"{name:22} fixed cost {fixed:6.2f} s, per container {1000 * per:6.1f} ms")
    print(f"(whole processes, wall clock, median of {args.repeats} interleaved runs; ratio = dbs / auditor)")


if __name__ == "__main__":
    main()
