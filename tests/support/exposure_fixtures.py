"""Load a ``tests/fixtures/netfilter/<scenario>`` directory into model records and facts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from auditor.collectors.inspect import normalize_container, normalize_network
from auditor.exposure.analysis import analyze_exposure
from auditor.exposure.facts import FirewallFacts, HostNetwork, load_dumps
from auditor.exposure.matrix import ExposureMatrix
from auditor.model.records import Container, Network, SourceKind, Target

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "netfilter"
TARGET = Target(SourceKind.SNAPSHOT, "lab", "tests/fixtures/netfilter")


@dataclass(frozen=True)
class Scenario:
    name: str
    containers: tuple[Container, ...]
    networks: tuple[Network, ...]
    firewall: FirewallFacts
    network: HostNetwork
    probes: tuple[dict, ...]

    def analyze(
        self, firewall: FirewallFacts | None = None, network: HostNetwork | None = None, every: bool = False
    ) -> ExposureMatrix:
        return analyze_exposure(
            self.containers,
            self.networks,
            firewall or self.firewall,
            network or self.network,
            every_attempt=every,
        )


def load_scenario(name: str) -> Scenario:
    base = FIXTURES / name
    containers = tuple(
        normalize_container(d, TARGET) for d in json.loads((base / "containers.json").read_text())
    )
    networks = tuple(normalize_network(d, TARGET) for d in json.loads((base / "networks.json").read_text()))
    firewall, network = load_dumps(base)
    probes = json.loads((base / "probes.json").read_text()) if (base / "probes.json").exists() else []
    return Scenario(name, containers, networks, firewall, network, tuple(probes))


def scenarios() -> list[str]:
    return sorted(p.name for p in FIXTURES.iterdir() if (p / "containers.json").exists())
