"""Engine faults through a fault-injecting proxy in front of the real engine's socket.

Each fault must end in exit 3 with a one-line reason and a report that says the target was
not fully scanned: never a hang, never a traceback, never a clean verdict. Objects that vanish
between list and inspect are skipped with a note; other API versions still give a full scan.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil

import pytest
from support.proxies import (
    ApiVersion,
    DropConnections,
    Fault,
    Hang,
    Status,
    Truncate,
    Vanish,
    docker_proxy,
)

pytestmark = pytest.mark.engine

INSPECT = r"^/containers/[0-9a-f]{12,}/json"


@pytest.fixture
def exposed(engine_objects):
    """Two running containers of ours with a port on all interfaces (so a scan has findings)."""
    made = [engine_objects.container("fault", ports={"80/tcp": None}) for _ in range(2)]
    return [c.name for c in made]


def _scan(cli, proxy, *extra: str, timeout: float = 90):
    proc = cli("scan", "--engine", proxy.url, "-f", "json", "--fail-on", "none", *extra, timeout=timeout)
    return proc, json.loads(proc.stdout)


def _assert_incomplete(proc, doc, reason: str) -> None:
    """Exit 3, one error line naming the reason, and a report that admits it."""
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("auditor: error: "), proc.stderr
    assert reason in lines[0]
    assert doc["scan"]["complete"] is False
    assert doc["gate"]["verdict"] == "incomplete"
    (target,) = doc["targets"]
    # "failed" when nothing usable was read; "incomplete" when the fault hit after some
    # containers were inspected: those are reported, and the report says it is partial.
    assert target["status"] in ("failed", "incomplete")
    assert reason in target["error"]
    if target["status"] == "failed":
        assert doc["findings"] == []
    else:
        assert "could not be inspected" in target["error"] or "stopped after inspecting" in target["error"]
        assert target["containers"] >= 1


FAULTS: list[tuple[str, callable, str]] = [
    (
        "restart during inspects",
        lambda: DropConnections(after=2, match=INSPECT),
        "closed the connection mid-scan",
    ),
    (
        "restart before listing networks",
        lambda: DropConnections(after=1, match=r"^/networks$|^/networks\?"),
        "closed the connection mid-scan",
    ),
    ("inspect cut short", lambda: Truncate(INSPECT, "length"), "sent an incomplete answer"),
    ("list half a JSON document", lambda: Truncate(r"^/containers/json", "json"), "not valid JSON"),
    (
        "network inspect half a JSON document",
        lambda: Truncate(r"^/networks/[0-9a-f]{12,}", "json"),
        "not valid JSON",
    ),
    (
        "403 on the container list",
        lambda: Status(r"^/containers/json", 403, "permission denied"),
        "permission denied",
    ),
    (
        "403 from a socket proxy's policy",
        lambda: Status(r"^/info", 403, "forbidden by policy"),
        "refused a request: forbidden by policy",
    ),
    ("500 on inspect", lambda: Status(INSPECT, 500, "driver failed"), "refused a request: driver failed"),
]


@pytest.mark.parametrize(("case", "make_fault", "reason"), FAULTS, ids=[f[0] for f in FAULTS])
def test_fault_ends_in_exit_3(cli, recorder, exposed, case, make_fault, reason):
    fault: Fault = make_fault()
    with docker_proxy(fault) as proxy:
        proc, doc = _scan(cli, proxy)
    assert fault.injected >= 1
    _assert_incomplete(proc, doc, reason)  # nothing half-read is reported as if it were the whole host
    recorder("engine faults", case, f"exit {proc.returncode}: {reason}", faults=fault.injected)


def test_hanging_inspect_times_out(cli, recorder, exposed):
    """An inspect that never answers: the client's timeout ends the scan, the rest is not waited out."""
    fault = Hang(INSPECT, seconds=600)
    with docker_proxy(fault) as proxy:
        proc, doc = _scan(cli, proxy, "--timeout", "1", timeout=60)
    _assert_incomplete(proc, doc, "did not answer in time")
    assert "stopped after inspecting" in doc["targets"][0]["error"]
    recorder(
        "engine faults",
        "inspect hangs (client timeout 1 s)",
        "exit 3: did not answer in time",
        faults=fault.injected,
    )


def test_hanging_version_times_out(cli, recorder):
    fault = Hang(r"^/version", seconds=600)
    with docker_proxy(fault) as proxy:
        proc, doc = _scan(cli, proxy, "--timeout", "1", timeout=60)
    _assert_incomplete(proc, doc, "did not answer in time")
    recorder(
        "engine faults",
        "/version hangs (client timeout 1 s)",
        "exit 3: did not answer in time",
        faults=fault.injected,
    )


def test_snapshot_fault_writes_nothing(cli, recorder, exposed, tmp_path):
    """``auditor snapshot`` under a fault: exit 3 and no half-written file."""
    out = tmp_path / "snap.json"
    fault = DropConnections(after=1, match=INSPECT)
    with docker_proxy(fault) as proxy:
        proc = cli("snapshot", "--engine", proxy.url, "-o", str(out))
    assert proc.returncode == 3
    assert "closed the connection mid-scan" in proc.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []
    recorder("engine faults", "snapshot during a restart", "exit 3, no file written", faults=fault.injected)


def test_engine_gone_is_exit_3(cli, recorder, tmp_path):
    proc = cli("scan", "--engine", f"unix://{tmp_path}/nothing.sock", "-f", "json")
    assert proc.returncode == 3
    assert "nothing is listening there" in proc.stderr
    assert json.loads(proc.stdout)["gate"]["verdict"] == "incomplete"
    recorder("engine faults", "no engine at the socket", "exit 3: nothing is listening", faults=1)


