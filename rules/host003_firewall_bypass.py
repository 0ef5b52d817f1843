"""HOST003: published ports bypass the host firewall (UFW or firewalld active, nothing in
``DOCKER-USER``), or stay open despite the DOCKER-USER rules someone wrote.

Docker's DNAT happens in PREROUTING and its FORWARD rules accept the traffic, so UFW's and
firewalld's INPUT rules never see packets for published ports. When the scan analysed the
host's firewall (``Snapshot.exposure``), the finding is exact: it names the published ports
that outside clients really reach (and those it could not decide), whatever DOCKER-USER holds;
without that analysis it reasons from "a firewall is active and DOCKER-USER is empty".
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.exposure import OUTSIDE_KINDS, Reach
from auditor.model.records import Container, PortBinding, Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cwe, docs, first_per_key, name_of, reach_of, reaches_beyond_loopback

META = RuleMeta(
    id="HOST003",
    title="Published ports bypass the host firewall",
    severity=Severity.HIGH,
    other_severities=(
        (
            Severity.MEDIUM,
            "when no UFW or firewalld is active and DOCKER-USER rules leave some "
            "published ports reachable from outside (exposure analysis)",
        ),
    ),
    rationale=(
        "Operators trust UFW or firewalld to close ports, but Docker rewrites packets for "
        "published ports before the INPUT chain that those tools manage: a `ufw deny 5432` "
        "does nothing for a container published on 5432. Only rules in the DOCKER-USER chain "
        "filter container traffic."
    ),
    remediation=(
        "Filter container traffic in DOCKER-USER, e.g. allow only the LAN to reach published "
        "ports: `iptables -I DOCKER-USER -i eth0 ! -s 192.168.1.0/24 -j DROP` (persist it with "
        "your firewall tool), and bind ports that need no outside access to loopback: "
        '`docker run -p 127.0.0.1:5432:5432 ...` / compose `ports: ["127.0.0.1:5432:5432"]`.'
    ),
    references=(
        cwe(693, "Protection Mechanism Failure"),
        docs(
            "Docker docs: Docker with ufw / firewalld",
            "https://docs.docker.com/engine/network/packet-filtering-firewalls/",
        ),
    ),
    needs=("ufw_active", "firewalld_active", "docker_user_filters"),
)


def _sample(items: list[str]) -> str:
    return ", ".join(items[:5]) + (f" and {len(items) - 5} more" if len(items) > 5 else "")


def _exact(snapshot: Snapshot, active: list[str]) -> Iterator[Observation]:
    """The published ports the firewall leaves open to outside clients, by the analysis."""
    found: dict[Reach, list[str]] = {Reach.REACHABLE: [], Reach.UNKNOWN: [], Reach.BLOCKED: []}
    seen: set[tuple[str, int, str]] = set()
    ports: list[tuple[Container, PortBinding]] = list(first_per_key(snapshot, lambda p: p.published))
    for container, port in ports:
        reach = reach_of(snapshot, container, port)
        if reach is None or (container.name, port.container_port, port.protocol) in seen:
            continue
        seen.add((container.name, port.container_port, port.protocol))
        verdict = reach.outside_published or Reach.UNKNOWN
        bindings = ", ".join(reach.bindings) or port.display()
        outside = [c for c in reach.cells if c.kind in OUTSIDE_KINDS]
        if verdict is Reach.BLOCKED:
            routed = [c.zone for c in outside if c.verdict is Reach.REACHABLE]
            where = (
                f" (its container port stays reachable by routing to the container from {', '.join(routed)})"
                if routed
                else ""
            )
        else:
            where = ", ".join(c.zone for c in outside if c.published is verdict)
            where = f" from {where}" if where else ""
        found[verdict].append(f"{name_of(container)} {bindings}{where}")
    open_, undecided, closed = (sorted(found[v]) for v in (Reach.REACHABLE, Reach.UNKNOWN, Reach.BLOCKED))
    if not open_ and not undecided:
        return
    filters = snapshot.daemon.docker_user_filters
    are = f"{' and '.join(active)} {'is' if len(active) == 1 else 'are'} active"
    if active and filters is False:
        lead = f"{are} but published ports bypass it (DOCKER-USER has no filtering rules)"
    elif active:
        lead = f"{are} and DOCKER-USER filters container traffic" if filters else are
    else:
        lead = "DOCKER-USER filters container traffic"
    parts = []
    if open_:
        parts.append(f"{len(open_)} published port(s) stay reachable from outside the host: {_sample(open_)}")
    if undecided:
        parts.append(
            f"for {len(undecided)} the analysis could not decide (not shown as protected): {_sample(undecided)}"
        )
    if closed:
        parts.append(f"{len(closed)} blocked from outside: {_sample(closed)}")
    yield Observation(
        subject=snapshot.target,
        message=f"{lead}; " + "; ".join(parts) + ".",
        key="docker-user",
        evidence=(
            ("firewall", ", ".join(active) or "DOCKER-USER"),
            ("docker_user_filters", "unknown" if filters is None else str(filters).lower()),
            ("open_ports", "; ".join(open_)),
            ("undecided_ports", "; ".join(undecided)),
            ("blocked_ports", "; ".join(closed)),
        ),
        severity=None if active else Severity.MEDIUM,
    )


def check(snapshot: Snapshot) -> Iterator[Observation]:
    facts = snapshot.daemon
    active = [name for name, on in (("UFW", facts.ufw_active), ("firewalld", facts.firewalld_active)) if on]
    if snapshot.exposure is not None and (active or facts.docker_user_filters):
        yield from _exact(snapshot, active)
        return
    if not active or facts.docker_user_filters is not False:
        return
    exposed = sorted(
        {
            f"{name_of(c)} {p.display()}"
            for c, p in first_per_key(snapshot, lambda p: reaches_beyond_loopback(p, snapshot))
        }
    )
    if not exposed:
        return
    sample = ", ".join(exposed[:3]) + (f" and {len(exposed) - 3} more" if len(exposed) > 3 else "")
    yield Observation(
        subject=snapshot.target,
        message=(
            f"{' and '.join(active)} {'is' if len(active) == 1 else 'are'} active but DOCKER-USER has no "
            f"filtering rules: {len(exposed)} published port(s) bypass the firewall ({sample})."
        ),
        key="docker-user",
        evidence=(
            ("firewall", ", ".join(active)),
            ("docker_user_filters", "false"),
            ("ports", "; ".join(exposed)),
        ),
    )


RULE = Rule(META, check)
