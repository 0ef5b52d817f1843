"""One normalizer for ``docker inspect`` JSON, shared by the live and the saved-JSON collectors.

The SDK's low-level client returns exactly the JSON that ``docker inspect`` prints, so the
same functions read both. Anything missing or of the wrong type becomes "unknown" rather
than an exception; truly malformed documents raise ``InputError``.
"""

from __future__ import annotations

import ipaddress
import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from auditor.model.errors import InputError
from auditor.model.records import (
    Container,
    DaemonFacts,
    Endpoint,
    Mount,
    Network,
    Origin,
    PortBinding,
    SourceKind,
    Target,
)
from auditor.model.redact import redact_labels

COMPOSE_PROJECT = "com.docker.compose.project"
COMPOSE_SERVICE = "com.docker.compose.service"
STACK_NAMESPACE = "com.docker.stack.namespace"

_TLS_WARNING = re.compile(r"API is accessible on (\S+) without encryption", re.IGNORECASE)


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def canonical_capability(name: object) -> str:
    """``cap_net_admin`` / ``CAP_NET_ADMIN`` / ``NET_ADMIN`` -> ``NET_ADMIN`` (docker accepts all)."""
    text = str(name).strip().upper()
    return text[4:] if text.startswith("CAP_") else text


def is_container_document(doc: Any) -> bool:
    return isinstance(doc, dict) and "HostConfig" in doc and ("Config" in doc or "State" in doc)


def is_network_document(doc: Any) -> bool:
    return isinstance(doc, dict) and "Driver" in doc and "Name" in doc and "HostConfig" not in doc


PROTOCOLS = ("tcp", "udp", "sctp")
_PORT = re.compile(r"[0-9]{1,5}")


def json_type(value: Any) -> str:
    """How a JSON reader names a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return "a number"


class Reading:
    """Where in which document a normalizer is, and what it could not read there.

    A field of the wrong type is not guessed at: it is recorded here, and the target is then
    reported incomplete (a partial view never passes as a clean scan). A value that cannot be
    true (a port above 65535, a reversed range, a host address that is no address) is an
    ``InputError`` naming the field.
    """

    def __init__(self, subject: str, source_uri: str | None, problems: list[str] | None = None):
        self.subject = subject
        self.source_uri = source_uri
        self.problems = problems if problems is not None else []
        self.addresses: set[str] = set()  # host addresses already found valid (65,535 ports share one or two)

    def wrong_type(self, field: str, value: Any, expected: str) -> None:
        where = f"{self.source_uri}: " if self.source_uri else ""
        self.problems.append(f"{where}{self.subject}: {field} is {json_type(value)}, not {expected}")

    def invalid(self, field: str, message: str) -> InputError:
        return InputError(f"{self.subject}: {field}: {message}", self.source_uri)

    def mapping(self, value: Any, field: str) -> dict:
        """``value`` when it is an object; ``{}`` (recorded as unreadable) when it is another type."""
        if isinstance(value, dict):
            return value
        if value is not None:
            self.wrong_type(field, value, "an object")
        return {}

    def sequence(self, value: Any, field: str) -> list:
        if isinstance(value, list):
            return value
        if value is not None:
            self.wrong_type(field, value, "a list")
        return []


def parse_port_key(key: str) -> tuple[int, str]:
    """``"80/tcp"`` -> ``(80, "tcp")``; a bare ``"80"`` is TCP."""
    port, _, proto = str(key).partition("/")
    if not _PORT.fullmatch(port):
        raise InputError(f"invalid port key {key!r}")
    number = int(port)
    if not 0 < number < 65536:
        raise InputError(f"port out of range in {key!r}")
    proto = (proto or "tcp").lower()
    if proto not in PROTOCOLS:
        raise InputError(f"unknown protocol in port key {key!r} (expected {', '.join(PROTOCOLS)})")
    return number, proto


def _host_port(text: Any, field: str, reading: Reading) -> tuple[int | None, int | None]:
    """``"8080"`` -> (8080, None); ``"8000-8010"`` -> (8000, 8010); ``""`` or ``"0"`` -> ephemeral."""
    if text in (None, ""):
        return None, None
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str):
        raise reading.invalid(field, f"host port is {json_type(text)}, not a string")
    start, dash, end = text.partition("-")
    if not _PORT.fullmatch(start) or (dash and not _PORT.fullmatch(end)):
        raise reading.invalid(field, f"invalid host port {text[:40]!r}")
    first, last = int(start), int(end) if dash else None
    if first == 0 and last is None:
        return None, None
    for number in (first, last):
        if number is not None and not 0 < number < 65536:
            raise reading.invalid(field, f"host port {text!r} is out of range (1-65535)")
    if last is not None and last < first:
        raise reading.invalid(field, f"host port range {text!r} runs backwards")
    return first, last if last != first else None


def _host_ip(value: Any, field: str, reading: Reading) -> str:
    """The host address as written: empty, or an IPv4/IPv6 address (never a name or junk)."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise reading.invalid(field, f"host address is {json_type(value)}, not a string")
    if value in reading.addresses:
        return value
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise reading.invalid(field, f"host address {value[:60]!r} is not an IP address") from None
    reading.addresses.add(value)
    return value


