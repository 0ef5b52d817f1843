"""HOST006: ports published without an address bind to all interfaces (the daemon's ``ip``).

Fires only when the daemon facts it needs are known (see ``needs``).
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cis, cwe

META = RuleMeta(
    id="HOST006",
    title="Default bind address for published ports is all interfaces",
    severity=Severity.LOW,
    rationale=(
        'A port published without an address (`-p 8080:80`, compose `"8080:80"`) binds to '
        "the daemon's `ip` setting, which defaults to 0.0.0.0: every forgotten host address "
        "becomes a port open to the world. A loopback default makes exposure opt-in."
    ),
    remediation=(
        'Set `"ip": "127.0.0.1"` in /etc/docker/daemon.json (or `dockerd --ip=127.0.0.1`) '
        "and publish public ports explicitly: `docker run -p 0.0.0.0:443:443 ...`. For one "
        "network: `docker network create -o com.docker.network.bridge.host_binding_ipv4=127.0.0.1 app`."
    ),
    references=(
        cis("5.14", "Ensure that incoming container traffic is bound to a specific host interface"),
        cwe(1327, "Binding to an Unrestricted IP Address"),
    ),
    needs=("default_bind_ip",),
)


def check_default_bind(snapshot: Snapshot) -> Iterator[Observation]:
    bind = snapshot.daemon.default_bind_ip
    if bind is None or bind not in ("", "0.0.0.0", "::"):
        return
    yield Observation(
        subject=snapshot.target,
        message=f"The daemon's default bind address is {bind or '0.0.0.0'}: ports published without a host address listen on all interfaces.",
        key="ip",
        evidence=(("ip", bind or "(unset)"),),
    )


RULE = Rule(META, check_default_bind)
