"""A captured netfilter scenario (tests/fixtures/netfilter/NAME) as the raw state a live scan of
that engine reads: its inspect documents and the dumps of its namespace."""

from __future__ import annotations

import json

from auditor.collectors.raw import RawState, sanitize_container
from auditor.model.exposure import DUMP_FILES, HostDumps
from auditor.model.records import SourceKind, Target
from support.exposure_fixtures import FIXTURES


def dumps_of(name: str) -> HostDumps:
    base = FIXTURES / name
    texts = {f: (base / n).read_text() for f, n in DUMP_FILES if (base / n).exists()}
    return HostDumps(**texts, source=f"tests/fixtures/netfilter/{name}")


def raw_of(name: str, dumps: HostDumps | None = None) -> RawState:
    base = FIXTURES / name
    return RawState(
        target=Target(SourceKind.ENGINE, name, "unix:///lab.sock"),
        version={"Version": "20.10.24", "ApiVersion": "1.41"},
        info={"Name": name},
        containers=tuple(sanitize_container(c) for c in json.loads((base / "containers.json").read_text())),
        networks=tuple(json.loads((base / "networks.json").read_text())),
        host={"userland_proxy": True},
        dumps=dumps_of(name) if dumps is None else dumps,
    )
