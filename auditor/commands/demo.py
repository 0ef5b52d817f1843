"""``auditor demo``: the README's main job, a real scan of a deliberately risky engine."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from auditor.audit.discovery import discover_rules
from auditor.audit.pipeline import scan
from auditor.collectors.request import ScanRequest
from auditor.commands.common import render_to_string, user_errors, write_text_atomically
from auditor.model import exit_codes
from auditor.model.severity import Severity
from auditor.reports import REPORTERS

# Report file names per format; formats not listed here are written as report.<format>.
FILE_NAMES = {
    "json": "scan.json",
    "table": "scan.txt",
    "html": "report.html",
    "sarif": "scan.sarif",
    "junit": "junit.xml",
    "markdown": "summary.md",
    "codequality": "codequality.json",
}


def write_reports(result, out_dir: Path) -> list[Path]:
    written = []
    for fmt, render in sorted(REPORTERS.items()):
        path = out_dir / FILE_NAMES.get(fmt, f"report.{fmt}")
        write_text_atomically(str(path), render_to_string(render, result))
        written.append(path)
    return written


def _engine_reachable() -> tuple[object | None, str | None]:
    import docker

    try:
        from auditor.collectors.endpoints import default_engine_address

        client = docker.DockerClient(base_url=default_engine_address(), timeout=30)
        client.ping()
        return client, None
    except Exception as exc:  # noqa: BLE001 - any failure means "no engine"
        return None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__


@click.command("demo")
@click.option(
    "--out",
    "out_dir",
    default="demo-output",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for the reports.",
)
def demo_command(out_dir):
    """Start a few risky labelled containers, scan the engine, write every report, clean up.

    Without a reachable engine, scans the bundled example snapshot instead.
    """
    from auditor.app.demo import bundled_snapshot, demo_environment

    say = lambda text: click.echo(f"[demo] {text}", err=True)  # noqa: E731
    with user_errors():
        rules = discover_rules()
        client, why = _engine_reachable()
        if client is None:
            say(f"no Docker engine reachable ({why}); scanning the bundled example snapshot instead")
            result = scan(ScanRequest(paths=(str(bundled_snapshot()),)), rules, Severity.HIGH)
        else:
            with demo_environment(client, say):
                result = scan(ScanRequest(), rules, Severity.HIGH)
        out = Path(out_dir)
        REPORTERS["table"](result, sys.stdout)
        for path in write_reports(result, out):
            say(f"wrote {path}")
        code = exit_codes.for_result(result)
        if code in (exit_codes.INPUT_ERROR, exit_codes.INCOMPLETE):
            sys.exit(code)
        say("done: the findings above are expected (the demo containers are risky on purpose)")
