"""Time to scan 1,000 compose files: auditor side by side with compose-lint, in the same run.

Generates N compose projects (default 1,000; one directory each, 3-8 services with ports,
networks, volumes and network modes), then alternates full command-line runs of
``auditor scan DIR -f json`` and ``compose-lint check --format json FILE...`` over the very same
files, REPEATS times each, and prints the medians and the auditor/compose-lint ratio measured in
this run. Both tools run as their own process, as CI would run them.

Usage: ``.venv/bin/python benchmarks/perf/bench_compose_scan.py [N] [REPEATS]``
(needs ``pip install -e '.[bench-compose]'`` for compose-lint).
"""

from __future__ import annotations

import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IMAGES = ["nginx:1.27", "postgres:16", "redis:7", "example/api:2", "grafana/grafana:11", "mongo:7"]
PORTS = ["80:80", "127.0.0.1:5432:5432", "6379:6379", "[::1]:9000:9000", "8000-8002:8000-8002", "3000", "9090:9090/udp"]


def compose_text(rng: random.Random, index: int) -> str:
    """One realistic project: a few services, some risky, with top-level networks and volumes."""
    lines = [f"name: proj{index}", "services:"]
    for s in range(rng.randint(3, 8)):
        lines += [f"  svc{s}:", f"    image: {rng.choice(IMAGES)}"]
        mode = rng.random()
        if mode < 0.1:
            lines.append("    network_mode: host")
        elif mode < 0.6:
            lines.append(f"    networks: [{rng.choice(['front', 'back'])}]")
        if rng.random() < 0.7:
            lines.append("    ports:")
            lines += [f'      - "{p}"' for p in rng.sample(PORTS, rng.randint(1, 3))]
        if rng.random() < 0.3:
            lines += ["    volumes:", "      - data:/data"]
            if rng.random() < 0.2:
                lines.append("      - /var/run/docker.sock:/var/run/docker.sock:ro")
        if rng.random() < 0.2:
            lines += ["    cap_add: [NET_ADMIN]"]
    lines += ["networks:", "  front: {}", "  back:", "    internal: true", "volumes:", "  data: {}", ""]
    return "\n".join(lines)


def generate(root: Path, count: int) -> list[Path]:
    rng = random.Random(20261127)
    files = []
    for i in range(count):
        directory = root / f"p{i:04d}"
        directory.mkdir()
        path = directory / "compose.yaml"
        path.write_text(compose_text(rng, i))
        files.append(path)
    return files


def timed(args: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - start, proc


def main(count: int, repeats: int) -> None:
    bin_dir = Path(sys.executable).parent
    linter = shutil.which("compose-lint", path=str(bin_dir)) or shutil.which("compose-lint")
    if linter is None:
        sys.exit("compose-lint is not installed: pip install -e '.[bench-compose]'")
    auditor = [sys.executable, "-m", "auditor", "scan", ".", "-f", "json", "--fail-on", "none"]
    with tempfile.TemporaryDirectory(prefix="auditor-bench-compose-") as tmp:
        root = Path(tmp)
        files = generate(root, count)
        lint = [linter, "check", "--format", "json", "--fail-on", "critical", "--no-merge-overrides",
                *(str(f.relative_to(root)) for f in files)]
        ours, theirs = [], []
        for _ in range(repeats):
            seconds, proc = timed(auditor, root)
            if proc.returncode not in (0, 1):
                sys.exit(f"auditor failed ({proc.returncode}): {proc.stderr.strip()[:500]}")
            report = json.loads(proc.stdout)
            ours.append(seconds)
            seconds, proc = timed(lint, root)
            if proc.returncode not in (0, 1):
                sys.exit(f"compose-lint failed ({proc.returncode}): {proc.stderr.strip()[:500]}")
            theirs.append(seconds)
        projects = len(report["targets"])
        services = sum(t["containers"] for t in report["targets"])
        a, b = statistics.median(ours), statistics.median(theirs)
        print(f"compose files: {count} ({projects} projects, {services} services), repeats: {repeats}")
        print(f"auditor scan      median {a:7.2f} s  ({1000 * a / count:6.2f} ms/file)  runs: {', '.join(f'{x:.2f}' for x in ours)}")
        print(f"compose-lint      median {b:7.2f} s  ({1000 * b / count:6.2f} ms/file)  runs: {', '.join(f'{x:.2f}' for x in theirs)}")
        print(f"ratio auditor/compose-lint: {a / b:.2f} (same run, same files; below 1 means auditor is faster)")
        print(f"auditor findings: {len(report['findings'])}")


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    r = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    main(n, r)
