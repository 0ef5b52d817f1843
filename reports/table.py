"""The terminal table: findings most severe first, then a summary line per target."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING

from auditor.model.findings import ScanResult
from auditor.model.severity import Severity
from auditor.model.text import visible

from .ci_common import policy_lines
from .formats import SCAN, OutputFormat

if TYPE_CHECKING:
    from rich.console import Console

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


# Rows the table lists (most severe first). A table is read by a person; laying out tens of
# thousands of rows took rich minutes, and a hostile input can ask for that many findings.
TABLE_ROWS = 500


def _cell(text: str) -> str:
    """Text from the scan as the terminal shows it: rich markup and every control or bidi
    character escaped, so a name cannot colour, clear or retitle the terminal."""
    from rich.markup import escape

    return escape(visible(text))


PIPE_WIDTH = 160  # a CI log or a pipe without COLUMNS


def table_width(stream: IO[str], environ: Mapping[str, str] = os.environ) -> int | None:
    """``COLUMNS`` when set (CI logs, ``COLUMNS=200 auditor scan``), else the terminal's own
    width (``None``: rich asks the terminal), else ``PIPE_WIDTH``."""
    columns = environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    return None if stream.isatty() else PIPE_WIDTH


def _shared_not_checked(result: ScanResult) -> dict[tuple[str, ...], list[str]]:
    """Lists of unchecked facts that several targets share, with the targets' names: printed
    once below all targets instead of once per target (200 compose projects, one list)."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for t in result.targets:
        if t.not_checked:
            groups.setdefault(t.not_checked, []).append(f"{t.target.kind.value} {t.target.name}")
    return {facts: names for facts, names in groups.items() if len(names) > 1}


def _names(names: list[str], shown: int = 3) -> str:
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")


def _print_lines(console: Console, lines: list[str], style: str | None = None) -> None:
    """Each line as its own text (its markup parsed alone), wrapped and styled as one
    ``console.print`` per line would, in one call: rich's own work per call (the terminal's
    size, the render options, a write) was 90 ms of the 160 ms that 1,000 engines' lines took."""
    if lines:
        console.print(*(_cell(line) for line in lines), sep="\n", style=style)


def render(result: ScanResult, stream: IO[str]) -> None:
    from rich.console import Console  # rich only when a table is drawn: ~17 ms of every other run
    from rich.table import Table

    console = Console(file=stream, width=table_width(stream), highlight=False, soft_wrap=False)
    if result.findings:
        table = Table(show_lines=False, header_style="bold")
        for col in ("Severity", "Rule", "Resource", "Message", "Location"):
            table.add_column(col, overflow="fold")
        for f in result.findings[:TABLE_ROWS]:
            loc = f.location
            where = ""
            if loc is not None:
                where = f"{loc.uri}:{loc.line}" if loc.line else loc.uri
            status = "" if f.status == "open" else f" [{f.status}]"
            if f.baseline:
                status += f" ({f.baseline})"
            cells = (
                f"[{SEVERITY_STYLE[f.severity]}]{f.severity.label}[/]{_cell(status)}",
                _cell(f.rule_id),
                _cell(f"{f.resource.kind}/{f.resource.name}"),
                _cell(f.message),
                _cell(where),
            )
            # Parsed once here: rich parses a text cell's markup each time it measures or draws it.
            table.add_row(*(console.render_str(cell) for cell in cells))
        console.print(table)
        hidden = len(result.findings) - TABLE_ROWS
        if hidden > 0:
            console.print(
                f"{hidden} more findings are not listed here (the table shows the first {TABLE_ROWS}); "
                "every format but the table lists them all, e.g. -o findings.json."
            )
    else:
        console.print("No findings.")
    shared = _shared_not_checked(result)
    lines = []
    for t in result.targets:
        line = f"{t.target.kind.value} {t.target.name}: {t.status}"
        if t.status == "complete":
            line += f" ({t.containers} containers, {t.networks} networks)"
        if t.error:
            line += f" - {t.error}"
        lines.append(line)
        lines.extend(f"  note: {note}" for note in t.notes)
        if t.not_checked and t.not_checked not in shared:
            lines.append(f"  not checked: {', '.join(t.not_checked)}")
    for facts, names in shared.items():
        lines.append(f"not checked for {len(names)} targets ({_names(names)}): {', '.join(facts)}")
    _print_lines(console, lines)
    _print_lines(
        console, [f"rule {e.rule_id} crashed on {e.target}: {e.error}" for e in result.rule_errors], "red"
    )
    _print_lines(console, policy_lines(result), "yellow")
    counts = result.counts()
    summary = ", ".join(f"{counts[s.label]} {s.label}" for s in sorted(Severity, reverse=True))
    gate = result.gate()
    verdict = gate.verdict.upper() if gate.verdict != "passed" else "passed"
    console.print(_cell(f"{counts['total']} findings ({summary}); gate fail-on {gate.fail_on}: {verdict}"))
    if not result.complete:
        console.print("Scan INCOMPLETE: some targets or rules could not be checked.", style="bold red")


def host_status_lines(result: ScanResult) -> list[str]:
    """One line per engine: its status and what was found, for the end of a fleet scan."""
    lines = []
    for t in result.targets:
        if t.target.kind.value != "engine":
            continue
        where = (
            t.target.name if t.target.name == t.target.address else f"{t.target.name} ({t.target.address})"
        )
        if t.status == "failed":
            lines.append(f"host {where}: failed: {t.error}")
            continue
        found = sum(1 for f in result.findings if f.resource.host == t.target.name and f.status == "open")
        lines.append(
            f"host {where}: {t.status}, {t.containers} containers, {t.networks} networks, "
            f"{found} open findings"
        )
    return lines


FORMAT = OutputFormat("table", (".txt",), ((SCAN, render),))
