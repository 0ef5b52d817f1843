"""PORT004: a wide host port range (100 ports or more) is published.

One finding per port entry: running containers list every port of a range separately, so a
contiguous run with one offset is one entry. A single container port with a host range
(``12400-12500:1240``) is not wide: Docker binds one port of that range.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cis, cwe, entries, name_of

WIDE = 100

META = RuleMeta(
    id="PORT004",
    title="Wide host port range published",
    severity=Severity.MEDIUM,
    rationale=(
        "Publishing a hundred or more host ports opens a large attack surface that nobody "
        "reviews port by port, often for a service that needs only a few of them (RTP/SIP, "
        "FTP passive ranges, game servers). With the userland proxy each port also costs a "
        "docker-proxy process."
    ),
    remediation=(
        "Publish only the ports the service needs and narrow the range in the service's own "
        "configuration: `docker run -p 10000-10019:10000-10019/udp ...` instead of "
        '`-p 10000-20000:10000-20000/udp`; in compose `ports: ["10000-10019:10000-10019/udp"]`. '
        "Services that need thousands of ports are better served by a dedicated host or "
        "`network_mode: host` on a host that runs nothing else."
    ),
    references=(
        cis("5.8", "Ensure that only needed ports are open on the container"),
        cwe(1327, "Binding to an Unrestricted IP Address"),
    ),
)


def runs(ports: set[int]) -> list[tuple[int, int]]:
    """Contiguous runs in a set of port numbers: ``{1,2,3,7}`` -> ``[(1, 3), (7, 7)]``."""
    out: list[tuple[int, int]] = []
    for number in sorted(ports):
        if out and number == out[-1][1] + 1:
            out[-1] = (out[-1][0], number)
        else:
            out.append((number, number))
    return out


def check(snapshot: Snapshot) -> Iterator[Observation]:
    for container, entry in entries(snapshot, lambda p: p.requested_host_port is not None):
        count = len(entry.bindings)  # host ports really bound: one per container port
        if count < WIDE:
            continue
        first, last = entry.bindings[0], entry.bindings[-1]
        proto = first.protocol
        start, end = first.host_port, last.host_port
        shown = ", ".join(entry.addresses)
        yield Observation(
            subject=container,
            message=f"{name_of(container)} publishes {count} host ports {start}-{end}/{proto} on {shown}.",
            key=f"{proto}:{start}-{end}",
            evidence=(
                ("host_ports", f"{start}-{end}/{proto}"),
                ("count", str(count)),
                ("addresses", shown),
                ("binding", entry.display()),
            ),
            origin=first.origin,
        )


RULE = Rule(META, check)
