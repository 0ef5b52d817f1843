"""The real CLI against lab engines: ``python -m auditor`` in the machine's namespace or, for
a TCP engine, in a lab namespace that reaches it (``nsenter --net``)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable

from support.lab import Lab

CLI_TIMEOUT = 120


def auditor(*args: str, lab: Lab | None = None, where: str | None = None, env: dict[str, str] | None = None):
    """``auditor ARGS`` as a subprocess; ``where`` names the lab namespace to run it in."""
    argv = [sys.executable, "-m", "auditor", *args]
    if where is not None:
        assert lab is not None
        return lab.run(where, argv, check=False, env=env, timeout=CLI_TIMEOUT)
    return subprocess.run(argv, capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False)


def scan(*urls: str, extra: tuple[str, ...] = (), lab: Lab | None = None, where: str | None = None) -> dict:
    """The JSON report of ``auditor scan --engine URL ...`` (gate off: the exit code is 0)."""
    engines = [arg for url in urls for arg in ("--engine", url)]
    proc = auditor("scan", *engines, *extra, "-f", "json", "--fail-on", "none", lab=lab, where=where)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def snapshot(url: str, path: str) -> dict:
    proc = auditor("snapshot", "--engine", url, "-o", path)
    assert proc.returncode == 0, proc.stderr
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def fired(report: dict, rule: str) -> list[tuple[str, str, str]]:
    """(resource kind, resource name, message) of every finding of ``rule``, sorted."""
    return sorted(
        (f["resource"]["kind"], f["resource"]["name"], f["message"])
        for f in report["findings"]
        if f["rule_id"] == rule
    )


def rule_ids(report: dict, names: Iterable[str] | None = None) -> set[str]:
    """Rule ids that fired, optionally only on resources called one of ``names``."""
    wanted = set(names) if names is not None else None
    return {f["rule_id"] for f in report["findings"] if wanted is None or f["resource"]["name"] in wanted}
