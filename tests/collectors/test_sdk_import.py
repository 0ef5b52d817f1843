"""The Docker SDK is imported without paramiko unless an engine of the scan is reached over SSH."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
from auditor.collectors.sdk import import_sdk
import_sdk(sys.argv[1:])
import docker.transport
loaded = sorted(m for m in sys.modules if m == 'paramiko' or m.startswith('paramiko.'))
print(json.dumps({'docker': 'docker' in sys.modules, 'paramiko': bool(loaded),
                  'ssh_adapter': hasattr(docker.transport, 'SSHHTTPAdapter')}))
import paramiko  # still importable by whatever needs it later
"""


def probe(*addresses: str) -> dict[str, bool]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *addresses], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(proc.stdout)


def test_a_local_socket_engine_gets_the_sdk_without_paramiko():
    assert probe("unix:///var/run/docker.sock", "tcp://198.18.0.1:2375") == {
        "docker": True,
        "paramiko": False,
        "ssh_adapter": False,
    }


def test_an_ssh_engine_gets_the_sdk_with_its_ssh_adapter():
    assert probe("unix:///var/run/docker.sock", "ssh://auditor@198.18.0.1") == {
        "docker": True,
        "paramiko": True,
        "ssh_adapter": True,
    }
