"""Snapshot files: sanitization and the round trip to the same normalized model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.collectors.raw import RawState, dumps, normalize_raw, raw_from_json, sanitize_container
from auditor.model.errors import InputError
from auditor.model.records import SourceKind, Target

FIXTURES = Path(__file__).parent / "fixtures" / "inspect"


def _raw() -> RawState:
    containers = json.loads((FIXTURES / "containers.json").read_text())
    networks = json.loads((FIXTURES / "networks.json").read_text())
    return RawState(
        target=Target(SourceKind.ENGINE, "vm", "unix:///var/run/docker.sock"),
        version={"Version": "20.10.24", "ApiVersion": "1.41"},
        info={"Name": "vm", "Warnings": [], "Env": ["SHOULD_NOT_SURVIVE=1"]},
        containers=tuple(sanitize_container(c) for c in containers),
        networks=tuple(networks),
        host={"userland_proxy": True, "sources": ["/etc/docker/daemon.json"]},
    )


def test_sanitize_keeps_only_whitelisted_fields():
    doc = json.loads((FIXTURES / "containers.json").read_text())[0]
    clean = sanitize_container(doc)
    text = json.dumps(clean)
    assert "SECRET_TOKEN" not in text and "s3cr3t-env-value" not in text
    assert "Env" not in clean["Config"] and "Cmd" not in clean["Config"]
    assert "Args" not in clean and "Path" not in clean
    assert clean["Config"]["Labels"]["db.password"] == "[redacted]"


def test_round_trip_gives_the_same_snapshot():
    raw = _raw()
    text = dumps(raw)
    assert "SHOULD_NOT_SURVIVE" not in text and "topsecret" not in text
    again = raw_from_json(json.loads(text), "saved.json")
    assert normalize_raw(again) == normalize_raw(raw)


def test_host_facts_overlay_api_facts():
    snap = normalize_raw(_raw())
    assert snap.daemon.userland_proxy is True
    assert snap.daemon.server_version == "20.10.24"
    assert "daemon userland-proxy setting" not in snap.not_checked
    assert "daemon iptables setting" in snap.not_checked


@pytest.mark.parametrize(
    "doc, message",
    [
        ({"format": "auditor-snapshot", "version": 99}, "unsupported snapshot version"),
        ({"format": "auditor-snapshot", "version": 1}, "no target name"),
        (
            {"format": "auditor-snapshot", "version": 1, "target": {"name": "x"}, "containers": {}},
            "must be a list",
        ),
    ],
)
def test_bad_snapshot_files_are_input_errors(doc, message):
    with pytest.raises(InputError, match=message):
        raw_from_json(doc, "bad.json")
