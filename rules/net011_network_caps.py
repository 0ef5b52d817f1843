"""NET011: a capability that reaches into the network (or the kernel under it) is added.

One finding per ``cap_add`` entry, pointing at its line; live containers are read from
``HostConfig.CapAdd``. Host networking raises the severity: the capability then applies to
the host's own interfaces and firewall.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.records import Container, Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cis, cwe, name_of
from .net010_privileged import shared_networks

# capability -> (what it allows, severity alone, severity with host networking)
NETWORK_CAPS: dict[str, tuple[str, Severity, Severity]] = {
    "ALL": ("every capability, the network ones included", Severity.HIGH, Severity.CRITICAL),
    "SYS_MODULE": (
        "loading kernel modules into the host kernel (netfilter included)",
        Severity.HIGH,
        Severity.CRITICAL,
    ),
    "SYS_ADMIN": (
        "mounts, namespaces and many network administration calls",
        Severity.HIGH,
        Severity.CRITICAL,
    ),
    "NET_ADMIN": (
        "changing interfaces, routes and firewall rules, and promiscuous capture",
        Severity.MEDIUM,
        Severity.CRITICAL,
    ),
    "BPF": ("loading BPF programs that can filter and redirect traffic", Severity.MEDIUM, Severity.HIGH),
    "NET_RAW": ("raw sockets: packet capture, ARP and DNS spoofing", Severity.LOW, Severity.HIGH),
}

META = RuleMeta(
    id="NET011",
    title="Network-relevant capability added to a container",
    severity=Severity.HIGH,
    other_severities=(
        (Severity.CRITICAL, "for ALL, SYS_MODULE, SYS_ADMIN or NET_ADMIN with host networking"),
        (Severity.MEDIUM, "for NET_ADMIN or BPF in the container's own network namespace"),
        (Severity.LOW, "for NET_RAW (a default capability, added back) without host networking"),
    ),
    rationale=(
        "NET_ADMIN lets a process reconfigure interfaces, routes and the firewall and capture "
        "traffic; NET_RAW gives raw sockets for sniffing and spoofing; SYS_MODULE loads code into "
        "the host kernel; SYS_ADMIN and ALL come close to privileged mode. In the container's own "
        "namespace the damage stays there (or reaches the containers sharing a network with it); "
        "with host networking the host's own network is changed."
    ),
    remediation=(
        "Remove the compose `cap_add:` entry (`docker run --cap-add`) unless the service cannot work without "
        "it; start from `cap_drop: [ALL]` and add back only what is needed. A service that really "
        "needs NET_ADMIN should not also use `network_mode: host`, and should sit on a network "
        "of its own."
    ),
    references=(
        cis("5.3", "Ensure that Linux kernel capabilities are restricted within containers"),
        cwe(250, "Execution with Unnecessary Privileges"),
    ),
)


def _severity(container: Container, cap: str, shared: list[str]) -> Severity:
    _, alone, with_host = NETWORK_CAPS[cap]
    if container.uses_host_network:
        return with_host
    if cap == "NET_ADMIN" and (shared or container.joined_namespace):
        return Severity.HIGH  # it can reconfigure a network namespace or segment others use
    return alone


def check(snapshot: Snapshot) -> Iterator[Observation]:
    for container in snapshot.containers:
        if container.privileged:
            continue  # NET010 says it: privileged already holds every capability
        shared = None
        for index, cap in enumerate(container.cap_add):
            if cap not in NETWORK_CAPS:
                continue
            if shared is None:
                shared = shared_networks(snapshot, container)
            allows = NETWORK_CAPS[cap][0]
            if container.uses_host_network:
                context = " in the host's network namespace, so on the host's own network"
            elif container.joined_namespace:
                context = f" in the network namespace it shares with {container.joined_namespace}"
            elif shared:
                context = f" on {', '.join(shared)}, shared with other containers"
            else:
                context = ""
            yield Observation(
                subject=container,
                message=f"{name_of(container)} adds {cap} ({allows}){context}.",
                key=f"cap_add:{cap}",
                evidence=(("capability", cap), ("network_mode", container.network_mode)),
                severity=_severity(container, cap, shared),
                origin=container.cap_add_origin(index),
            )


RULE = Rule(META, check)
