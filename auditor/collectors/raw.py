"""Raw engine state: the sanitized inspect documents a scan reads, and the snapshot file format.

``auditor snapshot -o FILE`` writes a ``RawState``; scanning that file normalizes the very same
documents with the very same functions as a live scan, so both give the same findings.
Only fields the audit reads are kept: environment variables, commands and arguments never
leave the engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from auditor.collectors.inspect import (
    daemon_facts_from_api,
    json_type,
    normalize_container,
    normalize_network,
    normalize_swarm_service,
)
from auditor.model.errors import InputError
from auditor.model.exposure import HostDumps, host_dumps_from_json
from auditor.model.inputs import MAX_PORT_BINDINGS
from auditor.model.jsontext import dumps as json_text
from auditor.model.records import Container, DaemonFacts, Network, Snapshot, SourceKind, Target
from auditor.model.redact import redact_labels

SNAPSHOT_FORMAT = "auditor-snapshot"
SNAPSHOT_VERSION = 1

# Whitelists: what the audit reads from each document. Everything else is dropped.
_CONTAINER_KEEP = {
    "Id": None,
    "Name": None,
    "Image": None,
    "Created": None,
    "Config": ("Image", "Labels", "ExposedPorts", "Hostname"),
    "State": ("Status", "Running"),
    "HostConfig": (
        "NetworkMode",
        "PortBindings",
        "PublishAllPorts",
        "Privileged",
        "CapAdd",
        "CapDrop",
        "Binds",
        "UsernsMode",
        "PidMode",
        "IpcMode",
    ),
    "Mounts": None,
    "NetworkSettings": ("Ports", "Networks"),
}
_NETWORK_KEEP = (
    "Name",
    "Id",
    "Created",
    "Scope",
    "Driver",
    "EnableIPv6",
    "IPAM",
    "Internal",
    "Attachable",
    "Ingress",
    "Options",
    "Labels",
)
_VERSION_KEEP = ("Version", "ApiVersion", "MinAPIVersion", "Os", "Arch", "KernelVersion")
_INFO_KEEP = (
    "Name",
    "ServerVersion",
    "OperatingSystem",
    "KernelVersion",
    "Warnings",
    "Swarm",
    "SecurityOptions",
    "BridgeNfIptables",
    "BridgeNfIp6tables",
    "Containers",
    "Driver",
)
_ENDPOINT_KEEP = ("NetworkID", "IPAddress", "GlobalIPv6Address", "Aliases", "MacAddress", "Gateway")


def as_object(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (a field of the wrong type)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _pick(doc: Any, keys) -> dict:
    if not isinstance(doc, dict):
        return {}
    return {k: doc[k] for k in keys if k in doc}


def sanitize_container(doc: Mapping[str, Any]) -> dict:
    """Keep only what the audit reads; labels that look like credentials are redacted."""
    out: dict[str, Any] = {}
    for key, keep in _CONTAINER_KEEP.items():
        if key not in doc:
            continue
        out[key] = doc[key] if keep is None else _pick(doc[key], keep)
    config = out.get("Config")
    if isinstance(config, dict) and isinstance(config.get("Labels"), dict):
        config["Labels"] = dict(redact_labels(config["Labels"]))
    settings = out.get("NetworkSettings")
    if isinstance(settings, dict) and isinstance(settings.get("Networks"), dict):
        settings["Networks"] = {n: _pick(ep, _ENDPOINT_KEEP) for n, ep in settings["Networks"].items()}
    if isinstance(out.get("Mounts"), list):
        out["Mounts"] = [
            _pick(m, ("Type", "Name", "Source", "Destination", "RW", "Mode")) for m in out["Mounts"]
        ]
    return out


def sanitize_service(doc: Mapping[str, Any]) -> dict:
    """A swarm service without env, args or secrets: name, labels, image, mounts, ports."""
    spec = as_object(doc.get("Spec"))
    task = as_object(spec.get("TaskTemplate"))
    cspec = as_object(task.get("ContainerSpec"))
    endpoint = as_object(doc.get("Endpoint"))
    labels = as_object(spec.get("Labels"))
    mounts = as_list(cspec.get("Mounts"))
    return {
        "ID": doc.get("ID"),
        "Spec": {
            "Name": spec.get("Name"),
            "Labels": dict(redact_labels(labels)),
            "TaskTemplate": {
                "ContainerSpec": {
                    "Image": cspec.get("Image"),
                    "Mounts": [_pick(m, ("Type", "Source", "Target", "ReadOnly")) for m in mounts],
                    "CapabilityAdd": cspec.get("CapabilityAdd"),
                },
                "Networks": as_list(task.get("Networks")),
            },
            "EndpointSpec": _pick(spec.get("EndpointSpec"), ("Mode", "Ports")),
        },
        "Endpoint": _pick(endpoint, ("Ports", "VirtualIPs")),
    }


def sanitize_network(doc: Mapping[str, Any]) -> dict:
    out = _pick(doc, _NETWORK_KEEP)
    if isinstance(out.get("Labels"), dict):
        out["Labels"] = dict(redact_labels(out["Labels"]))
    return out


@dataclass(frozen=True)
class RawState:
    """What was read from one engine (or loaded from a file), before normalization."""

    target: Target
    version: Mapping[str, Any]
    info: Mapping[str, Any]
    containers: tuple[dict, ...]
    networks: tuple[dict, ...]
    host: Mapping[str, Any]
    notes: tuple[str, ...] = ()
    source_uri: str | None = None
    services: tuple[dict, ...] = ()  # swarm services (managers only)
    dumps: HostDumps | None = None  # the daemon's namespace for the exposure analysis
    # the exposure computed from the container list while the inspects ran (``HostChild``,
    # live engines only; never saved, never compared)
    ahead: Any = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict:
        out = {
            "format": SNAPSHOT_FORMAT,
            "version": SNAPSHOT_VERSION,
            "target": {
                "kind": self.target.kind.value,
                "name": self.target.name,
                "address": self.target.address,
            },
            "engine": {"version": _pick(self.version, _VERSION_KEEP), "info": _pick(self.info, _INFO_KEEP)},
            "host": dict(self.host),
            "containers": list(self.containers),
            "networks": list(self.networks),
            "services": list(self.services),
            "notes": list(self.notes),
        }
        if self.dumps is not None:  # absent: not read (an older file, a remote engine)
            out["host_dumps"] = self.dumps.to_json()
        return out


def is_snapshot_document(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("format") == SNAPSHOT_FORMAT


def raw_from_json(doc: Mapping[str, Any], path: str) -> RawState:
    """Read an ``auditor snapshot`` file back; the target keeps its original name."""
    if doc.get("version") != SNAPSHOT_VERSION:
        raise InputError(
            f"unsupported snapshot version {doc.get('version')!r} (expected {SNAPSHOT_VERSION})", path
        )
    target = doc.get("target")
    if not isinstance(target, dict) or not isinstance(target.get("name"), str):
        raise InputError("snapshot has no target name", path)
    for key in ("containers", "networks", "services"):
        if not isinstance(doc.get(key, []), list):
            raise InputError(f"snapshot field {key!r} must be a list", path)
    engine = as_object(doc.get("engine"))
    host = _typed_host_facts(as_object(doc.get("host")))
    return RawState(
        target=Target(SourceKind.ENGINE, target["name"], str(target.get("address", path))),
        version=engine.get("version") or {},
        info=engine.get("info") or {},
        containers=tuple(doc.get("containers", [])),
        networks=tuple(doc.get("networks", [])),
        host=host,
        notes=tuple(n for n in _list_or_empty(doc.get("notes")) if isinstance(n, str)),
        source_uri=path,
        services=tuple(doc.get("services", [])),
        dumps=host_dumps_from_json(doc.get("host_dumps")),  # as read live: same exposure offline
    )


def _list_or_empty(value: Any) -> list:
    return value if isinstance(value, list) else []


_FACT_FIELDS = {f.name for f in fields(DaemonFacts)}
_FACT_TYPES = {f.name: str(f.type) for f in fields(DaemonFacts)}


def _typed_host_facts(host: Mapping[str, Any]) -> dict[str, Any]:
    """Host facts from a file, keeping only values of the model's types (others stay unknown)."""
    out: dict[str, Any] = {}
    for key, value in host.items():
        kind = _FACT_TYPES.get(key)
        if kind is None:
            out[key] = value
        elif kind.startswith("tuple"):
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                out[key] = tuple(value)
        elif isinstance(value, bool) if kind.startswith("bool") else isinstance(value, str):
            out[key] = value
    return out


