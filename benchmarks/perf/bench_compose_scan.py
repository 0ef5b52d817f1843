"""Time to scan 1,000 compose files: auditor side by side with compose-lint, in the same run.

Generates N compose projects (default 1,000; one directory each, 3-8 services with ports,
networks, volumes and network modes), then alternates full command-line runs of
``auditor scan DIR -f json`` and ``compose-lint check --format json FILE...`` over the very same
files, REPEATS times each (at least 3; the order of the two tools alternates between rounds),
and prints the medians and the auditor/compose-lint ratio measured in this run. Both tools run as
their own process, as CI would run them. Then, in this process, the YAML reading alone: our
positioned reader against compose-lint's line-recording loader on the same texts, interleaved.
The header names both versions, the YAML parsers and whether Python caches bytecode (with
``PYTHONDONTWRITEBYTECODE=1`` an editable install recompiles auditor on every run).

Then one file per process (ten of the files, REPEATS rounds, interleaved): the cost a pre-commit
hook or an editor pays per file, and both tools' ``--version``. Children cache bytecode (one
warm-up run first), as an installed copy does.

Usage: ``.venv/bin/python benchmarks/perf/bench_compose_scan.py [N] [REPEATS]``
(needs ``pip install -e '.[bench-compose]'`` for compose-lint).
"""

from __future__ import annotations

import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

IMAGES = ["nginx:1.27", "postgres:16", "redis:7", "example/api:2", "grafana/grafana:11", "mongo:7"]
PORTS = [
    "80:80",
    "127.0.0.1:5432:5432",
    "6379:6379",
    "[::1]:9000:9000",
    "8000-8002:8000-8002",
    "3000",
    "9090:9090/udp",
]


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


# Children cache bytecode, as an installed copy does (this environment sets
# PYTHONDONTWRITEBYTECODE, under which an editable install recompiles itself on every run).
CHILD_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "AUDITOR_STORE")}


Run = tuple[float, float]  # one whole process: wall clock, CPU time (user + system)


def timed(args: list[str], cwd: Path) -> tuple[Run, subprocess.CompletedProcess]:
    """Wall clock and CPU time of one child process (CPU time is what a loaded machine disturbs least)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=CHILD_ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime), proc


MODES = {
    # name: (auditor arguments, compose-lint arguments)
    "json report": (["-f", "json"], ["--format", "json"]),
    "quiet (summary only)": (["-f", "none"], ["-q"]),  # auditor -q keeps the report; -f none drops it
}


def _version_or_absent(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed (pip install -e '.[bench-compose]')"


def versions() -> str:
    try:
        from yaml._yaml import get_version_string

        libyaml = f"libyaml {get_version_string()}"
    except ImportError:
        libyaml = "no libyaml: pure-Python parser"
    bytecode = (
        "not cached (PYTHONDONTWRITEBYTECODE)" if CHILD_ENV.get("PYTHONDONTWRITEBYTECODE") else "cached"
    )
    direct = json.loads(metadata.distribution("docker-net-auditor").read_text("direct_url.json") or "{}")
    install = "editable install" if direct.get("dir_info", {}).get("editable") else "installed"
    return (
        f"auditor {metadata.version('docker-net-auditor')} ({install}; PyYAML {metadata.version('PyYAML')}, {libyaml}), "
        f"compose-lint {_version_or_absent('compose-lint')}, Python {platform.python_version()}, bytecode {bytecode}"
    )


def parse_only(files: list[Path], repeats: int) -> dict[str, list[float]]:
    """Reading the YAML alone, in this process: our positioned tree vs compose-lint's loader."""
    import yaml
    from compose_lint.parser import LineLoader

    from auditor.model.yamltree import parse_text

    texts = [f.read_text() for f in files]
    readers = {
        "auditor": lambda text: parse_text(text, "compose.yaml"),
        "compose-lint": lambda text: yaml.load(text, Loader=LineLoader),  # noqa: S506 (a SafeLoader)
    }
    runs: dict[str, list[float]] = {name: [] for name in readers}
    for _ in range(repeats):
        for name, read in readers.items():
            start = time.process_time()
            for text in texts:
                read(text)
            runs[name].append(time.process_time() - start)
    return runs


def report(label: str, runs: dict[str, list[float]], count: int, unit: str = "file") -> None:
    medians = {}
    for tool in ("auditor", "compose-lint"):
        medians[tool] = statistics.median(runs[tool])
        print(
            f"  {label:26} {tool:13} median {medians[tool]:6.2f} s ({1000 * medians[tool] / count:6.2f} ms/{unit})"
            f"  runs: {', '.join(f'{x:.2f}' for x in runs[tool]) if len(runs[tool]) <= 10 else len(runs[tool])}"
        )
    ratio = medians["auditor"] / medians["compose-lint"]
    verdict = f"auditor {1 / ratio:.1f}x faster" if ratio < 1 else f"auditor {ratio:.1f}x slower"
    print(f"  {label:26} ratio auditor/compose-lint: {ratio:.2f} ({verdict}; same run, same files)")


