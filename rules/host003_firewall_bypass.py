"""HOST003: published ports bypass the host firewall (UFW or firewalld active, nothing in
``DOCKER-USER``).

Docker's DNAT happens in PREROUTING and its FORWARD rules accept the traffic, so UFW's and
firewalld's INPUT rules never see packets for published ports.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cwe, docs, first_per_key, name_of, reaches_beyond_loopback

META = RuleMeta(
    id="HOST003",
    title="Published ports bypass the host firewall",
    severity=Severity.HIGH,
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
        "`docker run -p 127.0.0.1:5432:5432 ...` / compose `ports: [\"127.0.0.1:5432:5432\"]`."
    ),
    references=(
        cwe(693, "Protection Mechanism Failure"),
        docs("Docker docs: Docker with ufw / firewalld", "https://docs.docker.com/engine/network/packet-filtering-firewalls/"),
    ),
    needs=("ufw_active", "firewalld_active", "docker_user_filters"),
)


def check(snapshot: Snapshot) -> Iterator[Observation]:
    facts = snapshot.daemon
    active = [name for name, on in (("UFW", facts.ufw_active), ("firewalld", facts.firewalld_active)) if on]
    if not active or facts.docker_user_filters is not False:
        return
    exposed = sorted(
        {f"{name_of(c)} {p.display()}" for c, p in first_per_key(snapshot, lambda p: reaches_beyond_loopback(p, snapshot))}
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
        evidence=(("firewall", ", ".join(active)), ("docker_user_filters", "false"), ("ports", "; ".join(exposed))),
    )


RULE = Rule(META, check)
