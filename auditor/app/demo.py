"""The README demo: start a few deliberately risky containers, scan, write reports, clean up.

Everything it creates is labelled ``io.auditor.demo=1`` and removed in a ``finally`` block
(also on Ctrl-C). Where no engine can be reached, the bundled example snapshot is scanned
instead, and the output says so.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import docker
import docker.errors

from auditor.benchmarks.image import build_busybox_image

DEMO_LABEL = "io.auditor.demo"
DEMO_IMAGE = "auditor-demo/busybox:1"
DEMO_PREFIX = "auditor-demo-"


@dataclass(frozen=True)
class DemoContainer:
    """One risky (or deliberately safe) container of the demo and why it is there."""

    name: str
    image_alias: str
    why: str
    ports: dict
    network: str | None = "shop"
    network_mode: str | None = None
    volumes: dict | None = None


DEMO_CONTAINERS: tuple[DemoContainer, ...] = (
    DemoContainer("web", "auditor-demo/nginx:1", "web server published on 0.0.0.0", {"80/tcp": 8080}),
    DemoContainer("cache", "auditor-demo/redis:7", "Redis published on all interfaces", {"6379/tcp": 16379}),
    DemoContainer(
        "db", "auditor-demo/postgres:16", "PostgreSQL published on IPv6 ::", {"5432/tcp": ("::", 15432)}
    ),
    DemoContainer(
        "admin",
        "auditor-demo/grafana:10",
        "admin console bound to loopback only",
        {"3000/tcp": ("127.0.0.1", 13000)},
    ),
    DemoContainer(
        "agent", "auditor-demo/agent:1", "host network mode", {}, network=None, network_mode="host"
    ),
    DemoContainer(
        "ci-runner",
        "auditor-demo/runner:1",
        "Docker socket mounted",
        {},
        volumes={"/var/run/docker.sock": {"bind": "/var/run/docker.sock", "mode": "ro"}},
    ),
    DemoContainer(
        "legacy", "auditor-demo/legacy:1", "left on the default bridge", {"8000/tcp": None}, network=None
    ),
)


def bundled_snapshot() -> Path:
    """The example snapshot shipped with the package, for machines without an engine."""
    return Path(str(resources.files("auditor").joinpath("examples/demo-snapshot.json")))


def demo_labels() -> dict[str, str]:
    return {DEMO_LABEL: "1"}


def remove_demo_objects(client: docker.DockerClient) -> None:
    """Remove every container, network and image tag the demo creates (by label/prefix)."""
    flt = {"label": [DEMO_LABEL]}
    for c in client.containers.list(all=True, filters=flt):
        try:
            c.remove(force=True)
        except docker.errors.NotFound:
            pass
    for n in client.networks.list(filters=flt):
        try:
            n.remove()
        except docker.errors.NotFound:
            pass
    for tag in {d.image_alias for d in DEMO_CONTAINERS} | {DEMO_IMAGE}:
        try:
            client.images.remove(tag, noprune=False)
        except docker.errors.ImageNotFound:
            pass
        except docker.errors.APIError:
            pass  # still in use by a container another process created: leave it


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    previous = signal.getsignal(signal.SIGTERM)

    def handler(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def demo_environment(client: docker.DockerClient, say: Callable[[str], None]) -> Iterator[list[str]]:
    """Start the demo containers; always remove them afterwards."""
    with _sigterm_as_interrupt():
        remove_demo_objects(client)  # leftovers of an interrupted earlier demo
        try:
            image = build_busybox_image(client, DEMO_IMAGE, demo_labels())
            net = client.networks.create(f"{DEMO_PREFIX}shop", labels=demo_labels())
            names = []
            for spec in DEMO_CONTAINERS:
                client.images.get(image).tag(*spec.image_alias.split(":"))
                kwargs: dict = {
                    "name": DEMO_PREFIX + spec.name,
                    "labels": {**demo_labels(), "io.auditor.demo.why": spec.why},
                    "detach": True,
                    "ports": spec.ports or None,
                    "volumes": spec.volumes,
                }
                if spec.network_mode:
                    kwargs["network_mode"] = spec.network_mode
                elif spec.network:
                    kwargs["network"] = net.name
                client.containers.run(spec.image_alias, "sleep 3600", **kwargs)
                names.append(kwargs["name"])
                say(f"started {kwargs['name']}: {spec.why}")
            yield names
        finally:
            remove_demo_objects(client)
            say("removed the demo containers, network and images")
