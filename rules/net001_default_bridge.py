"""NET001: a container is attached to the default bridge (``docker0``).

Every container started without ``--network`` lands there and can reach every other such
container on any port (when ``icc`` is on), with no name resolution to scope who talks to whom.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cis, cwe, name_of

META = RuleMeta(
    id="NET001",
    title="Container attached to the default bridge network",
    severity=Severity.MEDIUM,
    rationale=(
        "The default bridge is shared by every container started without a network, so "
        "unrelated workloads can reach each other on all ports. User-defined networks isolate "
        "groups of containers and give them DNS by name."
    ),
    remediation=(
        "Create a network per application and attach to it: `docker network create app && "
        "docker run --network app ...`. Compose does this already: do not set "
        '`network_mode: bridge`. Consider `"icc": false` in daemon.json for the default bridge.'
    ),
    references=(
        cis("5.29", "Ensure that Docker's default bridge docker0 is not used"),
        cwe(923, "Improper Restriction of Communication Channel to Intended Endpoints"),
    ),
)


def check(snapshot: Snapshot) -> Iterator[Observation]:
    default_names = {n.name for n in snapshot.networks if n.is_default_bridge} | {"bridge"}
    for container in snapshot.containers:
        on_default = any(name in default_names for name in container.network_names)
        if not container.endpoints and container.network_mode in ("bridge", "default"):
            on_default = container.kind == "container"  # stopped containers keep no endpoints
        if container.network_mode == "bridge":
            on_default = True
        if not on_default:
            continue
        yield Observation(
            subject=container,
            message=f"{name_of(container)} is attached to the default bridge network.",
            key="bridge",
            evidence=(
                ("network_mode", container.network_mode),
                ("networks", ", ".join(container.network_names) or "-"),
            ),
            origin=container.network_mode_origin or container.origin,
        )


RULE = Rule(META, check)
