"""Clean-up: whatever a lab made is gone afterwards, after an exception, a SIGTERM or a SIGKILL.

"Gone" is checked against a capture of the machine taken before: ``ip netns``, the machine's
links, the Docker-family processes, ``iptables-save``/``ip6tables-save``, mounts and cgroups
(``support.lab.machine``), exactly, apart from what other sessions change on the machine's
engine meanwhile.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import docker.types
import pytest
from support.lab import EngineConfig, Lab, Outcome, reaper, system
from support.lab import machine as machine_state

pytestmark = [pytest.mark.lab, pytest.mark.engine]

CHILD = Path(__file__).parent / "lab_child.py"


class Boom(RuntimeError):
    pass


def assert_machine_unchanged(before, client) -> None:
    assert machine_state.settle(before, client) == []


def start_child() -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen(
        [sys.executable, str(CHILD)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise AssertionError(f"the lab child did not start: {proc.communicate()[1][-2000:]}")
    return proc, json.loads(line)


def listening_sockets(pid: int) -> set[str]:
    """Pathname unix sockets a process listens on (containerd shims keep theirs in /run)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        link = os.readlink(f"/proc/{pid}/fd/{fd}")
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    found = set()
    for line in Path(f"/proc/{pid}/net/unix").read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 8 and fields[6] in inodes and fields[7].startswith("/"):
            found.add(fields[7])
    return found


def test_everything_is_removed_after_an_exception(lab_ready, test_image):
    before = machine_state.capture(lab_ready)
    engines = [EngineConfig("e1", macvlan_parent=True), EngineConfig("e2"), EngineConfig("e3")]
    with pytest.raises(Boom), Lab(engines, outside=["laptop"], image_source=lab_ready) as lab:
        directory = lab.plan.directory
        lab.form_swarm(managers=["e2"], workers=["e3"])
        for options in ({}, {"encrypted": ""}):
            net = lab.engines["e2"].client.networks.create(
                f"ov-{uuid.uuid4().hex[:6]}", driver="overlay", attachable=True, options=options
            )
            for name in ("e2", "e3"):
                lab.engines[name].client.containers.run(lab.image, "sleep 600", detach=True, network=net.name)
        lab.create_service("e2", ["sleep", "600"], endpoint_spec=docker.types.EndpointSpec(ports={18091: 80}))
        lab.create_macvlan("e1", "mv")
        e1 = lab.engines["e1"].client
        e1.containers.run(lab.image, "nc -ll -p 80 -e echo x", detach=True, ports={"80/tcp": 18092})
        e1.containers.run(lab.image, "sleep 600", detach=True, network="mv")
        lab.route_to_network("laptop", "e1")
        lab.iptables("e1", "-I", "DOCKER-USER", "-s", lab.address("laptop"), "-j", "RETURN")
        assert lab.wait_probe("laptop", lab.address("e1"), 18092).outcome is Outcome.OPEN
        assert system.mounts_under(directory)  # overlays, shm and netns files exist now
        raise Boom("a test failed inside the lab")
    assert not directory.exists()
    assert_machine_unchanged(before, lab_ready)


def test_sigterm_to_the_owner_cleans_up_and_live_labs_are_never_reaped(lab_ready, test_image):
    before = machine_state.capture(lab_ready)
    proc, facts = start_child()
    try:
        assert facts["lab_id"] not in reaper.reap_stale()  # its owner lives: not ours to remove
        assert set(facts["namespaces"]) <= set(system.list_lab_netns())
        assert system.process_alive(facts["dockerd"])
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 143
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert not Path(facts["directory"]).exists()
    assert_machine_unchanged(before, lab_ready)


def test_a_killed_owners_lab_is_reaped_by_the_next_start(lab_ready, test_image):
    before = machine_state.capture(lab_ready)
    proc, facts = start_child()
    marker = facts["directory"] + "/"
    shims = [
        p
        for p in system.all_pids()
        if "containerd-shim" in " ".join(system.cmdline(p)) and marker in " ".join(system.cmdline(p))
    ]
    assert len(shims) == 1
    shim_sockets = listening_sockets(shims[0])
    assert shim_sockets and all(not s.startswith(marker) for s in shim_sockets)  # outside the lab dir
    proc.kill()
    proc.communicate()
    # What a SIGKILL leaves: the namespaces, the daemons, the container, the mounts.
    assert set(facts["namespaces"]) <= set(system.list_lab_netns())
    assert system.process_alive(facts["dockerd"]) and system.process_alive(facts["containerd"])
    assert system.mounts_under(Path(facts["directory"]))
    with Lab([EngineConfig("e1")], image_source=lab_ready, image=None) as lab:
        assert lab.reaped[facts["lab_id"]] == []  # reaped, nothing left over
        assert not set(facts["namespaces"]) & set(system.list_lab_netns())
        assert not system.process_alive(facts["dockerd"]) and not system.process_alive(facts["containerd"])
        assert system.lab_processes(set(), marker) == []
        assert not Path(facts["directory"]).exists()
        assert system.cgroup_dirs(f"audlab-{facts['lab_id']}-") == []
        assert [s for s in shim_sockets if os.path.exists(s)] == []
    assert_machine_unchanged(before, lab_ready)


def test_engine_with_iptables_off_programs_no_rules(lab_ready, test_image):
    """iptables=false: no DOCKER chains, FORWARD left at ACCEPT, published ports carried by
    docker-proxy alone, and a route to the bridge reaches unpublished ports."""
    with Lab(
        [EngineConfig("e1", daemon={"iptables": False})], outside=["laptop"], image_source=lab_ready
    ) as lab:
        assert lab.iptables_save("e1") == ""  # not one table: nothing filters or NATs
        client = lab.engines["e1"].client
        client.containers.run(lab.image, "nc -ll -p 80 -e echo proxied", detach=True, ports={"80/tcp": 18093})
        hidden = client.containers.run(lab.image, "nc -ll -p 81 -e echo hidden", detach=True)
        published = lab.wait_probe("laptop", lab.address("e1"), 18093, banner=True)
        assert (published.outcome, published.banner) == (Outcome.OPEN, b"proxied\n")
        lab.route_to_network("laptop", "e1")
        hidden.reload()
        direct = lab.wait_probe("laptop", hidden.attrs["NetworkSettings"]["IPAddress"], 81, banner=True)
        assert (direct.outcome, direct.banner) == (Outcome.OPEN, b"hidden\n")
