"""The scanner reads the facts of the engine it scans: three lab engines configured three ways
(``settings_lab``) and the machine's engine, each scanned with its own daemon's command line,
config file and firewall, live and from a snapshot; a proxy in front of a socket leaves them
unknown instead of borrowing them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from support.proxies import DockerProxy

from auditor.collectors.daemon_facts import read_host_facts

from .scanning import auditor, rule_ids, scan, snapshot

pytestmark = [pytest.mark.lab, pytest.mark.engine]

MACHINE = "unix:///var/run/docker.sock"
DEFAULTS_20_10 = {
    "icc": True,
    "userland_proxy": True,
    "iptables": True,
    "ip6tables": False,
    "ipv6": False,
    "allow_direct_routing": False,
    "tcp_api_without_tls": False,
    "docker_user_filters": False,
    "ufw_active": False,
    "firewalld_active": False,
}
DAEMON_LABELS = (  # what the report lists as not checked when the daemon is not read
    "daemon userland-proxy setting",
    "daemon iptables setting",
    "daemon ip6tables setting",
    "host firewall: firewalld status",
    "host firewall: UFW status",
    "host firewall: DOCKER-USER chain rules",
    "daemon allow-direct-routing setting",
    "daemon ipv6 setting",
)


def expected_host(lab, name: str) -> dict:
    engine = lab.engines[name]
    own = {
        "e1": {"tcp_api_without_tls": True, "tcp_api_endpoints": [f"tcp://{engine.lan_ip}:2375"]},
        "e2": {
            "icc": False,
            "userland_proxy": False,
            "default_bind_ip": "127.0.0.1",
            "tcp_api_without_tls": True,
            "tcp_api_endpoints": ["tcp://0.0.0.0:2375"],
        },
        "e3": {"ipv6": True, "ip6tables": True},
    }[name]
    sources = [
        f"dockerd command line (pid {engine.pid})",
        str(engine.config_file),
        f"iptables-save in netns {engine.netns}",
        f"nft -j list ruleset in netns {engine.netns}",
    ]
    return {**DEFAULTS_20_10, **own, "sources": sources}


@pytest.fixture(scope="module")
def snapshots(settings_lab, tmp_path_factory):
    folder = tmp_path_factory.mktemp("snapshots")
    return {
        n: (folder / f"{n}.json", snapshot(e.url, str(folder / f"{n}.json")))
        for n, e in settings_lab.engines.items()
    }


@pytest.fixture(scope="module")
def live(settings_lab):
    """One scan of the three lab engines (concurrently, as a fleet)."""
    return scan(*(e.url for e in settings_lab.engines.values()))


def about(report: dict, host: str) -> list[tuple[str, str, str, str]]:
    """(rule, resource, message, fingerprint) of the findings on one host, sorted."""
    return sorted(
        (f["rule_id"], f["resource"]["name"], f["message"], f["fingerprint"])
        for f in report["findings"]
        if f["resource"]["host"] == host
    )


def target(report: dict, name: str) -> dict:
    return next(t for t in report["targets"] if t["name"] == name)


@pytest.mark.parametrize("name", ["e1", "e2", "e3"])
def test_snapshot_records_the_scanned_engines_own_daemon_facts(settings_lab, snapshots, name):
    _path, doc = snapshots[name]
    assert doc["host"] == expected_host(settings_lab, name)
    assert doc["target"]["name"] == name
    assert doc["notes"] == []


def test_offline_scan_of_the_snapshots_gives_the_live_scans_findings(snapshots, live):
    proc = auditor(
        "scan", *(str(path) for path, _doc in snapshots.values()), "-f", "json", "--fail-on", "none"
    )
    assert proc.returncode == 0, proc.stderr
    offline = json.loads(proc.stdout)
    for name in snapshots:
        assert about(offline, name) == about(live, name) != []
        assert target(offline, name)["not_checked"] == target(live, name)["not_checked"] == []


def test_each_engines_scan_shows_its_own_daemon_settings(live):
    """e1 runs with the defaults, e2 with icc and the userland proxy off and ``ip`` 127.0.0.1:
    a scanner that borrowed either daemon's settings for the other would get this wrong."""
    daemon_rules = {"HOST004", "HOST006", "NET005"}
    seen = {n: {rule for rule, *_ in about(live, n)} & daemon_rules for n in ("e1", "e2")}
    assert seen == {"e1": {"HOST004", "HOST006", "NET005"}, "e2": set()}


def test_a_tcp_engine_scanned_from_the_lan_is_read_as_its_own_daemon(settings_lab, live):
    """``tcp://198.18.0.11:2375`` from the laptop's namespace leads to e1's dockerd (its
    namespace owns the address): the same facts, so the same findings, as its unix socket."""
    lab = settings_lab
    over_tcp = scan(lab.engines["e1"].tcp_url, lab=lab, where="laptop")
    assert [t["not_checked"] for t in over_tcp["targets"]] == [[]]
    assert about(over_tcp, "e1") == about(live, "e1")


def test_the_machine_engine_is_still_read_as_before(lab_ready, tmp_path):
    doc = snapshot(MACHINE, str(tmp_path / "machine.json"))
    here = dict(read_host_facts(MACHINE, lab_ready.version()["Version"]).facts)
    machine_pid = int(Path("/var/run/docker.pid").read_text())
    # DOCKER-USER may change under other sessions' tests meanwhile; every other fact may not
    assert {k: v for k, v in doc["host"].items() if k != "docker_user_filters"} == {
        k: (list(v) if isinstance(v, tuple) else v) for k, v in here.items() if k != "docker_user_filters"
    }
    assert doc["host"]["sources"][0] == f"dockerd command line (pid {machine_pid})"
    assert "iptables-save" in doc["host"]["sources"]  # the scanner's own namespace: no nsenter
    assert isinstance(doc["host"]["docker_user_filters"], bool)
    report = scan(MACHINE)
    assert [(t["status"], t["not_checked"]) for t in report["targets"]] == [("complete", [])]


def test_a_proxy_in_front_of_the_socket_leaves_the_daemon_facts_unknown(settings_lab, live):
    e1 = settings_lab.engines["e1"]
    comm = Path("/proc/self/comm").read_text().strip()
    with DockerProxy(upstream=str(e1.socket)) as proxy:
        report = scan(proxy.url)
    [target] = report["targets"]
    assert target["notes"] == [
        f"daemon and firewall settings not read: served by {comm} (pid {os.getpid()}), "
        "not by dockerd (a proxy?)"
    ]
    assert set(DAEMON_LABELS) <= set(target["not_checked"])
    assert "HOST004" not in rule_ids(report)  # e1's proxy is on, but that is not known here
    assert "HOST004" in {rule for rule, *_ in about(live, "e1")}
