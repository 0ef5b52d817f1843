"""``auditor watch``: follow one engine's events and report findings as they appear and go.

The initial state comes from a full scan. Events (container and network life cycle) are
debounced; then only the containers and networks they name are inspected again, and the rules
run over the updated snapshot (rules relate containers to each other, so they see the whole
host). Findings are compared by fingerprint with the previous audit. A dropped event stream
is resumed from the last event seen (``since``), so nothing that happened meanwhile is lost;
periodic full scans correct any drift. Only GET requests are made.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import docker.errors

from auditor.audit.pipeline import evaluate
from auditor.collectors.base import Collected
from auditor.collectors.daemon_facts import read_host_facts
from auditor.collectors.endpoints import EngineSpec
from auditor.collectors.engine import connect, describe_failure, fetch_raw
from auditor.collectors.raw import RawState, normalize_raw, sanitize_container, sanitize_network
from auditor.model.errors import AuditorError
from auditor.model.findings import Finding, ScanResult
from auditor.model.rule import Rule
from auditor.model.severity import Severity
from auditor.policy.apply import Policy, apply_policy

WATCHED_EVENTS = {
    "container": ("create", "start", "stop", "die", "destroy", "rename", "update", "pause", "unpause"),
    "network": ("create", "connect", "disconnect", "destroy", "remove"),
}
RESUME_RESCAN_DELAY = 5.0  # after a dropped stream: replayed events first, then a safety full scan


@dataclass(frozen=True)
class WatchSettings:
    debounce: float = 1.0
    rescan_interval: float = 300.0
    duration: float | None = None  # stop after this many seconds (None: until interrupted)
    max_batch_wait: float = 10.0  # a busy engine still gets audited this often
    max_backoff: float = 30.0


def event_summary(ev: dict[str, Any]) -> dict[str, Any]:
    """What a report says about an event: type, action, object name (never env or commands)."""
    actor = ev.get("Actor") or {}
    attrs = actor.get("Attributes") or {}
    return {
        "type": ev.get("Type"),
        "action": ev.get("Action") or ev.get("status"),
        "name": attrs.get("name"),
        "id": (actor.get("ID") or ev.get("id") or "")[:12],
    }


def event_key(ev: dict[str, Any]) -> tuple:
    actor = ev.get("Actor") or {}
    return (ev.get("timeNano") or ev.get("time"), ev.get("Type"), ev.get("Action"), actor.get("ID"))


def since_param(time_nano: int) -> str:
    """The events API's ``since``: seconds with nanoseconds."""
    return f"{time_nano // 1_000_000_000}.{time_nano % 1_000_000_000:09d}"


class EventReader:
    """Reads the event stream on a thread into a queue; reconnects and resumes after a drop."""

    def __init__(self, spec: EngineSpec, out: queue.Queue, since_nano: int, settings: WatchSettings):
        self.spec = spec
        self.out = out
        self.last_nano = since_nano
        self.settings = settings
        self._stop = threading.Event()
        self._stream = None
        self._seen: deque[tuple] = deque(maxlen=1024)
        self._thread = threading.Thread(target=self._run, name="auditor-events", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        stream = self._stream
        if stream is not None:
            try:
                stream.close()
            except Exception:  # noqa: BLE001,S110 - closing a dead stream may fail; we are leaving anyway
                pass
        self._thread.join(timeout=5)

    def _run(self) -> None:
        backoff = 1.0
        dropped = False
        filters = {
            "type": list(WATCHED_EVENTS),
            "event": sorted({a for v in WATCHED_EVENTS.values() for a in v}),
        }
        while not self._stop.is_set():
            try:
                client = connect(self.spec)
                since = since_param(self.last_nano)
                stream = client.events(decode=True, since=since, filters=filters)
                self._stream = stream
                if dropped:
                    self.out.put(("resumed", since))
                    dropped = False
                backoff = 1.0
                for ev in stream:
                    if not isinstance(ev, dict):
                        continue
                    key = event_key(ev)
                    if key in self._seen:  # replayed after a resume
                        continue
                    self._seen.append(key)
                    nano = ev.get("timeNano") or int(ev.get("time", 0)) * 1_000_000_000
                    self.last_nano = max(self.last_nano, int(nano))
                    self.out.put(("event", ev))
                if self._stop.is_set():
                    return
                raise ConnectionError("the engine closed the event stream")
            except Exception as exc:  # noqa: BLE001 - any failure: report, wait, reconnect
                if self._stop.is_set():
                    return
                dropped = True
                self.out.put(("dropped", describe_failure(self.spec.address, exc)))
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.settings.max_backoff)


