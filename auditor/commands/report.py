"""``auditor report``: render a saved JSON result again, e.g. as HTML, without rescanning."""

from __future__ import annotations

import sys
from dataclasses import replace

import click

from auditor.audit.discovery import DiscoveryError, discover_rules
from auditor.collectors.results import read_result
from auditor.commands.common import (
    STDOUT,
    FormatChoice,
    stdout_outputs,
    user_errors,
    write_outputs,
    writes_stdout,
)
from auditor.model.findings import ScanResult
from auditor.model.text import visible
from auditor.reports.formats import SCAN, registry


def with_rule_metadata(result: ScanResult) -> ScanResult:
    """A saved result names rule ids only; SARIF and JUnit want their help texts: take them
    from the rules installed here (a rule pack that fails to load just leaves them out)."""
    try:
        rules = discover_rules()
    except DiscoveryError:
        return result
    return replace(result, rules=tuple(r.meta for r in rules))


@click.command("report")
@click.argument("result_file", metavar="RESULT.json", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "-o",
    "--output",
    "outputs",
    multiple=True,
    metavar="FILE",
    help="Write the report to FILE; the format follows the extension (.html, ...), or FORMAT:FILE (repeatable).",
)
@click.option(
    "-f",
    "--format",
    "fmt",
    type=FormatChoice(SCAN),
    default="html",
    show_default=True,
    help="Format written to stdout when no -o is given.",
)
def report_command(result_file, outputs, fmt):
    """Render a JSON result written by `auditor scan -f json` (or `-o scan.json`).

    Example: auditor report scan.json -o report.html. Exit codes: 0 written, 2 the input is
    not a valid JSON result or an output cannot be written. The gate is not re-evaluated.
    """
    with user_errors():
        formats = registry()
        planned = formats.plan(stdout_outputs(outputs, fmt), SCAN)
        writes_stdout(planned)
        stdout_render = None if planned else formats.renderer(fmt, SCAN)
        result = with_rule_metadata(read_result(result_file))
        write_outputs(formats, planned, SCAN, result)
        for _, path in planned:
            if path != STDOUT:
                click.echo(visible(f"auditor: wrote {path}"), err=True)
        if stdout_render is not None:
            stdout_render(result, sys.stdout)
