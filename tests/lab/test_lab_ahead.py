"""The exposure computed ahead from a real engine's container list, beside the one computed
from its inspects: taken when the list shows everything the analysis reads, and the scan's
answer the same either way (``auditor.collectors.ahead``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import pytest
from support.lab import EngineConfig, Lab

from auditor.audit.discovery import discover_rules
from auditor.audit.pipeline import scan
from auditor.collectors.ahead import HostChild, engine_lists, listed_raw
from auditor.collectors.daemon_facts import read_host_facts
from auditor.collectors.endpoints import EngineSpec
from auditor.collectors.engine import fetch_raw
from auditor.collectors.raw import normalize_raw
from auditor.collectors.request import ScanRequest
from auditor.exposure.view import exposure_inputs, exposure_of
from auditor.model.records import SourceKind, Target

pytestmark = [pytest.mark.lab, pytest.mark.engine]

LABELS = {"io.auditor.test": "1"}


@pytest.fixture(scope="module")
def ahead_lab(lab_ready, test_image):
    with Lab([EngineConfig("ahead")], image_source=lab_ready) as lab:
        api = lab.engines["ahead"].client.api
        api.create_network("aheadnet", driver="bridge", labels=LABELS)
        yield lab


def _run(lab: Lab, name: str, **host: object) -> str:
    api = lab.engines["ahead"].client.api
    ports = host.pop("ports", None)
    created = api.create_container(
        lab.image, ["sleep", "3600"], name=f"{name}-{uuid.uuid4().hex[:6]}", ports=ports,
        host_config=api.create_host_config(**host), labels=LABELS,
    )  # fmt: skip
    api.start(created["Id"])
    return created["Id"]


def _ahead_and_here(lab: Lab):
    """The child's exposure (``None``: not taken) and the one computed from the inspects."""
    url = lab.engines["ahead"].url
    child = HostChild.start(read_host_facts, url, Target(SourceKind.ENGINE, "ahead", url), True)
    assert child is not None
    raw = fetch_raw(EngineSpec(url=url), host_facts=read_host_facts, child=child)
    assert raw.ahead is child
    try:
        snapshot = normalize_raw(raw)
        assert snapshot.host_dumps is not None  # the child read the daemon's namespace
        here = exposure_of(snapshot)
        assert here is not None
        return child.exposure(exposure_inputs(snapshot)), here[1]
    finally:
        child.close()


def test_bridge_containers_are_analysed_ahead_from_the_list(ahead_lab):
    web = _run(ahead_lab, "web", ports=[80, 9100], port_bindings={80: 28080}, network_mode="aheadnet")
    _run(ahead_lab, "dns", ports=[(53, "udp")], port_bindings={"53/udp": ("127.0.0.1", 25353)})
    _run(ahead_lab, "side", network_mode=f"container:{web}")
    _run(ahead_lab, "v6", ports=[443], port_bindings={443: [("0.0.0.0", 28443), ("::", 28443)]})
    taken, here = _ahead_and_here(ahead_lab)
    assert taken is not None, "the list shows every field the analysis reads here"
    assert taken == here
    assert {p.container.split("-")[0] for p in here.ports} == {
        "web",
        "dns",
        "v6",
    }  # side has no port of its own


SCAN_PROBE = """
import json, sys
import auditor.collectors.ahead as ahead
taken = []
exposure = ahead.HostChild.exposure

def recorded(self, inputs):
    found = exposure(self, inputs)
    taken.append(found is not None)
    return found

ahead.HostChild.exposure = recorded
handed = []
engine_lists = ahead.HostChild.engine_lists

def recorded_lists(self):
    found = engine_lists(self)
    handed.append(found is not None)
    return found

ahead.HostChild.engine_lists = recorded_lists
sys.argv = ['auditor', *sys.argv[1:]]
from auditor.cli import main
try:
    main()
finally:
    analysed_here = 'auditor.exposure.analysis' in sys.modules
    print('PROBE ' + json.dumps({'taken': taken, 'analysed_here': analysed_here, 'handed': handed}), file=sys.stderr)
"""


