"""NET006: a network that holds only backend services (datastores, queues, search) is not
``internal``, so they can open connections to the outside world.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cwe, docs, name_of, user_networks
from .services import backend_service

META = RuleMeta(
    id="NET006",
    title="Backend-only network is not internal",
    severity=Severity.LOW,
    rationale=(
        "Datastores and queues only need to be reached by the application; they never need "
        "to open connections to the internet. On a non-internal network a compromised "
        "database can exfiltrate data or fetch tooling. An internal network has no route out."
    ),
    remediation=(
        "Make the network internal: `docker network create --internal backend`, in compose "
        "`networks: {backend: {internal: true}}`, and attach the application to both its "
        "front network and the backend network."
    ),
    references=(
        cwe(923, "Improper Restriction of Communication Channel to Intended Endpoints"),
        docs(
            "Docker docs: docker network create --internal",
            "https://docs.docker.com/reference/cli/docker/network/create/",
        ),
    ),
)


def check(snapshot: Snapshot) -> Iterator[Observation]:
    for net in user_networks(snapshot):
        if net.internal is not False or net.driver not in ("bridge", "overlay"):
            continue
        members = snapshot.members(net.name)
        if not members:
            continue
        backends = [(m, backend_service(m)) for m in members]
        if any(service is None for _, service in backends):
            continue
        listed = ", ".join(sorted(f"{name_of(m)} ({service.name})" for m, service in backends if service))
        yield Observation(
            subject=net,
            message=f"network {net.name} holds only backend services ({listed}) but is not internal.",
            key="internal",
            evidence=(("internal", "false"), ("members", listed)),
        )


RULE = Rule(META, check)
