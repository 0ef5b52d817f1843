"""Least privilege: the whole audit works through a proxy that only lets GET (and HEAD) through.

The proxy refuses every other method with 403 and records it; any recorded request fails the
test. A control test proves the proxy really refuses writes, so the main tests can fail.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import docker
import docker.errors
import pytest
from auditor.reports.formats import SCAN, registry
from support.proxies import read_only_proxy

SCAN_FORMATS = registry().names(SCAN)

pytestmark = pytest.mark.engine


@pytest.fixture
def risky(engine_objects):
    """Our own containers that several rules fire on."""
    net = engine_objects.network("ro")
    web = engine_objects.container(
        "ro-web", ports={"80/tcp": None, "6379/tcp": ("0.0.0.0", None)}, network=net.name
    )
    sock = engine_objects.container(
        "ro-sock", volumes={"/var/run/docker.sock": {"bind": "/var/run/docker.sock", "mode": "ro"}}
    )
    host = engine_objects.container("ro-host", network_mode="host")
    return {web.name, sock.name, host.name}


def _ours(doc: dict, names: set[str]) -> list[tuple[str, str, str]]:
    return sorted(
        (f["rule_id"], f["resource"]["name"], f["message"])
        for f in doc["findings"]
        if f["resource"]["name"] in names
    )


EXPOSURE_SENTENCES = (" The host's firewall ", " Whether the host's firewall ")


def _as_through_a_proxy(found: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """A direct scan's findings as a scan through a proxy can make them: behind a proxy no
    daemon is named, so its namespace's firewall is not read and there is no exposure analysis
    (no NET012, no sentence on who really reaches a port)."""
    out = []
    for rule, name, message in found:
        if rule == "NET012":
            continue
        cut = min((message.index(s) for s in EXPOSURE_SENTENCES if s in message), default=len(message))
        out.append((rule, name, message[:cut]))
    return sorted(out)


def test_proxy_refuses_writes():
    """Control: a write through the proxy is refused and recorded."""
    with read_only_proxy() as (proxy, policy):
        client = docker.APIClient(base_url=proxy.url, version="auto", timeout=10)
        try:
            with pytest.raises(docker.errors.APIError) as err:
                client.create_network("audt-should-never-exist")
        finally:
            client.close()
    assert err.value.status_code == 403
    (violation,) = policy.violations
    assert re.fullmatch(r"POST /v1\.\d+/networks/create", violation)


def test_scan_through_read_only_proxy(cli, recorder, risky, tmp_path):
    """Every report format, written from a scan through the proxy: GET only, same findings as direct."""
    direct = json.loads(cli("scan", "-f", "json", "--fail-on", "none").stdout)
    with read_only_proxy() as (proxy, policy):
        outputs = [a for fmt in SCAN_FORMATS for a in ("-o", f"{fmt}:{tmp_path / ('out.' + fmt)}")]
        proc = cli("scan", "--engine", proxy.url, "-f", "json", "--fail-on", "none", *outputs)
        methods, count, paths = proxy.methods(), len(proxy.requests), proxy.paths()
    assert proc.returncode == 0, proc.stderr
    assert policy.violations == []
    assert methods == {"GET"}
    assert all((tmp_path / f"out.{fmt}").stat().st_size > 0 for fmt in SCAN_FORMATS)
    assert any(p.startswith("/containers/json") for p in paths)
    doc = json.loads(proc.stdout)
    assert doc["targets"][0]["status"] == "complete"
    found = _ours(doc, risky)
    assert {name for _, name, _ in found} == risky  # each of our containers has a finding
    assert "exposure" in direct and "exposure" not in doc  # the direct scan read the daemon's firewall
    assert found == _as_through_a_proxy(_ours(direct, risky))
    recorder("least privilege", "scan through GET-only proxy", "complete, 0 non-GET requests", inputs=count)


def test_snapshot_through_read_only_proxy(cli, recorder, risky, tmp_path):
    """``auditor snapshot`` through the proxy, then an offline scan of it: same findings."""
    snap = tmp_path / "host.json"
    with read_only_proxy() as (proxy, policy):
        proc = cli("snapshot", "--engine", proxy.url, "-o", str(snap))
        live = json.loads(cli("scan", "--engine", proxy.url, "-f", "json", "--fail-on", "none").stdout)
        methods, count = proxy.methods(), len(proxy.requests)
    assert proc.returncode == 0, proc.stderr
    assert policy.violations == [] and methods == {"GET"}
    offline = cli("scan", str(snap), "-f", "json", "--fail-on", "none")
    assert offline.returncode == 0, offline.stderr
    assert _ours(json.loads(offline.stdout), risky) == _ours(live, risky) != []
    recorder(
        "least privilege", "snapshot through GET-only proxy", "written, 0 non-GET requests", inputs=count
    )


def test_watch_through_read_only_proxy(engine_objects, recorder):
    """``auditor watch`` follows /events through the proxy and reports a new container: GET only."""
    with read_only_proxy() as (proxy, policy):
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "auditor",
                "watch",
                "--engine",
                proxy.url,
                "-f",
                "json",
                "--duration",
                "8",
                "--debounce",
                "0.3",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            first = json.loads(proc.stdout.readline())
            assert first["type"] == "status" and first["event"] == "ready"
            web = engine_objects.container("ro-watch", ports={"6379/tcp": ("0.0.0.0", None)})
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        paths, count = proxy.paths(), len(proxy.requests)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    messages = [json.loads(line) for line in out.splitlines() if line.strip()]
    new = {
        (m.get("finding") or {}).get("resource", {}).get("name")
        for m in messages
        if m["type"] == "finding" and m["change"] == "new"
    }
    assert web.name in new, messages
    assert policy.violations == [] and proxy.methods() == {"GET"}
    assert any(p.startswith("/events") for p in paths)
    recorder(
        "least privilege",
        "watch (/events stream) through GET-only proxy",
        "new container reported, 0 non-GET requests",
        inputs=count,
    )
