"""HOST002: the Docker socket (or the directory holding it) is mounted into a container.

Whoever controls the container controls the daemon, and so the host: it can start a
privileged container that mounts ``/``. Read-only mounts do not help; the API is a socket.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from auditor.model.records import Snapshot
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity

from ._helpers import cis, cwe, name_of

META = RuleMeta(
    id="HOST002",
    title="Docker socket mounted into a container",
    severity=Severity.CRITICAL,
    rationale=(
        "The Docker socket grants full control of the daemon: a process that can write to it "
        "can start a privileged container with the host's root filesystem mounted, which is "
        "root on the host. Mounting it read-only does not restrict API calls."
    ),
    remediation=(
        "Remove the mount (`-v /var/run/docker.sock:/var/run/docker.sock`, compose `volumes:` "
        "entry). Tools that need to read container state should go through a filtering proxy "
        "that allows only GET requests (e.g. a docker-socket-proxy with POST=0), reached over "
        "an internal network."
    ),
    references=(
        cis("5.31", "Ensure that the Docker socket is not mounted inside any containers"),
        cwe(250, "Execution with Unnecessary Privileges"),
    ),
)

SOCKET_PATHS = (
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/podman/podman.sock",
    "/var/run/podman/podman.sock",
    "/run/containerd/containerd.sock",
    "/var/run/containerd/containerd.sock",
)
SOCKET_DIRS = ("/var/run", "/run", "/run/docker", "/var/run/docker", "/run/containerd", "/run/podman", "/")


def _socket_exposed(source: str) -> str | None:
    """Return why a mount source exposes a container engine socket, or None."""
    path = str(PurePosixPath(source)) if source else ""
    if path in SOCKET_PATHS or path.endswith("/docker.sock") or path.endswith("/podman.sock"):
        return "engine socket"
    if path in SOCKET_DIRS:
        return "directory holding the engine socket"
    return None


def check(snapshot: Snapshot) -> Iterator[Observation]:
    for container in snapshot.containers:
        for mount in container.mounts:
            why = _socket_exposed(mount.source)
            if why is None:
                continue
            ro = " (read-only does not restrict API calls)" if mount.read_only else ""
            yield Observation(
                subject=container,
                message=f"{name_of(container)} mounts the {why} {mount.source} at {mount.target}{ro}.",
                key=f"{mount.source}:{mount.target}",
                evidence=(
                    ("source", mount.source),
                    ("target", mount.target),
                    ("read_only", str(mount.read_only).lower()),
                ),
                origin=mount.origin,
            )


RULE = Rule(META, check)
