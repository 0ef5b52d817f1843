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
    """A fingerprint key for a binding: stable across re-creation and stop/start.

    Wildcard bindings share one key whether written as empty, ``0.0.0.0`` or ``::`` (a
    running container shows both families, a stopped one shows the requested empty IP), and
    ephemeral host ports never enter it.
    """
    ip = "*" if port.is_all_interfaces else port.host_ip
    return f"{ip}:{port.container_port}/{port.protocol}"


def wildcard_groups(container: Container) -> Iterator[tuple[PortBinding, tuple[str, ...]]]:
    """A container's all-interface bindings, one per port, with the address families seen.

    Docker reports a port published on all interfaces twice (``0.0.0.0`` and ``::``);
    reviewers want one finding that names both.
    """
    groups: dict[tuple, list[PortBinding]] = {}
    for port in container.published_ports:
        if port.is_all_interfaces:
            groups.setdefault((port.container_port, port.protocol, port.host_port), []).append(port)
    for bindings in groups.values():
        addresses = tuple(dict.fromkeys(b.host_ip or "*" for b in bindings))
        yield bindings[0], addresses


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