class Watcher:
    """Keeps the engine's raw state current and reports how its findings change."""

    def __init__(
        self,
        spec: EngineSpec,
        rules: Sequence[Rule],
        emit: Callable[[dict[str, Any]], None],
        settings: WatchSettings = WatchSettings(),
        fail_on: Severity | None = Severity.HIGH,
        record: Callable[[ScanResult], None] | None = None,
        policy: Policy | None = None,
    ):
        self.spec = spec
        self.policy = policy  # waivers and inline ignores, judged on each audit's own day
        self.rules = rules
        self.emit = emit
        self.settings = settings
        self.fail_on = fail_on
        self.record = record
        self.raw: RawState | None = None
        self.containers: dict[str, dict] = {}
        self.networks: dict[str, dict] = {}
        self.findings: dict[str, Finding] = {}
        self.events: queue.Queue = queue.Queue()

    # -- state ----------------------------------------------------------------------------
    def full_scan(self, reason: str) -> bool:
        try:
            raw = fetch_raw(self.spec, host_facts=read_host_facts)
        except AuditorError as exc:
            self._status("error", reason=reason, error=str(exc))
            return False
        self.raw = raw
        self.containers = {d["Id"]: d for d in raw.containers if "Id" in d}
        self.networks = {d["Id"]: d for d in raw.networks if "Id" in d}
        self.audit({"reason": reason})
        return True

    def refresh(self, batch: Iterable[dict[str, Any]]) -> None:
        """Inspect again only the containers and networks the events name."""
        container_ids, network_ids = set(), set()
        for ev in batch:
            actor = ev.get("Actor") or {}
            oid = actor.get("ID") or ev.get("id")
            if ev.get("Type") == "container" and oid:
                container_ids.add(oid)
            elif ev.get("Type") == "network" and oid:
                network_ids.add(oid)
                member = (actor.get("Attributes") or {}).get("container")
                if member:
                    container_ids.add(member)
        client = connect(self.spec)
        try:
            for cid in container_ids:
                try:
                    self.containers[cid] = sanitize_container(client.inspect_container(cid))
                except docker.errors.NotFound:
                    self.containers.pop(cid, None)
            for nid in network_ids:
                try:
                    self.networks[nid] = sanitize_network(client.inspect_network(nid))
                except docker.errors.NotFound:
                    self.networks.pop(nid, None)
        finally:
            client.close()

    def audit(self, trigger: dict[str, Any]) -> ScanResult | None:
        """Run the rules over the current state; emit what appeared and what went away."""
        if self.raw is None:
            return None
        started_at, started = datetime.now(UTC), time.monotonic()
        raw = replace(
            self.raw,
            containers=tuple(sorted(self.containers.values(), key=lambda d: str(d.get("Name")))),
            networks=tuple(sorted(self.networks.values(), key=lambda d: str(d.get("Name")))),
        )
        result = evaluate(
            [Collected(raw.target, normalize_raw(raw), raw=raw)],
            self.rules,
            self.fail_on,
            started_at,
            started,
        )
        if self.policy is not None:
            result = apply_policy(result, replace(self.policy, today=started_at.date()))
        current = {f.fingerprint: f for f in result.findings}
        first = not self.findings and trigger.get("reason") == "initial"
        if not first:
            for fp in sorted(current.keys() - self.findings.keys(), key=lambda k: _order(current[k])):
                self._finding("new", current[fp], trigger)
            for fp in sorted(self.findings.keys() - current.keys(), key=lambda k: _order(self.findings[k])):
                self._finding("resolved", self.findings[fp], trigger)
        changed = first or current.keys() != self.findings.keys() or trigger.get("reason") != "events"
        self.findings = current
        if self.record is not None and changed:
            self.record(result)
        return result

    # -- output ---------------------------------------------------------------------------
    def _status(self, event: str, **fields: Any) -> None:
        self.emit(
            {
                "type": "status",
                "event": event,
                "time": _now(),
                "target": self.raw.target.name if self.raw else self.spec.address,
                **fields,
            }
        )

    def _finding(self, change: str, finding: Finding, trigger: dict[str, Any]) -> None:
        self.emit(
            {
                "type": "finding",
                "change": change,
                "time": _now(),
                "target": finding.resource.host,
                "trigger": trigger,
                "finding": finding,
            }
        )

    # -- loop -----------------------------------------------------------------------------
    def run(self) -> int:
        """Watch until the duration ends (or forever); returns the number of audits made."""
        s = self.settings
        since_nano = time.time_ns() - 2_000_000_000  # events during the initial scan are replayed
        if not self.full_scan("initial"):
            return 0
        self._status("ready", findings=len(self.findings), containers=len(self.containers))
        reader = EventReader(self.spec, self.events, since_nano, s)
        reader.start()
        audits = 1
        deadline = time.monotonic() + s.duration if s.duration else None
        next_rescan = time.monotonic() + s.rescan_interval
        try:
            while True:
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    break
                wait = min(next_rescan, deadline or next_rescan) - now
                try:
                    kind, payload = self.events.get(timeout=max(0.05, wait))
                except queue.Empty:
                    if time.monotonic() >= next_rescan:
                        self.full_scan("rescan")
                        audits += 1
                        next_rescan = time.monotonic() + s.rescan_interval
                    continue
                if kind == "dropped":
                    self._status("disconnected", error=payload)
                    continue
                if kind == "resumed":
                    self._status("resumed", since=payload)
                    next_rescan = min(next_rescan, time.monotonic() + RESUME_RESCAN_DELAY)
                    continue
                batch = self._debounce(payload)
                try:
                    self.refresh(batch)
                except Exception as exc:  # noqa: BLE001 - the stream thread reports the outage
                    self._status("error", reason="events", error=describe_failure(self.spec.address, exc))
                    next_rescan = min(next_rescan, time.monotonic() + RESUME_RESCAN_DELAY)
                    continue
                self.audit({"reason": "events", "events": [event_summary(e) for e in batch]})
                audits += 1
        finally:
            reader.stop()
        return audits

    def _debounce(self, first: dict[str, Any]) -> list[dict[str, Any]]:
        """Gather events until the engine is quiet for ``debounce`` seconds (bounded)."""
        batch = [first]
        limit = time.monotonic() + self.settings.max_batch_wait
        while time.monotonic() < limit:
            try:
                kind, payload = self.events.get(timeout=self.settings.debounce)
            except queue.Empty:
                break
            if kind == "event":
                batch.append(payload)
            else:
                self.events.put((kind, payload))  # status for the main loop; stop gathering
                break
        return batch


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _order(f: Finding) -> tuple:
    return (-int(f.severity), f.rule_id, f.resource.name, f.key)
