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


MODES = {
    # name: (auditor arguments, compose-lint arguments)
    "json report": (["-f", "json"], ["--format", "json"]),
    "quiet (summary only)": (["-f", "none"], ["-q"]),  # auditor -q keeps the report; -f none drops it
}


def main(count: int, repeats: int) -> None:
    bin_dir = Path(sys.executable).parent
    linter = shutil.which("compose-lint", path=str(bin_dir)) or shutil.which("compose-lint")
    if linter is None:
        sys.exit("compose-lint is not installed: pip install -e '.[bench-compose]'")
    with tempfile.TemporaryDirectory(prefix="auditor-bench-compose-") as tmp:
        root = Path(tmp)
        files = generate(root, count)
        names = [str(f.relative_to(root)) for f in files]
        times: dict[tuple[str, str], list[float]] = {}
        report: dict = {}
        for _ in range(repeats):
            for mode, (ours_args, lint_args) in MODES.items():
                args = [sys.executable, "-m", "auditor", "scan", ".", "--fail-on", "none", *ours_args]
                seconds, proc = timed(args, root)
                if proc.returncode != 0:
                    sys.exit(f"auditor failed ({proc.returncode}): {proc.stderr.strip()[:500]}")
                if ours_args[0] == "-f":
                    report = json.loads(proc.stdout)
                times.setdefault((mode, "auditor"), []).append(seconds)
                args = [linter, "check", "--fail-on", "critical", "--no-merge-overrides", *lint_args, *names]
                seconds, proc = timed(args, root)
                if proc.returncode not in (0, 1):
                    sys.exit(f"compose-lint failed ({proc.returncode}): {proc.stderr.strip()[:500]}")
                times.setdefault((mode, "compose-lint"), []).append(seconds)
        services = sum(t["containers"] for t in report["targets"])
        print(f"compose files: {count} ({len(report['targets'])} projects, {services} services), "
              f"repeats: {repeats}, auditor findings: {len(report['findings'])}")
        for mode in MODES:
            medians = {}
            for tool in ("auditor", "compose-lint"):
                runs = times[(mode, tool)]
                medians[tool] = statistics.median(runs)
                print(f"  {mode:22} {tool:13} median {medians[tool]:6.2f} s ({1000 * medians[tool] / count:5.2f} ms/file)"
                      f"  runs: {', '.join(f'{x:.2f}' for x in runs)}")
            ratio = medians["auditor"] / medians["compose-lint"]
            print(f"  {mode:22} ratio auditor/compose-lint: {ratio:.2f} (same run, same files; below 1: auditor faster)")


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    r = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    main(n, r)
