"""Fleets: many engines in one scan, from ``--engine`` and ``--hosts-file``.

A hosts file lists one engine per line, ``URL [NAME]``; ``#`` starts a comment. NAME, when
given, names the target in reports, history and fingerprints instead of the engine's own
host name, so a fleet's findings stay stable even if hosts are renamed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from auditor.collectors.endpoints import EngineSpec
from auditor.model import inputs
from auditor.model.errors import InputError

_SCHEMES = ("unix://", "tcp://", "ssh://", "http://", "https://", "npipe://")


def parse_hosts_file(path: str, base: EngineSpec) -> list[EngineSpec]:
    """Read ``URL [NAME]`` lines; TLS settings and timeout come from ``base`` (the CLI)."""
    text = inputs.read_text(path, "hosts file", inputs.HOSTS_LIMIT)
    specs: list[EngineSpec] = []
    for number, line in enumerate(text.splitlines(), 1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        parts = content.split()
        if len(parts) > 2:
            raise InputError("expected `URL [NAME]`", path, number)
        url = parts[0]
        if not url.startswith(_SCHEMES):
            raise InputError(f"{url!r} is not an engine URL (unix://, tcp://, ssh://)", path, number)
        name = parts[1] if len(parts) == 2 else None
        specs.append(replace(base, url=url, name=name))
    if not specs:
        raise InputError("hosts file lists no engines", path)
    return specs


def fleet_specs(cli_specs: Sequence[EngineSpec], hosts_file: str | None, base: EngineSpec) -> tuple[EngineSpec, ...]:
    """``--engine`` entries first, then the hosts file's, without exact repeats."""
    specs = list(cli_specs)
    if hosts_file:
        specs.extend(parse_hosts_file(hosts_file, base))
    return tuple(dict.fromkeys(specs))


def host_label(spec: EngineSpec) -> str:
    return f"{spec.name} ({spec.address})" if spec.name else spec.address
