"""``auditor diff [OLD] [NEW]``: new, resolved and changed findings between two scans.

OLD and NEW are scan ids from ``auditor history`` or saved ``auditor scan -f json`` reports.
With none, the last two complete scans of a target are compared; with one, that scan is
compared with the target's latest.
"""

from __future__ import annotations

import sys

import click

from auditor.commands.common import (
    FormatChoice,
    stdout_outputs,
    stdout_renderer,
    user_errors,
    write_outputs,
    writes_stdout,
)
from auditor.commands.history import configured_store, store_option
from auditor.history.compare import resolve_sides
from auditor.reports.formats import DIFF, registry


@click.command("diff")
@click.argument("old", required=False)
@click.argument("new", required=False)
@store_option
@click.option(
    "--target",
    metavar="NAME",
    help="Compare only this target (needed to pick default scans when several are recorded).",
)
@click.option(
    "-f",
    "--format",
    "fmt",
    type=FormatChoice(DIFF, none=True),
    default="markdown",
    show_default=True,
    help="Format written to stdout.",
)
@click.option(
    "-o",
    "--output",
    "outputs",
    multiple=True,
    metavar="FILE",
    help="Also write the diff to FILE (.md, .json, .html; repeatable); `-` or FORMAT:- is stdout.",
)
@click.option("-q", "--quiet", is_flag=True, help="Write nothing to stdout, like -f none (kept for scripts).")
def diff_command(old, new, store, target, fmt, outputs, quiet):
    """Show new, resolved and changed findings between two scans.

    OLD and NEW are scan ids (see `auditor history`) or `auditor scan -f json` reports. Without
    them, the last two complete scans of the target are compared. Exit 0 on success, 2 on bad
    input, 3 when the store cannot be reached.
    """
    with user_errors():
        formats = registry()
        planned = formats.plan(stdout_outputs(outputs, fmt), DIFF)
        to_stdout = writes_stdout(planned)
        diff = resolve_sides(store, old, new, target, configured=configured_store())
        write_outputs(formats, planned, DIFF, diff)
        if not quiet and not to_stdout:
            stdout_renderer(formats, fmt, DIFF)(diff, sys.stdout)
