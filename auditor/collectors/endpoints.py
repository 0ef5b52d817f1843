"""Where an engine is: ``EngineSpec`` and the default address, without importing the SDK.

Kept apart from the engine collector so that commands which never talk to an engine (a compose
scan, ``--version``) do not pay for importing the Docker SDK.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.model import inputs
from auditor.model.errors import InputError

DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class EngineSpec:
    """How to reach one engine. ``url`` ``None`` means ``DOCKER_HOST`` or the local socket."""

    url: str | None = None
    tls_verify: bool = False
    ca_cert: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    read_host_config: bool = True  # the daemon's files and firewall, when it runs on this machine
    name: str | None = None  # a fleet hosts file may name the engine; reports then use that name

    @property
    def address(self) -> str:
        return self.url or default_engine_address()


DEFAULT_SOCKET = "unix:///var/run/docker.sock"


def _context_host() -> str | None:
    """The docker endpoint of ``DOCKER_CONTEXT`` or the CLI's current context, read as the CLI
    reads it (``$DOCKER_CONFIG`` or ``~/.docker``). The SDK's own reader misses contexts when
    that folder has no config.json, so this follows the CLI's layout directly."""
    config_dir = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")
    name = os.environ.get("DOCKER_CONTEXT")
    if not name:
        try:
            config = inputs.load_json(config_dir / "config.json", "docker config", inputs.CONFIG_LIMIT)
        except InputError:
            return None
        current = config.get("currentContext") if isinstance(config, dict) else None
        name = current if isinstance(current, str) else None
    if not name or name == "default":
        return None
    meta = config_dir / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest() / "meta.json"
    try:
        doc: Any = inputs.load_json(meta, "docker context", inputs.CONFIG_LIMIT)
        host = doc["Endpoints"]["docker"]["Host"]
    except (InputError, KeyError, TypeError):
        return None
    return host if isinstance(host, str) and host else None


def default_engine_address() -> str:
    """Where the ``docker`` CLI itself would go: ``DOCKER_HOST``, else the endpoint of the
    ``DOCKER_CONTEXT`` / current ``docker context`` (rootless, Desktop, remote contexts), else
    the standard socket."""
    return os.environ.get("DOCKER_HOST") or _context_host() or DEFAULT_SOCKET
