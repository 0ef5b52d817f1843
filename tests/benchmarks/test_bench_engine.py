"""``auditor bench`` against the real engine: a short run, and runs killed at random points.

Assertions are filtered to the killed run's own pid label, so other benchmark or test runs on
the same engine are never counted (or touched).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from auditor.benchmarks.environment import ENV_MARKER, LABEL, PID_LABEL

pytestmark = pytest.mark.engine

AUDITOR = [sys.executable, "-m", "auditor"]
KILL_SEED = int(os.environ.get("AUDITOR_BENCH_KILL_SEED", str(int(time.time()))))


def leftovers(client, pid: int) -> dict[str, list[str]]:
    """Everything labelled by the benchmark run of ``pid`` that still exists."""
    flt = {"label": [f"{PID_LABEL}={pid}"]}
    return {
        "containers": [c["Names"][0] for c in client.api.containers(all=True, filters=flt)],
        "networks": [n["Name"] for n in client.api.networks(filters=flt)],
        "images": [i["Id"] for i in client.api.images(all=True, filters=flt)],
        "processes": marked_processes(pid),
    }


def marked_processes(pid: int) -> list[int]:
    marker = f"{ENV_MARKER}={pid}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/environ", "rb") as fh:
                    if marker in fh.read().split(b"\0"):
                        found.append(int(entry))
            except OSError:
                continue
    return found


EMPTY = {"containers": [], "networks": [], "images": [], "processes": []}


def start_bench(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*AUDITOR, "bench", "-q", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_for_objects(client, pid: int, timeout: float = 60.0) -> None:
    """Wait until the run has created at least one labelled container (set-up underway)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.api.containers(all=True, filters={"label": [f"{PID_LABEL}={pid}"]}):
            return
        time.sleep(0.2)


@pytest.fixture(scope="module")
def tools_present():
    import shutil

    missing = [t for t in ("iperf3", "sockperf", "nsenter") if not shutil.which(t)]
    if missing:
        pytest.fail(f"benchmark tools missing: {missing} (scripts/setup-env.sh installs them)")


def test_short_run_writes_json_and_html_and_leaves_nothing(docker_client, tools_present, tmp_path):
    out_json, out_html = tmp_path / "bench.json", tmp_path / "bench.html"
    proc = start_bench(
        "--modes",
        "published-proxy",
        "--duration",
        "1",
        "--repeat",
        "3",
        "--warmup",
        "0",
        "-o",
        str(out_json),
        "-o",
        str(out_html),
    )
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    doc = json.loads(out_json.read_text())
    modes = {m["mode"]: m for m in doc["modes"]}
    assert list(modes) == ["host-loopback", "none-loopback", "published-proxy"]
    for name in modes:
        assert modes[name]["status"] == "ok", modes[name]
        assert len(modes[name]["throughput_bps"]["samples"]) == 3
        assert modes[name]["throughput_bps"]["ci_low"] <= modes[name]["throughput_bps"]["median"]
        assert (
            modes[name]["latency_us"]["p50"]
            <= modes[name]["latency_us"]["p99"]
            <= modes[name]["latency_us"]["p999"]
        )
        assert modes[name]["connections_per_s"]["median"] > 0
    proxy = modes["published-proxy"]
    assert set(proxy["ratio_to_baseline"]) == {"host-loopback", "none-loopback"}
    if doc["environment"]["userland_proxy"]["enabled"]:
        assert proxy["path"] == "userland proxy (docker-proxy)"
        assert proxy["cpu"]["throughput"]["proxy"] > 5.0
    assert doc["environment"]["engine_version"] and doc["environment"]["mtu"]["lo"]
    html = out_html.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "published-proxy" in html
    assert leftovers(docker_client, proc.pid) == EMPTY


