"""How scan time grows with the number of containers, live and offline, measured side by side.

Creates N labelled containers (N = 10, 50, 200 by default) on the local engine, then for each
N alternates live scans and offline scans of a snapshot taken at that moment, and reports
milliseconds per container plus the live/offline ratio. Everything it creates is removed,
also on Ctrl-C. Usage: ``.venv/bin/python benchmarks/perf/bench_scan_scale.py [N ...]``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import docker
from auditor.benchmarks.image import build_busybox_image

from auditor.audit.discovery import discover_rules
from auditor.audit.pipeline import scan
from auditor.collectors.endpoints import EngineSpec
from auditor.collectors.engine import fetch_raw
from auditor.collectors.raw import dumps
from auditor.collectors.request import ScanRequest
from auditor.model.severity import Severity

LABEL = "io.auditor.perf"
REPEATS = 5


def create(client: docker.DockerClient, image: str, count: int, run_id: str, net_name: str) -> None:
    existing = len(client.containers.list(all=True, filters={"label": f"{LABEL}={run_id}"}))
    for i in range(existing, count):
        client.containers.create(
            image,
            "sleep 3600",
            name=f"perf-{run_id}-{i}",
            labels={LABEL: run_id},
            ports={"80/tcp": None} if i % 3 == 0 else None,
            network=net_name,
        )


def cleanup(client: docker.DockerClient, run_id: str) -> None:
    for c in client.containers.list(all=True, filters={"label": f"{LABEL}={run_id}"}):
        c.remove(force=True)
    for n in client.networks.list(filters={"label": f"{LABEL}={run_id}"}):
        n.remove()


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(sizes: list[int]) -> None:
    client = docker.from_env()
    image = build_busybox_image(client, "auditor-test/busybox:1", {"io.auditor.test": "1"})
    rules = discover_rules()
    run_id = uuid.uuid4().hex[:8]
    net = client.networks.create(f"perf-{run_id}", labels={LABEL: run_id})
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for n in sorted(sizes):
                create(client, image, n, run_id, net.name)
                total = len(client.containers.list(all=True))
                snap = Path(tmp) / f"snap-{n}.json"
                snap.write_text(dumps(fetch_raw(EngineSpec())))
                live, offline = [], []
                for _ in range(REPEATS):  # interleaved so drift hits both alike
                    live.append(timed(lambda: scan(ScanRequest(), rules, Severity.HIGH)))
                    offline.append(
                        timed(lambda path=str(snap): scan(ScanRequest(paths=(path,)), rules, Severity.HIGH))
                    )
                lm, om = statistics.median(live), statistics.median(offline)
                rows.append((n, total, lm / total * 1000, om / total * 1000, lm / om))
                print(f"N={n}: measured", file=sys.stderr)
    finally:
        cleanup(client, run_id)
    print(f"{'N':>5} {'on engine':>10} {'live ms/ctr':>12} {'offline ms/ctr':>15} {'live/offline':>13}")
    for n, total, lms, oms, ratio in rows:
        print(f"{n:>5} {total:>10} {lms:>12.2f} {oms:>15.2f} {ratio:>12.1f}x")
    print(
        f"(median of {REPEATS} interleaved runs each; absolute times vary with machine load, compare rows and ratios)"
    )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10, 50, 200])
