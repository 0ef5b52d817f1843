"""A merged, interpolated compose tree -> the normalized ``Snapshot``.

Names follow what ``docker compose up`` would create: networks are ``<project>_<key>`` unless
they set ``name`` or are external, services without ``networks`` or ``network_mode`` join
``<project>_default``, and only networks some service uses exist. Environment variables are
never read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auditor.collectors.raw import not_checked
from auditor.model.errors import InputError
from auditor.model.inputs import MAX_PORT_BINDINGS
from auditor.model.records import Container, DaemonFacts, Endpoint, Mount, Network, Origin, Snapshot, Target
from auditor.model.redact import redact_labels
from auditor.model.yamltree import Map, Seq

from .interpolate import as_written, came_from_variables
from .ports import PortSpecError, dedupe, dedupe_keys, parse_expose, parse_port
from .volumes import VolumeSpecError, parse_volume

_TRUE = ("true", "yes", "y", "on")
_FALSE = ("false", "no", "n", "off")
NAMESPACE_MODES = ("host", "none", "bridge")
# Service keys compose accepts with a null value; any other null is a schema error.
NULLABLE_KEYS = frozenset({"command", "entrypoint", "deploy", "develop"})


def fail(message: str, origin: Origin) -> InputError:
    return InputError(message, origin.uri, origin.line)


def to_bool(value: Any, what: str, origin: Origin) -> bool | None:
    """A boolean field; strings from interpolation are cast as compose casts them."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE + _FALSE:
        return value.lower() in _TRUE
    raise fail(f"{what} must be a boolean, not {value!r}", origin)


def mapping(value: Any, what: str, origin: Origin) -> Map:
    if value is None:
        return Map(origin)
    if not isinstance(value, Map):
        raise fail(f"{what} must be a mapping", origin)
    return value


def sequence(value: Any, what: str, origin: Origin) -> Seq:
    if value is None:
        return Seq(origin)
    if not isinstance(value, Seq):
        raise fail(f"{what} must be a list", origin)
    return value


def string_map(value: Any, what: str, origin: Origin) -> dict[str, str]:
    """``labels``/``driver_opts`` as a list of ``k=v`` or a mapping; values as strings."""
    if value is None:
        return {}
    if isinstance(value, Seq):
        out = {}
        for i, item in enumerate(value):
            if not isinstance(item, (str, int, float)) or isinstance(item, bool):
                raise fail(f"{what} entries must be strings", value.at(i))
            key, _, val = str(item).partition("=")
            out[key] = val
        return out
    if isinstance(value, Map):
        return {k: "" if v is None else _scalar_text(v) for k, v in value.items()}
    raise fail(f"{what} must be a mapping or a list", origin)


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def canonical_capability(name: Any) -> str:
    """``cap_net_admin`` / ``CAP_NET_ADMIN`` -> ``NET_ADMIN`` (the model's canonical form)."""
    text = str(name).strip().upper()
    return text[4:] if text.startswith("CAP_") else text


