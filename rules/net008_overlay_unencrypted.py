"""NET008: an overlay network carries traffic between hosts without encryption.

Swarm encrypts the control plane, not the data plane: VXLAN packets of an overlay without the
``encrypted`` option cross the hosts' network in clear text.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cwe, docs

META = RuleMeta(
    id="NET008",
    title="Overlay network traffic is not encrypted",
    severity=Severity.MEDIUM,
    rationale=(
        "Overlay networks carry container traffic between swarm nodes in VXLAN packets. "
        "Without the `encrypted` option the payload travels in clear text, readable and "
        "alterable by anyone on the path between the nodes."
    ),
    remediation=(
        "Create the network with IPsec encryption: `docker network create -d overlay "
        "--opt encrypted app`; in compose `networks: {app: {driver: overlay, driver_opts: "
        '{encrypted: ""}}}`. Recreate existing networks (the option cannot be added later).'
    ),
    references=(
        cwe(319, "Cleartext Transmission of Sensitive Information"),
        docs(
            "Docker docs: Encrypt traffic on an overlay network",
            "https://docs.docker.com/engine/network/drivers/overlay/#encrypt-traffic-on-an-overlay-network",
        ),
    ),
)


def check(snapshot: Snapshot) -> Iterator[Observation]:
    for net in snapshot.networks:
        if net.driver != "overlay" or net.option("encrypted") is not None:
            continue
        kind = "ingress overlay" if net.ingress else "overlay"
        yield Observation(
            subject=net,
            message=f"{kind} network {net.name} is not encrypted: traffic between nodes is sent in clear text.",
            key="encrypted",
            evidence=(("driver", "overlay"), ("encrypted", "false")),
        )


RULE = Rule(META, check)