def _bindings(
    mapping: Any, published_only: bool, field: str, reading: Reading, origin: Origin | None = None
) -> list[PortBinding]:
    out: list[PortBinding] = []
    for key, entries in sorted(reading.mapping(mapping, field).items()):
        try:
            port, proto = parse_port_key(key)
        except InputError as exc:
            raise reading.invalid(field, str(exc)) from None
        if entries is None or entries == []:
            if not published_only:
                out.append(PortBinding(container_port=port, protocol=proto, published=False, origin=origin))
            continue
        for index, entry in enumerate(reading.sequence(entries, f"{field}[{key!r}]")):
            where = f"{field}[{key!r}][{index}]"
            if not isinstance(entry, dict):
                reading.wrong_type(where, entry, "an object")
                continue
            host_port, host_end = _host_port(entry.get("HostPort"), f"{where}.HostPort", reading)
            out.append(
                PortBinding(
                    container_port=port,
                    protocol=proto,
                    host_ip=_host_ip(entry.get("HostIp"), f"{where}.HostIp", reading),
                    host_port=host_port,
                    host_port_end=host_end,
                    origin=origin,
                )
            )
    return out


def container_ports(
    doc: Mapping[str, Any], reading: Reading | None = None, origin: Origin | None = None
) -> tuple[tuple[PortBinding, ...], bool | None]:
    """The ports a container publishes, preferring what is actually bound while running.

    A running container's ``NetworkSettings.Ports`` lists real bindings (separate IPv4/IPv6
    entries, assigned ephemeral ports, ``null`` for exposed-only ports). A stopped one has
    none, so the requested ``HostConfig.PortBindings`` (plus ``-P`` over the exposed ports)
    says what it would publish when started.
    """
    reading = reading or Reading("container", None)
    host_config = _dict(doc.get("HostConfig"))
    config = _dict(doc.get("Config"))
    running = bool(_dict(doc.get("State")).get("Running"))
    live = reading.mapping(_dict(doc.get("NetworkSettings")).get("Ports"), "NetworkSettings.Ports")
    publish_all = _bool(host_config.get("PublishAllPorts"))
    exposed = set()
    for key in reading.mapping(config.get("ExposedPorts"), "Config.ExposedPorts"):
        try:
            exposed.add(parse_port_key(key))
        except InputError as exc:
            raise reading.invalid("Config.ExposedPorts", str(exc)) from None

    requested = _bindings(host_config.get("PortBindings"), True, "HostConfig.PortBindings", reading, origin)
    if running and live:
        fixed = {(p.container_port, p.protocol) for p in requested if p.host_port is not None}
        ports = _bindings(live, False, "NetworkSettings.Ports", reading, origin)
        for i, p in enumerate(ports):
            if p.published and (p.container_port, p.protocol) not in fixed:
                ports[i] = replace(p, ephemeral=True)
    else:
        ports = requested
        bound = {(p.container_port, p.protocol) for p in ports}
        for port, proto in sorted(exposed - bound):
            ports.append(
                PortBinding(container_port=port, protocol=proto, published=bool(publish_all), origin=origin)
            )
    return tuple(ports), publish_all


