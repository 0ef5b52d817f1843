"""Builds small local images FROM scratch out of host files: no registry is needed.

Used by the demo and the tests (a static busybox), so nothing is ever pulled.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile

import docker
import docker.errors

BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox")


def find_busybox() -> str:
    """The host's static busybox (Debian: busybox-static)."""
    for candidate in BUSYBOX_CANDIDATES:
        if os.path.exists(candidate):
            return candidate
    found = shutil.which("busybox")
    if not found:
        raise FileNotFoundError("busybox is needed to build a local image (apt-get install busybox-static)")
    return found


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def build_busybox_image(client: docker.DockerClient, tag: str, labels: dict[str, str]) -> str:
    """Build (once) an image holding only busybox and its applets, tagged ``tag``."""
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    dockerfile = (
        "FROM scratch\n"
        "COPY busybox /bin/busybox\n"
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
        'RUN ["/bin/mkdir", "-p", "/tmp"]\n'
        'CMD ["/bin/sh"]\n'
    )
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        _add_bytes(tar, "Dockerfile", dockerfile.encode())
        tar.add(find_busybox(), arcname="busybox")
    buf.seek(0)
    client.images.build(fileobj=buf, custom_context=True, tag=tag, labels=labels, rm=True)
    return tag
