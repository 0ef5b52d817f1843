"""Pure parsers of the host's network state: ``ip -j addr``, ``ip -j route`` (and ``-6``),
sysctl lines, ``docker-proxy`` command lines and ``ss -Hltnu`` (``-Hltnup`` output too, with
each socket's process).

Each takes the text a command prints, so a saved dump is read exactly like the live host.
Malformed input raises ``InputError`` (exit code 2 for a file given by the user).
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

import msgspec

from auditor.exposure.packet import prefix_mask
from auditor.model.errors import InputError
from auditor.model.jsontext import loads


class Address(msgspec.Struct, frozen=True):
    """One address of an interface, as ``ip addr`` shows it."""

    family: int
    address: str
    prefixlen: int
    scope: str = "global"
    broadcast: str | None = None

    @property
    def value(self) -> int:
        return int(ipaddress.ip_address(self.address))

    @property
    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_network(f"{self.address}/{self.prefixlen}", strict=False)


class Interface(msgspec.Struct, frozen=True):
    name: str
    index: int
    up: bool
    link_type: str = "ether"
    master: str | None = None  # the bridge this interface is a port of
    addresses: tuple[Address, ...] = ()

    def first(self, family: int, scopes: tuple[str, ...] = ("global",)) -> Address | None:
        for a in self.addresses:
            if a.family == family and a.scope in scopes:
                return a
        return None


class Route(msgspec.Struct, frozen=True):
    """One route of the main table; ``prefixlen`` 0 for the default route."""

    family: int
    network: int
    prefixlen: int
    dev: str | None
    gateway: str | None = None
    type: str = "unicast"  # unicast | blackhole | unreachable | prohibit | local | broadcast ...
    metric: int = 0
    prefsrc: str | None = None

    @property
    def mask(self) -> int:
        return prefix_mask(self.family, self.prefixlen)

    def covers(self, family: int, value: int) -> bool:
        return family == self.family and value & self.mask == self.network

    @property
    def destination(self) -> str:
        if self.prefixlen == 0:
            return "default"
        net = ipaddress.ip_network((self.network, self.prefixlen))
        return str(net)


class ProxyListener(msgspec.Struct, frozen=True):
    """A running ``docker-proxy``: it listens on host_ip:host_port and forwards to the
    container."""

    proto: str
    host_ip: str
    host_port: int
    container_ip: str
    container_port: int


class Listener(msgspec.Struct, frozen=True):
    """A listening socket from ``ss``; ``process`` is the first process name it lists."""

    proto: str
    address: str  # "0.0.0.0", "::", "*" or a specific address
    port: int
    process: str | None = None
    pid: int | None = None


def _json(text: str, what: str) -> Any:
    try:
        return loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{what} is not JSON: {exc}") from exc


def parse_ip_addr(text: str) -> tuple[Interface, ...]:
    """``ip -j addr`` -> interfaces with their addresses."""
    doc = _json(text, "ip -j addr")
    if not isinstance(doc, list):
        raise InputError("ip -j addr: expected a JSON list")
    out = []
    for item in doc:
        if not isinstance(item, dict) or "ifname" not in item:
            raise InputError("ip -j addr: an entry without ifname")
        addrs = []
        for info in item.get("addr_info") or []:
            fam = {"inet": 4, "inet6": 6}.get(info.get("family"))
            if fam is None or "local" not in info:
                continue
            addrs.append(
                Address(
                    fam,
                    str(info["local"]),
                    int(info.get("prefixlen", 32 if fam == 4 else 128)),
                    str(info.get("scope", "global")),
                    info.get("broadcast"),
                )
            )
        flags = item.get("flags") or []
        out.append(
            Interface(
                name=str(item["ifname"]),
                index=int(item.get("ifindex", 0)),
                up="UP" in flags,
                link_type=str(item.get("link_type", "ether")),
                master=item.get("master"),
                addresses=tuple(addrs),
            )
        )
    return tuple(out)


def parse_ip_route(text: str, family: int = 4) -> tuple[Route, ...]:
    """``ip -j route`` (``family`` 6 for ``ip -6 -j route``) -> routes of the main table."""
    doc = _json(text, "ip -j route")
    if not isinstance(doc, list):
        raise InputError("ip -j route: expected a JSON list")
    out = []
    for item in doc:
        if not isinstance(item, dict) or "dst" not in item:
            raise InputError("ip -j route: an entry without dst")
        dst = str(item["dst"])
        if dst == "default":
            network, plen = 0, 0
        else:
            try:
                net = ipaddress.ip_network(
                    dst if "/" in dst else f"{dst}/{32 if family == 4 else 128}", strict=False
                )
            except ValueError as exc:
                raise InputError(f"ip -j route: bad destination {dst!r}") from exc
            if net.version != family:
                continue
            network, plen = int(net.network_address), net.prefixlen
        out.append(
            Route(
                family=family,
                network=network,
                prefixlen=plen,
                dev=item.get("dev"),
                gateway=item.get("gateway"),
                type=str(item.get("type", "unicast")),
                metric=int(item.get("metric", 0)),
                prefsrc=item.get("prefsrc"),
            )
        )
    return tuple(out)


def parse_sysctl(text: str) -> tuple[tuple[str, str], ...]:
    """``key = value`` lines (``sysctl`` output); ``#`` comments and blank lines skipped."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        key, eq, value = line.partition("=")
        if not eq:
            raise InputError(f"sysctl: not a 'key = value' line: {line!r}")
        out.append((key.strip().replace("/", "."), value.strip()))
    return tuple(out)


_PROXY_FLAGS = {"proto", "host-ip", "host-port", "container-ip", "container-port"}


def parse_docker_proxy(text: str) -> tuple[ProxyListener, ...]:
    """One ``docker-proxy`` command line per line (``ps -C docker-proxy -o args=`` or
    ``/proc/PID/cmdline`` with NULs turned into spaces)."""
    out = []
    for line in text.splitlines():
        args = line.replace("\0", " ").split()
        if not args:
            continue
        values: dict[str, str] = {}
        i = 1
        while i < len(args):
            name, eq, value = args[i].lstrip("-").partition("=")
            if name in _PROXY_FLAGS:
                if not eq and i + 1 < len(args):
                    value = args[i + 1]
                    i += 1
                values[name] = value
            i += 1
        try:
            out.append(
                ProxyListener(
                    values.get("proto", "tcp"),
                    values["host-ip"],
                    int(values["host-port"]),
                    values["container-ip"],
                    int(values["container-port"]),
                )
            )
        except (KeyError, ValueError) as exc:
            raise InputError(f"docker-proxy: cannot read {line!r}") from exc
    return tuple(out)


_SS_PROCESS = re.compile(r'\(\("([^"]+)",pid=(\d+)')


def _split_host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    host = host.strip("[]").split("%")[0]
    return host, int(port)


def parse_ss_listen(text: str) -> tuple[Listener, ...]:
    """``ss -Hltnup``: ``tcp LISTEN 0 4096 0.0.0.0:8080 0.0.0.0:* users:(("docker-proxy",...))``."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 6 or parts[0] not in ("tcp", "udp"):
            continue
        try:
            host, port = _split_host_port(parts[4])
        except ValueError:
            continue
        found = _SS_PROCESS.search(line)
        out.append(
            Listener(
                parts[0],
                host,
                port,
                found.group(1) if found else None,
                int(found.group(2)) if found else None,
            )
        )
    return tuple(out)