def container_mounts(doc: Mapping[str, Any], origin: Origin) -> tuple[Mount, ...]:
    mounts: dict[tuple[str, str], Mount] = {}
    for m in _list(doc.get("Mounts")):
        m = _dict(m)
        source, target = _str(m.get("Source")) or _str(m.get("Name")) or "", _str(m.get("Destination")) or ""
        mounts[(source, target)] = Mount(
            source=source,
            target=target,
            type=_str(m.get("Type")) or "bind",
            read_only=m.get("RW") is False,
            origin=origin,
        )
    # A stopped container created but never started may only carry HostConfig.Binds.
    for bind in _list(_dict(doc.get("HostConfig")).get("Binds")):
        parts = str(bind).split(":")
        if len(parts) >= 2:
            key = (parts[0], parts[1])
            mounts.setdefault(
                key,
                Mount(
                    source=parts[0],
                    target=parts[1],
                    type="bind" if parts[0].startswith("/") else "volume",
                    read_only=len(parts) > 2 and "ro" in parts[2].split(","),
                    origin=origin,
                ),
            )
    return tuple(mounts[k] for k in sorted(mounts))


def container_endpoints(doc: Mapping[str, Any], origin: Origin) -> tuple[Endpoint, ...]:
    networks = _dict(_dict(doc.get("NetworkSettings")).get("Networks"))
    out = []
    for name, ep in sorted(networks.items()):
        ep = _dict(ep)
        out.append(
            Endpoint(
                network=str(name),
                network_id=_str(ep.get("NetworkID")) or None,
                ipv4_address=_str(ep.get("IPAddress")) or None,
                ipv6_address=_str(ep.get("GlobalIPv6Address")) or None,
                aliases=tuple(str(a) for a in _list(ep.get("Aliases"))),
                origin=origin,
            )
        )
    return tuple(out)


# Fields a rule reads, with the JSON type docker gives them (null is always allowed: docker
# writes null for an empty list). Any other type is recorded as unreadable, never guessed at.
_CONTAINER_FIELDS: tuple[tuple[tuple[str, ...], type, str], ...] = (
    (("Config",), dict, "an object"),
    (("Config", "Image"), str, "a string"),
    (("Config", "Labels"), dict, "an object"),
    (("HostConfig",), dict, "an object"),
    (("HostConfig", "NetworkMode"), str, "a string"),
    (("HostConfig", "Privileged"), bool, "a boolean"),
    (("HostConfig", "PublishAllPorts"), bool, "a boolean"),
    (("HostConfig", "CapAdd"), list, "a list"),
    (("HostConfig", "CapDrop"), list, "a list"),
    (("HostConfig", "Binds"), list, "a list"),
    (("State",), dict, "an object"),
    (("State", "Running"), bool, "a boolean"),
    (("NetworkSettings",), dict, "an object"),
    (("NetworkSettings", "Networks"), dict, "an object"),
    (("Mounts",), list, "a list"),
)


def _check_types(doc: Mapping[str, Any], fields, reading: Reading) -> None:
    for path, kind, expected in fields:
        value: Any = doc
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is not None and not isinstance(value, kind):
            reading.wrong_type(".".join(path), value, expected)


def container_origin(target: Target, name: str, source_uri: str | None = None) -> Origin:
    """Live objects get a stable synthetic URI; saved ones point at their file."""
    if target.kind is SourceKind.ENGINE:
        return Origin(SourceKind.ENGINE, f"docker://{target.name}/containers/{name}")
    return Origin(target.kind, source_uri or target.address)


def normalize_container(
    doc: Mapping[str, Any], target: Target, source_uri: str | None = None, problems: list[str] | None = None
) -> Container:
    """Turn one ``docker inspect`` container document into a ``Container``; fields of the wrong
    type are appended to ``problems`` (the target is then incomplete)."""
    if not is_container_document(doc):
        raise InputError("not a container inspect document (no HostConfig/Config)", source_uri)
    config = _dict(doc.get("Config"))
    host_config = _dict(doc.get("HostConfig"))
    name = (_str(doc.get("Name")) or _str(doc.get("Id")) or "unnamed").lstrip("/")
    origin = container_origin(target, name, source_uri)
    reading = Reading(f"container {name}", source_uri, problems)
    _check_types(doc, _CONTAINER_FIELDS, reading)
    labels = _dict(config.get("Labels"))
    ports, publish_all = container_ports(doc, reading, origin)
    project = _str(labels.get(COMPOSE_PROJECT)) or _str(labels.get(STACK_NAMESPACE))
    return Container(
        name=name,
        image=_str(config.get("Image")) or _str(doc.get("Image")),
        id=_str(doc.get("Id")),
        state=_str(_dict(doc.get("State")).get("Status")),
        network_mode=_str(host_config.get("NetworkMode")) or "default",
        endpoints=container_endpoints(doc, origin),
        ports=ports,
        publish_all_ports=publish_all,
        privileged=_bool(host_config.get("Privileged")),
        cap_add=tuple(canonical_capability(c) for c in _list(host_config.get("CapAdd"))),
        cap_drop=tuple(canonical_capability(c) for c in _list(host_config.get("CapDrop"))),
        mounts=container_mounts(doc, origin),
        labels=redact_labels(labels),
        project=project,
        service=_str(labels.get(COMPOSE_SERVICE)),
        origin=origin,
    )


