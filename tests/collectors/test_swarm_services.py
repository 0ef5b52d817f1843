"""Swarm services from a real manager's snapshot (Docker 20.10): ingress ports, mounts, names."""

from __future__ import annotations

import json
from pathlib import Path

from auditor.rules.net011_network_caps import RULE as NET011
from support.builders import container, run_rule, snapshot

from auditor.audit.discovery import discover_rules
from auditor.audit.run import run_rules
from auditor.collectors.raw import normalize_raw, raw_from_json

FIXTURE = Path(__file__).parent.parent / "fixtures" / "swarm" / "manager-snapshot.json"


def _snapshot():
    return normalize_raw(raw_from_json(json.loads(FIXTURE.read_text()), str(FIXTURE)))


def test_a_service_carries_its_ingress_ports_and_mounts_but_not_host_mode_ports():
    snap = _snapshot()
    (service,) = [c for c in snap.containers if c.kind == "service"]
    assert (service.name, service.project, service.swarm_service) == ("webpub", "shop", True)
    assert [(p.container_port, p.protocol, p.host_ip, p.host_port) for p in service.published_ports] == [
        (80, "tcp", "", 8088)
    ]
    assert [(m.source, m.target) for m in service.mounts] == [
        ("/var/run/docker.sock", "/var/run/docker.sock")
    ]
    assert "ingress" in service.network_names
    assert service.label("api.token") == "[redacted]"
    assert service.origin.uri == "docker://vm/services/webpub"


def test_the_task_container_keeps_its_host_mode_port_and_a_stable_name():
    (task,) = [c for c in _snapshot().containers if c.kind == "container"]
    assert task.name.startswith("webpub.1.")
    assert task.stable_name == "webpub.1"
    assert [(p.container_port, p.protocol, p.host_port) for p in task.published_ports] == [
        (53, "udp", 5353),
        (53, "udp", 5353),
    ]


def test_findings_on_the_service_and_no_neighbour_noise_from_ingress():
    run = run_rules(_snapshot(), discover_rules())
    got = sorted((f.rule_id, f.resource.kind, f.resource.name.split(".")[0]) for f in run.findings)
    assert ("PORT001", "service", "webpub") in got
    assert ("HOST002", "service", "webpub") in got
    assert ("HOST002", "container", "webpub") in got
    assert not [f for f in run.findings if f.rule_id in ("NET002", "NET009")]


def test_task_fingerprints_survive_rescheduling():
    first = container("web.1.aaaa", labels={"com.docker.swarm.task.id": "aaaa"}, cap_add=("NET_ADMIN",))
    again = container("web.1.bbbb", labels={"com.docker.swarm.task.id": "bbbb"}, cap_add=("NET_ADMIN",))
    other = container("peer", networks=("appnet",))
    fp = [
        f.fingerprint for f in run_rule(NET011, snapshot(first, other)) if f.resource.name.startswith("web")
    ]
    fp2 = [
        f.fingerprint for f in run_rule(NET011, snapshot(again, other)) if f.resource.name.startswith("web")
    ]
    assert fp and fp == fp2


# The ingress network's service table as a 20.10 worker (lab engine e3) shows it: a worker
# cannot list services, yet knows every published ingress port (without the protocol).
WORKER_INGRESS = {
    "Name": "ingress",
    "Ingress": True,
    "Services": {
        "": {"VIP": "<nil>", "Ports": [], "LocalLBIndex": 0, "Tasks": [{"Name": "ingress-endpoint"}]},
        "mesh": {
            "VIP": "198.18.128.5",
            "Ports": ["Target: 80, Publish: 18090", "Target: 0, Publish: 1", "Target: 53/udp, Publish: 53"],
            "LocalLBIndex": 256,
            "Tasks": [{"Name": "mesh.1.vraotnhojqatahd3h65ysakua", "EndpointIP": "198.18.128.6"}],
        },
    },
}


def test_a_workers_ingress_table_gives_each_published_service_port():
    from auditor.collectors.engine import services_from_ingress_table
    from auditor.collectors.inspect import normalize_swarm_service
    from auditor.collectors.raw import sanitize_service
    from auditor.model.records import SourceKind, Target

    docs = services_from_ingress_table(WORKER_INGRESS)
    assert docs == [
        {
            "ID": None,
            "Spec": {"Name": "mesh"},
            "Endpoint": {"Ports": [{"TargetPort": 80, "PublishedPort": 18090, "PublishMode": "ingress"}]},
        }
    ]  # the task-less "" entry and the malformed ports are left out
    target = Target(SourceKind.ENGINE, "e3", "unix:///lab/e3/docker.sock")
    service = normalize_swarm_service(sanitize_service(docs[0]), target, {})
    assert (service.name, service.kind, service.swarm_service) == ("mesh", "service", True)
    assert [(p.container_port, p.protocol, p.host_ip, p.host_port) for p in service.published_ports] == [
        (80, "tcp", "", 18090)
    ]
    assert services_from_ingress_table({"Services": None}) == services_from_ingress_table([]) == []