def report_runs(label: str, runs: dict[str, list[Run]], count: int, unit: str = "file") -> None:
    """Wall clock and CPU time of whole processes, each with its ratio."""
    for index, measure in enumerate(("wall", "CPU")):
        report(
            f"{label}, {measure}", {tool: [r[index] for r in rs] for tool, rs in runs.items()}, count, unit
        )


ONE_FILE_SAMPLE = 10


def per_file(root: Path, names: list[str], linter: str, repeats: int) -> dict[str, list[Run]]:
    """One whole process per file and tool, interleaved, quiet (exit codes only), bytecode cached."""
    runs: dict[str, list[Run]] = {"auditor": [], "compose-lint": []}
    for round_no in range(repeats):
        for name in names:
            order = [
                (
                    "auditor",
                    [sys.executable, "-m", "auditor", "scan", name, "--fail-on", "none", "-f", "none"],
                ),
                ("compose-lint", [linter, "check", "--fail-on", "critical", "-q", name]),
            ]
            for tool, args in order if (round_no + len(name)) % 2 == 0 else reversed(order):
                runs[tool].append(timed(args, root)[0])
    return runs


def main(count: int, repeats: int) -> None:
    if repeats < 3:
        sys.exit("REPEATS must be at least 3 (the figures are medians)")
    bin_dir = Path(sys.executable).parent
    linter = shutil.which("compose-lint", path=str(bin_dir)) or shutil.which("compose-lint")
    if linter is None:
        sys.exit("compose-lint is not installed: pip install -e '.[bench-compose]'")
    with tempfile.TemporaryDirectory(prefix="auditor-bench-compose-") as tmp:
        root = Path(tmp)
        files = generate(root, count)
        names = [str(f.relative_to(root)) for f in files]
        timed(
            [sys.executable, "-m", "auditor", "--version"], root
        )  # warm-up: auditor's bytecode written once
        times: dict[tuple[str, str], list[Run]] = {}
        report_doc: dict = {}
        for round_no in range(repeats):
            for mode, (ours_args, lint_args) in MODES.items():
                ours = [sys.executable, "-m", "auditor", "scan", ".", "--fail-on", "none", *ours_args]
                lint = [linter, "check", "--fail-on", "critical", "--no-merge-overrides", *lint_args, *names]
                order = [("auditor", ours), ("compose-lint", lint)]
                for tool, args in order if round_no % 2 == 0 else reversed(order):
                    seconds, proc = timed(args, root)
                    if tool == "auditor" and proc.returncode != 0:
                        sys.exit(f"auditor failed ({proc.returncode}): {proc.stderr.strip()[:500]}")
                    if tool == "compose-lint" and proc.returncode not in (0, 1):
                        sys.exit(f"compose-lint failed ({proc.returncode}): {proc.stderr.strip()[:500]}")
                    if tool == "auditor" and ours_args == ["-f", "json"]:
                        report_doc = json.loads(proc.stdout)
                    times.setdefault((mode, tool), []).append(seconds)
        one_file = per_file(root, names[:ONE_FILE_SAMPLE], linter, repeats)
        start_up = {
            tool: [timed(args, root)[0] for _ in range(repeats)]
            for tool, args in (
                ("auditor", [sys.executable, "-m", "auditor", "--version"]),
                ("compose-lint", [linter, "--version"]),
            )
        }
        services = sum(t["containers"] for t in report_doc["targets"])
        print(versions())
        print(
            f"compose files: {count} ({len(report_doc['targets'])} projects, {services} services), "
            f"repeats: {repeats}, auditor findings: {len(report_doc['findings'])}"
        )
        print("whole process, every file in one run:")
        for mode in MODES:
            report_runs(mode, {tool: times[(mode, tool)] for tool in ("auditor", "compose-lint")}, count)
        print(
            f"one file per process (as pre-commit and editors run it), {len(one_file['auditor']) // repeats} files, "
            "each tool's median over every run:"
        )
        report_runs("one-file scan", one_file, 1, "run")
        report_runs("--version", start_up, 1, "run")
        print("YAML reading only, in this process, CPU time:")
        report("parse", parse_only(files, repeats), count)
        print(
            "goals (issue 17): whole-directory runs at least 3x faster than compose-lint in both modes; "
            "a one-file scan within 1.5x compose-lint's time"
        )


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    r = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    main(n, r)