def test_socket_permission_denied(cli, recorder, exposed):
    """A real EACCES: a socket owned by another user, opened by root without CAP_DAC_OVERRIDE."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or not setpriv:
        pytest.skip("needs root and util-linux setpriv")
    with docker_proxy() as proxy:
        os.chown(proxy.path, pwd.getpwnam("nobody").pw_uid, -1)
        os.chmod(proxy.path, 0o600)
        proc = cli(
            "scan",
            "--engine",
            proxy.url,
            "-f",
            "json",
            wrapper=(setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--"),
        )
        assert not proxy.requests
    doc = json.loads(proc.stdout)
    _assert_incomplete(proc, doc, "permission denied")
    recorder("engine faults", "socket not accessible (EACCES)", "exit 3: permission denied", faults=1)


def test_vanishing_container_is_skipped_with_note(cli, recorder, exposed, docker_client):
    """Removed between list and inspect: the rest is scanned, the gap is said, nothing crashes."""
    gone, kept = exposed
    gone_id = docker_client.containers.get(gone).id
    fault = Vanish("containers", lambda: {gone_id})
    with docker_proxy(fault) as proxy:
        proc, doc = _scan(cli, proxy)
    assert proc.returncode == 0, proc.stderr
    (target,) = doc["targets"]
    assert target["status"] == "complete"
    assert f"container {gone_id[:12]} was removed between list and inspect; skipped" in target["notes"]
    names = {f["resource"]["name"] for f in doc["findings"]}
    assert kept in names and gone not in names
    recorder(
        "engine faults",
        "container vanishes before inspect",
        "skipped with a note, rest scanned",
        faults=fault.injected,
    )


def test_vanishing_network_is_skipped_with_note(cli, recorder, engine_objects):
    net = engine_objects.network("vanish")
    fault = Vanish("networks", lambda: {net.id})
    with docker_proxy(fault) as proxy:
        proc, doc = _scan(cli, proxy)
    assert proc.returncode == 0, proc.stderr
    assert (
        f"network {net.id[:12]} was removed between list and inspect; skipped" in doc["targets"][0]["notes"]
    )
    assert fault.injected == 1
    recorder("engine faults", "network vanishes before inspect", "skipped with a note", faults=fault.injected)


def _ours(doc, names):
    return sorted(
        (f["rule_id"], f["resource"]["name"], f["message"])
        for f in doc["findings"]
        if f["resource"]["name"] in names
    )


@pytest.mark.parametrize(("api", "server"), [("1.24", "1.12.6"), ("1.50", "28.3.3")], ids=["older", "newer"])
def test_other_api_versions_scan_fully(cli, recorder, exposed, api, server):
    """An engine that reports an older or newer API: the scan talks that version and completes."""
    with docker_proxy() as plain:
        _, baseline = _scan(cli, plain)
    fault = ApiVersion(api, server)
    with docker_proxy(fault) as proxy:
        proc, doc = _scan(cli, proxy)
    assert proc.returncode == 0, proc.stderr
    assert fault.requested == {api}  # every request after /version used the reported version
    assert doc["targets"][0]["status"] == "complete"
    assert _ours(doc, exposed) == _ours(baseline, exposed) != []
    recorder(
        "engine faults",
        f"engine reports API {api} (server {server})",
        "complete scan, same findings",
        faults=fault.injected,
    )


def test_proxy_itself_is_transparent(exposed, docker_client):
    """Guard for the tests above: without faults the proxy forwards every request unchanged."""
    import docker

    with docker_proxy() as proxy:
        client = docker.APIClient(base_url=proxy.url, version="auto", timeout=10)
        try:
            listed = {c["Names"][0].lstrip("/") for c in client.containers(all=True)}
            inspected = client.inspect_container(exposed[0])
        finally:
            client.close()
    assert set(exposed) <= listed
    assert inspected["Id"] == docker_client.containers.get(exposed[0]).id


def test_fault_on_one_engine_keeps_the_others(cli, recorder, exposed):
    """Two engines, one failing mid-scan: exit 3, and the healthy engine's findings are reported."""
    fault = DropConnections(after=1, match=INSPECT)
    with docker_proxy() as healthy, docker_proxy(fault) as broken:
        proc = cli("scan", "--engine", healthy.url, "--engine", broken.url, "-f", "json", "--fail-on", "none")
    assert proc.returncode == 3, proc.stderr
    doc = json.loads(proc.stdout)
    status = {t["address"]: t["status"] for t in doc["targets"]}
    assert status == {healthy.url: "complete", broken.url: "failed"}
    assert doc["gate"]["verdict"] == "incomplete"
    assert set(exposed) <= {f["resource"]["name"] for f in doc["findings"]}
    assert "closed the connection mid-scan" in proc.stderr
    recorder(
        "engine faults",
        "one of two engines restarts mid-scan",
        "exit 3, the other engine's findings reported",
        faults=fault.injected,
    )


def test_a_fault_after_some_inspects_reports_what_was_read(cli, recorder, exposed):
    """Exit 3 "with what was scanned": the inspected containers' findings, marked incomplete."""
    fault = Status(INSPECT, 500, "driver failed", after=1)  # the first inspect passes, the rest fail
    with docker_proxy(fault) as proxy:
        proc, doc = _scan(cli, proxy)
    _assert_incomplete(proc, doc, "refused a request: driver failed")
    (target,) = doc["targets"]
    assert target["status"] == "incomplete"
    assert f"of {target['containers'] + fault.injected} containers could not be inspected" in target["error"]
    assert doc["gate"]["passed"] is False
    recorder(
        "engine faults",
        "500 after some inspects",
        "exit 3, partial findings reported as incomplete",
        faults=fault.injected,
    )