_NETWORK_FIELDS: tuple[tuple[tuple[str, ...], type, str], ...] = (
    (("Driver",), str, "a string"),
    (("Internal",), bool, "a boolean"),
    (("Ingress",), bool, "a boolean"),
    (("EnableIPv6",), bool, "a boolean"),
    (("Options",), dict, "an object"),
    (("Labels",), dict, "an object"),
)


def normalize_network(
    doc: Mapping[str, Any], target: Target, source_uri: str | None = None, problems: list[str] | None = None
) -> Network:
    """Turn one ``docker network inspect`` document into a ``Network``; fields of the wrong
    type are appended to ``problems``."""
    if not is_network_document(doc):
        raise InputError("not a network inspect document (no Name/Driver)", source_uri)
    if not isinstance(doc["Name"], str):
        raise InputError(f"network name is {json_type(doc['Name'])}, not a string", source_uri)
    labels = _dict(doc.get("Labels"))
    name = doc["Name"]
    _check_types(doc, _NETWORK_FIELDS, Reading(f"network {name}", source_uri, problems))
    if target.kind is SourceKind.ENGINE:
        origin = Origin(SourceKind.ENGINE, f"docker://{target.name}/networks/{name}")
    else:
        origin = Origin(target.kind, source_uri or target.address)
    return Network(
        name=name,
        id=_str(doc.get("Id")),
        driver=_str(doc.get("Driver")),
        scope=_str(doc.get("Scope")),
        internal=_bool(doc.get("Internal")),
        attachable=_bool(doc.get("Attachable")),
        ingress=_bool(doc.get("Ingress")),
        enable_ipv6=_bool(doc.get("EnableIPv6")),
        options=tuple(sorted((str(k), str(v)) for k, v in _dict(doc.get("Options")).items())),
        labels=redact_labels(labels),
        project=_str(labels.get("com.docker.compose.project")) or _str(labels.get(STACK_NAMESPACE)),
        origin=origin,
    )


def _by_id_prefix(network_names: Mapping[str, str], ids: Sequence[str], ref: str) -> str | None:
    """The network whose id starts with ``ref`` (a short id), by bisection in the sorted ``ids``
    (a scan of every network per service reference was quadratic)."""
    if not ref:
        return next(iter(network_names.values()), None)
    i = bisect_left(ids, ref)
    return network_names[ids[i]] if i < len(ids) and ids[i].startswith(ref) else None


