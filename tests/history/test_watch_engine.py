"""``auditor watch`` on the real engine: a risky container shows up (and goes) as it happens,
and a dropped connection is resumed from the last event (events missed meanwhile replayed)."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest

from .conftest import free_port
from .forwarder import Forwarder

pytestmark = pytest.mark.engine

ENGINE = "unix:///var/run/docker.sock"
WAIT = 45.0  # an upper bound so a broken watch fails instead of hanging; not a timing claim


class WatchProcess:
    """The real command in a subprocess, its JSON lines read on a thread."""

    def __init__(self, *args: str):
        code = "from auditor.commands.watch import watch_command; watch_command()"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, "-f", "json", "--debounce", "0.3", "--duration", "240", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue = queue.Queue()
        self.seen: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))

    def wait_for(self, match: Callable[[dict], bool], what: str) -> dict:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                msg = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    pytest.fail(
                        f"watch exited ({self.proc.returncode}) before {what}: {self.proc.stderr.read()}"
                    )
                continue
            self.seen.append(msg)
            if match(msg):
                return msg
        pytest.fail(
            f"no {what} within {WAIT}s; saw {[(m['type'], m.get('event') or m.get('change')) for m in self.seen]}"
        )

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def about(name: str, change: str) -> Callable[[dict], bool]:
    return lambda m: (
        m["type"] == "finding" and m["change"] == change and m["finding"]["resource"]["name"] == name
    )


def status(event: str) -> Callable[[dict], bool]:
    return lambda m: m["type"] == "status" and m["event"] == event


def test_watch_reports_a_new_risky_container_and_its_removal(engine_objects):
    watch = WatchProcess("--engine", ENGINE)
    try:
        watch.wait_for(status("ready"), "ready line")
        c = engine_objects.container("watched", ports={"6379/tcp": ("0.0.0.0", free_port())})
        first = watch.wait_for(about(c.name, "new"), f"new finding for {c.name}")
        assert first["trigger"]["reason"] == "events"
        assert c.name in {e["name"] for e in first["trigger"]["events"]}
        new = {first["finding"]["rule_id"]}
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:  # the rest of the same audit arrives together
            try:
                msg = watch.lines.get(timeout=0.5)
            except queue.Empty:
                break
            if about(c.name, "new")(msg):
                new.add(msg["finding"]["rule_id"])
        assert "PORT002" in new  # 6379 published: Redis's port (one finding per port entry)
        c.remove(force=True)
        gone = watch.wait_for(about(c.name, "resolved"), f"resolved finding for {c.name}")
        assert gone["finding"]["rule_id"] in new
    finally:
        watch.stop()


def test_watch_resumes_from_the_last_event_after_a_dropped_connection(engine_objects, tmp_path):
    proxy = Forwarder(unix_path=str(tmp_path / "docker.sock")).start()
    watch = WatchProcess("--engine", proxy.url)
    try:
        watch.wait_for(status("ready"), "ready line")
        proxy.drop()
        watch.wait_for(status("disconnected"), "disconnected status")
        c = engine_objects.container("missed", ports={"6379/tcp": ("0.0.0.0", free_port())})
        proxy.start()
        resumed = watch.wait_for(status("resumed"), "resumed status")
        assert float(resumed["since"]) > 0
        found = watch.wait_for(about(c.name, "new"), f"new finding for {c.name} started while disconnected")
        # Found through the replayed events, not only by a later full re-scan.
        assert found["trigger"]["reason"] == "events"
        assert c.name in {e["name"] for e in found["trigger"]["events"]}
    finally:
        watch.stop()
        proxy.close()
