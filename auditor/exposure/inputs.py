"""What of a snapshot the exposure analysis reads: ``exposure_inputs`` strips a snapshot to
those fields, so two snapshots with equal inputs have the same exposure.

Kept apart from the analysis and imports only the model: a scan checks a result computed
ahead of time (``collectors.ahead``) against these inputs without loading the analysis,
which it then never runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.model.exposure import HostDumps
from auditor.model.records import Container, DaemonFacts, Endpoint, Network, PortBinding, Snapshot


@dataclass(frozen=True)
class ExposureInputs:
    """Everything of a snapshot the analysis reads, and nothing else: the containers, networks
    and daemon facts stripped to the fields ``analyze_exposure`` uses, and the host dumps.
    ``exposure_from`` analyses only these, so two snapshots with equal inputs have the same
    exposure (how a result computed ahead of time is checked before it is used)."""

    containers: tuple[Container, ...]
    networks: tuple[Network, ...]
    daemon: DaemonFacts
    dumps: HostDumps | None


def _binding(b: PortBinding) -> PortBinding:
    return PortBinding(b.container_port, b.protocol, b.host_ip, b.host_port, b.host_port_end, b.published)


def _container(c: Container) -> Container:
    running = c.state in (None, "running")  # the analysis skips the others: only their addresses count
    return Container(
        name=c.name,
        id=c.id,
        state=c.state,
        network_mode=c.network_mode,
        endpoints=tuple(
            Endpoint(e.network, ipv4_address=e.ipv4_address, ipv6_address=e.ipv6_address) for e in c.endpoints
        ),  # fmt: skip
        ports=tuple(sorted((_binding(b) for b in c.ports), key=_binding_order)) if running else (),
    )


def _binding_order(b: PortBinding) -> tuple:
    """One order for a container's bindings whatever the order its source listed them in
    (inspect and container list differ): by port, then host address and port."""
    return (b.container_port, b.protocol, b.published, b.host_ip, b.host_port or 0, b.host_port_end or 0)


def exposure_inputs(snapshot: Snapshot) -> ExposureInputs:
    return ExposureInputs(
        tuple(_container(c) for c in snapshot.containers),
        tuple(Network(n.name, id=n.id, driver=n.driver, options=n.options) for n in snapshot.networks),
        DaemonFacts(userland_proxy=snapshot.daemon.userland_proxy),
        snapshot.host_dumps,
    )