def normalize_swarm_service(
    doc: Mapping[str, Any],
    target: Target,
    network_names: Mapping[str, str],
    source_uri: str | None = None,
    sorted_ids: Sequence[str] | None = None,
) -> Container:
    """A swarm service as a ``Container`` of kind ``service``.

    Only ingress-mode ports are modelled here: the routing mesh opens them on every interface
    of every node. Host-mode ports are bound by each task's container, which the container
    list of that node already shows.
    """
    spec = _dict(doc.get("Spec"))
    name = _str(spec.get("Name")) or _str(doc.get("ID")) or "unnamed-service"
    task = _dict(spec.get("TaskTemplate"))
    cspec = _dict(task.get("ContainerSpec"))
    labels = _dict(spec.get("Labels"))
    if target.kind is SourceKind.ENGINE:
        origin = Origin(SourceKind.ENGINE, f"docker://{target.name}/services/{name}")
    else:
        origin = Origin(target.kind, source_uri or target.address)
    endpoint_ports = _list(_dict(doc.get("Endpoint")).get("Ports")) or _list(
        _dict(spec.get("EndpointSpec")).get("Ports")
    )
    ports = []
    for entry in endpoint_ports:
        entry = _dict(entry)
        if (_str(entry.get("PublishMode")) or "ingress") != "ingress":
            continue
        target_port, published = entry.get("TargetPort"), entry.get("PublishedPort")
        if not isinstance(target_port, int) or not 0 < target_port < 65536:
            raise InputError(f"service {name}: invalid target port {str(target_port)[:40]!r}", source_uri)
        if published is not None and (not isinstance(published, int) or not 0 <= published < 65536):
            raise InputError(f"service {name}: invalid published port {str(published)[:40]!r}", source_uri)
        ports.append(
            PortBinding(
                container_port=target_port,
                protocol=(_str(entry.get("Protocol")) or "tcp").lower(),
                host_ip="",
                host_port=published if isinstance(published, int) and published > 0 else None,
                origin=origin,
            )
        )
    ids = sorted(network_names) if sorted_ids is None else sorted_ids
    networks = []
    for net in _list(task.get("Networks")):
        ref = _str(_dict(net).get("Target")) or ""
        networks.append(network_names.get(ref) or _by_id_prefix(network_names, ids, ref) or ref)
    if ports and "ingress" not in networks:
        networks.append("ingress")
    mounts = tuple(
        Mount(
            source=_str(_dict(m).get("Source")) or "",
            target=_str(_dict(m).get("Target")) or "",
            type=_str(_dict(m).get("Type")) or "bind",
            read_only=_dict(m).get("ReadOnly") is True,
            origin=origin,
        )
        for m in _list(cspec.get("Mounts"))
    )
    return Container(
        name=name,
        image=_str(cspec.get("Image")),
        id=_str(doc.get("ID")),
        state="service",
        network_mode=networks[0] if networks else "default",
        endpoints=tuple(Endpoint(network=n, origin=origin) for n in networks if n),
        ports=tuple(ports),
        cap_add=tuple(canonical_capability(c) for c in _list(cspec.get("CapabilityAdd"))),
        mounts=mounts,
        labels=redact_labels(labels),
        project=_str(labels.get(STACK_NAMESPACE)),
        service=name,
        origin=origin,
        swarm_service=True,
    )


def _option_bool(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.strip().lower() == "true"


def daemon_facts_from_api(
    version: Mapping[str, Any] | None,
    info: Mapping[str, Any] | None,
    networks: Iterable[Network] = (),
) -> DaemonFacts:
    """What the Engine API itself tells about the daemon (``/version``, ``/info``, ``docker0``).

    ``icc`` and the default bind address are visible through the default bridge's options.
    The TCP-without-TLS warning appears in ``/info`` when the daemon listens that way.
    Settings the API does not expose stay ``None`` here; host-side readers fill them in.
    """
    version = _dict(version)
    info = _dict(info)
    warnings = [str(w) for w in _list(info.get("Warnings"))]
    tcp_plain = sorted({m.group(1) for w in warnings for m in [_TLS_WARNING.search(w)] if m})
    default_bridge = next((n for n in networks if n.is_default_bridge), None)
    icc = bind_ip = None
    if default_bridge is not None:
        icc = _option_bool(default_bridge.option("com.docker.network.bridge.enable_icc"))
        if icc is None:
            icc = True  # the option is absent when the daemon runs with its default (icc on)
        bind_ip = default_bridge.option("com.docker.network.bridge.host_binding_ipv4") or "0.0.0.0"
    swarm = _dict(info.get("Swarm")).get("LocalNodeState")
    return DaemonFacts(
        server_version=_str(version.get("Version")) or _str(info.get("ServerVersion")),
        api_version=_str(version.get("ApiVersion")),
        operating_system=_str(info.get("OperatingSystem")),
        kernel_version=_str(info.get("KernelVersion")) or _str(version.get("KernelVersion")),
        hostname=_str(info.get("Name")),
        tcp_api_without_tls=bool(tcp_plain) if info else None,
        tcp_api_endpoints=tuple(tcp_plain),
        icc=icc,
        default_bind_ip=bind_ip,
        swarm_active=(swarm == "active") if isinstance(swarm, str) and swarm else None,
        sources=("engine-api",) if info or version else (),
    )