def test_a_whole_scan_takes_the_child_s_answer(ahead_lab):
    """Run right after the test above, while the engine holds only what the list shows in
    full: the command's own child (forked before the pipeline is imported) computes the
    exposure, and the scan takes it without ever loading the analysis itself."""
    url = ahead_lab.engines["ahead"].url
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "AUDITOR_STORE")}
    proc = subprocess.run(
        [sys.executable, "-c", SCAN_PROBE, "scan", "--engine", url, "-f", "json", "--fail-on", "none"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    [line] = [x for x in proc.stderr.splitlines() if x.startswith("PROBE ")]
    probe = json.loads(line.removeprefix("PROBE "))
    assert probe["taken"] == [True]
    assert probe["analysed_here"] is False  # the child loaded it, off this process's path
    assert len(probe["handed"]) == 1  # the scan asked once (in time or not: the next test)
    [exposure] = json.loads(proc.stdout)["exposure"]["targets"]
    assert exposure["ports"]  # the answer is in the report all the same


def test_what_the_list_does_not_show_is_computed_from_the_inspects(ahead_lab):
    api = ahead_lab.engines["ahead"].client.api
    stopped = api.create_container(ahead_lab.image, ["sleep", "3600"], name=f"stopped-{uuid.uuid4().hex[:6]}",
                                   ports=[5432], host_config=api.create_host_config(port_bindings={5432: 25432}),
                                   labels=LABELS)  # fmt: skip
    assert stopped["Id"]
    _run(ahead_lab, "hostnet", ports=[9200], network_mode="host")
    taken, here = _ahead_and_here(ahead_lab)
    assert taken is None or taken == here
    url = ahead_lab.engines["ahead"].url
    result = scan(ScanRequest(engines=(EngineSpec(url=url),)), discover_rules(include_plugins=False), None)
    [snapshot] = result.snapshots
    assert snapshot.exposure == here  # the scan's answer, whichever way it came


def test_the_child_s_own_lists_are_those_the_sdk_gets(ahead_lab):
    """The child asks a unix-socket engine for its lists itself (``engine_lists``): they give
    the analysis the same inputs as the lists the scan's negotiated SDK client gets (the
    documents differ only in what changes between two calls: a status's age, the order of a
    container's ports)."""
    _run(ahead_lab, "listed", ports=[80, 9100], port_bindings={80: [("0.0.0.0", 28081), ("::", 28081)]},
         network_mode="aheadnet")  # fmt: skip
    engine = ahead_lab.engines["ahead"]
    asked = engine_lists(engine.url)
    assert asked is not None
    found = asked[0]
    version, info, containers, networks = found
    api = engine.client.api
    assert version == api.version() and info == {}
    assert {c["Id"] for c in containers} == {c["Id"] for c in api.containers(all=True)}
    target = Target(SourceKind.ENGINE, "ahead", engine.url)
    own = exposure_inputs(normalize_raw(listed_raw(target, found)))
    sdk = exposure_inputs(
        normalize_raw(
            listed_raw(target, (api.version(), api.info(), api.containers(all=True), api.networks()))
        )
    )
    assert own == sdk
    assert any(p.host_port == 28081 for c in own.containers for p in c.ports)  # the lists were read


def test_a_scan_inspects_what_the_child_listed_without_listing_the_engine_again(ahead_lab, monkeypatch):
    """Once the child's own lists are in, the scan takes them: the SDK's listing is never
    called, and the engine read is the one a scan listing it itself reads."""
    import docker

    _run(ahead_lab, "handed", ports=[80], port_bindings={80: 28082}, network_mode="aheadnet")
    url = ahead_lab.engines["ahead"].url
    itself = fetch_raw(EngineSpec(url=url), host_facts=read_host_facts)
    child = HostChild.start(read_host_facts, url, Target(SourceKind.ENGINE, "ahead", url), True)
    assert child is not None
    try:
        deadline = time.monotonic() + 30
        while child.engine_lists() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert child.engine_lists() is not None

        def listed_twice(*args, **kwargs):
            raise AssertionError("the engine was listed again")

        monkeypatch.setattr(docker.APIClient, "containers", listed_twice)
        monkeypatch.setattr(docker.APIClient, "networks", listed_twice)
        raw = fetch_raw(EngineSpec(url=url), host_facts=read_host_facts, child=child)
        assert sorted(c["Id"] for c in raw.containers) == sorted(c["Id"] for c in itself.containers)
        assert sorted(n["Id"] for n in raw.networks) == sorted(n["Id"] for n in itself.networks)
        assert raw.ahead is child
        snapshot = normalize_raw(raw)
        here = exposure_of(snapshot)
        assert here is not None
        taken = child.exposure(exposure_inputs(snapshot))  # None: the lists do not show a
        assert taken is None or taken == here[1]  # host-network container (an earlier test)
    finally:
        child.close()
