"""HOST001: the Docker API listens on TCP without TLS client verification.

Anyone who can reach the port controls the daemon, and so the host (root), with no password.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from urllib.parse import urlsplit

from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cis, cwe, docs

META = RuleMeta(
    id="HOST001",
    title="Docker API exposed on TCP without TLS",
    severity=Severity.CRITICAL,
    other_severities=((Severity.HIGH, "when the API listens on loopback only"),),
    rationale=(
        "The Engine API has no authentication of its own: TLS client certificates "
        "(`tlsverify`) are the only thing between a TCP listener and full root access to the "
        "host. Internet scanners look for port 2375 continuously and hijacked daemons are used "
        "for cryptomining within hours."
    ),
    remediation=(
        "Remove the `tcp://` entry from `hosts` in /etc/docker/daemon.json (or `-H tcp://...` "
        "from the dockerd command line) and use SSH instead: `docker -H ssh://user@host ...`. "
        "If TCP is required, enable mutual TLS: `dockerd --tlsverify --tlscacert=ca.pem "
        "--tlscert=server-cert.pem --tlskey=server-key.pem -H tcp://0.0.0.0:2376`."
    ),
    references=(
        cis("2.6", "Ensure TLS authentication for Docker daemon is configured"),
        cwe(306, "Missing Authentication for Critical Function"),
        docs(
            "Docker docs: Protect the Docker daemon socket",
            "https://docs.docker.com/engine/security/protect-access/",
        ),
    ),
    needs=("tcp_api_without_tls",),
)


def _loopback_only(endpoint: str) -> bool:
    host = urlsplit(endpoint if "://" in endpoint else f"tcp://{endpoint}").hostname or ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def check(snapshot: Snapshot) -> Iterator[Observation]:
    facts = snapshot.daemon
    if not facts.tcp_api_without_tls:
        return
    endpoints = facts.tcp_api_endpoints or ("a TCP address",)
    local = all(_loopback_only(e) for e in facts.tcp_api_endpoints) if facts.tcp_api_endpoints else False
    message = f"The Docker API listens on {', '.join(endpoints)} without TLS client verification"
    if local:
        message += (
            ": only loopback, so any local user or process (and any container on the host "
            "network) gets root on the host."
        )
    else:
        message += ": anyone who can reach it gets root on the host."
    yield Observation(
        subject=snapshot.target,
        message=message,
        key="tcp-api",
        evidence=(("endpoints", ", ".join(facts.tcp_api_endpoints) or "unknown"),),
        severity=Severity.HIGH if local else None,
    )


RULE = Rule(META, check)
