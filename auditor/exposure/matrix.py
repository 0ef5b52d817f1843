"""The answer: for every container port and every source zone, reachable / blocked / unknown,
with the trace of the rules that decided it. Frozen records; ``matrix_to_json`` is the one
pure function that turns them into JSON (``EXPOSURE_SCHEMA_VERSION``)."""

from __future__ import annotations

from enum import Enum
from typing import Any, NamedTuple

import msgspec

from auditor.exposure.walk import Step

EXPOSURE_SCHEMA_VERSION = "1.0"
HOOK_CHAINS = frozenset({"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"})


class Verdict(str, Enum):
    REACHABLE = "reachable"
    BLOCKED = "blocked"
    UNKNOWN = "unknown"


class ZoneKind(str, Enum):
    LAN = "lan"  # a neighbour on a host interface's subnet
    INTERNET = "internet"  # a host beyond the default route
    HOST = "host"  # a process on the Docker host itself
    NETWORK = "network"  # a container on a Docker bridge network


class Zone(msgspec.Struct, frozen=True):
    """Where a connection attempt starts, with the representative packet the model sends.

    ``direct_routing``: the zone's hosts are assumed able to send packets for container
    addresses to this host (a LAN neighbour adds a route; a container's default gateway is
    the host). ``description`` says exactly what was assumed.
    """

    id: str
    kind: ZoneKind
    interface: str | None
    network: str | None
    source_v4: str | None
    source_v6: str | None
    direct_routing: bool
    description: str


class PortTarget(msgspec.Struct, frozen=True):
    """One container port: published or not (``bindings`` lists what Docker publishes)."""

    container: str
    container_id: str | None
    port: int
    protocol: str
    network_mode: str
    bindings: tuple[str, ...]
    addresses: tuple[str, ...]  # "network=address" for each endpoint

    @property
    def key(self) -> tuple[str, int, str]:
        return self.container, self.port, self.protocol


def render_trace(steps: tuple[Step, ...]) -> str:
    """``nat PREROUTING rule 1 -> DOCKER rule 2 DNAT 198.18.16.2:80 -> route forward via
    docker0 -> filter FORWARD rule 1 -> DOCKER-USER rule 2 DROP``: the table is named when
    it changes; ``(undecided)`` marks a rule whose match the model could not decide."""
    return join_trace(trace_parts(steps))


def join_trace(parts: list[str]) -> str:
    return " -> ".join(parts).replace("reply: -> ", "reply: ")


RESET_TABLES = ("route", "socket", "reply")  # steps after which the next table is named again


def trace_parts(steps: tuple[Step, ...]) -> list[str]:
    """The pieces ``render_trace`` joins, one per step. The pieces of ``a + b`` are those of
    ``a`` then those of ``b`` when ``b`` starts with a routing, socket or reply step and ``a``
    does not end with a jump (whose piece looks at the step after it)."""
    parts: list[str] = []
    table = None
    hook = None
    for i, s in enumerate(steps):
        if s.table in RESET_TABLES:
            parts.append("reply:" if s.table == "reply" else s.action)
            table = hook = None
            continue
        is_hook = s.chain in HOOK_CHAINS
        prefix = f"{s.table} " if s.table != table or (is_hook and s.chain != hook) else ""
        table = s.table
        hook = s.chain if is_hook else hook
        if s.rule and s.action.startswith("-> "):  # a jump: name the chain if nothing in it matched
            callee = s.action[3:]
            following = steps[i + 1] if i + 1 < len(steps) else None
            entered = following is not None and following.chain == callee and following.table == s.table
            text = f"{prefix}{s.chain} rule {s.rule}" + ("" if entered else f" -> {callee} (no match)")
        elif s.rule:
            text = f"{prefix}{s.chain} rule {s.rule} {s.action}"
        else:
            text = f"{prefix}{s.chain} {s.action}"
        parts.append(text + (" (undecided)" if s.undecided else ""))
    return parts


def parts_concatenate(head: tuple[Step, ...], tail: tuple[Step, ...]) -> bool:
    """Whether ``trace_parts(head + tail)`` is ``trace_parts(head) + trace_parts(tail)``."""
    if not tail or tail[0].table not in RESET_TABLES:
        return False
    last = head[-1] if head else None
    return last is None or last.table in RESET_TABLES or not (last.rule and last.action.startswith("-> "))


