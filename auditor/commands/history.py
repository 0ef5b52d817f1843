"""``auditor history``: recorded scans per target, newest first, with counts by severity."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

import click

from auditor.commands.common import user_errors
from auditor.history import open_store
from auditor.model.errors import InputError
from auditor.model.history import SEVERITY_LABELS, TargetScan
from auditor.model.text import visible

STORE_HELP = (
    "History store: a SQLite file path, sqlite:///PATH or postgresql://... "
    "(default: $AUDITOR_STORE, else history.sqlite3 in the user's data directory)."
)


def store_option(func: Callable) -> Callable:
    """``--store`` for commands that read the history (always a value)."""
    return click.option("--store", "store", metavar="STORE", default=None, help=STORE_HELP)(func)


def history_table(rows: list[TargetScan]) -> str:
    header = ["scan", "started (UTC)", "target", "status", "verdict", *SEVERITY_LABELS, "total", "secs"]
    lines = [header]
    for r in rows:
        counts = dict(r.counts)
        lines.append(
            [
                str(r.scan_id),
                r.started_at[:19].replace("T", " "),
                visible(r.target),
                r.status,
                r.verdict,
                *(str(counts[s]) for s in SEVERITY_LABELS),
                str(r.total),
                f"{r.duration_s:.1f}",
            ]
        )
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in lines
    )


@click.command("history")
@store_option
@click.option(
    "--target",
    "target",
    metavar="NAME",
    help="Only scans of this target (engine host name, compose project, ...).",
)
@click.option(
    "-n",
    "--limit",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Show at most this many rows.",
)
@click.option(
    "-f", "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def history_command(store, target, limit, fmt):
    """List recorded scans per target with counts of open findings by severity."""
    with user_errors(), open_store(store, configured=configured_store()) as db:
        rows = db.target_scans(target=target, limit=limit)
        if target is not None and not rows:
            known = ", ".join(db.target_names()) or "none recorded yet"
            raise InputError(f"no scans of target {target!r} in {db.description} (targets: {known})")
        if fmt == "json":
            json.dump({"store": db.description, "scans": [r.to_json() for r in rows]}, sys.stdout, indent=2)
            sys.stdout.write("\n")
        elif rows:
            click.echo(history_table(rows))
        else:
            click.echo(f"no scans recorded in {db.description} yet (run `auditor scan --store`)")


def configured_store() -> str | None:
    """The ``store`` setting of the config file in the current directory (see auditor.config)."""
    from auditor.audit.discovery import discover_rules
    from auditor.policy.config import load_config

    return load_config(None, [r.id for r in discover_rules()]).store


def record_scan(store: str, result, code: int, configured: str | None = None) -> int:
    """Record a finished scan; a store that cannot be written makes the run incomplete (3)."""
    from auditor.model import exit_codes
    from auditor.model.errors import AuditorError

    try:
        with open_store(store, configured=configured) as db:
            scan_id = db.record(result)
            click.echo(visible(f"auditor: recorded scan {scan_id} in {db.description}"), err=True)
    except AuditorError as exc:
        click.echo(visible(f"auditor: error: scan not recorded: {exc}"), err=True)
        return code if code == exit_codes.INPUT_ERROR else exit_codes.INCOMPLETE
    return code
