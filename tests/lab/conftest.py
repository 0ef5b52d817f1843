"""Lab fixtures: one lab per package or module, started only when a test asks for it.

Lab tests need root, ``ip``, ``nsenter``, ``unshare``, ``openssl`` and ``dockerd`` besides the
machine's engine (the test image is saved from it). Without them the tests are skipped, or fail
when ``AUDITOR_REQUIRE_ENGINE=1`` (the README's test command) says they must run.
"""

from __future__ import annotations

import os
import shutil

import pytest
from support.lab import EngineConfig, Lab, TcpApi
from support.lab import machine as machine_state

TOOLS = ("ip", "nsenter", "unshare", "openssl", "dockerd", "iptables-save")

# The package's shared lab: three engines configured three ways, two outside hosts.
SETTINGS_LAB = (
    EngineConfig("e1", macvlan_parent=True, tcp=TcpApi(port=2375)),
    EngineConfig(
        "e2",
        daemon={"icc": False, "userland-proxy": False, "ip": "127.0.0.1"},
        tcp=TcpApi(port=2375, bind="0.0.0.0"),
    ),
    EngineConfig(
        "e3",
        daemon={"ipv6": True, "ip6tables": True, "experimental": True},
        tcp=TcpApi(port=2376, tls=True),
        forwarding=True,
    ),
)


def missing_prerequisites() -> list[str]:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if os.geteuid() != 0:
        missing.append("root")
    return missing


@pytest.fixture(scope="session")
def lab_ready(docker_client, pytestconfig):
    missing = missing_prerequisites()
    if missing:
        message = f"the engine lab needs {', '.join(missing)}"
        if os.environ.get("AUDITOR_REQUIRE_ENGINE") == "1":
            pytest.fail(message)
        pytest.skip(message)
    pytestconfig.stash[machine_state.BEFORE_LABS] = machine_state.capture(
        docker_client
    )  # for tests/lab_after
    return docker_client


@pytest.fixture(scope="package")
def settings_lab(lab_ready, test_image):
    with Lab(SETTINGS_LAB, outside=["laptop", "attacker"], image_source=lab_ready) as lab:
        yield lab


# The exposure proofs' lab (tests/lab/test_exposure_*.py): four engines configured the ways
# issue 13 names, a LAN host for each with routes to its bridges, a host beyond a router.
EXPOSURE_LAB = (
    EngineConfig("plain"),
    EngineConfig("fwd", forwarding=True),
    EngineConfig("noproxy", daemon={"userland-proxy": False}),
    EngineConfig("six", daemon={"ipv6": True, "ip6tables": True, "experimental": True}),
)


@pytest.fixture(scope="package")
def exposure_lab(lab_ready, test_image):
    from support.exposure_lab import ExposureLab

    lan_hosts = [f"lan{i}" for i in range(1, len(EXPOSURE_LAB) + 1)]  # one per engine
    with Lab(EXPOSURE_LAB, outside=lan_hosts, internet=["remote"], image_source=lab_ready) as lab:
        yield ExposureLab.start(lab, {"plain": {"host_service": True}, "six": {"ipv6": True}})