@pytest.mark.parametrize(
    ("sig", "phase"), [(signal.SIGINT, "late"), (signal.SIGTERM, "late"), (signal.SIGTERM, "early")]
)
def test_interrupted_run_removes_everything_itself(docker_client, tools_present, sig, phase):
    rng = random.Random(KILL_SEED + sig + len(phase))
    proc = start_bench("--modes", "bridge,user-bridge,container-ns", "--duration", "1", "--repeat", "2")
    if phase == "late":  # somewhere in set-up or measuring; "early" usually hits the image build
        wait_for_objects(docker_client, proc.pid)
    delay = rng.uniform(0.0, 6.0) if phase == "late" else rng.uniform(0.3, 3.0)
    time.sleep(delay)
    created = leftovers(docker_client, proc.pid) != EMPTY
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    context = f"{sig.name} {phase} + {delay:.1f}s (AUDITOR_BENCH_KILL_SEED={KILL_SEED})"
    if proc.returncode == -sig:
        # still starting (Python and its imports take about a second here): no handler yet, and
        # nothing made yet either, since the handler is in place before the first object is
        assert phase == "early" and not created, f"{context}: killed by the signal after set-up began"
    else:
        assert proc.returncode in (130, 0), f"{context}: {err}"
    if proc.returncode == 130:
        assert "everything it created was removed" in err
    assert leftovers(docker_client, proc.pid) == EMPTY, context


@pytest.mark.parametrize("phase", ["early", "late"])
def test_killed_run_is_cleaned_by_cleanup(docker_client, tools_present, phase):
    rng = random.Random(KILL_SEED + len(phase))
    proc = start_bench("--modes", "bridge,published-nat,host", "--duration", "1", "--repeat", "2")
    if phase == "late":
        wait_for_objects(docker_client, proc.pid)
    delay = rng.uniform(0.2, 8.0)
    time.sleep(delay)
    proc.kill()  # SIGKILL: nothing of the run's own clean-up can run
    proc.communicate(timeout=30)
    context = f"SIGKILL {phase} + {delay:.1f}s (AUDITOR_BENCH_KILL_SEED={KILL_SEED})"
    time.sleep(1.0)  # let an image build that was in flight finish on the daemon side
    cleanup = subprocess.run([*AUDITOR, "bench", "--cleanup"], capture_output=True, text=True, timeout=120)
    assert cleanup.returncode == 0, cleanup.stderr
    assert cleanup.stdout.startswith("removed ")
    assert leftovers(docker_client, proc.pid) == EMPTY, context


def test_cleanup_keeps_objects_of_live_runs(docker_client, tools_present, test_image):
    """A labelled container whose pid is alive (this test process) survives --cleanup."""
    name = f"auditor-bench-keep-{os.getpid()}"
    c = docker_client.containers.run(
        test_image,
        "sleep 60",
        name=name,
        detach=True,
        labels={
            LABEL: "1",
            PID_LABEL: str(os.getpid()),
            "io.auditor.test": "1",
            "io.auditor.test.pid": str(os.getpid()),
        },
    )
    try:
        result = subprocess.run([*AUDITOR, "bench", "--cleanup"], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        c.reload()
        assert c.status == "running"
    finally:
        c.remove(force=True)


def test_bad_options_exit_2():
    result = subprocess.run(
        [*AUDITOR, "bench", "--modes", "warp"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("auditor: error: unknown mode(s) warp (known: host-loopback,")
    result = subprocess.run([*AUDITOR, "bench", "-o", "x.csv"], capture_output=True, text=True, timeout=60)
    assert (
        result.returncode == 2
        and "cannot tell the format of output 'x.csv' from its extension; write FORMAT:PATH (formats: html, json)"
        in result.stderr
    )


def test_missing_user_image_is_an_input_error(docker_client):
    result = subprocess.run(
        [*AUDITOR, "bench", "--modes", "bridge", "--image", "auditor-bench/absent:0", "-q"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "auditor: error: --image 'auditor-bench/absent:0' is not on this engine (bench never pulls)"
    )
