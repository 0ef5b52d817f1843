"""Small shared helpers for rule modules: references and port iteration."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model import Container, PortBinding, Snapshot
from auditor.rule import Reference


def cis(item: str, title: str) -> Reference:
    return Reference(f"CIS Docker Benchmark {item}: {title}")


def cwe(number: int, title: str) -> Reference:
    return Reference(f"CWE-{number}: {title}", f"https://cwe.mitre.org/data/definitions/{number}.html")


def docs(title: str, url: str) -> Reference:
    return Reference(title, url)


def published_ports(snapshot: Snapshot) -> Iterator[tuple[Container, PortBinding]]:
    """Every published port of every container, in snapshot order."""
    for container in snapshot.containers:
        for port in container.published_ports:
            yield container, port


def port_key(port: PortBinding) -> str:
    """A fingerprint key for a binding: stable across re-creation (no ephemeral host port)."""
    return f"{port.host_ip or '*'}:{port.container_port}/{port.protocol}"


def port_evidence(port: PortBinding) -> tuple[tuple[str, str], ...]:
    host_port = "ephemeral" if port.host_port is None else str(port.host_port)
    if port.host_port_end and port.host_port_end != port.host_port:
        host_port = f"{port.host_port}-{port.host_port_end}"
    return (
        ("binding", port.display()),
        ("host_ip", port.host_ip or "(daemon default: all interfaces)"),
        ("host_port", host_port),
        ("container_port", f"{port.container_port}/{port.protocol}"),
    )


def effective_bind_ip(port: PortBinding, snapshot: Snapshot) -> str:
    """What an empty host IP really means on this daemon, when known."""
    if port.host_ip:
        return port.host_ip
    return snapshot.daemon.default_bind_ip or ""
