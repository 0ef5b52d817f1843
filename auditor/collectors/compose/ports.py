"""Compose ``ports`` and ``expose`` entries -> ``PortBinding`` objects, exactly as Docker reads them.

Short syntax ``[[IP:](HOST|RANGE|):]CONTAINER[-END][/PROTO]`` is split the way Docker's own
parser splits it (on ``:``, the last part being the container port, IPv6 host addresses
bracketed or bare), ranges expand to one binding per container port, and a single container
port with a host range keeps the range (Docker picks one port of it). Anything Docker would
reject raises ``PortSpecError``.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from auditor.model.records import Origin, PortBinding

PROTOCOLS = ("tcp", "udp", "sctp")
_DIGITS = re.compile(r"[0-9]+\Z")


class PortSpecError(ValueError):
    """A port entry Docker would reject."""


def _number(text: str) -> int:
    if not _DIGITS.match(text):
        raise ValueError(text)
    value = int(text)
    if value > 65535:
        raise ValueError(text)
    return value


def parse_range(text: str) -> tuple[int, int]:
    """``"80"`` -> (80, 80); ``"8000-8010"`` -> (8000, 8010); as Docker's ParsePortRange."""
    if text == "":
        raise ValueError("empty port")
    if "-" not in text:
        value = _number(text)
        return value, value
    parts = text.split("-")
    start, end = _number(parts[0]), _number(parts[1])
    if end < start:
        raise ValueError(text)
    return start, end


def _split_parts(raw: str) -> tuple[str, str, str]:
    parts = raw.split(":")
    if len(parts) == 1:
        return "", "", parts[0]
    if len(parts) == 2:
        return "", parts[0], parts[1]
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    return ":".join(parts[:-2]), parts[-2], parts[-1]


def _split_proto(raw: str) -> tuple[str, str]:
    port, _, proto = raw.partition("/")
    if not port:
        return "", ""
    return proto or "tcp", port


def check_ip(ip: str) -> str:
    """A host IP as Docker accepts it (no zone index, no leading zeros)."""
    if "%" in ip:
        raise PortSpecError(f"invalid IP address: {ip}")
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        raise PortSpecError(f"invalid IP address: {ip}") from None
    return ip


def parse_short(raw: str, origin: Origin | None = None, entry: int | None = None) -> list[PortBinding]:
    """One short-syntax entry (``"127.0.0.1:8080:80/udp"``) -> its bindings (``entry``: its index in ``ports``)."""
    ip, host, container = _split_parts(raw)
    proto, container = _split_proto(container)
    if ip.startswith("["):
        if not ip.endswith("]") or ip.count("[") != 1:
            raise PortSpecError(f"invalid IP address {ip} in port {raw!r}")
        ip = ip[1:-1]
    if ip:
        try:
            check_ip(ip)
        except PortSpecError:
            raise PortSpecError(f"invalid IP address {ip} in port {raw!r}") from None
    if not container:
        raise PortSpecError(f"no container port specified in {raw!r}")
    try:
        start, end = parse_range(container)
    except ValueError:
        raise PortSpecError(f"invalid container port {container!r} in {raw!r}") from None
    if start == 0:
        raise PortSpecError(f"container port 0 is not a port in {raw!r}")
    host_start = host_end = 0
    if host:
        try:
            host_start, host_end = parse_range(host)
        except ValueError:
            raise PortSpecError(f"invalid host port {host!r} in {raw!r}") from None
        if (end - start) != (host_end - host_start) and end != start:
            raise PortSpecError(
                f"invalid ranges: container {container} and host {host} differ in length in {raw!r}"
            )
    proto = proto.lower()
    if proto not in PROTOCOLS:
        raise PortSpecError(f"invalid protocol {proto!r} in port {raw!r} (tcp, udp or sctp)")
    out = []
    for offset in range(end - start + 1):
        host_port: int | None = None
        host_port_end: int | None = None
        if host:
            if start == end and host_start != host_end:
                host_port, host_port_end = host_start, host_end
            else:
                host_port = host_start + offset
        out.append(
            PortBinding(
                container_port=start + offset,
                protocol=proto,
                host_ip=ip,
                host_port=host_port or None,
                host_port_end=host_port_end,
                origin=origin,
                entry=entry,
            )
        )
    return out


