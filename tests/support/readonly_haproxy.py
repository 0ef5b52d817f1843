"""haproxy with deploy/haproxy/docker-readonly.cfg on a private socket, in front of dockerd:
the GET-only proxy the deployments give the scanner, run for real."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PROXY_CFG = Path(__file__).resolve().parents[2] / "deploy" / "haproxy" / "docker-readonly.cfg"


def tool(name: str) -> str:
    found = shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)
    if found is None:
        if os.environ.get("AUDITOR_REQUIRE_ENGINE") == "1":
            pytest.fail(f"{name} is missing (scripts/setup-env.sh installs it)")
        pytest.skip(f"{name} not installed")
    return found


@contextmanager
def readonly_haproxy(sock: Path, group: int | None = None) -> Iterator[str]:
    """Start haproxy on ``sock``; ``group`` owns the socket (mode 660), as in the deployments."""
    env = {**os.environ, "AUDITOR_PROXY_SOCKET": str(sock), "DOCKER_SOCKET": "/var/run/docker.sock"}
    proc = subprocess.Popen(
        [tool("haproxy"), "-db", "-f", str(PROXY_CFG)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not sock.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"haproxy did not start: {proc.stdout.read() if proc.stdout else ''}")
            time.sleep(0.05)
        if group is not None:
            os.chown(sock, -1, group)
        yield str(sock)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
