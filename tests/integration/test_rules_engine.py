"""The rule catalog end to end: real containers and networks, the real CLI, exact findings.

One module-scoped set of labelled objects is scanned once; each test checks the findings of
its own uniquely named objects only (other sessions' containers share the engine). Daemon
facts are checked against what the host-facts reader says about this very host, so the
tests hold on any daemon configuration. Rules a single host cannot show (macvlan without
kernel support, overlay without swarm, a TCP API, iptables off) are scanned from a saved
snapshot through the same CLI. HOST003 uses a temporary DOCKER-USER rule that is removed.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
from pathlib import Path

import docker
import pytest
from support.engine import EngineObjects, labels, unique

from auditor.collectors.daemon_facts import read_host_facts
from auditor.collectors.endpoints import EngineSpec
from auditor.model.records import DaemonFacts

pytestmark = pytest.mark.engine

PROJECT = "com.docker.compose.project"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
    )


def scan_json(*args: str) -> dict:
    proc = run_cli("scan", "-f", "json", "--fail-on", "none", *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def free_port(proto: str = "tcp", low: int = 20000, high: int = 45000, count: int = 1) -> int:
    """A host port (or run of ``count`` ports) that nothing listens on right now."""
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    for _ in range(500):
        start = random.randint(low, high - count)
        try:
            for p in range(start, start + count):
                with socket.socket(socket.AF_INET, kind) as s:
                    s.bind(("0.0.0.0", p))
        except OSError:
            continue
        return start
    raise RuntimeError("no free port found")


class Lab:
    """The labelled objects of this module and the one scan of them."""

    def __init__(self, client: docker.DockerClient, image: str):
        self.objs = EngineObjects(client, image)
        self.names: dict[str, str] = {}
        self.ports: dict[str, int] = {}

    def run(self, role: str, **kwargs):
        self.names[role] = unique(role)
        return self.objs.container(name=self.names[role], **kwargs)

    def create(
        self,
        role: str,
        network: str | None,
        *,
        exposed=(),
        bindings=None,
        start=True,
        publish_all=False,
        cap_drop=("NET_RAW",),
        privileged=False,
    ):
        """Low-level create: exposed-only ports, -P, or a container that is never started."""
        api = self.objs.client.api
        self.names[role] = unique(role)
        host_config = api.create_host_config(
            port_bindings=bindings or {},
            publish_all_ports=publish_all,
            network_mode=network,
            cap_drop=list(cap_drop),
            privileged=privileged,
        )
        ports = list(exposed) + [tuple(k.split("/")) if "/" in k else k for k in (bindings or {})]
        cid = api.create_container(
            self.objs.image,
            "sleep 3600",
            name=self.names[role],
            labels=labels(),
            ports=ports,
            host_config=host_config,
        )["Id"]
        if start:
            api.start(cid)
        self.objs.containers.append(self.objs.client.containers.get(cid))

    def network(self, role: str, **kwargs) -> str:
        net = self.objs.network(role, **kwargs)
        self.names[role] = net.name
        return net.name


@pytest.fixture(scope="module")
def lab(docker_client, test_image):
    lab = Lab(docker_client, test_image)
    try:
        shared = lab.network("shared")
        backend = lab.network("backend")
        v6_pool = docker.types.IPAMPool(subnet=f"fd00:a0d7:{random.randint(1, 0xFFFF):x}::/64")
        lab.network("v6", enable_ipv6=True, ipam=docker.types.IPAMConfig(pool_configs=[v6_pool]))
        ports_net = lab.network("ports")
        lab.run("pa", network=shared, cap_add=["NET_ADMIN"], labels={PROJECT: "audt-alpha"})
        lab.run("pb", network=shared, labels={PROJECT: "audt-beta"})
        lab.create("db", backend, exposed=[5432])
        quiet = {"network": ports_net, "cap_drop": ["NET_RAW"]}
        lab.ports["redis"] = free_port()
        # identified by the image's title label (the scratch test image is not called redis)
        redis_label = {**labels(), "org.opencontainers.image.title": "redis"}
        lab.run("redis", ports={"6379/tcp": lab.ports["redis"]}, labels=redis_label, **quiet)
        lab.ports["dns"] = free_port("udp")
        lab.run("dns", ports={"53/udp": lab.ports["dns"]}, **quiet)
        lab.ports["priv"] = free_port(low=600, high=1000)
        lab.run("priv", ports={"8080/tcp": lab.ports["priv"]}, **quiet)
        lab.create("pall", ports_net, exposed=[7070], publish_all=True)
        lab.ports["loop"] = free_port()
        lab.run("loop", ports={"9999/tcp": ("127.0.0.1", lab.ports["loop"])}, **quiet)
        lab.create("clash", ports_net, bindings={"9998/tcp": ("127.0.0.1", lab.ports["loop"])}, start=False)
        lab.ports["wide"] = free_port(count=100, low=46000, high=60000)
        wide = {f"{p}/tcp": ("127.0.0.1", p) for p in range(lab.ports["wide"], lab.ports["wide"] + 100)}
        lab.create("wide", ports_net, bindings=wide, start=False)
        lab.run("hostnet", network_mode="host")
        # never started (this sandbox refuses privileged starts): HostConfig.Privileged is read all the same
        lab.create("privhost", "host", start=False, privileged=True, cap_drop=())
        lab.run("joiner", network_mode=f"container:{lab.names['redis']}")
        lab.run(
            "sock", volumes={"/var/run/docker.sock": {"bind": "/var/run/docker.sock", "mode": "ro"}}, **quiet
        )
        lab.run("def", cap_drop=["NET_RAW"])
        lab.result = scan_json()
        yield lab
    finally:
        lab.objs.cleanup()


def findings_for(lab: Lab, role: str) -> dict[str, list[dict]]:
    """Rule id -> findings whose resource is the object playing ``role``."""
    out: dict[str, list[dict]] = {}
    for f in lab.result["findings"]:
        if f["resource"]["name"] == lab.names[role]:
            out.setdefault(f["rule_id"], []).append(f)
    return out


def messages(lab: Lab, role: str, rule: str) -> list[str]:
    return sorted(f["message"] for f in findings_for(lab, role).get(rule, []))


def machine_facts() -> dict:
    """What the scanner reads about the daemon behind the engine these tests scan."""
    return dict(read_host_facts(EngineSpec().address, docker.from_env().version()["Version"]).facts)


def host_facts() -> DaemonFacts:
    return DaemonFacts(**{k: v for k, v in machine_facts().items() if k != "sources"})


def old_engine(client) -> bool:
    major = int(client.version()["Version"].split(".")[0])
    return major < 28


def test_scan_is_complete_and_reads_host_facts(lab):
    [target] = lab.result["targets"]
    assert target["status"] == "complete"
    for label in (
        "daemon userland-proxy setting",
        "daemon iptables setting",
        "host firewall: DOCKER-USER chain rules",
    ):
        assert label not in target["not_checked"]


def test_shared_network_net002_net005_net009(lab):
    net, pa, pb = lab.names["shared"], lab.names["pa"], lab.names["pb"]
    assert messages(lab, "shared", "NET002") == [
        f"network {net} is shared by project audt-alpha ({pa}) and project audt-beta ({pb})."
    ]
    assert messages(lab, "shared", "NET005") == [
        f"network {net} allows inter-container communication between project audt-alpha ({pa}) and project audt-beta ({pb})."
    ]
    [high] = findings_for(lab, "pa")["NET011"]
    assert (high["severity"], high["message"]) == (
        "high",
        f"{pa} adds NET_ADMIN (changing interfaces, routes and firewall rules, and promiscuous capture) "
        f"on {net}, shared with other containers.",
    )
    [low] = findings_for(lab, "shared")["NET009"]
    members = ", ".join(sorted([pa, pb]))
    assert (low["severity"], low["message"]) == (
        "low",
        f"network {net}: 2 of 2 containers keep the default NET_RAW capability ({members}); "
        "any of them can spoof or sniff the others' traffic.",
    )


def test_privileged_from_host_config_net010(lab):
    [f] = findings_for(lab, "privhost")["NET010"]
    assert (f["severity"], f["message"]) == (
        "critical",
        f"{lab.names['privhost']} runs privileged in the host's network namespace: "
        "it controls the host's interfaces, routes and firewall.",
    )
    assert "NET010" not in findings_for(lab, "hostnet")


def test_backend_network_net006(lab):
    assert messages(lab, "backend", "NET006") == [
        f"network {lab.names['backend']} holds only backend services ({lab.names['db']} (PostgreSQL)) but is not internal."
    ]
    assert findings_for(lab, "db") == {}


def test_port_rules(lab):
    redis, dns, priv = lab.names["redis"], lab.names["dns"], lab.names["priv"]
    assert set(findings_for(lab, "redis")) == {"PORT002"}  # one finding per port entry
    [crit] = findings_for(lab, "redis")["PORT002"]
    assert crit["severity"] == "critical"
    said = (
        f"{redis} exposes Redis (datastore) on all interfaces as *:{lab.ports['redis']}->6379/tcp. "
        "Identified by its label org.opencontainers.image.title=redis. "
        "It accepts unauthenticated connections by default, so exposure is critical."
    )
    assert crit["message"].startswith(said)
    # the live scan analyses this machine's firewall: what follows says who really reaches the port
    assert crit["message"][len(said) :].startswith(
        " The host's firewall lets clients from outside reach it (lan:"
    )
    assert set(findings_for(lab, "dns")) == {"PORT005"}
    assert messages(lab, "dns", "PORT005") == [
        f"{dns} publishes DNS (53/udp) on all interfaces: replies can be 28-54x larger than requests, usable for reflected DDoS."
    ]
    assert set(findings_for(lab, "priv")) == {"PORT001"}  # PORT001 names the privileged host port
    [wild] = messages(lab, "priv", "PORT001")
    assert wild.startswith(
        f"{priv} publishes 8080/tcp on host port {lab.ports['priv']} (privileged, below 1024) of all "
    )
    assert set(findings_for(lab, "pall")) == {"PORT001", "PORT003"}
    assert messages(lab, "pall", "PORT003") == [
        f"{lab.names['pall']} publishes every exposed port (-P): 7070/tcp."
    ]


def test_port007_conflict_and_port004_range(lab, docker_client):
    loop, clash, port = lab.names["loop"], lab.names["clash"], lab.ports["loop"]
    assert messages(lab, "loop", "PORT007") == [
        f"{loop} claims host port 127.0.0.1:{port}->9999/tcp, which {clash} (127.0.0.1:{port}->9998/tcp) also claims."
    ]
    assert messages(lab, "clash", "PORT007") == [
        f"{clash} claims host port 127.0.0.1:{port}->9998/tcp, which {loop} (127.0.0.1:{port}->9999/tcp) also claims."
    ]
    start = lab.ports["wide"]
    assert messages(lab, "wide", "PORT004") == [
        f"{lab.names['wide']} publishes 100 host ports {start}-{start + 99}/tcp on 127.0.0.1."
    ]
    expected = {"PORT004", "PORT008"} if old_engine(docker_client) else {"PORT004"}
    assert set(findings_for(lab, "wide")) == expected


def test_port008_on_this_engine(lab, docker_client):
    version = docker_client.version()["Version"]
    found = messages(lab, "loop", "PORT008")
    if not old_engine(docker_client):
        assert found == []
        return
    assert found == [
        f"{lab.names['loop']} publishes 127.0.0.1:{lab.ports['loop']}->9999/tcp to loopback, but it is reachable "
        f"from the local network: engine {version} is older than 28.0.0 (moby#45610)."
    ]


def test_namespace_rules_and_socket(lab):
    assert set(findings_for(lab, "hostnet")) == {"NET003"}
    assert messages(lab, "joiner", "NET004") == [
        f"{lab.names['joiner']} shares the network namespace of {lab.names['redis']}."
    ]
    assert set(findings_for(lab, "joiner")) == {"NET004"}
    sock = lab.names["sock"]
    assert messages(lab, "sock", "HOST002") == [
        f"{sock} mounts the engine socket /var/run/docker.sock at /var/run/docker.sock (read-only does not restrict API calls)."
    ]
    assert set(findings_for(lab, "def")) == {"NET001"}


def test_daemon_rules_match_this_hosts_configuration(lab):
    facts = host_facts()
    host_rules = {f["rule_id"]: f for f in lab.result["findings"] if f["resource"]["kind"] == "host"}
    assert ("HOST004" in host_rules) is bool(facts.userland_proxy)
    assert ("HOST005" in host_rules) is (facts.iptables is False)
    assert "HOST001" not in host_rules or facts.tcp_api_without_tls
    bridge = next(n for n in docker.from_env().networks.list(names=["bridge"]) if n.name == "bridge")
    bind_ip = bridge.attrs["Options"].get("com.docker.network.bridge.host_binding_ipv4", "0.0.0.0")
    assert ("HOST006" in host_rules) is (bind_ip in ("0.0.0.0", "::"))
    icc = bridge.attrs["Options"].get("com.docker.network.bridge.enable_icc", "true") == "true"
    assert (
        any(f["rule_id"] == "NET005" and f["resource"]["name"] == "bridge" for f in lab.result["findings"])
        is icc
    )
    v6 = messages(lab, "v6", "HOST007")
    if facts.ip6tables is False:
        assert v6 == [
            f"network {lab.names['v6']} has IPv6 enabled but ip6tables is off: its IPv6 traffic is not filtered or isolated."
        ]
    else:
        assert v6 == []


def _snapshot_with_ufw(tmp_path: Path, name: str) -> Path:
    """Snapshot the live engine, then declare UFW active (the one fact this host cannot show)."""
    path = tmp_path / name
    proc = run_cli("snapshot", "-o", str(path))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(path.read_text())
    doc["host"]["ufw_active"] = True
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.skipif(os.geteuid() != 0, reason="changing DOCKER-USER needs root")
def test_host003_with_a_temporary_docker_user_rule(lab, tmp_path):
    if machine_facts().get("docker_user_filters") is not False:
        pytest.skip("DOCKER-USER already filters on this host (or iptables-save is unreadable)")
    before = _snapshot_with_ufw(tmp_path, "before.json")
    assert json.loads(before.read_text())["host"]["docker_user_filters"] is False
    [f] = [f for f in scan_json(str(before))["findings"] if f["rule_id"] == "HOST003"]
    # the snapshot carries this namespace's dumps: HOST003 names the ports that really stay open
    assert f["message"].startswith(
        "UFW is active but published ports bypass it (DOCKER-USER has no filtering rules); "
    )
    redis_port = f"{lab.names['redis']} 0.0.0.0:{lab.ports['redis']}->6379/tcp"
    assert redis_port in f["evidence"]["open_ports"]
    rule = [
        "DOCKER-USER",
        "-s",
        "192.0.2.0/24",
        "-m",
        "comment",
        "--comment",
        f"audt-{os.getpid()}",
        "-j",
        "DROP",
    ]
    subprocess.run(["iptables", "-I", *rule], check=True)
    try:
        after = _snapshot_with_ufw(tmp_path, "after.json")
    finally:
        subprocess.run(["iptables", "-D", *rule], check=True)
    assert json.loads(after.read_text())["host"]["docker_user_filters"] is True
    # a rule that drops only 192.0.2.0/24 leaves the port open to every other outside client
    [f] = [f for f in scan_json(str(after))["findings"] if f["rule_id"] == "HOST003"]
    assert f["message"].startswith("UFW is active and DOCKER-USER filters container traffic; ")
    assert redis_port in f["evidence"]["open_ports"]
    assert machine_facts()["docker_user_filters"] is False  # restored


SAVED = {
    "format": "auditor-snapshot",
    "version": 1,
    "target": {"kind": "engine", "name": "saved-host", "address": "tcp://saved-host:2375"},
    "engine": {
        "version": {"Version": "28.5.1", "ApiVersion": "1.51"},
        "info": {
            "Name": "saved-host",
            "ServerVersion": "28.5.1",
            "Warnings": [
                "[DEPRECATION NOTICE]: API is accessible on http://0.0.0.0:2375 without encryption."
            ],
        },
    },
    "host": {"iptables": False, "userland_proxy": False, "ip6tables": True},
    "containers": [
        {
            "Id": "c1",
            "Name": "/camera",
            "Config": {"Image": "acme/cam:1", "Labels": {}},
            "State": {"Status": "running", "Running": True},
            "HostConfig": {"NetworkMode": "lan", "CapDrop": ["NET_RAW"]},
            "NetworkSettings": {
                "Ports": {},
                "Networks": {"lan": {"NetworkID": "n-lan", "IPAddress": "192.168.1.50"}},
            },
        }
    ],
    "networks": [
        {
            "Name": "bridge",
            "Id": "n-bridge",
            "Driver": "bridge",
            "Scope": "local",
            "Internal": False,
            "Options": {
                "com.docker.network.bridge.default_bridge": "true",
                "com.docker.network.bridge.enable_icc": "false",
                "com.docker.network.bridge.host_binding_ipv4": "127.0.0.1",
            },
        },
        {
            "Name": "lan",
            "Id": "n-lan",
            "Driver": "macvlan",
            "Scope": "local",
            "Internal": False,
            "Options": {"parent": "eth0"},
        },
        {
            "Name": "mesh",
            "Id": "n-mesh",
            "Driver": "overlay",
            "Scope": "swarm",
            "Internal": False,
            "Options": {},
        },
        {
            "Name": "secure",
            "Id": "n-sec",
            "Driver": "overlay",
            "Scope": "swarm",
            "Internal": False,
            "Options": {"encrypted": ""},
        },
    ],
}


def test_saved_snapshot_shows_the_rules_a_single_host_cannot(tmp_path):
    path = tmp_path / "saved.json"
    path.write_text(json.dumps(SAVED))
    result = scan_json(str(path))
    got = sorted(
        (f["rule_id"], f["resource"]["name"], f["severity"], f["message"]) for f in result["findings"]
    )
    assert got == [
        (
            "HOST001",
            "saved-host",
            "critical",
            "The Docker API listens on http://0.0.0.0:2375 without TLS client verification: anyone who can reach it gets root on the host.",
        ),
        (
            "HOST005",
            "saved-host",
            "medium",
            "Docker's iptables management is disabled: network isolation and published-port rules are not maintained by Docker.",
        ),
        (
            "NET007",
            "camera",
            "medium",
            "camera is attached to macvlan network lan on parent interface eth0: it sits directly on the LAN.",
        ),
        (
            "NET008",
            "mesh",
            "medium",
            "overlay network mesh is not encrypted: traffic between nodes is sent in clear text.",
        ),
    ]
