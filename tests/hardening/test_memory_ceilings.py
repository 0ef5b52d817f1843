"""Every input kind at its worst shape within the caps stays within 5 s and 300 MB.

A byte cap alone does not bound memory: one byte of JSON can become a hundred bytes of Python
objects, a 400-byte compose file asked for half a million port bindings, and an alias repeats
a subtree. For each kind of input the shape that costs most per byte is generated just under
its caps (bytes, values, nodes, aliases, entries, bindings) and run through the real CLI.
The peak resident memory and the ceiling it implies per input byte are recorded for
``docs/hardening.md``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hardening.harness import HOSTILE_BYTES, record, run_bounded

from auditor.model import inputs

SERVICE = "services:\n  web:\n    image: nginx\n    ports: ['8080:80']\n"


def _w(path: Path, data: str | bytes) -> Path:
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def _one_key_objects(root: Path) -> tuple[list[str], Path]:
    """The costliest JSON per counted value: one-key objects with distinct string values."""
    count = inputs.JSON_MAX_VALUES // 3 - 10
    path = _w(root / "values.json", "[" + ",".join(f'{{"a":"{i:012x}"}}' for i in range(count)) + "]")
    return ["scan", str(path)], path


def _ports(root: Path) -> tuple[list[str], Path]:
    """A container publishing 65,535 ports: a finding for nearly every one."""
    ports = {f"{p}/tcp": [{"HostIp": "", "HostPort": str(p)}] for p in range(1, 65536)}
    doc = [{"Id": "x", "Name": "/big", "Config": {"Image": "nginx"}, "HostConfig": {"PortBindings": ports}}]
    return [
        "scan",
        "--fail-on",
        "none",
        "-q",
        str(_w(root / "inspect.json", json.dumps(doc))),
    ], root / "inspect.json"


def _labels(root: Path) -> tuple[list[str], Path]:
    """A snapshot of 8,000 containers with 100 labels each (800,000 labels)."""
    labels = {f"org.example.label{i}": f"value{i}" for i in range(100)}
    containers = [
        {
            "Id": str(i),
            "Name": f"/c{i}",
            "Config": {"Image": "nginx", "Labels": labels},
            "HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": str(1024 + i)}]}},
        }
        for i in range(8000)
    ]
    doc = {"format": "auditor-snapshot", "version": 1, "target": {"name": "x"}, "containers": containers}
    return [
        "scan",
        "--fail-on",
        "none",
        "-q",
        str(_w(root / "snapshot.json", json.dumps(doc))),
    ], root / "snapshot.json"


def _baseline(root: Path) -> tuple[list[str], Path]:
    count = inputs.JSON_MAX_VALUES // 3 - 10
    path = _w(
        root / "baseline.json",
        '{"schema_version": "1.0", "findings": ['
        + ",".join(f'{{"fingerprint":"{i:032x}"}}' for i in range(count))
        + "]}",
    )
    return ["scan", "-q", "--baseline", str(path), str(_w(root / "compose.yaml", SERVICE))], path


def _result(root: Path) -> tuple[list[str], Path]:
    """A saved result of 20,000 findings (a scan's own JSON output) rendered again."""
    ports = {f"{p}/tcp": [{"HostIp": "", "HostPort": str(p)}] for p in range(1, 20_001)}
    doc = [{"Id": "x", "Name": "/big", "Config": {"Image": "nginx"}, "HostConfig": {"PortBindings": ports}}]
    source = _w(root / "inspect.json", json.dumps(doc))
    made = run_bounded(
        "scan",
        "--fail-on",
        "none",
        "-q",
        "-o",
        str(root / "result.json"),
        str(source),
        cwd=root,
        seconds=60,
        max_rss=2**31,
    )
    assert made.returncode == 0, made.stderr
    return ["report", str(root / "result.json"), "-o", str(root / "r.md")], root / "result.json"


def _waivers(root: Path) -> tuple[list[str], Path]:
    """The most waivers a file may hold, with long reasons, just under the byte cap."""
    entry = (
        "- rule: PORT001\n  match: {{container: 'web-{i}*', port: '{i}'}}\n  reason: '{reason}'\n"
        "  owner: team-{i}\n  expires: 2031-01-01\n"
    )
    text = "".join(entry.format(i=i, reason="an accepted risk, " * 22) for i in range(1000))
    assert len(text) < inputs.WAIVERS_LIMIT
    path = _w(root / "w.yaml", text)
    return ["scan", "-q", "--waivers", str(path), str(_w(root / "compose.yaml", SERVICE))], path


def _env(root: Path) -> tuple[list[str], Path]:
    path = _w(root / "big.env", "".join(f"V{i}=x\n" for i in range(110_000)))
    return ["scan", "-q", "--env-file", str(path), str(_w(root / "compose.yaml", SERVICE))], path


def _toml(root: Path) -> tuple[list[str], Path]:
    path = _w(root / "c.toml", "disable-rules = [" + '"PORT001",' * 100_000 + '"PORT001"]\n')
    return ["scan", "-q", "--config", str(path), str(_w(root / "compose.yaml", SERVICE))], path


def _hosts(root: Path) -> tuple[list[str], Path]:
    path = _w(root / "hosts.txt", "".join(f"unix:///nonexistent/e{i}.sock e{i}\n" for i in range(1000)))
    return ["scan", "-q", "--timeout", "0.2", "--hosts-file", str(path)], path


def _compose_flow_list(root: Path) -> tuple[list[str], Path]:
    """A compose file of one flow list just under the node cap (200,000 nodes)."""
    return [
        "scan",
        "-q",
        str(
            _w(
                root / "compose.yaml",
                "services:\n  web:\n    image: x\n    labels: [" + "a," * 190_000 + "a]\n",
            )
        ),
    ], root / "compose.yaml"


SHAPES: dict[str, tuple[Callable[[Path], tuple[list[str], Path]], tuple[int, ...]]] = {
    "saved JSON: one-key objects up to the value cap": (_one_key_objects, (2,)),
    "saved JSON: 65,535 published ports": (_ports, (0,)),
    "snapshot: 8,000 containers x 100 labels": (_labels, (0,)),
    "baseline: one-key objects up to the value cap": (_baseline, (0, 1)),
    "saved result: 20,000 findings": (_result, (0,)),
    "waivers: 1,000 entries with long reasons": (_waivers, (0, 1)),
    "env file: 110,000 lines": (_env, (0, 1)),
    "config: a TOML list of 100,000 values": (_toml, (0, 1)),
    "hosts file: 1,000 engines": (_hosts, (3,)),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_worst_shape_within_the_bounds(tmp_path: Path, shape: str) -> None:
    build, codes = SHAPES[shape]
    argv, path = build(tmp_path)
    proc = run_bounded(*argv, cwd=tmp_path)
    assert proc.returncode in codes, proc.stderr
    size = path.stat().st_size
    rss = proc.rss
    record(
        "memory ceilings",
        shape,
        f"exit {proc.returncode}; peak {rss / 2**20:.0f} MiB for "
        f"{size / 2**20:.1f} MiB of input ({rss / size:.0f} bytes per input byte); CPU {proc.cpu:.1f} s",
        inputs=1,
    )
    assert rss <= HOSTILE_BYTES


def test_compose_at_the_node_cap_within_the_bounds(tmp_path: Path) -> None:
    argv, path = _compose_flow_list(tmp_path)
    proc = run_bounded(*argv, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    record(
        "memory ceilings",
        "compose: a flow list just under the node cap",
        f"exit 0; peak {proc.rss / 2**20:.0f} MiB "
        f"for {path.stat().st_size / 2**20:.1f} MiB of input; CPU {proc.cpu:.1f} s",
        inputs=1,
    )


def test_compose_flow_list_at_the_byte_cap_within_the_bounds(tmp_path: Path) -> None:
    """1.9 million items in 4 MiB: refused while reading, before any node graph is built."""
    path = _w(
        tmp_path / "compose.yaml",
        "services:\n  web:\n    image: x\n    labels: [" + "a," * 1_900_000 + "a]\n",
    )
    proc = run_bounded("scan", "-q", str(path), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    record(
        "memory ceilings",
        "compose: a 4 MiB flow list of 1.9 million items",
        f"exit 2; peak {proc.rss / 2**20:.0f} MiB; CPU {proc.cpu:.1f} s",
        inputs=1,
    )