class ProjectBuilder:
    """Builds containers and networks of one project from its merged tree."""

    def __init__(self, tree: Map, project: str, target: Target, root: Path | None = None):
        self.tree = tree
        self.project = project
        self.target = target
        self.root = root  # report URIs are relative to it: where env_file paths are resolved
        self.networks = mapping(tree.get("networks"), "networks", tree.at("networks"))
        self.volumes = mapping(tree.get("volumes"), "volumes", tree.at("volumes"))
        self.services = mapping(tree.get("services"), "services", tree.at("services"))
        self.used_networks: dict[str, Origin | None] = {}
        self.bindings = 0  # port bindings so far: a range entry expands into one per port
        self.gaps: list[str] = []  # what compose refuses for want of context: audited, incomplete

    def gap(self, message: str, origin: Origin) -> None:
        """Something compose would refuse that another file (or a variable) could supply."""
        self.gaps.append(
            f"{origin.uri}:{origin.line}: {message}" if origin.line else f"{origin.uri}: {message}"
        )

    # --- networks ------------------------------------------------------------------------

    def network_spec(self, key: str) -> Map:
        spec = self.networks.get(key)
        if spec is None:
            return Map(self.networks.at(key))
        return mapping(spec, f"network {key}", self.networks.at(key))

    def _external(self, spec: Map) -> tuple[bool, str | None]:
        external = spec.get("external")
        if isinstance(external, Map):  # legacy `external: {name: x}`
            name = external.get("name")
            return True, str(name) if name else None
        return bool(to_bool(external, "external", spec.at("external"))), None

    def network_name(self, key: str) -> str:
        spec = self.network_spec(key)
        external, legacy_name = self._external(spec)
        name = spec.get("name") or legacy_name
        if name:
            return str(name)
        return key if external else f"{self.project}_{key}"

    def build_network(self, key: str) -> Network:
        spec = self.network_spec(key)
        origin = self.networks.at(key) if key in self.networks else self.target_origin()
        external, _ = self._external(spec)
        if external:  # created elsewhere: its settings are not in this file
            return Network(name=self.network_name(key), external=True, origin=origin)
        driver = spec.get("driver")
        return Network(
            name=self.network_name(key),
            driver=str(driver) if driver else None,
            internal=bool(to_bool(spec.get("internal"), "internal", spec.at("internal"))),
            attachable=bool(to_bool(spec.get("attachable"), "attachable", spec.at("attachable"))),
            enable_ipv6=to_bool(spec.get("enable_ipv6"), "enable_ipv6", spec.at("enable_ipv6")),
            external=False,
            options=tuple(
                sorted(string_map(spec.get("driver_opts"), "driver_opts", spec.at("driver_opts")).items())
            ),
            labels=redact_labels(string_map(spec.get("labels"), "labels", spec.at("labels"))),
            project=self.project,
            origin=origin,
        )

    def target_origin(self) -> Origin:
        return self.tree.origin

    # --- services ------------------------------------------------------------------------

    def volume_name(self, key: str) -> str:
        spec = self.volumes.get(key)
        if not isinstance(spec, Map):
            return f"{self.project}_{key}" if key in self.volumes else key
        external = spec.get("external")
        name = spec.get("name") or (external.get("name") if isinstance(external, Map) else None)
        if name:
            return str(name)
        if external is True or (isinstance(external, str) and external.lower() in _TRUE):
            return key
        return f"{self.project}_{key}"

    def endpoints(self, name: str, svc: Map) -> tuple[tuple[Endpoint, ...], str]:
        """The service's network attachments and its primary network (HostConfig.NetworkMode)."""
        declared = svc.get("networks")
        at = svc.at("networks")
        if declared is None:
            declared = Map(svc.origin)
            declared.put("default", None, svc.origin)
        if isinstance(declared, Seq):
            as_map = Map(declared.origin)
            for i, item in enumerate(declared):
                if not isinstance(item, str):
                    raise fail(f"service {name}: network names must be strings", declared.at(i))
                as_map.put(item, None, declared.at(i))
            declared = as_map
        if not isinstance(declared, Map):
            raise fail(f"service {name}: networks must be a list or a mapping", at)
        ranked = []
        out = []
        for key, spec in declared.items():
            origin = declared.at(key)
            spec = mapping(spec, f"service {name} network {key}", origin)
            real = self.network_name(key)
            if key not in self.networks and key != "default":
                self.gap(f"service {name} refers to undefined network {key}", origin)
            else:
                self.used_networks.setdefault(key, None)
            aliases = sequence(spec.get("aliases"), "aliases", spec.at("aliases"))
            priority = spec.get("priority", 0)
            ranked.append((-(priority if isinstance(priority, int) else 0), real))
            out.append(
                Endpoint(
                    network=real,
                    ipv4_address=_opt_str(spec.get("ipv4_address")),
                    ipv6_address=_opt_str(spec.get("ipv6_address")),
                    aliases=tuple(str(a) for a in aliases),
                    origin=origin,
                )
            )
        primary = min(ranked)[1] if ranked else "none"
        return tuple(sorted(out, key=lambda e: e.network)), primary

    def ports(self, name: str, svc: Map) -> list:
        items: list = []
        for field in ("ports", "expose"):
            entries = sequence(svc.get(field), f"service {name} {field}", svc.at(field))
            for i, entry in enumerate(entries):
                origin = entries.at(i)
                try:
                    bindings = (
                        parse_port(entry, origin, i) if field == "ports" else parse_expose(entry, origin)
                    )
                except PortSpecError as exc:
                    if came_from_variables(entry):  # the parser quotes values: they may be .env secrets
                        raise fail(
                            f"service {name}: invalid {field} entry {as_written(entry)!r} (after "
                            "interpolation; the variables' values are not shown)",
                            origin,
                        ) from None
                    raise fail(f"service {name}: {exc}", origin) from None
                self.bindings += len(bindings)
                if self.bindings > MAX_PORT_BINDINGS:
                    raise fail(
                        f"service {name}: the project publishes more than {MAX_PORT_BINDINGS:,} port "
                        "bindings (one container publishing every port on IPv4 and IPv6 lists 131,070)",
                        origin,
                    )
                if field == "ports":  # each binding knows its entry's index already
                    items.extend(zip(dedupe_keys(entry, bindings), bindings, strict=True))
                else:
                    items.extend((f"expose:{b.container_port}/{b.protocol}", b) for b in bindings)
        return dedupe(items)

    def mounts(self, name: str, svc: Map) -> tuple[Mount, ...]:
        entries = sequence(svc.get("volumes"), f"service {name} volumes", svc.at("volumes"))
        by_target: dict[str, Mount] = {}
        for i, entry in enumerate(entries):
            undefined: list[str] = []

            def named(key: str, undefined: list[str] = undefined) -> str:
                if key not in self.volumes:
                    undefined.append(key)
                return self.volume_name(key)

            try:
                mount = parse_volume(entry, entries.at(i), named)
            except VolumeSpecError as exc:
                if came_from_variables(entry):
                    raise fail(
                        f"service {name}: invalid volume {as_written(entry)!r} (after interpolation; the "
                        "variables' values are not shown)",
                        entries.at(i),
                    ) from None
                raise fail(f"service {name}: {exc}", entries.at(i)) from None
            for key in undefined:
                self.gap(f"service {name} refers to undefined volume {key}", entries.at(i))
            by_target[mount.target] = mount
        return tuple(by_target.values())

    def network_mode(self, name: str, svc: Map) -> str | None:
        mode = svc.get("network_mode")
        if mode is None:
            return None
        origin = svc.at("network_mode")
        if not isinstance(mode, str) or not mode:
            raise fail(f"service {name}: network_mode must be a non-empty string", origin)
        if svc.get("networks") is not None:
            raise fail(f"service {name} declares mutually exclusive network_mode and networks", origin)
        if mode.startswith("service:") and mode[len("service:") :] not in self.services:
            self.gap(
                f"service {name}: network_mode refers to undefined service {mode[len('service:') :]}", origin
            )
        return mode

    def validate(self, name: str, svc: Map) -> None:
        """Compose's own checks of a service that the model does not otherwise need."""
        for key, value in svc.items():
            if value is None and key not in NULLABLE_KEYS and not key.startswith("x-"):
                raise fail(
                    f"service {name}: {key} must not be empty (compose refuses a null {key})", svc.at(key)
                )
        if "image" not in svc and "build" not in svc:
            self.gap(f"service {name} has neither an image nor a build context", self.services.at(name))
        depends = svc.get("depends_on")
        if isinstance(depends, (Seq, Map)):
            wanted = list(depends)
            for other in wanted:
                if isinstance(other, str) and other not in self.services:
                    where = depends.at(other) if isinstance(depends, Map) else depends.at(wanted.index(other))
                    self.gap(f"service {name} depends on undefined service {other}", where)
        for section in ("secrets", "configs"):
            items = svc.get(section)
            declared = self.tree.get(section)
            if not isinstance(items, Seq):
                continue
            for i, item in enumerate(items):
                source = item.get("source") if isinstance(item, Map) else item
                if isinstance(source, str) and not (isinstance(declared, Map) and source in declared):
                    self.gap(f"service {name} refers to undefined {section[:-1]} {source}", items.at(i))
        self.check_env_files(name, svc)

    def check_env_files(self, name: str, svc: Map) -> None:
        """A required ``env_file`` that does not exist (compose refuses the project)."""
        value = svc.get("env_file")
        items = value if isinstance(value, Seq) else Seq(svc.at("env_file")) if value is None else [value]
        for i, item in enumerate(items):
            origin = items.at(i) if isinstance(items, Seq) and items.where else svc.at("env_file")
            required = True
            if isinstance(item, Map):
                required = to_bool(item.get("required", True), "env_file required", origin) is not False
                item = item.get("path")
            if not isinstance(item, str) or not required or self.root is None:
                continue
            declared_in = (self.root / origin.uri).parent
            if not (declared_in / item).is_file():
                self.gap(f"service {name}: env file {item} not found", origin)

    def container(self, name: str, svc: Any) -> Container:
        origin = self.services.at(name)
        svc = mapping(svc, f"service {name}", origin)
        self.validate(name, svc)
        mode = self.network_mode(name, svc)
        if mode is None:
            endpoints, primary = self.endpoints(name, svc)
            network_mode, mode_origin = primary, None
        else:
            network_mode, mode_origin = mode, svc.at("network_mode")
            endpoints = (Endpoint(network="bridge", origin=mode_origin),) if mode == "bridge" else ()
        container_name = svc.get("container_name")
        image = svc.get("image")
        caps: dict[str, dict[str, Origin]] = {}
        for field in ("cap_add", "cap_drop"):
            values = sequence(svc.get(field), f"service {name} {field}", svc.at(field))
            caps[field] = {}
            for i, value in enumerate(values):
                caps[field].setdefault(canonical_capability(value), values.at(i))
        return Container(
            name=str(container_name) if container_name else name,
            image=str(image) if image is not None else None,
            network_mode=network_mode,
            endpoints=endpoints,
            ports=tuple(self.ports(name, svc)),
            publish_all_ports=None,
            privileged=bool(
                to_bool(svc.get("privileged"), f"service {name} privileged", svc.at("privileged"))
            ),
            privileged_origin=svc.at("privileged") if "privileged" in svc else None,
            cap_add=tuple(caps["cap_add"]),
            cap_add_origins=tuple(caps["cap_add"].values()),
            cap_drop=tuple(caps["cap_drop"]),
            mounts=self.mounts(name, svc),
            labels=redact_labels(string_map(svc.get("labels"), f"service {name} labels", svc.at("labels"))),
            project=self.project,
            service=name,
            origin=Origin(origin.kind, origin.uri, origin.line),
            network_mode_origin=mode_origin,
        )

    def snapshot(
        self,
        active: list[str],
        notes: tuple[str, ...] = (),
        warnings: tuple[str, ...] = (),
        gaps: tuple[str, ...] = (),
    ) -> Snapshot:
        containers = [self.container(name, self.services[name]) for name in active]
        networks = [self.build_network(key) for key in self.used_networks]
        facts = DaemonFacts()
        return Snapshot(
            target=self.target,
            daemon=facts,
            containers=tuple(sorted(containers, key=lambda c: c.service or c.name)),
            networks=tuple(sorted(networks, key=lambda n: n.name)),
            notes=(*notes, *warnings),
            not_checked=not_checked(facts),
            incomplete=(*gaps, *self.gaps),
            warnings=warnings,
        )


def _opt_str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