def merge_host_facts(facts: DaemonFacts, host: Mapping[str, Any]) -> DaemonFacts:
    """Overlay facts read on the host (daemon.json, dockerd flags, firewall) onto API facts."""
    updates: dict[str, Any] = {}
    for key, value in host.items():
        if key not in _FACT_FIELDS or value is None:
            continue
        if key == "tcp_api_endpoints":  # the API's warning names tcp://X as http://X: one listener
            configured = {str(e).split("://", 1)[-1] for e in value}
            seen = tuple(e for e in facts.tcp_api_endpoints if e.split("://", 1)[-1] not in configured)
            value = tuple(dict.fromkeys((*seen, *value)))
        elif key == "sources":
            value = tuple(dict.fromkeys((*getattr(facts, key), *value)))
        elif key == "tcp_api_without_tls" and facts.tcp_api_without_tls:
            continue  # the engine's own warning wins over a config file reading
        updates[key] = value
    return replace(facts, **updates)


UNKNOWN_FACT_LABELS = {
    "userland_proxy": "daemon userland-proxy setting",
    "iptables": "daemon iptables setting",
    "ip6tables": "daemon ip6tables setting",
    "firewalld_active": "host firewall: firewalld status",
    "ufw_active": "host firewall: UFW status",
    "docker_user_filters": "host firewall: DOCKER-USER chain rules",
    "default_bind_ip": "daemon default bind address (ip)",
    "allow_direct_routing": "daemon allow-direct-routing setting",
    "ipv6": "daemon ipv6 setting",
    "server_version": "engine version",
    "tcp_api_without_tls": "daemon API listeners (TCP without TLS)",
    "icc": "daemon inter-container communication (icc)",
}


