"""``auditor report``: render a saved JSON result again, e.g. as HTML, without rescanning."""

from __future__ import annotations

import sys

import click

from auditor.collectors.results import read_result
from auditor.commands.common import render_to_string, user_errors, write_text_atomically
from auditor.commands.scan import plan_outputs
from auditor.model.errors import InputError
from auditor.reports import REPORTERS


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
        planned = plan_outputs(outputs)
        if not planned and fmt not in REPORTERS:
            raise InputError(f"unknown format {fmt!r} (choose from {', '.join(sorted(REPORTERS))})")
        result = read_result(result_file)
        for out_fmt, path in planned:
            write_text_atomically(path, render_to_string(REPORTERS[out_fmt], result))
            click.echo(f"auditor: wrote {path}", err=True)
        if not planned:
            REPORTERS[fmt](result, sys.stdout)
