"""daemon_process on real daemons: each lab socket leads to its own dockerd, config and netns."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from auditor.collectors.daemon_process import find_daemon
from auditor.collectors.host_facts import parse_daemon_json

pytestmark = [pytest.mark.lab, pytest.mark.engine]


def without_comments(dump: str) -> list[str]:
    return [line for line in dump.splitlines() if not line.startswith("#")]


@pytest.mark.parametrize("name", ["e1", "e2", "e3"])
def test_lab_socket_leads_to_that_engines_daemon(settings_lab, name):
    engine = settings_lab.engines[name]
    found = find_daemon(engine.url)
    assert found.reason is None
    assert found.holders == ((engine.pid, "dockerd"),)
    daemon = found.daemon
    assert daemon.pid == engine.pid
    assert daemon.argv[:3] == ("dockerd", "--config-file", str(engine.config_file))
    assert (daemon.config_file, daemon.config_present) == (str(engine.config_file), True)
    assert json.loads(daemon.config_text) == json.loads(engine.config_file.read_text())
    assert (daemon.netns_name, daemon.shares_scanner_netns) == (engine.netns, False)


def test_lab_daemon_settings_come_from_its_own_config(settings_lab):
    texts = {n: find_daemon(e.url).daemon.config_text for n, e in settings_lab.engines.items()}
    parsed = {n: parse_daemon_json(t) for n, t in texts.items()}
    assert parsed["e2"]["icc"] is False and parsed["e2"]["userland-proxy"] is False
    assert parsed["e2"]["ip"] == "127.0.0.1"
    assert "icc" not in parsed["e1"]
    assert parsed["e3"]["tlsverify"] is True and parsed["e3"]["ip6tables"] is True


def test_firewall_read_in_the_daemons_namespace_is_that_engines(settings_lab):
    daemon = find_daemon(settings_lab.engines["e2"].url).daemon
    dump = subprocess.run(daemon.nsenter_argv(["iptables-save"]), capture_output=True, text=True, check=True)
    assert without_comments(dump.stdout) == without_comments(settings_lab.iptables_save("e2"))
    assert "-A FORWARD -i docker0 -o docker0 -j DROP" in dump.stdout.splitlines()  # e2's icc off


def test_tcp_addresses_lead_to_the_listening_namespace(settings_lab):
    e1, e2 = settings_lab.engines["e1"], settings_lab.engines["e2"]
    on_address = find_daemon(e1.tcp_url).daemon  # tcp://198.18.0.11:2375, bound to that address
    assert (on_address.pid, on_address.netns_name) == (e1.pid, e1.netns)
    wildcard = find_daemon(f"tcp://{e2.lan_ip}:2375").daemon  # e2 listens on 0.0.0.0:2375
    assert (wildcard.pid, wildcard.netns_name) == (e2.pid, e2.netns)
    loopback = find_daemon("tcp://127.0.0.1:2375")  # e2's port, but loopback is this namespace's
    assert (loopback.daemon, loopback.reason) == (None, "no process listens on 127.0.0.1:2375")


def test_machine_socket_leads_to_the_machines_daemon(lab_ready):
    found = find_daemon("unix:///var/run/docker.sock")
    daemon = found.daemon
    assert daemon.pid == int(Path("/var/run/docker.pid").read_text())
    assert (daemon.netns_name, daemon.shares_scanner_netns) == (None, True)
    assert daemon.config_file == "/etc/docker/daemon.json"
    assert daemon.config_present is Path("/etc/docker/daemon.json").exists()