def _int_field(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise PortSpecError(f"port {name} must be a number, not {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.match(value.strip()):
        number = int(value.strip())
    else:
        raise PortSpecError(f"port {name} must be a number, not {value!r}")
    if not 0 <= number <= 65535:
        raise PortSpecError(f"port {name} {number} is out of range")
    return number


def parse_long(entry: dict, origin: Origin | None = None, index: int | None = None) -> list[PortBinding]:
    """One long-syntax entry (``target``, ``published``, ``host_ip``, ``protocol``, ``mode``)."""
    if "target" not in entry or entry["target"] is None:
        raise PortSpecError("port entry has no target")
    target = _int_field(entry["target"], "target")
    if target == 0:
        raise PortSpecError("port target 0 is not a port")
    published = entry.get("published")
    host_port = host_end = None
    if published is not None and published != "":
        if isinstance(published, bool) or not isinstance(published, (int, str)):
            raise PortSpecError(f"port published must be a number or range, not {published!r}")
        text = str(published).strip()
        try:
            first, last = parse_range(text)
        except ValueError:
            raise PortSpecError(f"invalid published port {published!r}") from None
        host_port = first or None
        host_end = last if last != first else None
    host_ip = entry.get("host_ip") or ""
    if not isinstance(host_ip, str):
        raise PortSpecError(f"port host_ip must be a string, not {host_ip!r}")
    if host_ip:
        check_ip(host_ip)
    protocol = entry.get("protocol") or "tcp"
    if not isinstance(protocol, str) or protocol.lower() not in PROTOCOLS:
        raise PortSpecError(f"invalid protocol {protocol!r} (tcp, udp or sctp)")
    return [
        PortBinding(
            container_port=target,
            protocol=protocol.lower(),
            host_ip=host_ip,
            host_port=host_port,
            host_port_end=host_end,
            origin=origin,
            entry=index,
        )
    ]


def parse_port(entry: Any, origin: Origin | None = None, index: int | None = None) -> list[PortBinding]:
    """A ``ports`` item of any syntax (``index``: its place in the list, kept as each binding's ``entry``)."""
    if isinstance(entry, bool) or entry is None:
        raise PortSpecError(f"invalid port entry {entry!r}")
    if isinstance(entry, int):
        return parse_short(str(entry), origin, index)
    if isinstance(entry, str):
        return parse_short(entry, origin, index)
    if isinstance(entry, dict):
        return parse_long(entry, origin, index)
    raise PortSpecError(f"invalid port entry {entry!r}")


def parse_expose(entry: Any, origin: Origin | None = None) -> list[PortBinding]:
    """An ``expose`` item (``"3000"``, ``"4000-4010/udp"``): exposed, never published."""
    if isinstance(entry, bool) or not isinstance(entry, (int, str)):
        raise PortSpecError(f"invalid expose entry {entry!r}")
    proto, text = _split_proto(str(entry))
    proto = proto.lower()
    if proto not in PROTOCOLS:
        raise PortSpecError(f"invalid expose entry {entry!r}")
    try:
        start, end = parse_range(text)
    except ValueError:
        raise PortSpecError(f"invalid expose entry {entry!r}") from None
    return [
        PortBinding(container_port=p, protocol=proto, published=False, origin=origin)
        for p in range(start, end + 1)
    ]


def _go_text(value: Any) -> str:
    """How compose's Go code prints a ``published`` value inside its de-duplication key."""
    if value is None:
        return "%!s(<nil>)"
    if isinstance(value, bool):
        return f"%!s(bool={str(value).lower()})"
    if isinstance(value, int):
        return f"%!s(int={value})"
    return str(value)


def dedupe_keys(entry: Any, bindings: list[PortBinding]) -> list[str]:
    """Compose's key per binding (``HOST_IP:PUBLISHED:TARGET/PROTO``): same key, one entry.

    Short syntax is expanded first, so each binding has its own key; a long-syntax entry
    keeps its ``published`` value as written (an int and the same number as a string differ).
    """
    keys = []
    for port in bindings:
        if isinstance(entry, dict):
            published = entry.get("published")
            target_text = str(port.container_port)  # compose casts target to a number first
            host = entry.get("host_ip") if "host_ip" in entry else "0.0.0.0"
            proto = entry.get("protocol") if "protocol" in entry else "tcp"
            keys.append(f"{host}:{_go_text(published)}:{target_text}/{proto}")
            continue
        if port.host_port is None:
            published_text = "%!s(<nil>)" if not _explicit_zero(entry) else "0"
        elif port.host_port_end:
            published_text = f"{port.host_port}-{port.host_port_end}"
        else:
            published_text = str(port.host_port)
        keys.append(f"{port.host_ip or '0.0.0.0'}:{published_text}:{port.container_port}/{port.protocol}")
    return keys


def _explicit_zero(entry: Any) -> bool:
    ip, host, _ = _split_parts(str(entry))
    return bool(host) and _DIGITS.match(host) is not None and int(host) == 0


def dedupe(items: list[tuple[str, PortBinding]]) -> list[PortBinding]:
    """Later duplicates replace earlier ones in place, as compose's merge does."""
    index: dict[str, int] = {}
    out: list[PortBinding] = []
    for key, port in items:
        if key in index:
            out[index[key]] = port
        else:
            index[key] = len(out)
            out.append(port)
    return out
