"""The contract every source follows: collecting yields ``Collected`` records, never raises.

A source is anything that can be read into snapshots: a live engine, saved ``docker inspect``
JSON, ``auditor snapshot`` files, compose projects (and, later, saved host firewall dumps). Each
one turns whatever goes wrong with one target into a failed (or partial) ``Collected``, so one
bad file or unreachable host never hides the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from auditor.collectors.raw import RawState
from auditor.model.errors import AuditorError
from auditor.model.records import Snapshot, Target

Progress = Callable[[int, int], None]  # (done, total) while a target is read


@dataclass(frozen=True)
class Collected:
    """The outcome of collecting one target: a snapshot, or why there is none.

    ``error`` with a snapshot means the snapshot is partial (read up to a fault)."""

    target: Target
    snapshot: Snapshot | None
    error: AuditorError | None = None
    raw: RawState | None = None


class Source(Protocol):
    """One place to read targets from."""

    def collect(self, progress: Progress | None = None) -> Sequence[Collected]:
        """Every target of this source; failures are failed ``Collected`` records."""
        ...
