"""The wheel and the container image, built here from scratch and run for real.

``scripts/build-image.sh`` makes the base image from Debian's packages (debootstrap, then
``docker import``; reused by content hash on later runs), builds the wheel and the image. The
wheel is installed into a fresh virtualenv and run; the image (as its non-root user) scans the
machine's engine through the GET-only haproxy of deploy/ and a mounted compose directory.
The image this test builds is labelled and removed afterwards; the base image is the cache.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

import pytest
from support.engine import PID_LABEL, TEST_LABEL
from support.readonly_haproxy import readonly_haproxy

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "build-image.sh"
COMPOSE = ROOT / "tests" / "fixtures" / "compose" / "repo"
IMAGE_UID = 10001

pytestmark = [pytest.mark.engine, pytest.mark.slow]


def _needs_root_tools() -> None:
    if os.geteuid() != 0 or shutil.which("docker") is None or shutil.which("debootstrap") is None:
        if os.environ.get("AUDITOR_REQUIRE_ENGINE") == "1":
            pytest.fail("root, docker and debootstrap are needed (scripts/setup-env.sh installs debootstrap)")
        pytest.skip("needs root, docker and debootstrap")


@pytest.fixture(scope="module")
def built(tmp_path_factory, docker_client):
    """(image tag, wheel directory, seconds the build took)."""
    _needs_root_tools()
    wheels = tmp_path_factory.mktemp("wheels")
    tag = f"auditor-test/image:{os.getpid()}"
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "AUDITOR_WHEEL_DIR": str(wheels),
        "AUDITOR_IMAGE_LABELS": f"--label {TEST_LABEL}=1 --label {PID_LABEL}={os.getpid()}",
    }
    started = time.monotonic()
    try:
        proc = subprocess.run(
            ["bash", str(SCRIPT), tag], capture_output=True, text=True, env=env, timeout=1800
        )
        took = time.monotonic() - started
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert proc.stdout.splitlines()[-1] == tag
        print(
            f"\nimage build took {took:.0f} s: {' | '.join(ln for ln in proc.stderr.splitlines() if '[build-image]' in ln)}"
        )
        yield tag, wheels, took
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, timeout=120)


def docker_run(
    tag: str, *args: str, volumes: tuple[str, ...] = (), env: tuple[str, ...] = ()
) -> subprocess.CompletedProcess:
    name = f"audt-image-{os.getpid()}-{time.monotonic_ns()}"
    command = [
        "docker",
        "run",
        "--rm",
        "--name",
        name,
        "--network",
        "none",
        "--label",
        f"{TEST_LABEL}=1",
        "--label",
        f"{PID_LABEL}={os.getpid()}",
        "--read-only",
        "--cap-drop",
        "ALL",
    ]
    for v in volumes:
        command += ["-v", v]
    for e in env:
        command += ["-e", e]
    try:
        return subprocess.run([*command, tag, *args], capture_output=True, text=True, timeout=300)
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=60)


def readable_copy(source: Path, target: Path) -> Path:
    """A copy the image's non-root user can read (the test's temp dirs are private)."""
    shutil.copytree(source, target)
    for path in [target, *target.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


def test_the_wheel_installs_into_a_fresh_virtualenv_and_runs(built, tmp_path):
    _, wheels, _ = built
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--find-links",
            str(wheels),
            "docker-net-auditor",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr
    version = subprocess.run(
        [str(env_dir / "bin" / "auditor"), "--version"], capture_output=True, text=True, timeout=60
    )
    assert version.stdout == "auditor, version 0.1.0\n"
    proc = subprocess.run(
        [str(env_dir / "bin" / "auditor"), "scan", str(COMPOSE), "-f", "json", "--fail-on", "none"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert {t["name"] for t in json.loads(proc.stdout)["targets"]} == {"shop", "tools"}
    # From the checkout root the source tree shadows the installed copy: it must still run.
    for args in (["-m", "auditor", "--version"], ["-m", "auditor", "rules", "-f", "markdown"]):
        here = subprocess.run([str(python), *args], capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert here.returncode == 0, here.stderr
    rules = subprocess.run(
        [str(python), "-m", "auditor", "rules", "-f", "markdown"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert rules.stdout == (ROOT / "docs" / "rules.md").read_text()


def test_the_image_runs_as_a_non_root_user(built):
    tag, _, _ = built
    proc = subprocess.run(
        ["docker", "image", "inspect", tag, "--format", "{{.Config.User}} {{json .Config.Entrypoint}}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.stdout.strip() == f'{IMAGE_UID}:{IMAGE_UID} ["auditor"]'
    assert docker_run(tag, "--version").stdout == "auditor, version 0.1.0\n"


def test_the_image_scans_the_engine_through_the_get_only_proxy(built, tmp_path, engine_objects):
    tag, _, _ = built
    exposed = engine_objects.container("imagescan", ports={"6379/tcp": ("0.0.0.0", 0)})
    proxy_dir = tmp_path / "proxy"
    proxy_dir.mkdir()
    os.chown(proxy_dir, 0, IMAGE_UID)
    proxy_dir.chmod(0o750)
    with readonly_haproxy(proxy_dir / "docker.sock", group=IMAGE_UID):
        proc = docker_run(
            tag,
            "scan",
            "-f",
            "json",
            "--fail-on",
            "none",
            volumes=(f"{proxy_dir}:/run/auditor-proxy",),
            env=("DOCKER_HOST=unix:///run/auditor-proxy/docker.sock",),
        )
        denied = docker_run(
            tag,
            "bench",
            "--modes",
            "bridge",
            "-q",
            volumes=(f"{proxy_dir}:/run/auditor-proxy",),
            env=("DOCKER_HOST=unix:///run/auditor-proxy/docker.sock",),
        )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [(t["kind"], t["status"]) for t in report["targets"]] == [("engine", "complete")]
    ours = {f["rule_id"] for f in report["findings"] if f["resource"]["name"] == exposed.name}
    assert "PORT002" in ours  # Redis by its port on all interfaces (PORT001 folded into it)
    assert denied.returncode != 0  # the proxy refuses what a benchmark would create


def test_the_image_scans_a_mounted_compose_directory(built, tmp_path):
    tag, _, _ = built
    src = readable_copy(COMPOSE, tmp_path / "repo")
    proc = docker_run(tag, "scan", "/src", "-f", "sarif", "--fail-on", "high", volumes=(f"{src}:/src:ro",))
    assert proc.returncode == 1, proc.stderr  # the fixtures hold critical findings
    run = json.loads(proc.stdout)["runs"][0]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert uris == {"shop/compose.yaml", "shop/compose.override.yaml", "tools/docker-compose.yml"}
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": "file:///src/"}}
