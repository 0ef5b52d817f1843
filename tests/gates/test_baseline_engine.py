"""Baselines on the real engine: containers removed and re-created with the same names keep
their fingerprints, so a scan against the previous result marks their findings existing."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from support.engine import unique

from auditor.commands.scan import scan_command

pytestmark = pytest.mark.engine


def scan_json(*args: str) -> dict:
    result = CliRunner().invoke(
        scan_command, ["--engine", "unix:///var/run/docker.sock", "-f", "json", "--fail-on", "none", *args]
    )
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def mine(doc: dict, names: set[str]) -> list[dict]:
    """Only this test's containers: other tests use the same engine at the same time."""
    return [
        f for f in doc["findings"] if f["resource"]["kind"] == "container" and f["resource"]["name"] in names
    ]


def test_recreated_containers_are_existing_new_ones_are_new(engine_objects, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    net = engine_objects.network("gate")
    web, api = unique("gate-web"), unique("gate-api")

    def start(name: str, port: str):
        return engine_objects.container(name=name, network=net.name, ports={f"{port}/tcp": ("0.0.0.0", None)})

    first_ids = {start(web, "80").id, start(api, "8080").id}
    first = scan_json("--enable-rule", "PORT001", "-o", "base.json")
    before = mine(first, {web, api})
    assert sorted(f["resource"]["name"] for f in before) == sorted([web, api])

    for c in list(engine_objects.containers):
        c.remove(force=True)
    engine_objects.containers.clear()
    second_ids = {start(web, "80").id, start(api, "8080").id}
    extra = unique("gate-new")
    start(extra, "9090")
    assert first_ids.isdisjoint(second_ids)

    second = scan_json("--enable-rule", "PORT001", "--baseline", "base.json")
    after = mine(second, {web, api, extra})
    states = {f["resource"]["name"]: f["baseline"] for f in after}
    assert states == {web: "existing", api: "existing", extra: "new"}
    assert {f["resource"]["id"] for f in after if f["resource"]["name"] in (web, api)} == second_ids
    assert sorted(f["fingerprint"] for f in after if f["baseline"] == "existing") == sorted(
        f["fingerprint"] for f in before
    )
