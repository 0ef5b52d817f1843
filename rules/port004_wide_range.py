"""PORT004: a wide host port range (100 ports or more) is published.

Running containers list every port of a range separately, so contiguous host ports of one
container and protocol are joined into runs before counting.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.records import Container, Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cis, cwe, name_of

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
        "`-p 10000-20000:10000-20000/udp`; in compose `ports: [\"10000-10019:10000-10019/udp\"]`. "
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


def _host_ports(container: Container) -> dict[str, tuple[set[int], set[str]]]:
    by_proto: dict[str, tuple[set[int], set[str]]] = {}
    for port in container.published_ports:
        if port.host_port is None:
            continue  # ephemeral ports are not a published range
        numbers, addresses = by_proto.setdefault(port.protocol, (set(), set()))
        numbers.update(range(port.host_port, port.host_port + port.host_port_count))
        addresses.add(port.host_ip or "*")
    return by_proto


def check(snapshot: Snapshot) -> Iterator[Observation]:
    for container in snapshot.containers:
        for proto, (numbers, addresses) in sorted(_host_ports(container).items()):
            for start, end in runs(numbers):
                count = end - start + 1
                if count < WIDE:
                    continue
                shown = ", ".join(sorted(addresses))
                yield Observation(
                    subject=container,
                    message=(
                        f"{name_of(container)} publishes {count} host ports "
                        f"{start}-{end}/{proto} on {shown}."
                    ),
                    key=f"{proto}:{start}-{end}",
                    evidence=(("host_ports", f"{start}-{end}/{proto}"), ("count", str(count)), ("addresses", shown)),
                )


RULE = Rule(META, check)
