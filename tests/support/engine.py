"""Real-engine helpers for integration tests: a FROM-scratch image and labelled objects.

Everything a test creates carries ``io.auditor.test=1`` plus the creating process id, so a
session removes its own objects at the end and leftovers of dead sessions at the start,
without touching objects of another test session running at the same time.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import docker
import docker.errors
from auditor.benchmarks.image import build_busybox_image

TEST_LABEL = "io.auditor.test"
PID_LABEL = "io.auditor.test.pid"
IMAGE = "auditor-test/busybox:1"


def labels() -> dict[str, str]:
    return {TEST_LABEL: "1", PID_LABEL: str(os.getpid())}


def unique(prefix: str) -> str:
    """A name no other test run will pick."""
    return f"audt-{prefix}-{uuid.uuid4().hex[:8]}"


def build_test_image(client: docker.DockerClient) -> str:
    """Build ``auditor-test/busybox`` FROM scratch from the host's static busybox (no registry)."""
    return build_busybox_image(client, IMAGE, {TEST_LABEL: "1"})


def _pid_alive(pid: str | None) -> bool:
    try:
        os.kill(int(pid or "0"), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return int(pid or "0") > 0


def remove_test_objects(client: docker.DockerClient, only_pid: str | None = None) -> None:
    """Remove labelled containers and networks: one session's, or those of dead sessions."""
    flt = {"label": [TEST_LABEL]}

    def ours(obj_labels: dict) -> bool:
        pid = (obj_labels or {}).get(PID_LABEL)
        return pid == only_pid if only_pid else not _pid_alive(pid)

    # The low-level list needs no per-container inspect, so a container that another session
    # removes meanwhile cannot make the clean-up itself fail.
    for c in client.api.containers(all=True, filters=flt):
        if ours(c.get("Labels") or {}):
            try:
                client.api.remove_container(c["Id"], force=True, v=True)
            except docker.errors.NotFound:
                pass
    for v in client.volumes.list(filters={"label": TEST_LABEL}):
        if ours(v.attrs.get("Labels") or {}):
            try:
                v.remove(force=True)
            except docker.errors.APIError:
                pass
    for n in client.api.networks(filters=flt):
        if ours(n.get("Labels") or {}):
            try:
                client.api.remove_network(n["Id"])
            except docker.errors.NotFound:
                pass


def register_session(client: docker.DockerClient) -> str:
    """Mark this test session as live on the engine (a labelled, empty volume)."""
    name = f"audt-session-{os.getpid()}"
    client.volumes.create(name, labels=labels())
    return name


def live_sessions(client: docker.DockerClient) -> list[str]:
    """Pids of test sessions that are still running, this one included."""
    found = []
    for volume in client.volumes.list(filters={"label": TEST_LABEL}):
        pid = (volume.attrs.get("Labels") or {}).get(PID_LABEL)
        if _pid_alive(pid):
            found.append(str(pid))
    return found


def end_session(client: docker.DockerClient, session: str) -> None:
    """Remove this session's marker, and the test image when no other session still runs."""
    try:
        client.volumes.get(session).remove(force=True)
    except docker.errors.NotFound:
        pass
    if live_sessions(client):
        return
    try:
        client.images.remove(IMAGE)
    except docker.errors.APIError:
        pass  # in use by a container created meanwhile: the next session removes it


class EngineObjects:
    """Creates labelled containers and networks for one test and removes them afterwards."""

    def __init__(self, client: docker.DockerClient, image: str):
        self.client = client
        self.image = image
        self.containers: list = []
        self.networks: list = []

    def network(self, prefix: str = "net", **kwargs):
        net = self.client.networks.create(
            unique(prefix), labels={**labels(), **kwargs.pop("labels", {})}, **kwargs
        )
        self.networks.append(net)
        return net

    def container(self, prefix: str = "c", command: str = "sleep 3600", **kwargs):
        """Start a container from the test image; ``name`` defaults to a unique one."""
        kwargs.setdefault("name", unique(prefix))
        kwargs.setdefault("detach", True)
        kwargs["labels"] = {**labels(), **kwargs.get("labels", {})}
        build_test_image(self.client)  # another session may have ended and removed it meanwhile
        c = self.client.containers.run(self.image, command, **kwargs)
        self.containers.append(c)
        return c

    def cleanup(self) -> None:
        for c in reversed(self.containers):
            try:
                c.remove(force=True, v=True)
            except docker.errors.NotFound:
                pass
        for n in reversed(self.networks):
            try:
                n.remove()
            except docker.errors.NotFound:
                pass

    def __iter__(self) -> Iterator:
        return iter(self.containers)
