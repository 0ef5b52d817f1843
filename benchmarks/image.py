"""Images built FROM scratch out of the host's own files: no registry is needed.

The tools image holds the host's iperf3, sockperf and busybox; the busybox image (the demo's and
the tests') holds busybox alone. The shared libraries come from ``ldd`` and land at the same paths as on
the host; ``/tmp`` is created world-writable. The image is labelled like every other object of
the run and removed with it.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tarfile
from collections.abc import Iterable, Mapping

TOOLS = ("iperf3", "sockperf")
BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox")
_LDD_LINE = re.compile(r"^\s*(?:\S+\s+=>\s+)?(/\S+)\s+\(0x[0-9a-f]+\)\s*$")


def libraries_from_ldd(output: str) -> list[str]:
    """Absolute library paths named in ``ldd`` output (vdso and 'not found' lines excluded)."""
    found = []
    for line in output.splitlines():
        match = _LDD_LINE.match(line)
        if match and match.group(1) not in found:
            found.append(match.group(1))
    return found


def image_files(binaries: Mapping[str, str], ldd_outputs: Mapping[str, str], busybox: str) -> dict[str, str]:
    """Path in the image -> path on the host, for the tools, their libraries and busybox."""
    files = {"bin/busybox": busybox}
    for name, host_path in binaries.items():
        files[f"usr/bin/{name}"] = host_path
        for lib in libraries_from_ldd(ldd_outputs.get(name, "")):
            files[lib.lstrip("/")] = lib
    return files


def dockerfile(labels: Mapping[str, str], library_dirs: Iterable[str]) -> str:
    """FROM scratch; the labels come first so even intermediate build images carry them."""
    label_args = " ".join(f'"{k}"="{v}"' for k, v in sorted(labels.items()))
    lib_path = ":".join(sorted(set(library_dirs)))
    return (
        "FROM scratch\n"
        f"LABEL {label_args}\n"
        "COPY rootfs/ /\n"
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
        'RUN ["/bin/busybox", "sh", "-c", "mkdir -p /tmp && chmod 1777 /tmp"]\n'
        f"ENV PATH=/usr/bin:/bin LD_LIBRARY_PATH={lib_path}\n"
        'CMD ["/bin/sh"]\n'
    )


class ImageError(Exception):
    """The host lacks something the image needs."""


def host_binaries() -> dict[str, str]:
    """The host's iperf3 and sockperf; raises ``ImageError`` naming what is missing."""
    found = {name: shutil.which(name) for name in TOOLS}
    missing = [name for name, path in found.items() if not path]
    if missing:
        raise ImageError(f"missing on this host: {', '.join(missing)} (apt-get install {' '.join(missing)})")
    return {name: os.path.realpath(path) for name, path in found.items() if path}


def find_busybox() -> str:
    """The host's static busybox (Debian: busybox-static)."""
    for candidate in BUSYBOX_CANDIDATES:
        if os.path.exists(candidate):
            return candidate
    found = shutil.which("busybox")
    if not found:
        raise ImageError("busybox is needed to build a local image (apt-get install busybox-static)")
    return found


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def build_context(labels: Mapping[str, str]) -> io.BytesIO:
    """A tar build context holding the Dockerfile and the host files under ``rootfs/``."""
    binaries = host_binaries()
    ldd = {}
    for name, path in binaries.items():
        proc = subprocess.run(["ldd", path], capture_output=True, text=True, timeout=30, check=False)
        ldd[name] = proc.stdout
    files = image_files(binaries, ldd, find_busybox())
    lib_dirs = {os.path.dirname("/" + p) for p in files if "/lib" in "/" + os.path.dirname(p)}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        _add_bytes(tar, "Dockerfile", dockerfile(labels, lib_dirs).encode())
        for inside, host_path in sorted(files.items()):
            tar.add(os.path.realpath(host_path), arcname=f"rootfs/{inside}")
    buf.seek(0)
    return buf


def build_image(client, tag: str, labels: Mapping[str, str]) -> str:
    """Build and tag the tools image; returns the tag."""
    context = build_context(labels)
    client.images.build(
        fileobj=context, custom_context=True, tag=tag, labels=dict(labels), rm=True, forcerm=True, pull=False
    )
    return tag


def build_busybox_image(client, tag: str, labels: Mapping[str, str]) -> str:
    """Build (once) an image holding only busybox and its applets, tagged ``tag``."""
    import docker.errors

    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    recipe = (
        "FROM scratch\n"
        "COPY busybox /bin/busybox\n"
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
        'RUN ["/bin/mkdir", "-p", "/tmp"]\n'
        'CMD ["/bin/sh"]\n'
    )
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        _add_bytes(tar, "Dockerfile", recipe.encode())
        tar.add(find_busybox(), arcname="busybox")
    buf.seek(0)
    client.images.build(fileobj=buf, custom_context=True, tag=tag, labels=dict(labels), rm=True)
    return tag