class Attempt(NamedTuple):
    """One way to try the port from the zone: ``via`` published (host address:host port),
    direct (the container's own address) or host (a host-network container's port).
    (A named tuple, as ``Cell``: a matrix holds one per cell, and these are made fastest.)"""

    via: str
    family: int
    source: str
    destination: str
    verdict: Verdict
    steps: tuple[Step, ...]
    reasons: tuple[str, ...] = ()
    undecided: tuple[str, ...] = ()
    alternatives: tuple[tuple[Verdict, tuple[Step, ...]], ...] = ()
    # ``render_trace(steps)`` when the analysis already made it (attempts that share their
    # answer share the text)
    rendered: str | None = None

    @property
    def trace(self) -> str:
        return self.rendered if self.rendered is not None else render_trace(self.steps)


class Cell(NamedTuple):
    """The answer for one (zone, container port): reachable if any attempt is, unknown if
    none is but one is unknown, blocked otherwise (also when no attempt is possible)."""

    zone: str
    container: str
    port: int
    protocol: str
    relation: str  # same-network | other-network | outside | host
    verdict: Verdict
    attempts: tuple[Attempt, ...]
    note: str = ""

    @property
    def decisive(self) -> Attempt | None:
        attempts = self.attempts
        if len(attempts) == 1:
            return attempts[0]
        for wanted in (Verdict.REACHABLE, Verdict.UNKNOWN, Verdict.BLOCKED):
            for a in self.attempts:
                if a.verdict is wanted:
                    return a
        return None

    @property
    def trace(self) -> str:
        attempt = self.decisive
        return attempt.trace if attempt is not None else self.note


class ExposureMatrix(msgspec.Struct, frozen=True):
    """All cells of one host; ``notes`` say what limited the analysis."""

    zones: tuple[Zone, ...]
    targets: tuple[PortTarget, ...]
    cells: tuple[Cell, ...]
    notes: tuple[str, ...] = ()
    version: str = EXPOSURE_SCHEMA_VERSION

    def cell(self, zone: str, container: str, port: int, protocol: str = "tcp") -> Cell | None:
        for c in self.cells:
            if c.zone == zone and c.container == container and c.port == port and c.protocol == protocol:
                return c
        return None

    def zone(self, zone_id: str) -> Zone | None:
        for z in self.zones:
            if z.id == zone_id:
                return z
        return None

    def verdicts(self) -> dict[tuple[str, str, int, str], Verdict]:
        return {(c.zone, c.container, c.port, c.protocol): c.verdict for c in self.cells}


def _step_json(s: Step) -> dict[str, Any]:
    out: dict[str, Any] = {"table": s.table, "chain": s.chain, "rule": s.rule, "action": s.action}
    if s.undecided:
        out["undecided"] = True
    if s.text:
        out["text"] = s.text
    return out


def _attempt_json(a: Attempt) -> dict[str, Any]:
    out: dict[str, Any] = {
        "via": a.via,
        "family": a.family,
        "source": a.source,
        "destination": a.destination,
        "verdict": a.verdict.value,
        "trace": a.trace,
        "steps": [_step_json(s) for s in a.steps],
    }
    if a.reasons:
        out["reasons"] = list(a.reasons)
    if a.undecided:
        out["undecided"] = list(a.undecided)
    if a.alternatives:
        out["alternatives"] = [
            {"verdict": v.value, "trace": render_trace(steps)} for v, steps in a.alternatives
        ]
    return out


def matrix_to_json(matrix: ExposureMatrix) -> dict[str, Any]:
    """The matrix as plain JSON types, stable key order, versioned."""
    return {
        "schema_version": matrix.version,
        "zones": [
            {
                "id": z.id,
                "kind": z.kind.value,
                "interface": z.interface,
                "network": z.network,
                "source_v4": z.source_v4,
                "source_v6": z.source_v6,
                "direct_routing": z.direct_routing,
                "description": z.description,
            }
            for z in matrix.zones
        ],
        "targets": [
            {
                "container": t.container,
                "container_id": t.container_id,
                "port": t.port,
                "protocol": t.protocol,
                "network_mode": t.network_mode,
                "bindings": list(t.bindings),
                "addresses": list(t.addresses),
            }
            for t in matrix.targets
        ],
        "cells": [
            {
                "zone": c.zone,
                "container": c.container,
                "port": c.port,
                "protocol": c.protocol,
                "relation": c.relation,
                "verdict": c.verdict.value,
                "trace": c.trace,
                **({"note": c.note} if c.note else {}),
                "attempts": [_attempt_json(a) for a in c.attempts],
            }
            for c in matrix.cells
        ],
        "notes": list(matrix.notes),
    }