def not_checked(facts: DaemonFacts) -> tuple[str, ...]:
    return tuple(label for key, label in UNKNOWN_FACT_LABELS.items() if getattr(facts, key) is None)


def engine_state(
    target: Target,
    version: Mapping[str, Any],
    info: Mapping[str, Any],
    containers: Sequence[dict],
    networks: Sequence[dict],
    services: Sequence[dict] = (),
    host: Mapping[str, Any] | None = None,
    notes: tuple[str, ...] = (),
    dumps: HostDumps | None = None,
) -> RawState:
    """An engine's documents as one ``RawState``, in the order every reader of them gets:
    containers (already sanitized) and networks by name, services by id. The engine collector
    and the exposure computed from the engine's lists (``collectors.ahead``) both build theirs
    here, so the two snapshots can be compared."""
    return RawState(
        target=target,
        version=version,
        info=info,
        containers=tuple(sorted(containers, key=lambda d: str(d.get("Name")))),
        networks=tuple(sanitize_network(d) for d in sorted(networks, key=lambda d: str(d.get("Name")))),
        host=dict(host or {}),
        notes=notes,
        services=tuple(sanitize_service(d) for d in sorted(services, key=lambda d: str(d.get("ID")))),
        dumps=dumps,
    )


def normalize_raw(raw: RawState) -> Snapshot:
    """One ``Snapshot`` from raw documents, whether they came live or from a file."""
    return snapshot_of(raw, normalized_records(raw))


Records = tuple[tuple[Network, ...], tuple[Container, ...], tuple[str, ...]]  # and the problems met


def normalized_records(raw: RawState) -> Records:
    """The networks and containers of ``normalize_raw``: they depend only on the documents,
    not on the host's facts or dumps (so they can be normalized before those are read)."""
    uri = raw.source_uri
    problems: list[str] = []
    for key, docs in (("networks", raw.networks), ("containers", raw.containers), ("services", raw.services)):
        for index, doc in enumerate(docs):
            if not isinstance(doc, dict):
                raise InputError(
                    f"{key}[{index}] is {json_type(doc)}, not an inspect document (an object)", uri
                )
    networks = tuple(normalize_network(d, raw.target, uri, problems) for d in raw.networks)
    normalized, bindings = [], 0
    for doc in raw.containers:
        normalized.append(normalize_container(doc, raw.target, uri, problems))
        bindings += len(normalized[-1].ports)
        if bindings > MAX_PORT_BINDINGS:
            raise InputError(
                f"more than {MAX_PORT_BINDINGS:,} port bindings in one target (one container publishing "
                "every port on IPv4 and IPv6 lists 131,070)",
                uri,
            )
    containers = tuple(normalized)
    network_names = {n.id: n.name for n in networks if n.id}
    ids = sorted(network_names)
    containers += tuple(normalize_swarm_service(d, raw.target, network_names, uri, ids) for d in raw.services)
    return networks, containers, tuple(problems)


def snapshot_of(raw: RawState, records: Records) -> Snapshot:
    """The snapshot of ``raw`` whose ``normalized_records`` are ``records``."""
    networks, containers, problems = records
    facts = merge_host_facts(daemon_facts_from_api(raw.version, raw.info, networks), raw.host)
    return Snapshot(
        target=raw.target,
        daemon=facts,
        containers=tuple(sorted(containers, key=lambda c: c.name)),
        networks=tuple(sorted(networks, key=lambda n: n.name)),
        notes=raw.notes,
        not_checked=not_checked(facts),
        incomplete=problems,
        host_dumps=raw.dumps,
    )


def dumps(raw: RawState) -> str:
    return json_text(raw.to_json(), sort_keys=True) + "\n"
