"""``auditor exposure``: the exposure matrix of each analysed target as a terminal table (one
row per container port, one column per source zone) or as the JSON of the scan result's
``"exposure"`` key. Pure functions of the snapshots."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO

from auditor.model.exposure import OUTSIDE_KINDS, Reach
from auditor.model.jsontext import write as write_json
from auditor.model.records import Snapshot
from auditor.model.text import visible

from .json_report import exposure_json

WORDS = {Reach.REACHABLE: "open", Reach.BLOCKED: "blocked", Reach.UNKNOWN: "unknown"}
MAX_BINDINGS = 2


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def _bindings(bindings: tuple[str, ...]) -> str:
    if not bindings:
        return "(not published)"
    shown = ", ".join(bindings[:MAX_BINDINGS])
    return shown + (f" +{len(bindings) - MAX_BINDINGS}" if len(bindings) > MAX_BINDINGS else "")


def render_table(snapshots: Sequence[Snapshot], stream: IO[str], traces: bool = True) -> None:
    """Per target: the zones, the matrix (open / blocked / unknown), then how each port open to
    outside clients is reached (the trace of the rules that decided it) and the notes."""
    for snap in snapshots:
        exp = snap.exposure
        if exp is None:
            continue
        stream.write(
            visible(f"{snap.target.name}: {len(exp.ports)} container port(s), {len(exp.zones)} zone(s)")
            + "\n"
        )
        for z in exp.zones:
            stream.write(visible(f"  {z.id}: {z.description}") + "\n")
        rows = [["CONTAINER", "PORT", "PUBLISHED", *(z.id for z in exp.zones)]]
        for p in exp.ports:
            verdicts = {c.zone: WORDS[c.verdict] for c in p.cells}
            rows.append([p.container, f"{p.port}/{p.protocol}", _bindings(p.bindings),
                         *(verdicts.get(z.id, "-") for z in exp.zones)])  # fmt: skip
        stream.write("\n")
        for line in _table(rows):
            stream.write(visible(line) + "\n")
        if traces:
            wanted = [(p, c) for p in exp.ports for c in p.cells
                      if c.kind in OUTSIDE_KINDS and c.verdict is not Reach.BLOCKED]  # fmt: skip
            if wanted:
                stream.write("\nOpen or undecided from outside the host:\n")
            for p, c in wanted:
                how = f"{c.via} {c.destination}" if c.destination else (c.via or "")
                stream.write(
                    visible(
                        f"  {p.container} {p.port}/{p.protocol} from {c.zone} ({WORDS[c.verdict]}, {how}):"
                    )
                    + "\n"
                )
                stream.write(visible(f"    {c.trace}") + "\n")
                for reason in c.reasons:
                    stream.write(visible(f"    because: {reason}") + "\n")
        for note in exp.notes:
            stream.write(visible(f"note: {note}") + "\n")
        stream.write("\n")


def render_json(snapshots: Sequence[Snapshot], stream: IO[str]) -> None:
    """The same document as the scan result's ``"exposure"`` key."""
    write_json(exposure_json([s for s in snapshots if s.exposure is not None]), stream)
