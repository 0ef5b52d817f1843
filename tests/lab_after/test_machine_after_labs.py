"""After every lab test of the session: the machine is as the first lab test found it.

``ip netns``, the machine's links, the Docker-family processes (and anything naming a lab
directory), ``iptables-save`` and ``ip6tables-save``, lab mounts and cgroups, compared exactly
with the capture ``lab_ready`` took before the first lab started (``support.lab.machine``; what
other sessions change on the machine's engine meanwhile is told apart by name and address).
This package sorts after ``tests/lab``, so the package-wide lab is closed by the time it runs.
"""

from __future__ import annotations

import os

import pytest
from support.lab import machine as machine_state
from support.lab import reaper, system

pytestmark = [pytest.mark.lab, pytest.mark.engine]


def test_the_lab_tests_left_the_machine_as_they_found_it(pytestconfig, docker_client):
    before = pytestconfig.stash.get(machine_state.BEFORE_LABS, None)
    if before is None:
        pytest.skip("no lab test ran in this session")
    assert machine_state.settle(before, docker_client) == []
    mine = f"{os.getpid()}-"
    assert [n for n in system.list_lab_netns() if n.startswith(f"audlab-{mine}")] == []
    assert (
        not reaper.DEFAULT_BASE.is_dir()
        or [p.name for p in reaper.DEFAULT_BASE.iterdir() if p.name.startswith(mine)] == []
    )
